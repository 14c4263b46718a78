"""Ticket services: create (by hand, from a call, from a mail), change, reopen; SLA kept current.

Every change goes through :func:`update_ticket`, which checks the version the user started from
(optimistic locking, :class:`~desktop_crm.data.errors.ConflictError`), checks the status
transition, writes one ``ticket_change`` row per changed field (who, when, from, to) plus one
history entry (``interaction`` of kind ``ticket_event``) on the ticket's contact/organization,
and recomputes the stored due and at-risk times (:mod:`desktop_crm.tickets.sla`) so the board
only compares stored, indexed columns with the clock.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from desktop_crm.data.errors import ConflictError, NotFound, ValidationError
from desktop_crm.data.history import InteractionInput, log_interaction
from desktop_crm.data.models import (
    AssignmentMode,
    Contact,
    Interaction,
    InteractionKind,
    Organization,
    Queue,
    QueueBusinessHours,
    QueueClosedDay,
    QueueMember,
    QueueSlaTarget,
    Ticket,
    TicketChange,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    User,
    utcnow,
)

from .calendar import BusinessCalendar, Interval, office_hours
from .sla import DONE, Moment, SlaResult, SlaTarget, compute_sla


class Unset(enum.Enum):
    """The value of a :class:`TicketChanges` field that is not to be changed."""

    UNSET = 0


UNSET = Unset.UNSET

CHANNELS = ("manual", "phone", "email")

# status → statuses it may change to; CLOSED only by reopening (see reopen_ticket)
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset(
        {
            TicketStatus.OPEN,
            TicketStatus.WAITING_CUSTOMER,
            TicketStatus.WAITING_THIRD_PARTY,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
    TicketStatus.OPEN: frozenset(
        {
            TicketStatus.WAITING_CUSTOMER,
            TicketStatus.WAITING_THIRD_PARTY,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
    TicketStatus.WAITING_CUSTOMER: frozenset(
        {
            TicketStatus.OPEN,
            TicketStatus.WAITING_THIRD_PARTY,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
    TicketStatus.WAITING_THIRD_PARTY: frozenset(
        {
            TicketStatus.OPEN,
            TicketStatus.WAITING_CUSTOMER,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
    TicketStatus.RESOLVED: frozenset({TicketStatus.OPEN, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}

NUMBER_PATTERN = re.compile(r"\bT-(\d{6,})(?:-\d+)?\b", re.IGNORECASE)


class TicketClosedError(ValidationError):
    """A closed ticket is reopened first; it is never changed silently."""


class TransitionError(ValidationError):
    """A status change the workflow does not allow (e.g. back to "new")."""


@dataclass(frozen=True)
class TicketInput:
    subject: str
    description: str = ""
    queue_id: int | None = None
    priority: TicketPriority = TicketPriority.NORMAL
    contact_id: int | None = None
    organization_id: int | None = None
    assignee_id: int | None = None
    channel: str = "manual"


@dataclass(frozen=True)
class TicketChanges:
    """What to change; fields left at ``UNSET`` stay as they are."""

    subject: str | Unset = UNSET
    description: str | Unset = UNSET
    queue_id: int | Unset | None = UNSET
    priority: TicketPriority | Unset = UNSET
    status: TicketStatus | Unset = UNSET
    assignee_id: int | Unset | None = UNSET
    contact_id: int | Unset | None = UNSET
    organization_id: int | Unset | None = UNSET

    def items(self) -> list[tuple[str, Any]]:
        return [(f.name, v) for f in fields(self) if (v := getattr(self, f.name)) is not UNSET]


# --- reading -----------------------------------------------------------------------------------


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist (deleted?)")
    return ticket


def ticket_by_number(session: Session, number: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.number == number.strip().upper()))


def ticket_dict(ticket: Ticket) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": ticket.id,
        "number": ticket.number,
        "subject": ticket.subject,
        "description": ticket.description,
        "queue_id": ticket.queue_id,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "channel": ticket.channel,
        "assignee_id": ticket.assignee_id,
        "contact_id": ticket.contact_id,
        "organization_id": ticket.organization_id,
        "created_at": iso(ticket.created_at),
        "first_response_due": iso(ticket.first_response_due),
        "resolution_due": iso(ticket.resolution_due),
        "first_responded_at": iso(ticket.first_responded_at),
        "resolved_at": iso(ticket.resolved_at),
        "sla_due": iso(ticket.sla_due),
        "sla_warn_at": iso(ticket.sla_warn_at),
        "sla_paused": ticket.sla_paused,
        "version": ticket.version,
    }


def changes_of(session: Session, ticket_id: int) -> list[TicketChange]:
    """The ticket's change log, oldest first."""
    return list(
        session.scalars(
            select(TicketChange)
            .where(TicketChange.ticket_id == ticket_id)
            .order_by(TicketChange.changed_at, TicketChange.id)
        )
    )


