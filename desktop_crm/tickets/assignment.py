"""Who gets a ticket: by hand, or round-robin / least-busy among the queue's present agents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_crm.data.errors import ValidationError
from desktop_crm.data.models import (
    AgentPresence,
    AssignmentMode,
    Queue,
    QueueMember,
    Ticket,
    User,
    utcnow,
)

from .service import TicketChanges, update_ticket
from .sla import OPEN_STATUSES


def set_presence(
    session: Session, user_id: int, present: bool, *, now: datetime | None = None
) -> None:
    """Mark an agent present (logged in, not on a break) or away."""
    if session.get(User, user_id) is None:
        raise ValidationError(f"user {user_id} does not exist", field="user_id")
    row = session.get(AgentPresence, user_id)
    if row is None:
        session.add(AgentPresence(user_id=user_id, present=present, changed_at=now or utcnow()))
    elif row.present != present:
        row.present = present
        row.changed_at = now or utcnow()
    session.flush()


def set_members(session: Session, queue_id: int, user_ids: Iterable[int]) -> None:
    """The agents who work the queue, exactly these."""
    wanted = set(user_ids)
    current = set(
        session.scalars(select(QueueMember.user_id).where(QueueMember.queue_id == queue_id))
    )
    for row in session.scalars(
        select(QueueMember).where(
            QueueMember.queue_id == queue_id, QueueMember.user_id.in_(current - wanted)
        )
    ):
        session.delete(row)
    for user_id in sorted(wanted - current):
        session.add(QueueMember(queue_id=queue_id, user_id=user_id))
    session.flush()


def present_members(session: Session, queue_id: int) -> list[int]:
    """Active, present agents of the queue, by id."""
    return list(
        session.scalars(
            select(QueueMember.user_id)
            .join(User, User.id == QueueMember.user_id)
            .join(AgentPresence, AgentPresence.user_id == QueueMember.user_id)
            .where(
                QueueMember.queue_id == queue_id,
                User.active.is_(True),
                AgentPresence.present.is_(True),
            )
            .order_by(QueueMember.user_id)
        )
    )


def open_load(session: Session, user_ids: Iterable[int]) -> dict[int, int]:
    """Open tickets per agent (index ix_ticket_agent_status)."""
    ids = list(user_ids)
    counts = dict.fromkeys(ids, 0)
    if ids:
        for uid, count in session.execute(
            select(Ticket.assignee_id, func.count())
            .where(Ticket.assignee_id.in_(ids), Ticket.status.in_(tuple(OPEN_STATUSES)))
            .group_by(Ticket.assignee_id)
        ):
            if uid is not None:
                counts[uid] = count
    return counts


def pick_agent(session: Session, queue_id: int) -> int | None:
    """The agent the queue's assignment mode chooses next; None when nobody is present.

    The queue row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serializes writers),
    so two clients assigning at once do not hand out the same turn twice.
    """
    queue = session.scalar(select(Queue).where(Queue.id == queue_id).with_for_update())
    if queue is None or queue.assignment_mode == AssignmentMode.MANUAL:
        return None
    candidates = present_members(session, queue_id)
    if not candidates:
        return None
    after = queue.last_assigned_id or 0
    # the turn order after the last one served, wrapping around
    turn = sorted(candidates, key=lambda uid: (uid <= after, uid))
    if queue.assignment_mode == AssignmentMode.LEAST_BUSY:
        load = open_load(session, candidates)
        chosen = min(turn, key=lambda uid: load[uid])  # ties: next in turn
    else:
        chosen = turn[0]
    queue.last_assigned_id = chosen
    session.flush()
    return chosen


def auto_assign(
    session: Session, ticket: Ticket, *, user_id: int | None = None, now: datetime | None = None
) -> int | None:
    """Assign an unassigned ticket by its queue's mode; the assignment is a recorded change."""
    if ticket.queue_id is None or ticket.assignee_id is not None:
        return ticket.assignee_id
    chosen = pick_agent(session, ticket.queue_id)
    if chosen is None:
        return None
    update_ticket(
        session,
        ticket.id,
        TicketChanges(assignee_id=chosen),
        expected_version=ticket.version,
        user_id=user_id,
        now=now,
        note="assigned automatically",
    )
    return chosen
