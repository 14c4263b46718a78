"""caller picks: which record an agent picked last time for a number or address

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "caller_pick",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remote", sa.String(length=320), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("picked_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(contact_id IS NOT NULL AND organization_id IS NULL) OR (contact_id IS NULL AND organization_id IS NOT NULL)",
            name=op.f("ck_caller_pick_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_caller_pick_contact_id_contact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_caller_pick_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_caller_pick_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caller_pick")),
        sa.UniqueConstraint("remote", name=op.f("uq_caller_pick_remote")),
    )
    with op.batch_alter_table("caller_pick", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_caller_pick_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_caller_pick_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_caller_pick_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("caller_pick", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_caller_pick_user_id"))
        batch_op.drop_index(batch_op.f("ix_caller_pick_organization_id"))
        batch_op.drop_index(batch_op.f("ix_caller_pick_contact_id"))

    op.drop_table("caller_pick")