# --- SLA policy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaPolicy:
    calendar: BusinessCalendar
    targets: dict[TicketPriority, SlaTarget]
    at_risk_share: float


def queue_policy(session: Session, queue: Queue) -> SlaPolicy:
    """The queue's calendar and targets; without stored hours: Mon–Fri 08:00–17:00, without
    stored targets: :data:`DEFAULT_TARGETS`."""
    hours: dict[int, list[Interval]] = {}
    for row in session.scalars(
        select(QueueBusinessHours).where(QueueBusinessHours.queue_id == queue.id)
    ):
        hours.setdefault(row.weekday, []).append((row.start_minute, row.end_minute))
    closed = frozenset(
        session.scalars(select(QueueClosedDay.day).where(QueueClosedDay.queue_id == queue.id))
    )
    calendar = BusinessCalendar(
        queue.time_zone,
        {d: tuple(v) for d, v in hours.items()} if hours else office_hours(),
        queue.holiday_country or None,
        queue.holiday_subdivision or None,
        closed,
    )
    targets = {
        priority: SlaTarget(_minutes(first), _minutes(resolution))
        for priority, (first, resolution) in DEFAULT_TARGETS.items()
    }  # a queue nobody configured yet (demo data, an import) gets the defaults
    targets |= {
        row.priority: SlaTarget(
            _minutes(row.first_response_minutes), _minutes(row.resolution_minutes)
        )
        for row in session.scalars(
            select(QueueSlaTarget).where(QueueSlaTarget.queue_id == queue.id)
        )
    }
    return SlaPolicy(calendar, targets, queue.at_risk_percent / 100)


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)


def timeline(session: Session, ticket: Ticket) -> list[Moment]:
    """Status and priority over time, replayed from the change log."""
    rows = session.execute(
        select(
            TicketChange.changed_at,
            TicketChange.field,
            TicketChange.new_value,
            TicketChange.old_value,
        )
        .where(
            TicketChange.ticket_id == ticket.id,
            TicketChange.field.in_(("status", "priority")),
        )
        .order_by(TicketChange.changed_at, TicketChange.id)
    ).all()
    # where the history starts: a ticket written without the services (imports, demo data)
    # has no creation rows; its first recorded change says what it was before
    first_status = next((old for _, f, _, old in rows if f == "status"), None)
    first_priority = next((old for _, f, _, old in rows if f == "priority"), None)
    status = TicketStatus(first_status) if first_status else TicketStatus.NEW
    priority = TicketPriority(first_priority) if first_priority else ticket.priority
    moments: list[Moment] = [Moment(ticket.created_at, status, priority)]
    for at, field, value, _old in rows:
        if value is None:
            continue
        if field == "status":
            status = TicketStatus(value)
        else:
            priority = TicketPriority(value)
        if moments and moments[-1].at == at:
            moments[-1] = Moment(at, status, priority)
        else:
            moments.append(Moment(at, status, priority))
    if not rows:
        moments = [Moment(ticket.created_at, ticket.status, ticket.priority)]
    return moments


def refresh_sla(
    session: Session, ticket: Ticket, policies: dict[int, SlaPolicy] | None = None
) -> SlaResult | None:
    """Recompute and store the ticket's due and at-risk times (``policies``: a cache by queue)."""
    queue = session.get(Queue, ticket.queue_id) if ticket.queue_id is not None else None
    if queue is None:
        result = None
    else:
        policy = policies.get(queue.id) if policies is not None else None
        if policy is None:
            policy = queue_policy(session, queue)
            if policies is not None:
                policies[queue.id] = policy
        result = compute_sla(
            policy.calendar,
            policy.targets,
            timeline(session, ticket),
            first_responded_at=ticket.first_responded_at,
            resolved_at=ticket.resolved_at,
            at_risk_share=policy.at_risk_share,
        )
    first = result.first_response if result else None
    resolution = result.resolution if result else None
    ticket.first_response_due = first.due if first else None
    ticket.first_response_warn_at = first.warn_at if first and first.live else None
    ticket.resolution_due = resolution.due if resolution else None
    ticket.resolution_warn_at = resolution.warn_at if resolution and resolution.live else None
    ticket.sla_due = result.due if result else None
    ticket.sla_warn_at = result.warn_at if result else None
    ticket.sla_paused = ticket.status in (
        TicketStatus.WAITING_CUSTOMER,
        TicketStatus.WAITING_THIRD_PARTY,
    )
    return result


