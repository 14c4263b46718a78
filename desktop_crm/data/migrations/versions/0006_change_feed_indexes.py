"""indexes on updated_at of the tables the change feed watches (contact, organization,
interaction, ticket)

The SQLite change poller (``desktop_crm.data.changes``) asks which rows changed since its last
look after every write by another connection; without an index that read the whole table
(4.7 s over 10,000,000 history rows, on every call logged).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("contact", "organization", "interaction", "ticket")


def upgrade() -> None:
    for table in _TABLES:
        op.create_index(f"ix_{table}_updated_at", table, ["updated_at"])


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_index(f"ix_{table}_updated_at", table_name=table)
