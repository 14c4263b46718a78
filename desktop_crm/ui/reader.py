"""What the client reads from the database, as plain immutable values (no ORM objects, no Qt).

Every call opens its own session (:meth:`Database.session`) and closes it before returning, so
nothing the views hold can fire a query later, and a worker thread may use the same reader
without sharing a session with the GUI thread.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_crm.data import history as history_service
from desktop_crm.data import queries, records
from desktop_crm.data.db import Database
from desktop_crm.data.models import Direction, Interaction, InteractionKind, Organization, PhoneKind
from desktop_crm.data.phone import digits_only
from desktop_crm.data.queries import CallRow, CardTicket, ContactRow, OrganizationRow
from desktop_crm.identify.resolve import RecordKind, looks_like_address, resolve
from desktop_crm.identify.rules import DialingRules

SEARCH_LIMIT = 500
RESOLVE_MIN_DIGITS = 5  # shorter digit strings are searched as text, not read as a number
HISTORY_LIMIT = 50
COLLEAGUES = 12  # the organization's other people shown on a contact
PEOPLE = 200  # people listed on an organization


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
    organization_id: int | None = None
    colleagues: tuple[tuple[int, str], ...] = ()  # the organization's other people
    tickets: tuple[CardTicket, ...] = ()  # open ones


@dataclass(frozen=True)
class OrganizationDetail:
    id: int
    name: str
    customer_number: str
    phones: tuple[PhoneLine, ...]
    emails: tuple[EmailLine, ...]
    domains: tuple[str, ...]
    street: str
    postal_code: str
    city: str
    country: str
    tags: tuple[str, ...]
    notes: str
    people: tuple[tuple[int, str], ...]
    tickets: tuple[CardTicket, ...]


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
    def __init__(self, db: Database, rules: DialingRules | None = None) -> None:
        self.db = db
        self.rules = rules or DialingRules()

    def search(self, text: str) -> SearchResult:
        """Contacts for the search box; a number or address is resolved as the pop-up does.

        A typed number or e-mail address goes through the caller/sender resolution first, so
        the best match ranks on top and a company's switchboard lists its people; name and
        prefix matches follow. An empty search is every contact (:meth:`all_ids`).
        """
        if not text.strip():
            with self.db.session() as session:
                ids = list(queries.all_contact_ids(session))
                return SearchResult(ids, len(ids), truncated=False)
        with self.db.session() as session:
            ids = self._resolved(session, text)
            more = queries.quick_contact_ids(session, text, limit=SEARCH_LIMIT)
            ids = list(dict.fromkeys([*ids, *more]))[:SEARCH_LIMIT]
            total = queries.count_contacts(session)
        return SearchResult(ids, total, truncated=len(ids) >= SEARCH_LIMIT)

    def first_page(self, limit: int) -> SearchResult:
        """The first contacts in name order and how many there are: the list's first screen."""
        with self.db.session() as session:
            ids = queries.first_contact_ids(session, limit)
            total = queries.count_contacts(session) if len(ids) >= limit else len(ids)
        return SearchResult(ids, total, truncated=False)

    def all_ids(self) -> array[int]:
        with self.db.session() as session:
            return queries.all_contact_ids(session)

    def contact_list(self, head: int = 0) -> queries.ListAnchors:
        """The whole contact list in name order, held as anchors every ``LIST_BLOCK`` rows
        (plus its first ``head`` ids): what the list keeps instead of a million ids."""
        with self.db.session() as session:
            return queries.contact_anchors(session, queries.LIST_BLOCK, head)

    def contact_range(self, key: str, contact_id: int, limit: int) -> list[ContactRow]:
        """``limit`` display rows of the whole list from an anchor on (one query)."""
        with self.db.session() as session:
            return queries.contact_block(session, key, contact_id, limit)

    def contact_position(self, contact_id: int, anchors: queries.ListAnchors) -> int | None:
        """The row of a contact in the whole list held as ``anchors``."""
        with self.db.session() as session:
            return queries.contact_position(session, contact_id, anchors)

    def _resolved(self, session: Session, text: str) -> list[int]:
        text = text.strip()
        if not looks_like_address(text) and len(digits_only(text)) < RESOLVE_MIN_DIGITS:
            return []
        ids: list[int] = []
        for match in resolve(session, text, self.rules).matches:
            if match.record.kind is RecordKind.CONTACT:
                ids.append(match.record.id)
            elif match.record.kind is RecordKind.ORGANIZATION:
                ids.extend(queries.organization_contact_ids(session, match.record.id))
        return ids

    def contact_rows(self, ids: Sequence[int]) -> Mapping[int, ContactRow]:
        with self.db.session() as session:
            return queries.contact_rows(session, ids)

    def contact(self, contact_id: int) -> ContactDetail:
        """Master data of one contact; :class:`NotFound` when it was deleted meanwhile."""
        with self.db.session() as session:
            c = records.get_contact(session, contact_id)
            colleagues: tuple[tuple[int, str], ...] = ()
            if c.organization_id is not None:
                ids = [
                    i
                    for i in queries.organization_contact_ids(
                        session, c.organization_id, limit=COLLEAGUES + 1
                    )
                    if i != c.id
                ][:COLLEAGUES]
                rows = queries.contact_rows(session, ids)
                colleagues = tuple((i, rows[i].name or rows[i].phone) for i in ids if i in rows)
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
                organization_id=c.organization_id,
                colleagues=colleagues,
                tickets=tuple(queries.open_tickets(session, contact_id=c.id)),
            )

    def organization(self, organization_id: int) -> OrganizationDetail:
        with self.db.session() as session:
            o = records.get_organization(session, organization_id)
            ids = queries.organization_contact_ids(session, o.id, limit=PEOPLE)
            rows = queries.contact_rows(session, ids)
            return OrganizationDetail(
                id=o.id,
                name=o.name,
                customer_number=o.customer_number or "",
                phones=tuple(PhoneLine(p.kind, p.raw) for p in o.phones),
                emails=tuple(EmailLine(e.raw, e.is_primary) for e in o.emails),
                domains=tuple(d.domain for d in o.domains),
                street=o.street,
                postal_code=o.postal_code,
                city=o.city,
                country=o.country or "",
                tags=tuple(sorted(t.name for t in o.tags)),
                notes=o.notes,
                people=tuple((i, rows[i].name or rows[i].phone) for i in ids if i in rows),
                tickets=tuple(queries.open_tickets(session, organization_id=o.id)),
            )

    def organization_ids(self, text: str) -> SearchResult:
        with self.db.session() as session:
            text = text.strip()
            ids = queries.organization_ids(session, text, limit=SEARCH_LIMIT if text else None)
            total = session.scalar(select(func.count()).select_from(Organization)) or 0
        return SearchResult(ids, total, truncated=bool(text) and len(ids) >= SEARCH_LIMIT)

    def organization_rows(self, ids: Sequence[int]) -> Mapping[int, OrganizationRow]:
        with self.db.session() as session:
            return queries.organization_rows(session, ids)

    def call_ids(self, *, missed_only: bool = False) -> list[int]:
        with self.db.session() as session:
            return queries.call_ids(session, missed_only=missed_only)

    def call_rows(self, ids: Sequence[int]) -> Mapping[int, CallRow]:
        with self.db.session() as session:
            return queries.call_rows(session, ids)

    def organization_history(
        self, organization_id: int, limit: int = HISTORY_LIMIT
    ) -> list[HistoryEntry]:
        with self.db.session() as session:
            return [
                _entry(e)
                for e in history_service.history(
                    session, organization_id=organization_id, limit=limit
                )
            ]

    def history(self, contact_id: int, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
        """The contact's history, newest first."""
        with self.db.session() as session:
            return [
                _entry(e)
                for e in history_service.history(session, contact_id=contact_id, limit=limit)
            ]


def _entry(e: Interaction) -> HistoryEntry:
    return HistoryEntry(
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