def recompute_open_tickets(session: Session, batch: int = 500) -> int:
    """Recompute the SLA columns of every open ticket (after changing a queue's hours or SLA)."""
    ids = list(
        session.scalars(
            select(Ticket.id).where(Ticket.status.not_in(tuple(DONE))).order_by(Ticket.id)
        )
    )
    policies: dict[int, SlaPolicy] = {}
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(chunk))):
            refresh_sla(session, ticket, policies)
        session.flush()
    return len(ids)


# --- writing -----------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValidationError("times must carry a time zone", field="now")
    return now


def _check_links(session: Session, values: dict[str, Any]) -> None:
    for field, model, what in (
        ("queue_id", Queue, "queue"),
        ("assignee_id", User, "user"),
        ("contact_id", Contact, "contact"),
        ("organization_id", Organization, "organization"),
    ):
        value = values.get(field)
        if value is not None and session.get(model, value) is None:
            raise ValidationError(f"{what} {value} does not exist", field=field)


def create_ticket(
    session: Session,
    data: TicketInput,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
    responded: bool = False,
) -> Ticket:
    """A new ticket, numbered ``T-000123``; its creation is the first entry of its history.

    ``responded``: the customer was already answered (a ticket taken during a call), so the
    first-response clock is met at creation and the ticket starts *open*.
    """
    at = _now(now)
    subject = data.subject.strip()
    if not subject:
        raise ValidationError("a ticket needs a subject", field="subject")
    if data.channel not in CHANNELS:
        raise ValidationError(f"channel {data.channel!r} is not one of {CHANNELS}", field="channel")
    values = {
        "queue_id": data.queue_id,
        "assignee_id": data.assignee_id,
        "contact_id": data.contact_id,
        "organization_id": data.organization_id,
    }
    _check_links(session, values)
    organization_id = data.organization_id
    if organization_id is None and data.contact_id is not None:
        organization_id = session.scalar(
            select(Contact.organization_id).where(Contact.id == data.contact_id)
        )
    ticket = Ticket(
        number=f"new-{uuid.uuid4().hex[:24]}",
        subject=subject[:300],
        description=data.description,
        queue_id=data.queue_id,
        priority=TicketPriority(data.priority),
        status=TicketStatus.OPEN if responded else TicketStatus.NEW,
        channel=data.channel,
        assignee_id=data.assignee_id,
        contact_id=data.contact_id,
        organization_id=organization_id,
        first_responded_at=at if responded else None,
        created_at=at,
        updated_at=at,
    )
    session.add(ticket)
    session.flush()
    ticket.number = _number_for(session, ticket.id)
    diffs: list[tuple[str, str | None, str | None]] = [
        ("status", None, TicketStatus.NEW.value),
        ("priority", None, ticket.priority.value),
    ]
    if responded:
        diffs.append(("status", TicketStatus.NEW.value, TicketStatus.OPEN.value))
    if ticket.queue_id is not None:
        diffs.append(("queue_id", None, str(ticket.queue_id)))
    if ticket.assignee_id is not None:
        diffs.append(("assignee_id", None, str(ticket.assignee_id)))
    _record(session, ticket, diffs, user_id, at, created=True)
    if ticket.assignee_id is None and ticket.queue_id is not None:
        from .assignment import auto_assign  # assignment uses these services too

        auto_assign(session, ticket, user_id=user_id, now=at)
    refresh_sla(session, ticket)
    session.flush()
    return ticket


def _number_for(session: Session, ticket_id: int) -> str:
    number = f"T-{ticket_id:06d}"
    suffix = 1
    while session.scalar(select(Ticket.id).where(Ticket.number == number)) is not None:
        suffix += 1  # taken by imported or demo tickets numbered their own way
        number = f"T-{ticket_id:06d}-{suffix}"
    return number


def check_transition(old: TicketStatus, new: TicketStatus) -> None:
    if old == new:
        return
    if old == TicketStatus.CLOSED:
        raise TicketClosedError("this ticket is closed; reopen it to change it", field="status")
    if new not in TRANSITIONS[old]:
        raise TransitionError(f"a ticket cannot go from {old.value} to {new.value}", field="status")


