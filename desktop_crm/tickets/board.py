"""The supervisor's board: figures per queue and per agent, and the tickets behind each figure.

Every figure is a count over stored, indexed columns compared with the clock: status, assignee
and creation time (``ix_ticket_board``, ``ix_ticket_agent_status``), the stored due and at-risk
times (``ix_ticket_sla_due_queue``, ``ix_ticket_sla_warn_queue``) and the resolution time
(``ix_ticket_resolved_at``). Nothing is computed per ticket while the board refreshes: due times
are computed when a ticket changes (:mod:`desktop_crm.tickets.service`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from desktop_crm.data.errors import ValidationError
from desktop_crm.data.models import (
    AgentPresence,
    Contact,
    Organization,
    Queue,
    QueueMember,
    Ticket,
    TicketPriority,
    TicketStatus,
    User,
    utcnow,
)

from .sla import OPEN_STATUSES, WAITING

QUEUE_FIGURES = ("new", "open", "waiting", "unassigned", "at_risk", "breached", "oldest_waiting")
AGENT_FIGURES = ("assigned", "in_progress", "resolved_today")
ALL_OPEN = "all_open"
_OPEN = tuple(OPEN_STATUSES)
_WAITING = tuple(WAITING)


@dataclass(frozen=True)
class BoardFilter:
    priority: TicketPriority | None = None
    organization_id: int | None = None
    min_age: timedelta | None = None  # only tickets at least this old

    @property
    def empty(self) -> bool:
        return self.priority is None and self.organization_id is None and self.min_age is None

    def clauses(self, now: datetime) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.priority is not None:
            out.append(Ticket.priority == self.priority)
        if self.organization_id is not None:
            out.append(Ticket.organization_id == self.organization_id)
        if self.min_age is not None:
            out.append(Ticket.created_at <= now - self.min_age)
        return out


@dataclass(frozen=True)
class QueueFigures:
    queue_id: int | None  # None: tickets without a queue
    name: str
    new: int = 0
    open: int = 0
    waiting: int = 0
    unassigned: int = 0
    at_risk: int = 0
    breached: int = 0
    oldest_waiting: datetime | None = None  # creation of the oldest ticket still unanswered

    def figure(self, name: str) -> Any:
        return getattr(self, name)


@dataclass(frozen=True)
class AgentFigures:
    user_id: int
    name: str
    present: bool
    assigned: int = 0
    in_progress: int = 0
    resolved_today: int = 0

    def figure(self, name: str) -> Any:
        return getattr(self, name)


@dataclass(frozen=True)
class Board:
    at: datetime
    queues: list[QueueFigures] = field(default_factory=list)
    agents: list[AgentFigures] = field(default_factory=list)


def start_of_day(now: datetime, zone: str = "Europe/Berlin") -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    return datetime.combine(local.date(), time(0), tzinfo=ZoneInfo(zone))


def board(
    session: Session,
    *,
    now: datetime | None = None,
    filters: BoardFilter | None = None,
    time_zone: str = "Europe/Berlin",
) -> Board:
    """All figures of all queues and all agents, in five index-only scans."""
    now = now or utcnow()
    filters = filters or BoardFilter()
    extra = filters.clauses(now)
    names: dict[int, str] = {}
    for qid, name in session.execute(select(Queue.id, Queue.name).order_by(Queue.name)):
        names[qid] = name
    per_queue: dict[int | None, dict[str, Any]] = {qid: {} for qid in names}

    # one index-only pass over the open tickets in ix_ticket_board's order (status, queue,
    # assignee): the queue figures and the agents' open counts at once, no sort
    per_agent: dict[int, dict[str, int]] = {}
    # thousands of small groups: read as plain strings and ints through the Core connection
    # (no ORM row or enum processing), which halves the refresh in Python
    status_text = type_coerce(Ticket.status, String)
    rows = (
        session.connection()
        .execute(
            select(status_text, Ticket.queue_id, Ticket.assignee_id, func.count())
            .where(Ticket.status.in_(_OPEN), *extra)
            .group_by(Ticket.status, Ticket.queue_id, Ticket.assignee_id)
        )
        .all()
    )
    new, opened = TicketStatus.NEW.value, TicketStatus.OPEN.value
    for status, queue_id, assignee_id, count in rows:
        figures = per_queue.setdefault(queue_id, {})
        key = "new" if status == new else "open" if status == opened else "waiting"
        figures[key] = figures.get(key, 0) + count
        if assignee_id is None:
            figures["unassigned"] = figures.get("unassigned", 0) + count
        else:
            agent = per_agent.setdefault(assignee_id, {})
            agent["assigned"] = agent.get("assigned", 0) + count
            if status == opened:
                agent["in_progress"] = agent.get("in_progress", 0) + count
    # oldest unanswered ticket per queue: the new tickets' part of the same index
    for queue_id, oldest in session.execute(
        select(Ticket.queue_id, func.min(Ticket.created_at))
        .where(Ticket.status == TicketStatus.NEW, *extra)
        .group_by(Ticket.queue_id)
    ):
        per_queue.setdefault(queue_id, {})["oldest_waiting"] = _aware(oldest)

    # grouped by an expression, so SQLite reads the due-time range from its covering index
    # instead of walking the whole table in queue order (ix_ticket_queue_id)
    by_queue = (Ticket.queue_id + 0).label("queue")
    for queue_id, count in session.execute(
        select(by_queue, func.count()).where(Ticket.sla_due <= now, *extra).group_by(by_queue)
    ):
        per_queue.setdefault(queue_id, {})["breached"] = count
    for queue_id, count in session.execute(
        select(by_queue, func.count())
        .where(Ticket.sla_warn_at <= now, Ticket.sla_due > now, *extra)
        .group_by(by_queue)
    ):
        per_queue.setdefault(queue_id, {})["at_risk"] = count

    queues = [
        QueueFigures(qid, names.get(qid, "") if qid is not None else "", **figures)
        for qid, figures in per_queue.items()
        if qid is not None or figures
    ]
    return Board(now, queues, _agents(session, now, extra, time_zone, per_agent))


def _agents(
    session: Session,
    now: datetime,
    extra: list[ColumnElement[bool]],
    time_zone: str,
    per_agent: dict[int, dict[str, int]],
) -> list[AgentFigures]:
    by_agent = (Ticket.assignee_id + 0).label("agent")  # see by_queue in board()
    for uid, count in session.execute(
        select(by_agent, func.count())
        .where(
            Ticket.resolved_at >= start_of_day(now, time_zone),
            Ticket.assignee_id.is_not(None),
            *extra,
        )
        .group_by(by_agent)
    ):
        if uid is not None:
            per_agent.setdefault(uid, {})["resolved_today"] = count
    members = set(session.scalars(select(QueueMember.user_id).distinct()))
    wanted = members | set(per_agent)
    if not wanted:
        return []
    people = session.execute(
        select(User.id, User.name, User.login, AgentPresence.present)
        .outerjoin(AgentPresence, AgentPresence.user_id == User.id)
        .where(User.id.in_(wanted))
        .order_by(User.name, User.id)
    ).all()
    return [
        AgentFigures(uid, name or login, bool(present), **per_agent.get(uid, {}))
        for uid, name, login, present in people
    ]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- drill-down --------------------------------------------------------------------------------


def figure_clause(
    figure: str, now: datetime, time_zone: str = "Europe/Berlin"
) -> ColumnElement[bool]:
    """The tickets counted by a figure of :func:`board`."""
    clauses: dict[str, ColumnElement[bool]] = {
        "new": Ticket.status == TicketStatus.NEW,
        "oldest_waiting": Ticket.status == TicketStatus.NEW,
        "open": Ticket.status == TicketStatus.OPEN,
        "waiting": Ticket.status.in_(_WAITING),
        "unassigned": and_(Ticket.assignee_id.is_(None), Ticket.status.in_(_OPEN)),
        "at_risk": and_(Ticket.sla_warn_at <= now, Ticket.sla_due > now),
        "breached": Ticket.sla_due <= now,
        "assigned": Ticket.status.in_(_OPEN),
        "in_progress": Ticket.status == TicketStatus.OPEN,
        "resolved_today": Ticket.resolved_at >= start_of_day(now, time_zone),
        ALL_OPEN: Ticket.status.in_(_OPEN),
    }
    try:
        return clauses[figure]
    except KeyError:
        raise ValidationError(f"{figure!r} is not a figure of the board", field="figure") from None


def ticket_ids(
    session: Session,
    figure: str = ALL_OPEN,
    *,
    queue_id: int | None = None,
    agent_id: int | None = None,
    filters: BoardFilter | None = None,
    now: datetime | None = None,
    limit: int | None = 10_000,
    time_zone: str = "Europe/Berlin",
) -> list[int]:
    """The ids behind a figure, the most urgent first (breached, due soonest, oldest)."""
    now = now or utcnow()
    query = select(Ticket.id).where(figure_clause(figure, now, time_zone))
    if queue_id is not None:
        query = query.where(Ticket.queue_id == queue_id)
    if agent_id is not None:
        query = query.where(Ticket.assignee_id == agent_id)
    query = query.where(*(filters or BoardFilter()).clauses(now))
    order: list[Any]
    if figure == "oldest_waiting":
        order = [Ticket.created_at, Ticket.id]
    else:
        order = [Ticket.sla_due.is_(None), Ticket.sla_due, Ticket.created_at, Ticket.id]
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


@dataclass(frozen=True)
class TicketRow:
    """One line of a ticket list, as plain values."""

    id: int
    number: str
    subject: str
    queue: str
    priority: TicketPriority
    status: TicketStatus
    assignee_id: int | None
    assignee: str
    customer: str
    created_at: datetime
    sla_due: datetime | None
    sla_warn_at: datetime | None
    sla_paused: bool
    version: int


SLA_STATES = ("breached", "at_risk", "paused", "ok", "met", "none")


def sla_state(
    status: TicketStatus,
    sla_due: datetime | None,
    sla_warn_at: datetime | None,
    paused: bool,
    now: datetime,
) -> str:
    """breached, at_risk, paused, ok (running), met (done), none (no target)."""
    if status not in OPEN_STATUSES:
        return "met"
    if sla_due is not None and sla_due <= now:
        return "breached"
    if sla_warn_at is not None and sla_warn_at <= now:
        return "at_risk"
    if paused:
        return "paused"
    return "ok" if sla_due is not None else "none"


def ticket_rows(session: Session, ids: Sequence[int]) -> Mapping[int, TicketRow]:
    """Display rows for a block of ids (one query); deleted ids are missing."""
    if not ids:
        return {}
    org = aliased(Organization)
    rows = session.execute(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.subject,
            Queue.name,
            Ticket.priority,
            Ticket.status,
            Ticket.assignee_id,
            User.name,
            User.login,
            Contact.first_name,
            Contact.last_name,
            org.name,
            Ticket.created_at,
            Ticket.sla_due,
            Ticket.sla_warn_at,
            Ticket.sla_paused,
            Ticket.version,
        )
        .outerjoin(Queue, Queue.id == Ticket.queue_id)
        .outerjoin(User, User.id == Ticket.assignee_id)
        .outerjoin(Contact, Contact.id == Ticket.contact_id)
        .outerjoin(org, org.id == Ticket.organization_id)
        .where(Ticket.id.in_(list(ids)))
    ).all()
    out: dict[int, TicketRow] = {}
    for r in rows:
        person = " ".join(p for p in (r[9], r[10]) if p)
        customer = ", ".join(p for p in (person, r[11]) if p)
        out[r[0]] = TicketRow(
            id=r[0],
            number=r[1],
            subject=r[2],
            queue=r[3] or "",
            priority=r[4],
            status=r[5],
            assignee_id=r[6],
            assignee=r[7] or r[8] or "",
            customer=customer,
            created_at=r[12],
            sla_due=r[13],
            sla_warn_at=r[14],
            sla_paused=bool(r[15]),
            version=r[16],
        )
    return out


def agents(session: Session) -> list[tuple[int, str]]:
    """Active users one can assign tickets to, by name."""
    return [
        (uid, name or login)
        for uid, name, login in session.execute(
            select(User.id, User.name, User.login)
            .where(User.active.is_(True))
            .order_by(User.name, User.id)
        )
    ]


def queues(session: Session) -> list[tuple[int, str]]:
    return [
        (qid, name)
        for qid, name in session.execute(select(Queue.id, Queue.name).order_by(Queue.name))
    ]


def organizations_with_open_tickets(session: Session, limit: int = 500) -> list[tuple[int, str]]:
    """For the organization filter: organizations that have open tickets."""
    sub = (
        select(Ticket.organization_id)
        .where(Ticket.status.in_(_OPEN), Ticket.organization_id.is_not(None))
        .distinct()
        .subquery()
    )
    return [
        (oid, name)
        for oid, name in session.execute(
            select(Organization.id, Organization.name)
            .where(Organization.id.in_(select(sub.c.organization_id)))
            .order_by(Organization.sort_key)
            .limit(limit)
        )
    ]


def list_tickets(
    session: Session,
    *,
    queue_id: int | None = None,
    status: TicketStatus | None = None,
    now: datetime | None = None,
    limit: int | None = 1000,
) -> list[TicketRow]:
    """Tickets for the command line and wallboards: open ones (or one status), most urgent first."""
    now = now or utcnow()
    query = select(Ticket.id)
    query = query.where(Ticket.status == status if status else Ticket.status.in_(_OPEN))
    if queue_id is not None:
        query = query.where(Ticket.queue_id == queue_id)
    query = query.order_by(Ticket.sla_due.is_(None), Ticket.sla_due, Ticket.created_at, Ticket.id)
    ids = list(session.scalars(query.limit(limit) if limit else query))
    rows = ticket_rows(session, ids)
    return [rows[i] for i in ids if i in rows]


def queue_id_for(session: Session, name_or_id: str) -> int:
    """A queue named on the command line, by name (any case) or id."""
    text = name_or_id.strip()
    for qid, name in session.execute(select(Queue.id, Queue.name)):
        if name.casefold() == text.casefold() or text == str(qid):
            return int(qid)
    known = ", ".join(name for _, name in queues(session)) or "none yet"
    raise ValidationError(f"no queue {text!r} (queues: {known})", field="queue")
