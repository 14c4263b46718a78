"""The contact history: logging interactions exactly once, and reading them newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import ValidationError
from .models import Contact, Direction, Interaction, InteractionKind, utcnow


@dataclass(frozen=True)
class InteractionInput:
    kind: InteractionKind
    contact_id: int | None = None
    organization_id: int | None = None
    direction: Direction = Direction.NONE
    occurred_at: datetime | None = None
    duration_seconds: int | None = None
    outcome: str = ""
    subject: str = ""
    body: str = ""
    user_id: int | None = None
    ticket_id: int | None = None
    remote: str = ""
    source: str = ""
    external_id: str | None = None


def log_interaction(session: Session, data: InteractionInput) -> tuple[Interaction, bool]:
    """Add one history entry; ``(entry, created)``.

    With a ``source`` and ``external_id`` (a Call-ID, a Message-ID) the same event is stored only
    once: a repeat returns the entry already there, also when two processes race to log it.
    """
    if data.occurred_at is not None and data.occurred_at.tzinfo is None:
        raise ValidationError("history times must carry a time zone", field="occurred_at")
    if data.external_id is not None:
        existing = _by_external_id(session, data.source, data.external_id)
        if existing is not None:
            return existing, False
    organization_id = data.organization_id
    if organization_id is None and data.contact_id is not None:
        organization_id = session.scalar(
            select(Contact.organization_id).where(Contact.id == data.contact_id)
        )
    entry = Interaction(
        kind=InteractionKind(data.kind),
        direction=Direction(data.direction),
        occurred_at=data.occurred_at or utcnow(),
        duration_seconds=data.duration_seconds,
        outcome=data.outcome,
        subject=data.subject,
        body=data.body,
        user_id=data.user_id,
        contact_id=data.contact_id,
        organization_id=organization_id,
        ticket_id=data.ticket_id,
        remote=data.remote,
        source=data.source,
        external_id=data.external_id,
    )
    if data.external_id is None:
        session.add(entry)
        session.flush()
        return entry, True
    savepoint = session.begin_nested()
    try:
        session.add(entry)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        existing = _by_external_id(session, data.source, data.external_id)
        if existing is None:
            raise
        return existing, False
    savepoint.commit()
    return entry, True


def _by_external_id(session: Session, source: str, external_id: str) -> Interaction | None:
    return session.scalar(
        select(Interaction).where(
            Interaction.source == source, Interaction.external_id == external_id
        )
    )


def history(
    session: Session,
    *,
    contact_id: int | None = None,
    organization_id: int | None = None,
    kinds: Sequence[InteractionKind] | None = None,
    limit: int = 50,
    before: datetime | None = None,
) -> list[Interaction]:
    """History entries newest first (ties broken by id, newest first).

    For an organization this includes the history of its people.
    """
    query = select(Interaction)
    if contact_id is not None:
        query = query.where(Interaction.contact_id == contact_id)
    elif organization_id is not None:
        people = select(Contact.id).where(Contact.organization_id == organization_id)
        query = query.where(
            or_(
                Interaction.organization_id == organization_id,
                Interaction.contact_id.in_(people),
            )
        )
    if kinds:
        query = query.where(Interaction.kind.in_([InteractionKind(k) for k in kinds]))
    if before is not None:
        query = query.where(Interaction.occurred_at < before)
    query = query.order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(limit)
    return list(session.scalars(query))


def interaction_dict(entry: Interaction) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind.value,
        "direction": entry.direction.value,
        "occurred_at": entry.occurred_at.isoformat(),
        "duration_seconds": entry.duration_seconds,
        "outcome": entry.outcome,
        "subject": entry.subject,
        "body": entry.body,
        "contact_id": entry.contact_id,
        "organization_id": entry.organization_id,
        "ticket_id": entry.ticket_id,
        "remote": entry.remote,
        "source": entry.source,
        "external_id": entry.external_id,
    }