def update_ticket(
    session: Session,
    ticket_id: int,
    changes: TicketChanges,
    *,
    expected_version: int,
    user_id: int | None,
    now: datetime | None = None,
    note: str = "",
) -> Ticket:
    """Apply ``changes`` unless someone saved the ticket after ``expected_version``."""
    at = _now(now)
    ticket = get_ticket(session, ticket_id)
    attempted = {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in changes.items()}
    if ticket.version != expected_version:
        raise ConflictError("Ticket", ticket_id, expected_version, ticket_dict(ticket), attempted)
    wanted = dict(changes.items())
    if ticket.status == TicketStatus.CLOSED and wanted:
        raise TicketClosedError(
            f"ticket {ticket.number} is closed; reopen it to change it", field="status"
        )
    if "subject" in wanted and not str(wanted["subject"]).strip():
        raise ValidationError("a ticket needs a subject", field="subject")
    _check_links(session, {k: v for k, v in wanted.items() if k.endswith("_id")})
    diffs: list[tuple[str, str | None, str | None]] = []
    if "status" in wanted:
        new_status = TicketStatus(wanted.pop("status"))
        check_transition(ticket.status, new_status)
        if new_status != ticket.status:
            diffs.append(("status", ticket.status.value, new_status.value))
            _apply_status(ticket, new_status, at)
    for field, value in wanted.items():
        if field == "priority":
            value = TicketPriority(value)
        old = getattr(ticket, field)
        if old == value:
            continue
        setattr(ticket, field, value)
        diffs.append((field, _text(old), _text(value)))
    if not diffs and not note:
        return ticket
    ticket.updated_at = at
    _record(session, ticket, diffs, user_id, at, note=note)
    refresh_sla(session, ticket)
    try:
        session.flush()
    except StaleDataError as exc:  # saved by someone else between our read and our write
        session.rollback()
        current = get_ticket(session, ticket_id)
        raise ConflictError(
            "Ticket", ticket_id, expected_version, ticket_dict(current), attempted
        ) from exc
    return ticket


def _apply_status(ticket: Ticket, status: TicketStatus, at: datetime) -> None:
    if ticket.status == TicketStatus.NEW and ticket.first_responded_at is None:
        ticket.first_responded_at = at  # the first thing an agent does with it answers it
    if status in DONE and ticket.resolved_at is None:
        ticket.resolved_at = at
    if status == TicketStatus.CLOSED:
        ticket.closed_at = at
    if status not in DONE:
        ticket.resolved_at = None
        ticket.closed_at = None
    ticket.status = status


def reopen_ticket(
    session: Session,
    ticket_id: int,
    *,
    expected_version: int,
    user_id: int | None,
    reason: str = "",
    now: datetime | None = None,
) -> Ticket:
    """A resolved or closed ticket back to *open*; the resolution clock goes on where it stopped."""
    at = _now(now)
    ticket = get_ticket(session, ticket_id)
    if ticket.version != expected_version:
        raise ConflictError(
            "Ticket", ticket_id, expected_version, ticket_dict(ticket), {"status": "open"}
        )
    if ticket.status not in DONE:
        raise TransitionError(f"ticket {ticket.number} is not resolved or closed", field="status")
    diffs = [("status", ticket.status.value, TicketStatus.OPEN.value)]
    _apply_status(ticket, TicketStatus.OPEN, at)
    ticket.updated_at = at
    _record(session, ticket, diffs, user_id, at, note=reason or "reopened")
    refresh_sla(session, ticket)
    session.flush()
    return ticket


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)[:400]


_FIELD_WORDS = {
    "status": "status",
    "priority": "priority",
    "queue_id": "queue",
    "assignee_id": "assignee",
    "contact_id": "contact",
    "organization_id": "organization",
    "subject": "subject",
    "description": "description",
}


def _names(
    session: Session, diffs: Iterable[tuple[str, str | None, str | None]]
) -> dict[tuple[str, str], str]:
    """Display names of the users and queues a change mentions (for the history text)."""
    users = {int(v) for f, *vs in diffs if f == "assignee_id" for v in vs if v}
    queues = {int(v) for f, *vs in diffs if f == "queue_id" for v in vs if v}
    names: dict[tuple[str, str], str] = {}
    if users:
        for uid, name, login in session.execute(
            select(User.id, User.name, User.login).where(User.id.in_(users))
        ):
            names[("assignee_id", str(uid))] = name or login
    if queues:
        for qid, name in session.execute(select(Queue.id, Queue.name).where(Queue.id.in_(queues))):
            names[("queue_id", str(qid))] = name
    return names


def describe_changes(
    session: Session, diffs: Sequence[tuple[str, str | None, str | None]]
) -> list[str]:
    names = _names(session, diffs)

    def show(field: str, value: str | None) -> str:
        if value is None or value == "":
            return "–"
        if field == "description":
            return "…"
        return names.get((field, value), value.replace("_", " "))

    return [
        f"{_FIELD_WORDS.get(f, f)}: {show(f, old)} → {show(f, new)}"
        if old is not None
        else f"{_FIELD_WORDS.get(f, f)}: {show(f, new)}"
        for f, old, new in diffs
    ]


