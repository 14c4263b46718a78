"""Read-side queries for lists and search: ids first, rows for the visible ids only.

Lists work like Anki's browser: the view holds the ordered ids and asks for the few rows it
shows. Search uses indexed prefix ranges only (``sort_key``, ``normalized``, ``suffix_key``,
``e164``), never ``LIKE '%…'``.
"""

from __future__ import annotations

import bisect
import functools
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, func, or_, select, union
from sqlalchemy import text as sql_text
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import ColumnElement, Select

from .models import (
    Contact,
    Direction,
    EmailAddress,
    Interaction,
    InteractionKind,
    Organization,
    PhoneNumber,
    Tag,
    Ticket,
    TicketPriority,
    TicketStatus,
    contact_tag,
    organization_tag,
)
from .phone import digits_only, normalize_phone
from .records import sort_key

MIN_SUFFIX_DIGITS = 4


@dataclass(frozen=True)
class ContactRow:
    id: int
    name: str
    organization: str
    phone: str
    email: str
    city: str
    version: int


@dataclass(frozen=True)
class OrganizationRow:
    id: int
    name: str
    customer_number: str
    phone: str
    city: str
    version: int


def _prefix_range(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    """``column LIKE 'prefix%'`` written as a range, which every backend serves from an index."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper)


def count_contacts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Contact)) or 0


def contact_ids(session: Session, text: str = "", *, limit: int | None = None) -> list[int]:
    """Ids of the contacts matching ``text`` (all when empty), in name order."""
    if text.strip():
        return find_contacts(session, text, limit=limit or 500)
    query = select(Contact.id).order_by(Contact.sort_key, Contact.id)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def organization_ids(session: Session, text: str = "", *, limit: int | None = None) -> list[int]:
    query = select(Organization.id)
    text = text.strip()
    if text:
        key = sort_key(text)
        query = query.where(
            _prefix_range(Organization.sort_key, key) | (Organization.customer_number == text)
        )
    query = query.order_by(Organization.sort_key, Organization.id)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def organization_contact_ids(session: Session, organization_id: int, limit: int = 200) -> list[int]:
    """The people of an organization, in name order."""
    return list(
        session.scalars(
            select(Contact.id)
            .where(Contact.organization_id == organization_id)
            .order_by(Contact.sort_key, Contact.id)
            .limit(limit)
        )
    )


def find_contacts(session: Session, text: str, *, limit: int = 50) -> list[int]:
    """Contacts whose name, e-mail, number or organization's customer number fits ``text``."""
    text = text.strip()
    if not text:
        return []
    selects: list[Select[Any]] = []
    key = sort_key(text)
    if key:
        selects.append(select(Contact.id).where(_prefix_range(Contact.sort_key, key)))
        # "Anna Schmidt" typed first-name first: also try "schmidt anna"
        parts = key.split()
        if len(parts) == 2:
            swapped = f"{parts[1]} {parts[0]}"
            selects.append(select(Contact.id).where(_prefix_range(Contact.sort_key, swapped)))
    lowered = text.lower()
    if "@" in lowered or "." in lowered:
        selects.append(
            select(EmailAddress.contact_id).where(
                _prefix_range(EmailAddress.normalized, lowered),
                EmailAddress.contact_id.is_not(None),
            )
        )
    digits = digits_only(text)
    if len(digits) >= MIN_SUFFIX_DIGITS and len(digits) * 2 >= len(text.replace(" ", "")):
        selects.extend(_phone_selects(text, digits))
    selects.append(
        select(Contact.id)
        .join(Organization, Contact.organization_id == Organization.id)
        .where(Organization.customer_number == text)
    )
    union_query = union(*selects).subquery()
    query = (
        select(Contact.id)
        .where(Contact.id.in_(select(union_query.c[0])))
        .order_by(Contact.sort_key, Contact.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _phone_selects(text: str, digits: str) -> list[Select[Any]]:
    """A typed number: exact E.164, else the digits as the end of a stored number."""
    out: list[Select[Any]] = []
    normalized = normalize_phone(text)
    if normalized.e164:
        out.append(
            select(PhoneNumber.contact_id).where(
                PhoneNumber.e164 == normalized.e164, PhoneNumber.contact_id.is_not(None)
            )
        )
    national = digits.lstrip("0") or digits
    out.append(
        select(PhoneNumber.contact_id).where(
            _prefix_range(PhoneNumber.suffix_key, national[::-1]),
            PhoneNumber.contact_id.is_not(None),
        )
    )
    return out


def _first_per_owner(
    session: Session,
    owner: InstrumentedAttribute[int | None],
    value: InstrumentedAttribute[str],
    ids: Sequence[int],
    *order: Any,
) -> dict[int, str]:
    """The first ``value`` (in ``order``) for each owner id: the number or address a list shows."""
    out: dict[int, str] = {}
    for owner_id, raw in session.execute(
        select(owner, value).where(owner.in_(ids)).order_by(*order)
    ):
        if owner_id is not None:
            out.setdefault(owner_id, raw)
    return out


@functools.cache
def _contact_row_columns() -> tuple[Any, ...]:
    """What a list row shows, in one statement: the first number (by id) and the first address
    (primary first) are correlated subqueries on the owner indexes, so a block of rows is one
    round trip instead of three (measured on 1,000,000 contacts: 12 ms → 1-2 ms a block)."""
    phone = (
        select(PhoneNumber.raw)
        .where(PhoneNumber.contact_id == Contact.id)
        .order_by(PhoneNumber.id)
        .limit(1)
        .scalar_subquery()
    )
    email = (
        select(EmailAddress.raw)
        .where(EmailAddress.contact_id == Contact.id)
        .order_by(EmailAddress.is_primary.desc(), EmailAddress.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        Contact.id,
        Contact.title,
        Contact.first_name,
        Contact.last_name,
        Contact.city,
        Contact.version,
        Organization.name,
        phone,
        email,
    )


def _contact_row(row: Any) -> ContactRow:
    cid, title, first, last, city, version, org_name, phone, email = row
    return ContactRow(
        id=cid,
        name=" ".join(p for p in (title, first, last) if p),
        organization=org_name or "",
        phone=phone or "",
        email=email or "",
        city=city,
        version=version,
    )


def contact_rows(session: Session, ids: Sequence[int]) -> dict[int, ContactRow]:
    """Display rows for ``ids`` in one indexed query, however many ids there are."""
    if not ids:
        return {}
    rows = session.connection().execute(_contact_rows_by_id(), {"ids": list(ids)})
    return {row[0]: _contact_row(row) for row in rows}


@functools.cache
def _contact_rows_by_id() -> Select[Any]:
    return (
        select(*_contact_row_columns())
        .outerjoin(Organization, Contact.organization_id == Organization.id)
        .where(Contact.id.in_(bindparam("ids", expanding=True)))
    )


@functools.cache
def _contact_rows_from_anchor() -> Select[Any]:
    return (
        select(*_contact_row_columns())
        .outerjoin(Organization, Contact.organization_id == Organization.id)
        .where(
            _after(Contact.sort_key, Contact.id, bindparam("key"), bindparam("id"), inclusive=True)
        )
        .order_by(Contact.sort_key, Contact.id)
        .limit(bindparam("limit"))
    )


def organization_rows(session: Session, ids: Sequence[int]) -> dict[int, OrganizationRow]:
    if not ids:
        return {}
    phones = _first_per_owner(
        session, PhoneNumber.organization_id, PhoneNumber.raw, ids, PhoneNumber.id
    )
    rows = session.execute(
        select(
            Organization.id,
            Organization.name,
            Organization.customer_number,
            Organization.city,
            Organization.version,
        ).where(Organization.id.in_(ids))
    )
    return {
        oid: OrganizationRow(oid, name, number or "", phones.get(oid, ""), city, version)
        for oid, name, number, city, version in rows
    }


def contacts_by_email(session: Session, address: str) -> list[int]:
    lowered = address.strip().lower()
    return list(
        session.scalars(
            select(EmailAddress.contact_id).where(
                EmailAddress.normalized == lowered, EmailAddress.contact_id.is_not(None)
            )
        )
    )


def contacts_by_phone(session: Session, raw: str, region: str = "DE") -> list[int]:
    normalized = normalize_phone(raw, region)
    if not normalized.e164:
        return []
    return list(
        session.scalars(
            select(PhoneNumber.contact_id).where(
                PhoneNumber.e164 == normalized.e164, PhoneNumber.contact_id.is_not(None)
            )
        )
    )


# --- the caller pop-up ---------------------------------------------------------------------------

#: Ticket states that count as open on the pop-up and the record view.
OPEN_TICKET_STATES = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.WAITING_CUSTOMER,
    TicketStatus.WAITING_THIRD_PARTY,
)
CARD_HISTORY = 5
CARD_TICKETS = 5


@dataclass(frozen=True)
class CardEntry:
    """One history line on the pop-up."""

    id: int
    kind: InteractionKind
    occurred_at: datetime
    direction: Direction
    outcome: str
    duration_seconds: int | None
    text: str  # subject, else the first line of the body, else the number


@dataclass(frozen=True)
class CardTicket:
    id: int
    number: str
    subject: str
    status: TicketStatus
    priority: TicketPriority


@dataclass(frozen=True)
class CallerCard:
    """What the pop-up shows about a known caller beyond the match itself (plain values).

    Read in the listener's thread (its own session) so the GUI thread only renders.
    """

    kind: str  # "contact" or "organization"
    id: int
    important_tags: tuple[str, ...]
    notes: str
    history: tuple[CardEntry, ...]
    tickets: tuple[CardTicket, ...]


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]


def _card_statements(kind: str) -> tuple[Any, Any, Any, Any]:
    """The four statements of a contact's or an organization's card, built once.

    Building a statement and its cache key, and the ORM's execution context, cost several times
    SQLite's index look-ups (about 1 ms a card against 0.1 ms); the card is on the pop-up's
    critical path, so it runs prebuilt statements on the session's connection.
    """
    record_id = bindparam("record_id", type_=Integer())
    if kind == "contact":
        notes: Any = select(Contact.notes).where(Contact.id == record_id)
        tags: Any = (
            select(Tag.name)
            .join(contact_tag, contact_tag.c.tag_id == Tag.id)
            .where(contact_tag.c.contact_id == record_id, Tag.important.is_(True))
            .order_by(Tag.name)
        )
        owner: ColumnElement[bool] = Interaction.contact_id == record_id
        ticket_owner: ColumnElement[bool] = Ticket.contact_id == record_id
    else:
        notes = select(Organization.notes).where(Organization.id == record_id)
        tags = (
            select(Tag.name)
            .join(organization_tag, organization_tag.c.tag_id == Tag.id)
            .where(organization_tag.c.organization_id == record_id, Tag.important.is_(True))
            .order_by(Tag.name)
        )
        owner = Interaction.organization_id == record_id
        ticket_owner = Ticket.organization_id == record_id
    entries = (
        select(
            Interaction.id,
            Interaction.kind,
            Interaction.occurred_at,
            Interaction.direction,
            Interaction.outcome,
            Interaction.duration_seconds,
            Interaction.subject,
            Interaction.body,
            Interaction.remote,
        )
        .where(owner)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(CARD_HISTORY)
    )
    open_states: list[Any] = [
        bindparam(f"open{i}", state) for i, state in enumerate(OPEN_TICKET_STATES)
    ]
    tickets = (
        select(Ticket.id, Ticket.number, Ticket.subject, Ticket.status, Ticket.priority)
        .where(ticket_owner, Ticket.status.in_(open_states))
        .order_by(Ticket.id.desc())
        .limit(CARD_TICKETS)
    )
    return notes, tags, entries, tickets


_CARD_STATEMENTS = {kind: _card_statements(kind) for kind in ("contact", "organization")}


def caller_card(
    session: Session, *, contact_id: int | None = None, organization_id: int | None = None
) -> CallerCard | None:
    """Important tags, notes, the last five history entries and the open tickets of a record.

    Four indexed queries; None when the record does not exist (any more).
    """
    if contact_id is not None:
        kind, record_id = "contact", contact_id
    elif organization_id is not None:
        kind, record_id = "organization", organization_id
    else:
        raise ValueError("a caller card is for a contact or an organization")
    notes_statement, tags_statement, entries_statement, tickets_statement = _CARD_STATEMENTS[kind]
    connection = session.connection()
    params = {"record_id": record_id}
    notes = connection.execute(notes_statement, params).scalar()
    if notes is None:
        return None
    tags = connection.execute(tags_statement, params).scalars().all()
    entries = connection.execute(entries_statement, params).all()
    tickets = connection.execute(tickets_statement, params).all()
    return CallerCard(
        kind=kind,
        id=record_id,
        important_tags=tuple(tags),
        notes=notes,
        history=tuple(
            CardEntry(i, k, at, d, o, dur, subject or _first_line(body) or remote)
            for i, k, at, d, o, dur, subject, body, remote in entries
        ),
        tickets=tuple(CardTicket(*t) for t in tickets),
    )


# --- duplicates, pointed out while a record is edited --------------------------------------------


@dataclass(frozen=True)
class Duplicate:
    kind: str  # "contact" or "organization"
    id: int
    name: str
    why: str  # "name", "number", "email", "address" or "customer_number"


DUPLICATE_LIMIT = 5


def contact_duplicates(
    session: Session,
    *,
    first_name: str = "",
    last_name: str = "",
    e164s: Sequence[str] = (),
    emails: Sequence[str] = (),
    street: str = "",
    postal_code: str = "",
    exclude_id: int | None = None,
) -> list[Duplicate]:
    """Other contacts with the same name, number, e-mail or address; each query on an index.

    ``emails`` are lower-cased addresses, ``e164s`` normalised numbers. The address is compared
    on the contacts of the same name key or the same postal code only (no full scan).
    """
    found: dict[int, str] = {}

    def add(ids: Any, why: str) -> None:
        for contact_id in ids:
            if contact_id is not None and contact_id != exclude_id:
                found.setdefault(contact_id, why)

    key = sort_key(last_name, first_name)
    if key and (first_name.strip() and last_name.strip()):
        add(
            session.scalars(
                select(Contact.id).where(Contact.sort_key == key).limit(DUPLICATE_LIMIT)
            ),
            "name",
        )
    if e164s:
        add(
            session.scalars(
                select(PhoneNumber.contact_id)
                .where(PhoneNumber.e164.in_(list(e164s)), PhoneNumber.contact_id.is_not(None))
                .limit(DUPLICATE_LIMIT)
            ),
            "number",
        )
    if emails:
        add(
            session.scalars(
                select(EmailAddress.contact_id)
                .where(
                    EmailAddress.normalized.in_(list(emails)),
                    EmailAddress.contact_id.is_not(None),
                )
                .limit(DUPLICATE_LIMIT)
            ),
            "email",
        )
    if street.strip() and postal_code.strip() and key:
        add(
            session.scalars(
                select(Contact.id)
                .where(
                    _prefix_range(Contact.sort_key, key.split()[0]),
                    Contact.street == street.strip(),
                    Contact.postal_code == postal_code.strip(),
                )
                .limit(DUPLICATE_LIMIT)
            ),
            "address",
        )
    ids = list(found)[: DUPLICATE_LIMIT * 2]
    rows = contact_rows(session, ids)
    return [
        Duplicate("contact", i, rows[i].name or rows[i].phone or rows[i].email, found[i])
        for i in ids
        if i in rows
    ]


def organization_duplicates(
    session: Session,
    *,
    name: str = "",
    customer_number: str = "",
    e164s: Sequence[str] = (),
    exclude_id: int | None = None,
) -> list[Duplicate]:
    """Other organizations with the same name, customer number or number."""
    found: dict[int, str] = {}

    def add(ids: Any, why: str) -> None:
        for org_id in ids:
            if org_id is not None and org_id != exclude_id:
                found.setdefault(org_id, why)

    key = sort_key(name)
    if key:
        add(
            session.scalars(
                select(Organization.id).where(Organization.sort_key == key).limit(DUPLICATE_LIMIT)
            ),
            "name",
        )
    if customer_number.strip():
        add(
            session.scalars(
                select(Organization.id).where(
                    Organization.customer_number == customer_number.strip()
                )
            ),
            "customer_number",
        )
    if e164s:
        add(
            session.scalars(
                select(PhoneNumber.organization_id)
                .where(PhoneNumber.e164.in_(list(e164s)), PhoneNumber.organization_id.is_not(None))
                .limit(DUPLICATE_LIMIT)
            ),
            "number",
        )
    ids = list(found)[: DUPLICATE_LIMIT * 2]
    rows = organization_rows(session, ids)
    return [Duplicate("organization", i, rows[i].name, found[i]) for i in ids if i in rows]


def organization_choices(session: Session, text: str, limit: int = 20) -> list[tuple[int, str]]:
    """(id, name) of organizations whose name starts with ``text``, for a picker."""
    return (
        [
            (oid, name)
            for oid, name in session.execute(
                select(Organization.id, Organization.name)
                .where(_prefix_range(Organization.sort_key, sort_key(text)))
                .order_by(Organization.sort_key, Organization.id)
                .limit(limit)
            )
        ]
        if sort_key(text)
        else []
    )


# --- the Calls page and the 360° views ------------------------------------------------------------

CALL_LIST_LIMIT = 5000


@dataclass(frozen=True)
class CallRow:
    id: int
    occurred_at: datetime
    direction: Direction
    outcome: str
    duration_seconds: int | None
    who: str  # the contact's name, else the organization's, else ""
    remote: str  # the number as the phone system delivered it
    contact_id: int | None
    organization_id: int | None


def call_ids(
    session: Session, *, missed_only: bool = False, limit: int = CALL_LIST_LIMIT
) -> list[int]:
    """The latest calls, newest first (walks the occurred_at index backwards)."""
    query = select(Interaction.id).where(Interaction.kind == InteractionKind.CALL)
    if missed_only:
        query = query.where(Interaction.outcome == "missed")
    query = query.order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(limit)
    return list(session.scalars(query))


def call_rows(session: Session, ids: Sequence[int]) -> dict[int, CallRow]:
    if not ids:
        return {}
    rows = session.execute(
        select(
            Interaction.id,
            Interaction.occurred_at,
            Interaction.direction,
            Interaction.outcome,
            Interaction.duration_seconds,
            Contact.title,
            Contact.first_name,
            Contact.last_name,
            Organization.name,
            Interaction.remote,
            Interaction.contact_id,
            Interaction.organization_id,
        )
        .outerjoin(Contact, Contact.id == Interaction.contact_id)
        .outerjoin(Organization, Organization.id == Interaction.organization_id)
        .where(Interaction.id.in_(list(ids)))
    ).all()
    out = {}
    for iid, at, direction, outcome, duration, title, first, last, org, remote, cid, oid in rows:
        person = " ".join(p for p in (title, first, last) if p)
        out[iid] = CallRow(
            iid, at, direction, outcome, duration, person or org or "", remote, cid, oid
        )
    return out


def open_tickets(
    session: Session,
    *,
    contact_id: int | None = None,
    organization_id: int | None = None,
    limit: int = 20,
) -> list[CardTicket]:
    """Open tickets of a person, or of a company (its own and its people's)."""
    query = select(Ticket.id, Ticket.number, Ticket.subject, Ticket.status, Ticket.priority)
    if contact_id is not None:
        query = query.where(Ticket.contact_id == contact_id)
    elif organization_id is not None:
        query = query.where(Ticket.organization_id == organization_id)
    else:
        raise ValueError("open tickets of a contact or an organization")
    query = query.where(Ticket.status.in_(OPEN_TICKET_STATES)).order_by(Ticket.id.desc())
    return [CardTicket(*row) for row in session.execute(query.limit(limit))]


# --- the contact list on a million contacts -------------------------------------------------------


def all_contact_ids(session: Session) -> array[int]:
    """Every contact id in name order, as a compact array (8 bytes an id).

    Read straight from the driver's cursor: for a million rows SQLAlchemy's row objects cost
    more than the index scan itself (the scan is covered by ``ix_contact_sort_key``, which holds
    the rowid, so ``ORDER BY sort_key, id`` needs no sort).
    """
    statement = select(Contact.id).order_by(Contact.sort_key, Contact.id)
    connection = session.connection()
    sql = str(statement.compile(dialect=connection.dialect))
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        ids: array[int] = array("q")
        while chunk := cursor.fetchmany(50_000):
            ids.extend(row[0] for row in chunk)
    finally:
        cursor.close()
    return ids


def first_contact_ids(session: Session, limit: int) -> list[int]:
    """The first ``limit`` contacts in name order (the list's first screen, at once)."""
    return list(
        session.scalars(select(Contact.id).order_by(Contact.sort_key, Contact.id).limit(limit))
    )


def quick_contact_ids(session: Session, text: str, *, limit: int = 500) -> list[int]:
    """:func:`find_contacts` for typing: every kind of match reads at most ``limit`` index
    entries in its own order, so "Sch" on a million contacts costs as much as "Schmidt"; the
    union is put in name order here. The first ``limit`` of each kind are found, so with more
    matches than that the list is "the first matches" (refine the search), as before."""
    text = text.strip()
    if not text:
        return []
    selects: list[Select[Any]] = []
    key = sort_key(text)
    if key:
        by_name = select(Contact.id).order_by(Contact.sort_key, Contact.id)
        selects.append(by_name.where(_prefix_range(Contact.sort_key, key)))
        parts = key.split()
        if len(parts) == 2:
            swapped = f"{parts[1]} {parts[0]}"
            selects.append(by_name.where(_prefix_range(Contact.sort_key, swapped)))
    lowered = text.lower()
    if "@" in lowered or "." in lowered:
        selects.append(
            select(EmailAddress.contact_id)
            .where(
                _prefix_range(EmailAddress.normalized, lowered),
                EmailAddress.contact_id.is_not(None),
            )
            .order_by(EmailAddress.normalized)
        )
    digits = digits_only(text)
    if len(digits) >= MIN_SUFFIX_DIGITS and len(digits) * 2 >= len(text.replace(" ", "")):
        selects.extend(_phone_selects(text, digits))
    selects.append(
        select(Contact.id)
        .join(Organization, Contact.organization_id == Organization.id)
        .where(Organization.customer_number == text)
    )
    found: dict[int, None] = {}
    for statement in selects:
        for contact_id in session.scalars(statement.limit(limit)):
            if contact_id is not None:
                found[contact_id] = None
    if not found:
        return []
    keyed = sorted(
        session.execute(select(Contact.id, Contact.sort_key).where(Contact.id.in_(list(found)))),
        key=lambda row: (row[1], row[0]),
    )
    return [row[0] for row in keyed[:limit]]


# --- big lists held as keyset anchors -------------------------------------------------------------

LIST_BLOCK = 200  # rows a list reads at once, and the distance between two anchors


@dataclass(frozen=True, eq=False)
class ListAnchors:
    """A list in ``(sort_key, id)`` order, held as where every ``every``-th row starts.

    Row ``k * every`` is ``(keys[k], ids[k])``; block ``k`` is read with ``WHERE (sort_key, id)
    >= anchor ORDER BY sort_key, id LIMIT every`` from the sort-key index. A million contacts
    take 5,000 anchors (about 0.4 MB) instead of a million ids (8 MB), so what a client holds no
    longer grows with the row count. ``head`` is the first ids of the list, to tell whether a
    first screen shown before the anchors were read is still the start of the list.
    """

    count: int
    every: int
    keys: tuple[str, ...]
    ids: array[int]
    head: tuple[int, ...] = ()

    def anchor(self, block: int) -> tuple[str, int]:
        return self.keys[block], self.ids[block]

    def same_as(self, other: ListAnchors) -> bool:
        return (
            self.count == other.count
            and self.every == other.every
            and self.keys == other.keys
            and self.ids == other.ids
        )


def _after(sort_col: Any, id_col: Any, key: Any, record_id: Any, *, inclusive: bool) -> Any:
    """``(sort_key, id) > (key, id)`` (or ``>=``) spelled so that both SQLite and PostgreSQL
    range over the single-column sort-key index."""
    tail = id_col >= record_id if inclusive else id_col > record_id
    return and_(sort_col >= key, or_(sort_col > key, tail))


def _list_anchors(
    session: Session, sort_col: Any, id_col: Any, every: int, head: int
) -> ListAnchors:
    connection = session.connection()
    table = id_col.table
    if connection.dialect.name == "sqlite":
        # SQLite's row_number() over a million rows takes ~0.9 s (it buffers the window);
        # stepping from anchor to anchor with LIMIT 1 OFFSET every-1 walks the covering index
        # in C and takes ~0.13 s. One read transaction, so count and anchors agree.
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        sk, ident, name = sort_col.name, id_col.name, table.name
        step = (
            f"SELECT {sk}, {ident} FROM {name} WHERE {sk} >= ? AND ({sk} > ? OR {ident} > ?) "
            f"ORDER BY {sk}, {ident} LIMIT 1 OFFSET ?"
        )
        cursor = dbapi.cursor()
        try:
            if not dbapi.in_transaction:
                cursor.execute("BEGIN")
            found = cursor.execute(
                f"SELECT {sk}, {ident} FROM {name} ORDER BY {sk}, {ident} LIMIT 1"
            ).fetchone()
            keys: list[str] = []
            ids: array[int] = array("q")
            while found is not None:
                keys.append(found[0])
                ids.append(found[1])
                found = cursor.execute(step, (found[0], found[0], found[1], every - 1)).fetchone()
            count = cursor.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            first = [
                row[0]
                for row in cursor.execute(
                    f"SELECT {ident} FROM {name} ORDER BY {sk}, {ident} LIMIT ?", (head,)
                )
            ]
        finally:
            cursor.close()
        return ListAnchors(count, every, tuple(keys), ids, tuple(first))
    # PostgreSQL: one pass over the index; count(*) OVER () in the same snapshot
    numbered = select(
        sort_col.label("k"),
        id_col.label("i"),
        (func.row_number().over(order_by=(sort_col, id_col)) - 1).label("n"),
        func.count().over().label("total"),
    ).subquery()
    rows = session.execute(
        select(numbered.c.k, numbered.c.i, numbered.c.total)
        .where(numbered.c.n % every == 0)
        .order_by(numbered.c.n)
    ).all()
    head_ids = session.scalars(select(id_col).order_by(sort_col, id_col).limit(head)).all()
    return ListAnchors(
        rows[0][2] if rows else 0,
        every,
        tuple(r[0] for r in rows),
        array("q", (r[1] for r in rows)),
        tuple(head_ids),
    )


def contact_anchors(session: Session, every: int = LIST_BLOCK, head: int = 0) -> ListAnchors:
    """The whole contact list in name order as anchors (see :class:`ListAnchors`)."""
    return _list_anchors(session, Contact.sort_key, Contact.id, every, head)


def contact_block(session: Session, key: str, contact_id: int, limit: int) -> list[ContactRow]:
    """``limit`` display rows in name order from the anchor ``(key, contact_id)`` on, in one
    query: a range of ``ix_contact_sort_key`` plus the organization, first number and first
    address of each row by their indexes."""
    rows = session.connection().execute(
        _contact_rows_from_anchor(), {"key": key, "id": contact_id, "limit": limit}
    )
    return [_contact_row(row) for row in rows]


def contact_sort_key(session: Session, contact_id: int) -> str | None:
    """Where a contact stands in the name order (``None``: it does not exist)."""
    return session.scalar(select(Contact.sort_key).where(Contact.id == contact_id))


def _contact_ids_from_anchor(session: Session, key: str, contact_id: int, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(Contact.id)
            .where(_after(Contact.sort_key, Contact.id, key, contact_id, inclusive=True))
            .order_by(Contact.sort_key, Contact.id)
            .limit(limit)
        )
    )


def contact_position(session: Session, contact_id: int, anchors: ListAnchors) -> int | None:
    """The row of a contact in the whole list as ``anchors`` lay it out (``None``: not in it).

    The row is the one a view shows: block ``k`` is what is read from anchor ``k``, also when
    the anchors are a little out of date (records added meanwhile). The anchor block is found
    by comparing sort keys in the database's order — in Python for SQLite (its binary order
    is Python's for str), on the server for PostgreSQL (its collation orders punctuation
    differently) — and confirmed by reading that block's ids: at most four small indexed
    reads, never a count over the list, so it may run on the GUI thread."""
    key = contact_sort_key(session, contact_id)
    if key is None or not anchors.keys:
        return None
    blocks = len(anchors.keys)
    wanted = (key, contact_id)
    if session.get_bind().dialect.name == "postgresql":
        # the server compares with the collation of the column, the one the list is ordered
        # by (a parameter would get the database's default collation instead)
        collation = session.scalar(
            sql_text(
                "SELECT c.collname FROM pg_attribute a JOIN pg_collation c"
                " ON c.oid = a.attcollation"
                " WHERE a.attrelid = CAST('contact' AS regclass) AND a.attname = 'sort_key'"
            )
        )
        quoted = '"' + str(collation or "default").replace('"', '""') + '"'
        guess = (
            session.scalar(
                sql_text(
                    "SELECT count(*) FROM unnest(CAST(:keys AS text[]), CAST(:ids AS bigint[]))"
                    f" AS a(k, i) WHERE a.k COLLATE {quoted} < :key"
                    f" OR (a.k COLLATE {quoted} = :key AND a.i <= :id)"
                ),
                {
                    "keys": list(anchors.keys),
                    "ids": list(anchors.ids),
                    "key": key,
                    "id": contact_id,
                },
            )
            or 0
        ) - 1
    else:
        guess = (
            bisect.bisect_right(
                range(blocks), wanted, key=lambda k: (anchors.keys[k], anchors.ids[k])
            )
            - 1
        )
    tried: set[int] = set()

    def look(number: int) -> int | None:
        if number in tried or not 0 <= number < blocks:
            return None
        tried.add(number)
        first_key, first_id = anchors.anchor(number)
        size = min(anchors.every, anchors.count - number * anchors.every)
        ids = _contact_ids_from_anchor(session, first_key, first_id, size)
        return number * anchors.every + ids.index(contact_id) if contact_id in ids else None

    # the block whose key range holds the contact, or the one before (a deletion meanwhile
    # lets a block read into the next range) or after; not there: the contact is not shown
    # in this layout (added after the anchors were read, which are read again then)
    for number in (guess, guess - 1, guess + 1):
        if (row := look(number)) is not None:
            return row
    return None
