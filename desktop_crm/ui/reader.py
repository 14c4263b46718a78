"""What the client reads from the database, as plain immutable values (no ORM objects, no Qt).

Every call opens its own session (:meth:`Database.session`) and closes it before returning, so
nothing the views hold can fire a query later, and a worker thread may use the same reader
without sharing a session with the GUI thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from desktop_crm.data import history as history_service
from desktop_crm.data import queries, records
from desktop_crm.data.db import Database
from desktop_crm.data.models import Direction, InteractionKind, PhoneKind
from desktop_crm.data.queries import ContactRow

SEARCH_LIMIT = 500
HISTORY_LIMIT = 50


@dataclass(frozen=True)
class PhoneLine:
    kind: PhoneKind
    raw: str


@dataclass(frozen=True)
class EmailLine:
    address: str
    primary: bool


@dataclass(frozen=True)
class ContactDetail:
    id: int
    name: str
    salutation: str
    position: str
    organization: str
    phones: tuple[PhoneLine, ...]
    emails: tuple[EmailLine, ...]
    street: str
    postal_code: str
    city: str
    country: str
    tags: tuple[str, ...]
    notes: str


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    kind: InteractionKind
    occurred_at: datetime  # aware, UTC
    direction: Direction
    outcome: str
    duration_seconds: int | None
    subject: str
    body: str
    remote: str


@dataclass(frozen=True)
class SearchResult:
    ids: list[int]
    total: int  # contacts in the database
    truncated: bool  # more matches than SEARCH_LIMIT


class CrmReader:
    def __init__(self, db: Database) -> None:
        self.db = db

    def search(self, text: str) -> SearchResult:
        with self.db.session() as session:
            ids = queries.contact_ids(session, text, limit=SEARCH_LIMIT if text.strip() else None)
            total = queries.count_contacts(session)
        return SearchResult(ids, total, truncated=bool(text.strip()) and len(ids) >= SEARCH_LIMIT)

    def contact_rows(self, ids: Sequence[int]) -> Mapping[int, ContactRow]:
        with self.db.session() as session:
            return queries.contact_rows(session, ids)

    def contact(self, contact_id: int) -> ContactDetail:
        """Master data of one contact; :class:`NotFound` when it was deleted meanwhile."""
        with self.db.session() as session:
            c = records.get_contact(session, contact_id)
            return ContactDetail(
                id=c.id,
                name=c.display_name,
                salutation=c.salutation,
                position=c.position,
                organization=c.organization.name if c.organization else "",
                phones=tuple(PhoneLine(p.kind, p.raw) for p in c.phones),
                emails=tuple(EmailLine(e.raw, e.is_primary) for e in c.emails),
                street=c.street,
                postal_code=c.postal_code,
                city=c.city,
                country=c.country or "",
                tags=tuple(sorted(t.name for t in c.tags)),
                notes=c.notes,
            )

    def history(self, contact_id: int, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
        """The contact's history, newest first."""
        with self.db.session() as session:
            return [
                HistoryEntry(
                    id=e.id,
                    kind=e.kind,
                    occurred_at=e.occurred_at,
                    direction=e.direction,
                    outcome=e.outcome,
                    duration_seconds=e.duration_seconds,
                    subject=e.subject,
                    body=e.body,
                    remote=e.remote,
                )
                for e in history_service.history(session, contact_id=contact_id, limit=limit)
            ]