def _record(
    session: Session,
    ticket: Ticket,
    diffs: Sequence[tuple[str, str | None, str | None]],
    user_id: int | None,
    at: datetime,
    *,
    created: bool = False,
    note: str = "",
) -> Interaction:
    """One history entry for the change, and one ticket_change row per changed field."""
    lines = describe_changes(session, diffs)
    if created:
        subject = f"Ticket {ticket.number} created: {ticket.subject}"
    else:
        subject = f"Ticket {ticket.number}: " + ("; ".join(lines) if lines else note)
    entry, _ = log_interaction(
        session,
        InteractionInput(
            kind=InteractionKind.TICKET_EVENT,
            contact_id=ticket.contact_id,
            organization_id=ticket.organization_id,
            occurred_at=at,
            subject=subject[:300],
            body="\n".join([*lines, note] if note else lines),
            user_id=user_id,
            ticket_id=ticket.id,
        ),
    )
    for field, old, new in diffs:
        session.add(
            TicketChange(
                ticket_id=ticket.id,
                changed_at=at,
                user_id=user_id,
                field=field,
                old_value=old,
                new_value=new,
                interaction_id=entry.id,
            )
        )
    session.flush()
    return entry


# --- calls and mails ---------------------------------------------------------------------------


def create_from_call(
    session: Session,
    interaction_id: int,
    data: TicketInput,
    *,
    user_id: int | None,
    now: datetime | None = None,
) -> Ticket:
    """A ticket taken from the pop-up during or after a call; the call joins its history.

    The agent spoke with the caller, so the first response is given at creation.
    """
    call = session.get(Interaction, interaction_id)
    if call is None:
        raise NotFound(f"history entry {interaction_id} does not exist")
    data = TicketInput(
        subject=data.subject,
        description=data.description,
        queue_id=data.queue_id,
        priority=data.priority,
        contact_id=data.contact_id if data.contact_id is not None else call.contact_id,
        organization_id=(
            data.organization_id if data.organization_id is not None else call.organization_id
        ),
        assignee_id=data.assignee_id if data.assignee_id is not None else user_id,
        channel="phone",
    )
    ticket = create_ticket(session, data, user_id=user_id, now=now, responded=True)
    call.ticket_id = ticket.id
    session.flush()
    return ticket


@dataclass(frozen=True)
class MailInput:
    """A mail as the mail listener stored it in the history (its interaction)."""

    interaction_id: int
    subject: str
    message_id: str | None = None
    in_reply_to: str | None = None
    references: Sequence[str] = ()


def _message_ids(values: Iterable[str | None]) -> list[str]:
    out: list[str] = []
    for value in values:
        for part in re.findall(r"<[^<>\s]+>", value or "") or ([value.strip()] if value else []):
            if part and part not in out:
                out.append(part[:400])
    return out


def ticket_for_mail(session: Session, mail: MailInput) -> int | None:
    """The ticket a mail answers: by In-Reply-To/References, then by a ticket number in the
    subject ("Re: [T-000123] …")."""
    wanted = _message_ids([mail.in_reply_to, *mail.references])
    if wanted:
        found = session.scalar(
            select(TicketMessage.ticket_id).where(TicketMessage.message_id.in_(wanted)).limit(1)
        )
        if found is not None:
            return found
    for match in NUMBER_PATTERN.finditer(mail.subject):
        ticket = ticket_by_number(session, match.group(0))
        if ticket is not None:
            return ticket.id
    return None


def add_mail(
    session: Session,
    ticket_id: int,
    mail: MailInput,
    *,
    from_customer: bool = True,
    now: datetime | None = None,
) -> Ticket:
    """Add a mail to a ticket. A customer's answer ends a wait for the customer, and reopens a
    resolved or closed ticket (recorded, never silent)."""
    ticket = get_ticket(session, ticket_id)
    entry = session.get(Interaction, mail.interaction_id)
    if entry is None:
        raise NotFound(f"history entry {mail.interaction_id} does not exist")
    entry.ticket_id = ticket.id
    _remember_message(session, ticket.id, mail.message_id)
    if from_customer and ticket.status in DONE:
        return reopen_ticket(
            session,
            ticket.id,
            expected_version=ticket.version,
            user_id=None,
            reason="the customer answered by mail",
            now=now,
        )
    if from_customer and ticket.status == TicketStatus.WAITING_CUSTOMER:
        return update_ticket(
            session,
            ticket.id,
            TicketChanges(status=TicketStatus.OPEN),
            expected_version=ticket.version,
            user_id=None,
            now=now,
            note="the customer answered by mail",
        )
    session.flush()
    return ticket


