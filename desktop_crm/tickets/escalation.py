"""Escalation: at-risk and breached tickets notify the supervisor once, and rules act on them.

:func:`run_escalation` may run in any number of clients and processes at once (every
supervisor's board runs it on its poll, ``desktop-crm tickets escalate`` from cron): the
notification row is inserted with ``ON CONFLICT DO NOTHING`` on the unique ``(ticket_id,
level)``, and only the process whose insert went through reports it and runs the queue's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from desktop_crm.data.errors import ValidationError
from desktop_crm.data.models import (
    EscalationRule,
    Queue,
    Ticket,
    TicketNotification,
    utcnow,
)

from .assignment import pick_agent
from .service import TicketChanges, update_ticket
from .sla import OPEN_STATUSES

LEVELS = (
    "first_response_at_risk",
    "first_response_breached",
    "resolution_at_risk",
    "resolution_breached",
)
ACTIONS = ("move", "reassign")


@dataclass(frozen=True)
class Notification:
    id: int
    ticket_id: int
    number: str
    subject: str
    queue_id: int | None
    level: str
    due_at: datetime | None
    recipient_id: int | None
    created_at: datetime


def reached_levels(ticket: Ticket, now: datetime) -> list[tuple[str, datetime | None]]:
    """The escalation levels the ticket has reached, with the due time of their clock."""
    if ticket.status not in OPEN_STATUSES:
        return []
    out: list[tuple[str, datetime | None]] = []
    clocks = (
        ("first_response", ticket.first_response_warn_at, ticket.first_response_due),
        ("resolution", ticket.resolution_warn_at, ticket.resolution_due),
    )
    for clock, warn, due in clocks:
        if clock == "first_response" and ticket.first_responded_at is not None:
            continue
        if warn is None:  # no target, or paused before reaching it: not live
            continue
        if warn <= now:
            out.append((f"{clock}_at_risk", due))
        if due is not None and due <= now:
            out.append((f"{clock}_breached", due))
    return out


def _insert_once(session: Session, values: dict[str, object]) -> int | None:
    """Insert the notification unless it exists; its id when this call inserted it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt: Any = insert(TicketNotification).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=["ticket_id", "level"])
    new_id = session.scalar(stmt.returning(TicketNotification.id))
    return int(new_id) if new_id is not None else None


def run_escalation(session: Session, *, now: datetime | None = None) -> list[Notification]:
    """Notify every newly reached level once and apply the queue's rules; the new ones."""
    now = now or utcnow()
    candidates = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.sla_warn_at <= now, Ticket.status.in_(tuple(OPEN_STATUSES)))
            .order_by(Ticket.sla_warn_at, Ticket.id)
        )
    )
    if not candidates:
        return []
    ids = [t.id for t in candidates]
    known = {
        (tid, level)
        for tid, level in session.execute(
            select(TicketNotification.ticket_id, TicketNotification.level).where(
                TicketNotification.ticket_id.in_(ids)
            )
        )
    }
    supervisors: dict[int, int | None] = {}
    for qid, supervisor in session.execute(
        select(Queue.id, Queue.supervisor_id).where(
            Queue.id.in_({t.queue_id for t in candidates if t.queue_id is not None})
        )
    ):
        supervisors[qid] = supervisor
    created: list[Notification] = []
    for ticket in candidates:
        for level, due in reached_levels(ticket, now):
            if (ticket.id, level) in known:
                continue
            recipient = supervisors.get(ticket.queue_id) if ticket.queue_id else None
            new_id = _insert_once(
                session,
                {
                    "ticket_id": ticket.id,
                    "level": level,
                    "due_at": due,
                    "created_at": now,
                    "recipient_id": recipient,
                },
            )
            if new_id is None:  # another process was first
                continue
            created.append(
                Notification(
                    new_id,
                    ticket.id,
                    ticket.number,
                    ticket.subject,
                    ticket.queue_id,
                    level,
                    due,
                    recipient,
                    now,
                )
            )
            _apply_rules(session, ticket, level, now)
    session.flush()
    return created


def _apply_rules(session: Session, ticket: Ticket, level: str, now: datetime) -> None:
    if ticket.queue_id is None:
        return
    rules = session.scalars(
        select(EscalationRule)
        .where(EscalationRule.queue_id == ticket.queue_id, EscalationRule.level == level)
        .order_by(EscalationRule.id)
    ).all()
    for rule in rules:
        note = f"escalation rule {rule.id} ({level.replace('_', ' ')})"
        if rule.action == "move" and rule.target_queue_id is not None:
            update_ticket(
                session,
                ticket.id,
                TicketChanges(queue_id=rule.target_queue_id, assignee_id=None),
                expected_version=ticket.version,
                user_id=None,
                now=now,
                note=note,
            )
            chosen = pick_agent(session, rule.target_queue_id)
            if chosen is not None:
                update_ticket(
                    session,
                    ticket.id,
                    TicketChanges(assignee_id=chosen),
                    expected_version=ticket.version,
                    user_id=None,
                    now=now,
                    note=note,
                )
            return  # the ticket now follows its new queue's rules
        if rule.action == "reassign":
            target = rule.target_user_id or pick_agent(session, ticket.queue_id)
            if target is not None and target != ticket.assignee_id:
                update_ticket(
                    session,
                    ticket.id,
                    TicketChanges(assignee_id=target),
                    expected_version=ticket.version,
                    user_id=None,
                    now=now,
                    note=note,
                )


def add_rule(
    session: Session,
    queue_id: int,
    level: str,
    action: str,
    *,
    target_queue_id: int | None = None,
    target_user_id: int | None = None,
) -> EscalationRule:
    if level not in LEVELS:
        raise ValidationError(f"level {level!r} is not one of {', '.join(LEVELS)}", field="level")
    if action not in ACTIONS:
        raise ValidationError(f"action {action!r} is not move or reassign", field="action")
    if action == "move" and target_queue_id is None:
        raise ValidationError("a move rule needs the queue to move to", field="target_queue_id")
    rule = EscalationRule(
        queue_id=queue_id,
        level=level,
        action=action,
        target_queue_id=target_queue_id,
        target_user_id=target_user_id,
    )
    session.add(rule)
    session.flush()
    return rule


def notifications(
    session: Session, recipient_id: int | None = None, *, unread_only: bool = True, limit: int = 200
) -> Sequence[TicketNotification]:
    query = select(TicketNotification)
    if recipient_id is not None:
        query = query.where(TicketNotification.recipient_id == recipient_id)
    if unread_only:
        query = query.where(TicketNotification.read_at.is_(None))
    query = query.order_by(TicketNotification.created_at.desc(), TicketNotification.id.desc())
    return session.scalars(query.limit(limit)).all()


def mark_read(
    session: Session, notification_ids: Sequence[int], *, now: datetime | None = None
) -> None:
    for row in session.scalars(
        select(TicketNotification).where(TicketNotification.id.in_(list(notification_ids)))
    ):
        row.read_at = now or utcnow()
    session.flush()
