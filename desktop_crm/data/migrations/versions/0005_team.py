"""team database: audit log (both backends); audit and change-notification triggers (PostgreSQL)

The trigger functions are frozen here as written; which tables carry the triggers is also kept
up to date by ``desktop_crm.data.team.apply_team_setup`` (run by `db init` / `db upgrade`), so
tables of later migrations get them by an entry in ``TABLE_RIGHTS``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUDITED = {
    "contact": "id",
    "organization": "id",
    "organization_domain": "id",
    "phone_number": "id",
    "email_address": "id",
    "tag": "id",
    "contact_tag": "contact_id",
    "organization_tag": "organization_id",
    "interaction": "id",
    "ticket": "id",
    "queue": "id",
    "user_account": "id",
}
_NOTIFIED = ("contact", "organization", "interaction", "ticket")

_FUNCTIONS = """
-- who changed what: written by the database itself, so no client can skip or forge it;
-- SECURITY DEFINER because users may not write the audit log themselves
CREATE OR REPLACE FUNCTION crm_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    old_values jsonb;
    new_values jsonb;
BEGIN
    IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT jsonb_object_agg(n.key, o.value), jsonb_object_agg(n.key, n.value)
          INTO old_values, new_values
          FROM jsonb_each(new_row) n JOIN jsonb_each(old_row) o ON o.key = n.key
         WHERE n.value IS DISTINCT FROM o.value AND n.key <> 'updated_at';
        IF new_values IS NULL THEN
            RETURN NULL;  -- nothing but the time stamp changed
        END IF;
    ELSE
        old_values := old_row;
        new_values := new_row;
    END IF;
    INSERT INTO audit_log (occurred_at, actor, table_name, row_id, operation,
                           old_values, new_values, transaction_id)
    VALUES (clock_timestamp(), session_user, TG_TABLE_NAME,
            (coalesce(new_row, old_row) ->> coalesce(TG_ARGV[0], 'id'))::bigint,
            lower(TG_OP), old_values, new_values, txid_current());
    RETURN NULL;
END $$;

-- live refresh: delivered to LISTENers when the transaction commits
CREATE OR REPLACE FUNCTION crm_notify_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    r jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
    PERFORM pg_notify('crm_changes', json_build_object(
        'table', TG_TABLE_NAME, 'id', r -> 'id', 'op', lower(TG_OP), 'version', r -> 'version'
    )::text);
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=True),
        sa.Column("operation", sa.String(length=8), nullable=False),
        sa.Column("old_values", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.Column("new_values", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.Column("transaction_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_occurred_at", ["occurred_at"], unique=False)
        batch_op.create_index(
            "ix_audit_log_table_row", ["table_name", "row_id", "occurred_at"], unique=False
        )
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(_FUNCTIONS)
    for table, key in _AUDITED.items():
        op.execute(
            f"CREATE TRIGGER crm_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION crm_audit('{key}')"
        )
    for table in _NOTIFIED:
        op.execute(
            f"CREATE TRIGGER crm_notify_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION crm_notify_change()"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in _NOTIFIED:
            op.execute(f"DROP TRIGGER IF EXISTS crm_notify_change ON {table}")
        for table in _AUDITED:
            op.execute(f"DROP TRIGGER IF EXISTS crm_audit ON {table}")
        op.execute("DROP FUNCTION IF EXISTS crm_notify_change()")
        op.execute("DROP FUNCTION IF EXISTS crm_audit()")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_table_row")
        batch_op.drop_index("ix_audit_log_occurred_at")
    op.drop_table("audit_log")