def create_from_mail(
    session: Session,
    mail: MailInput,
    data: TicketInput,
    *,
    now: datetime | None = None,
) -> tuple[Ticket, bool]:
    """The ticket of a mail to a support mailbox: the one it answers, else a new one.

    Returns ``(ticket, created)``.
    """
    existing = ticket_for_mail(session, mail)
    if existing is not None:
        return add_mail(session, existing, mail, now=now), False
    entry = session.get(Interaction, mail.interaction_id)
    if entry is None:
        raise NotFound(f"history entry {mail.interaction_id} does not exist")
    data = TicketInput(
        subject=data.subject or mail.subject or "(no subject)",
        description=data.description,
        queue_id=data.queue_id,
        priority=data.priority,
        contact_id=data.contact_id if data.contact_id is not None else entry.contact_id,
        organization_id=(
            data.organization_id if data.organization_id is not None else entry.organization_id
        ),
        assignee_id=data.assignee_id,
        channel="email",
    )
    ticket = create_ticket(session, data, user_id=None, now=now)
    entry.ticket_id = ticket.id
    _remember_message(session, ticket.id, mail.message_id)
    session.flush()
    return ticket, True


def queue_for_mailbox(session: Session, address: str) -> int | None:
    """The queue whose ``email`` is the mailbox a mail was sent to (support@…), if any."""
    wanted = address.strip().strip("<>").lower()
    for qid, email in session.execute(
        select(Queue.id, Queue.email).where(Queue.email.is_not(None))
    ):
        if email and email.strip().lower() == wanted:
            return int(qid)
    return None


def _remember_message(session: Session, ticket_id: int, message_id: str | None) -> None:
    for mid in _message_ids([message_id]):
        if session.scalar(select(TicketMessage.id).where(TicketMessage.message_id == mid)) is None:
            session.add(TicketMessage(ticket_id=ticket_id, message_id=mid))


# --- queues ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueSetup:
    """A queue's SLA settings as an administrator enters them."""

    name: str
    time_zone: str = "Europe/Berlin"
    holidays: str = "DE"  # "DE", "DE-BY", "AT", "CH-ZH"
    hours: dict[int, tuple[Interval, ...]] | None = None  # None: Mon–Fri 08:00–17:00
    closed_days: Sequence[Any] = ()
    targets: dict[TicketPriority, tuple[int | None, int | None]] | None = None  # minutes
    at_risk_percent: int = 75
    assignment_mode: AssignmentMode = AssignmentMode.MANUAL
    supervisor_id: int | None = None
    email: str | None = None
    description: str = ""


DEFAULT_TARGETS = {  # business minutes: first response, resolution
    TicketPriority.URGENT: (60, 240),
    TicketPriority.HIGH: (120, 960),
    TicketPriority.NORMAL: (480, 2700),
    TicketPriority.LOW: (960, 5400),
}


def save_queue(session: Session, setup: QueueSetup) -> Queue:
    """Create the queue named ``setup.name`` or replace its SLA settings; open tickets follow."""
    country, _, subdivision = setup.holidays.upper().partition("-")
    hours = setup.hours if setup.hours is not None else office_hours()
    # validates zone, hours and holiday region before anything is stored
    BusinessCalendar(setup.time_zone, hours, country or None, subdivision or None)
    if not 1 <= setup.at_risk_percent <= 100:
        raise ValidationError("the at-risk share is a percentage (1–100)", field="at_risk_percent")
    queue = session.scalar(select(Queue).where(Queue.name == setup.name.strip()))
    if queue is None:
        queue = Queue(name=setup.name.strip())
        session.add(queue)
    queue.time_zone = setup.time_zone
    queue.holiday_country = country
    queue.holiday_subdivision = subdivision or None
    queue.at_risk_percent = setup.at_risk_percent
    queue.assignment_mode = AssignmentMode(setup.assignment_mode)
    queue.supervisor_id = setup.supervisor_id
    queue.email = setup.email
    queue.description = setup.description
    session.flush()
    for model in (QueueBusinessHours, QueueClosedDay, QueueSlaTarget):
        for row in session.scalars(select(model).where(model.queue_id == queue.id)):
            session.delete(row)
    session.flush()
    for day, intervals in hours.items():
        for start, end in intervals:
            session.add(
                QueueBusinessHours(
                    queue_id=queue.id, weekday=day, start_minute=start, end_minute=end
                )
            )
    for day in setup.closed_days:
        session.add(QueueClosedDay(queue_id=queue.id, day=day))
    targets = setup.targets if setup.targets is not None else DEFAULT_TARGETS
    for priority, (first, resolve) in targets.items():
        session.add(
            QueueSlaTarget(
                queue_id=queue.id,
                priority=priority,
                first_response_minutes=first,
                resolution_minutes=resolve,
            )
        )
    session.flush()
    policies: dict[int, SlaPolicy] = {}
    for ticket in session.scalars(
        select(Ticket).where(Ticket.queue_id == queue.id, Ticket.status.not_in(tuple(DONE)))
    ):
        refresh_sla(session, ticket, policies)
    session.flush()
    return queue


