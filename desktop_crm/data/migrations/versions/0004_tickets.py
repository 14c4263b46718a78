"""tickets: SLA settings, business hours, membership, presence, changes, escalation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_presence",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_agent_presence_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_presence")),
    )
    op.create_table(
        "escalation_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("target_queue_id", sa.Integer(), nullable=True),
        sa.Column("target_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queue.id"],
            name=op.f("fk_escalation_rule_queue_id_queue"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_queue_id"],
            ["queue.id"],
            name=op.f("fk_escalation_rule_target_queue_id_queue"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_user_id"],
            ["user_account.id"],
            name=op.f("fk_escalation_rule_target_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_rule")),
    )
    with op.batch_alter_table("escalation_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_rule_queue_id"), ["queue_id"], unique=False)

    op.create_table(
        "queue_business_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name=op.f("ck_queue_business_hours_minutes"),
        ),
        sa.CheckConstraint(
            "weekday >= 0 AND weekday <= 6", name=op.f("ck_queue_business_hours_weekday")
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queue.id"],
            name=op.f("fk_queue_business_hours_queue_id_queue"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_business_hours")),
    )
    with op.batch_alter_table("queue_business_hours", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_queue_business_hours_queue_id"), ["queue_id"], unique=False
        )

    op.create_table(
        "queue_closed_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queue.id"],
            name=op.f("fk_queue_closed_day_queue_id_queue"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_closed_day")),
        sa.UniqueConstraint("queue_id", "day", name=op.f("uq_queue_closed_day_queue_id")),
    )
    op.create_table(
        "queue_member",
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queue.id"],
            name=op.f("fk_queue_member_queue_id_queue"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_queue_member_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("queue_id", "user_id", name=op.f("pk_queue_member")),
    )
    with op.batch_alter_table("queue_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_member_user_id"), ["user_id"], unique=False)

    op.create_table(
        "queue_sla_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column(
            "priority",
            sa.Enum(
                "low",
                "normal",
                "high",
                "urgent",
                name="ticket_priority",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queue.id"],
            name=op.f("fk_queue_sla_target_queue_id_queue"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_sla_target")),
        sa.UniqueConstraint("queue_id", "priority", name=op.f("uq_queue_sla_target_queue_id")),
    )
    op.create_table(
        "ticket_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name=op.f("fk_ticket_message_ticket_id_ticket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_message")),
        sa.UniqueConstraint("message_id", name=op.f("uq_ticket_message_message_id")),
    )
    with op.batch_alter_table("ticket_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_message_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "ticket_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["user_account.id"],
            name=op.f("fk_ticket_notification_recipient_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name=op.f("fk_ticket_notification_ticket_id_ticket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_notification")),
        sa.UniqueConstraint("ticket_id", "level", name=op.f("uq_ticket_notification_ticket_id")),
    )
    with op.batch_alter_table("ticket_notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_notification_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ticket_notification_recipient_id"), ["recipient_id"], unique=False
        )

    op.create_table(
        "ticket_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.String(length=400), nullable=True),
        sa.Column("new_value", sa.String(length=400), nullable=True),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_ticket_change_interaction_id_interaction"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name=op.f("fk_ticket_change_ticket_id_ticket"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_ticket_change_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_change")),
    )
    with op.batch_alter_table("ticket_change", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_change_ticket_time", ["ticket_id", "changed_at", "id"], unique=False
        )

    with op.batch_alter_table("queue", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "time_zone", sa.String(length=64), nullable=False, server_default="Europe/Berlin"
            )
        )
        batch_op.add_column(
            sa.Column("holiday_country", sa.String(length=2), nullable=False, server_default="DE")
        )
        batch_op.add_column(sa.Column("holiday_subdivision", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("at_risk_percent", sa.Integer(), nullable=False, server_default="75")
        )
        batch_op.add_column(
            sa.Column(
                "assignment_mode",
                sa.Enum(
                    "manual",
                    "round_robin",
                    "least_busy",
                    name="assignment_mode",
                    native_enum=False,
                    create_constraint=True,
                    length=24,
                ),
                nullable=False,
                server_default="manual",
            )
        )
        batch_op.add_column(sa.Column("last_assigned_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("supervisor_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_queue_supervisor_id_user_account"),
            "user_account",
            ["supervisor_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_queue_last_assigned_id_user_account"),
            "user_account",
            ["last_assigned_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("first_response_warn_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("resolution_warn_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("sla_due", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sla_warn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("sla_paused", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index("ix_ticket_agent_status", ["assignee_id", "status"], unique=False)
        batch_op.create_index(
            "ix_ticket_board",
            ["status", "queue_id", "assignee_id", "priority", "organization_id", "created_at"],
            unique=False,
        )
        batch_op.create_index("ix_ticket_resolved_at", ["resolved_at", "assignee_id"], unique=False)
        batch_op.create_index("ix_ticket_sla_due_queue", ["sla_due", "queue_id"], unique=False)
        batch_op.create_index(
            "ix_ticket_sla_warn_queue", ["sla_warn_at", "queue_id", "sla_due"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_sla_warn_queue")
        batch_op.drop_index("ix_ticket_sla_due_queue")
        batch_op.drop_index("ix_ticket_resolved_at")
        batch_op.drop_index("ix_ticket_board")
        batch_op.drop_index("ix_ticket_agent_status")
        batch_op.drop_column("sla_paused")
        batch_op.drop_column("sla_warn_at")
        batch_op.drop_column("sla_due")
        batch_op.drop_column("resolution_warn_at")
        batch_op.drop_column("first_response_warn_at")
        batch_op.drop_column("closed_at")

    with op.batch_alter_table("queue", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_queue_last_assigned_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_queue_supervisor_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("supervisor_id")
        batch_op.drop_column("last_assigned_id")
        batch_op.drop_constraint(op.f("ck_queue_assignment_mode"), type_="check")
        batch_op.drop_column("assignment_mode")
        batch_op.drop_column("at_risk_percent")
        batch_op.drop_column("holiday_subdivision")
        batch_op.drop_column("holiday_country")
        batch_op.drop_column("time_zone")

    with op.batch_alter_table("ticket_change", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_change_ticket_time")

    op.drop_table("ticket_change")
    with op.batch_alter_table("ticket_notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_notification_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_notification_created_at"))

    op.drop_table("ticket_notification")
    with op.batch_alter_table("ticket_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_message_ticket_id"))

    op.drop_table("ticket_message")
    op.drop_table("queue_sla_target")
    with op.batch_alter_table("queue_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_member_user_id"))

    op.drop_table("queue_member")
    op.drop_table("queue_closed_day")
    with op.batch_alter_table("queue_business_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_business_hours_queue_id"))

    op.drop_table("queue_business_hours")
    with op.batch_alter_table("escalation_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_rule_queue_id"))

    op.drop_table("escalation_rule")
    op.drop_table("agent_presence")
