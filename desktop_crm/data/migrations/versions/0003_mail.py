"""mail: messages read from IMAP, folder read state, unassigned mail, skipped messages

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_folder_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_folder_state")),
        sa.UniqueConstraint("account", "folder", name="uq_mail_folder_state_account"),
    )
    op.create_table(
        "mail_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=400), nullable=False),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "inbound",
                "outbound",
                name="mail_direction",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("cc", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        sa.Column("attachments", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_message")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_message_message_id")),
    )
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_message_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "mail_skip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_skip")),
        sa.UniqueConstraint("account", "folder", "uidvalidity", "uid", name="uq_mail_skip_account"),
    )
    op.create_table(
        "mail_unassigned",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "assigned",
                "dismissed",
                name="unassigned_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user_account.id"],
            name=op.f("fk_mail_unassigned_decided_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_mail_unassigned_interaction_id_interaction"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["mail_id"],
            ["mail_message.id"],
            name=op.f("fk_mail_unassigned_mail_id_mail_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_unassigned")),
        sa.UniqueConstraint("mail_id", name=op.f("uq_mail_unassigned_mail_id")),
    )
    with op.batch_alter_table("mail_unassigned", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_unassigned_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mail_unassigned", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_unassigned_status"))

    op.drop_table("mail_unassigned")
    op.drop_table("mail_skip")
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_message_sent_at"))

    op.drop_table("mail_message")
    op.drop_table("mail_folder_state")