# --- one ticket for the detail dialog ----------------------------------------------------------


@dataclass(frozen=True)
class ChangeLine:
    at: datetime
    who: str
    text: str


@dataclass(frozen=True)
class TicketDetail:
    """One ticket as plain values, with what the edit dialog offers."""

    id: int
    number: str
    subject: str
    description: str
    queue_id: int | None
    priority: TicketPriority
    status: TicketStatus
    assignee_id: int | None
    customer: str
    channel: str
    created_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    sla_due: datetime | None
    sla_warn_at: datetime | None
    sla_paused: bool
    version: int
    next_statuses: tuple[TicketStatus, ...]
    queues: tuple[tuple[int, str], ...]
    agents: tuple[tuple[int, str], ...]
    changes: tuple[ChangeLine, ...]


def edit_queue(
    session: Session,
    queue_id: int | None,
    version: int | None,
    setup: QueueSetup,
    member_ids: Sequence[int],
) -> int:
    """The queue dialog's save: create (``queue_id`` None) or change a queue and its members;
    returns its id.

    ``save_queue`` finds a queue by name, so a new queue must not take an existing name (it
    would overwrite that queue) and a renamed one is renamed first. ``version`` is the one the
    dialog showed: someone else's save in between is a :class:`ConflictError`, not overwritten.
    """
    name = setup.name.strip()
    if not name:
        raise ValidationError("a queue needs a name", field="name")
    holder = session.scalar(select(Queue.id).where(Queue.name == name))
    if holder is not None and holder != queue_id:
        raise ValidationError(f"there is already a queue named {name!r}", field="name")
    if queue_id is not None:
        queue = session.get(Queue, queue_id)
        if queue is None:
            raise NotFound(f"queue {queue_id} does not exist (deleted?)")
        if version is not None and queue.version != version:
            raise ConflictError("queue", queue_id, version, current={"version": queue.version})
        if queue.name != name:
            queue.name = name
            session.flush()
    from .assignment import set_members  # assignment builds on this module

    saved = save_queue(session, setup)
    set_members(session, saved.id, member_ids)
    return saved.id


def ticket_detail(session: Session, ticket_id: int) -> TicketDetail:
    ticket = get_ticket(session, ticket_id)
    customer = ""
    if ticket.contact_id is not None:
        contact = session.get(Contact, ticket.contact_id)
        if contact is not None:
            customer = contact.display_name
    if ticket.organization_id is not None:
        org = session.get(Organization, ticket.organization_id)
        if org is not None:
            customer = ", ".join(p for p in (customer, org.name) if p)
    users = {
        uid: name or login
        for uid, name, login in session.execute(select(User.id, User.name, User.login))
    }
    rows = changes_of(session, ticket_id)
    lines: list[ChangeLine] = []
    for row in rows:
        text = describe_changes(session, [(row.field, row.old_value, row.new_value)])[0]
        lines.append(ChangeLine(row.changed_at, users.get(row.user_id or 0, ""), text))
    return TicketDetail(
        id=ticket.id,
        number=ticket.number,
        subject=ticket.subject,
        description=ticket.description,
        queue_id=ticket.queue_id,
        priority=ticket.priority,
        status=ticket.status,
        assignee_id=ticket.assignee_id,
        customer=customer,
        channel=ticket.channel,
        created_at=ticket.created_at,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        sla_due=ticket.sla_due,
        sla_warn_at=ticket.sla_warn_at,
        sla_paused=ticket.sla_paused,
        version=ticket.version,
        next_statuses=tuple(s for s in TicketStatus if s in TRANSITIONS[ticket.status]),
        queues=tuple((q.id, q.name) for q in session.scalars(select(Queue).order_by(Queue.name))),
        agents=tuple(
            (uid, name)
            for uid, name in sorted(users.items(), key=lambda item: (item[1].casefold(), item[0]))
        ),
        changes=tuple(reversed(lines)),
    )


# --- one queue for the queue settings dialog ---------------------------------------------------


@dataclass(frozen=True)
class QueueUser:
    """A person the queue dialog offers as member or supervisor."""

    id: int
    name: str
    active: bool


@dataclass(frozen=True)
class QueueSettings:
    """One queue's settings as plain values, as :class:`QueueSetup` takes them back.

    What the queue has not stored reads as what its SLA clock uses (:func:`queue_policy`):
    Mon–Fri 08:00–17:00 and :data:`DEFAULT_TARGETS`, so saving unchanged changes nothing.
    """

    id: int
    name: str
    description: str
    email: str | None
    time_zone: str
    holidays: str  # "DE", "DE-BY"; "" for none
    hours: dict[int, tuple[Interval, ...]]
    closed_days: tuple[Any, ...]  # kept as they are: the dialog does not edit them
    targets: dict[TicketPriority, tuple[int | None, int | None]]  # business minutes
    at_risk_percent: int
    assignment_mode: AssignmentMode
    supervisor_id: int | None
    member_ids: tuple[int, ...]
    version: int


def queue_users(session: Session) -> list[QueueUser]:
    """Every user, active ones first, by name (members and supervisors to choose from)."""
    users = [
        QueueUser(uid, name or login, bool(active))
        for uid, name, login, active in session.execute(
            select(User.id, User.name, User.login, User.active)
        )
    ]
    return sorted(users, key=lambda u: (not u.active, u.name.casefold(), u.id))


def queue_settings(session: Session, queue_id: int) -> QueueSettings:
    queue = session.get(Queue, queue_id)
    if queue is None:
        raise NotFound(f"queue {queue_id} does not exist (deleted?)")
    hours: dict[int, list[Interval]] = {}
    for row in session.scalars(
        select(QueueBusinessHours)
        .where(QueueBusinessHours.queue_id == queue.id)
        .order_by(QueueBusinessHours.weekday, QueueBusinessHours.start_minute)
    ):
        hours.setdefault(row.weekday, []).append((row.start_minute, row.end_minute))
    targets: dict[TicketPriority, tuple[int | None, int | None]] = dict(DEFAULT_TARGETS)
    for target in session.scalars(
        select(QueueSlaTarget).where(QueueSlaTarget.queue_id == queue.id)
    ):
        targets[target.priority] = (target.first_response_minutes, target.resolution_minutes)
    members = session.scalars(
        select(QueueMember.user_id)
        .where(QueueMember.queue_id == queue.id)
        .order_by(QueueMember.user_id)
    )
    region = queue.holiday_country or ""
    if region and queue.holiday_subdivision:
        region = f"{region}-{queue.holiday_subdivision}"
    return QueueSettings(
        id=queue.id,
        name=queue.name,
        description=queue.description or "",
        email=queue.email,
        time_zone=queue.time_zone,
        holidays=region,
        hours={d: tuple(v) for d, v in hours.items()} if hours else office_hours(),
        closed_days=tuple(
            session.scalars(
                select(QueueClosedDay.day)
                .where(QueueClosedDay.queue_id == queue.id)
                .order_by(QueueClosedDay.day)
            )
        ),
        targets=targets,
        at_risk_percent=queue.at_risk_percent,
        assignment_mode=queue.assignment_mode,
        supervisor_id=queue.supervisor_id,
        member_ids=tuple(members),
        version=queue.version,
    )


_WEEKDAY_TEXT = ("mo", "tu", "we", "th", "fr", "sa", "su")


def hours_text(hours: dict[int, tuple[Interval, ...]]) -> str:
    """Weekly hours in the syntax :func:`~desktop_crm.tickets.calendar.parse_hours` reads:
    ``"mo-fr 08:00-12:00,13:00-17:00; sa 09:00-12:00"`` (runs of days with the same hours)."""

    def clock(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    parts: list[str] = []
    day = 0
    while day < 7:
        intervals = tuple(sorted(hours.get(day, ())))
        last = day
        while last + 1 < 7 and tuple(sorted(hours.get(last + 1, ()))) == intervals:
            last += 1
        if intervals:
            days = _WEEKDAY_TEXT[day] + (f"-{_WEEKDAY_TEXT[last]}" if last > day else "")
            parts.append(days + " " + ",".join(f"{clock(a)}-{clock(b)}" for a, b in intervals))
        day = last + 1
    return "; ".join(parts)


def duration_text(minutes: int | None) -> str:
    """Business minutes as :func:`~desktop_crm.tickets.calendar.parse_duration` reads them:
    ``270`` → ``"4h 30m"``; ``None`` (no target) → ``""``."""
    if minutes is None:
        return ""
    hours, rest = divmod(minutes, 60)
    parts = [f"{hours}h" if hours else "", f"{rest}m" if rest else ""]
    return " ".join(p for p in parts if p) or "0m"
