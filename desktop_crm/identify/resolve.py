"""Who is calling or writing: one resolver for CTI, mail, search and the command line.

Phone numbers resolve in this order, each hit carrying its reason:

1. ``exact``: a reading of the caller ID equals a stored number's E.164 (``phone_number.e164``);
2. ``switchboard``: a direct dial into a company whose base number is stored (``-0``, or the
   number without extension): the caller is the *company* (and the extension), never a person
   whose own direct dial merely shares the base. The company's own numbers are searched first
   (in the same query as step 1); its people's direct dials only when no company number fits;
3. ``suffix``: the last digits, on the reversed-digits index, and only for a caller ID that is
   not a complete number (a local number without area code, a truncated one): two complete
   numbers that differ are different lines;
4. nothing: an unknown caller, with the number normalised for display and "create contact".

Senders: the lower-cased address on any stored address; role addresses (info@, noreply@)
resolve to the organization; then the domain to an organization's domains, never a freemail one.

Several hits are all returned, ranked: the record picked last time for this number or address
first, then the most recent interaction, then open tickets. Every query is an index look-up
(``tests/unit/test_identify_plans.py`` checks the plans on SQLite and PostgreSQL).

Matches carry plain values (ids, names), not ORM objects: a listener resolves in its own thread
and session and hands the result to the GUI thread, which must not touch that session.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import phonenumbers
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from desktop_crm.data.models import (
    CallerPick,
    Contact,
    EmailAddress,
    Interaction,
    Organization,
    OrganizationDomain,
    PhoneKind,
    PhoneNumber,
    Ticket,
    TicketStatus,
    User,
    utcnow,
)
from desktop_crm.data.phone import DID_COUNTRIES

from .caller import CallerNumber, CallerStatus, Reading, read_caller_id, suffix_digits_of
from .rules import DialingRules
from .sender import HeaderSource, Sender, domain_candidates, read_sender, unicode_domain

#: A direct-dial extension after a company's base number has at most this many digits.
MAX_EXTENSION_DIGITS = 5
#: A base number (without country code) has at least this many digits.
MIN_BASE_DIGITS = 5
#: At most this many matches are returned (the suffix step can hit many weak ones).
MAX_MATCHES = 50

OPEN_TICKET_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.WAITING_CUSTOMER,
    TicketStatus.WAITING_THIRD_PARTY,
)


class Reason(enum.StrEnum):
    EXACT = "exact"
    SWITCHBOARD = "switchboard"
    SUFFIX = "suffix"
    EMAIL = "email"
    DOMAIN = "domain"
    INTERNAL = "internal"  # a colleague's extension, matched to a user


class RecordKind(enum.StrEnum):
    CONTACT = "contact"
    ORGANIZATION = "organization"
    USER = "user"


class Channel(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"


#: How sure each reason is; a guessed reading of the caller ID scales it down.
BASE_SCORE = {
    Reason.EXACT: 1.0,
    Reason.INTERNAL: 1.0,
    Reason.EMAIL: 1.0,
    Reason.SWITCHBOARD: 0.8,
    Reason.DOMAIN: 0.6,
    Reason.SUFFIX: 0.4,
}
ROLE_ADDRESS_SCORE = 0.9  # info@ stored on a person: it is their organization that writes
PLAIN_PREFIX_FACTOR = 0.875  # switchboard inferred from a number stored without extension


@dataclass(frozen=True)
class MatchedRecord:
    """The record a match points at, as plain values (safe to hand to another thread)."""

    kind: RecordKind
    id: int
    name: str
    organization_id: int | None = None  # the organization itself, or the contact's
    organization: str = ""


@dataclass(frozen=True)
class Match:
    record: MatchedRecord
    matched: str  # the number or address as stored (raw), or the organization's domain
    reason: Reason
    score: float
    extension: str | None = None  # switchboard: the extension the caller dialled from
    note: str = ""  # how the caller ID was read, e.g. "local, area 89"
    picked_last: bool = False
    last_interaction: datetime | None = None
    open_tickets: int = 0

    @property
    def contact_id(self) -> int | None:
        return self.record.id if self.record.kind is RecordKind.CONTACT else None

    @property
    def organization_id(self) -> int | None:
        return self.record.organization_id

    @property
    def user_id(self) -> int | None:
        return self.record.id if self.record.kind is RecordKind.USER else None


@dataclass(frozen=True)
class Resolution:
    """The answer to "who is this?" for one caller ID or sender."""

    query: str
    channel: Channel
    status: str  # CallerStatus for phones; "address", "automated" or "unreadable" for mail
    normalized: str | None  # E.164 (digits if incomplete, extension if internal) or address
    key: str  # what remember_pick() stores a pick under ("" when nothing can be remembered)
    matches: tuple[Match, ...] = ()
    note: str = ""  # e.g. why a mail is not from a customer
    caller: CallerNumber | None = None
    sender: Sender | None = None

    @property
    def known(self) -> bool:
        return bool(self.matches)

    @property
    def display(self) -> str:
        """For the pop-up: ``+49 89 2020447 50``, ``anna@example.de`` (formatted on demand:
        formatting costs as much as the look-up)."""
        if self.caller is not None:
            return self.caller.display
        if self.sender is not None:
            return self.sender.address or self.sender.raw
        return self.query


# --- phone numbers --------------------------------------------------------------------------

# Every statement is built once, with bind parameters; the hot ones are also compiled once per
# dialect (_rows): building a statement and its cache key costs more than SQLite's index search
# (docs/benchmarks.md, "Caller look-up").

_ContactOrg = aliased(Organization, name="contact_org")
_OwnerOrg = aliased(Organization, name="owner_org")


#: Who a number or address belongs to: the person (with their company) or the company itself.
_OWNER_COLUMNS = (
    Contact.title,
    Contact.first_name,
    Contact.last_name,
    Contact.organization_id.label("contact_org_id"),
    _ContactOrg.name.label("contact_org_name"),
    _OwnerOrg.name.label("owner_org_name"),
)


def _with_owner(table: type[PhoneNumber] | type[EmailAddress], *columns: Any) -> Any:
    """``columns`` of a number or address row, with the columns :func:`_owner` reads."""
    return (
        select(*columns, *_OWNER_COLUMNS)
        .select_from(table)
        .outerjoin(Contact, Contact.id == table.contact_id)
        .outerjoin(_ContactOrg, _ContactOrg.id == Contact.organization_id)
        .outerjoin(_OwnerOrg, _OwnerOrg.id == table.organization_id)
    )


def _phone_query(where: ColumnElement[bool], limit: int) -> Any:
    return (
        _with_owner(
            PhoneNumber,
            PhoneNumber.raw,
            PhoneNumber.e164,
            PhoneNumber.base_e164,
            PhoneNumber.suffix_key,
            PhoneNumber.kind,
            PhoneNumber.contact_id,
            PhoneNumber.organization_id,
        )
        .where(where)
        .limit(limit)
    )


#: Numbers go into lists of plain parameters padded with repeats to a few fixed sizes: the
#: compiled SQL stays cached (an "expanding" IN is rendered anew for every call), while the
#: padding stays small enough not to mislead PostgreSQL's row estimates. A caller ID has at
#: most 6 readings, each with up to 5 base-number prefixes.
READING_SLOTS = (2, 6)
BASE_SLOTS = (6, 12, 24, 36)
#: Rows read for a direct dial. Companies' own numbers are read first; only when none fits, the
#: people's direct dials (all of a company's share its base number: a big customer has hundreds).
SWITCHBOARD_ROWS = 16


def _slots(name: str, size: int) -> list[Any]:
    return [bindparam(f"{name}{i}", type_=String()) for i in range(size)]


def _number_query(readings: int, bases: int) -> Any:
    """Steps 1 and 2 in one round trip: the readings' numbers (any owner), and the companies'
    own numbers that a reading extends. Each OR term has its own index (MULTI-INDEX OR)."""
    numbers, prefixes = _slots("r", readings), _slots("b", bases)
    company = PhoneNumber.organization_id.is_not(None)
    return _phone_query(
        or_(
            PhoneNumber.e164.in_(numbers),
            and_(PhoneNumber.base_e164.in_(prefixes), company),
            and_(PhoneNumber.e164.in_(prefixes), company),
        ),
        MAX_MATCHES,
    )


def _people_query(bases: int) -> Any:
    """Step 2 for a company without its own number: its people's direct dials."""
    prefixes = _slots("b", bases)
    person = PhoneNumber.contact_id.is_not(None)
    return _phone_query(
        or_(
            and_(PhoneNumber.base_e164.in_(prefixes), person),
            and_(PhoneNumber.e164.in_(prefixes), person),
        ),
        SWITCHBOARD_ROWS,
    )


_BY_NUMBER = {(r, b): _number_query(r, b) for r in READING_SLOTS for b in BASE_SLOTS}
_BY_PEOPLES_NUMBER = {b: _people_query(b) for b in BASE_SLOTS}


_COMPILED: dict[tuple[int, str], Any] = {}


def _rows(session: Session, statement: Any, params: dict[str, Any]) -> Sequence[Row[Any]]:
    """Run one of the prebuilt statements above, compiled once per database dialect.

    On the hot path SQLAlchemy's per-call work (cache key, parameter and result processing)
    costs as much as SQLite's index look-up itself; these statements select only strings and
    integers, which need no result processing. Statement events still fire (the query-plan
    test captures the SQL through them).
    """
    conn = session.connection()
    key = (id(statement), conn.dialect.name)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = statement.compile(dialect=conn.dialect)
    values = compiled.construct_params(params)
    args = tuple(values[n] for n in compiled.positiontup) if compiled.positional else values
    return conn.exec_driver_sql(compiled.string, args).all()


def _padded(name: str, values: Sequence[str], sizes: Sequence[int]) -> tuple[int, dict[str, str]]:
    chosen = list(values[: sizes[-1]])
    size = next(n for n in sizes if n >= len(chosen))
    chosen += [chosen[0]] * (size - len(chosen))
    return size, {f"{name}{i}": value for i, value in enumerate(chosen)}


_BY_SUFFIX = _phone_query(
    and_(PhoneNumber.suffix_key >= bindparam("low"), PhoneNumber.suffix_key < bindparam("high")),
    MAX_MATCHES + 1,
)
_USER_BY_EXTENSION = select(User.id, User.name, User.login, User.phone_extension).where(
    User.phone_extension == bindparam("extension"), User.active.is_(True)
)
_BY_ADDRESS = (
    _with_owner(
        EmailAddress, EmailAddress.raw, EmailAddress.contact_id, EmailAddress.organization_id
    )
    .where(EmailAddress.normalized == bindparam("address"))
    .limit(MAX_MATCHES)
)
_BY_DOMAIN = (
    select(OrganizationDomain.domain, OrganizationDomain.organization_id, Organization.name)
    .join(Organization, Organization.id == OrganizationDomain.organization_id)
    .where(OrganizationDomain.domain.in_(bindparam("domains", expanding=True)))
    .limit(MAX_MATCHES)
)


def _evidence_query(model: Any, interaction_col: Any, ticket_col: Any, pick_col: Any) -> Any:
    """Per record: picked last time for this key, latest interaction, open tickets (one query,
    each part an index look-up)."""
    latest = (
        select(func.max(Interaction.occurred_at))
        .where(interaction_col == model.id)
        .scalar_subquery()
    )
    open_tickets = (
        select(func.count())
        .select_from(Ticket)
        .where(ticket_col == model.id, Ticket.status.in_(OPEN_TICKET_STATUSES))
        .scalar_subquery()
    )
    picked = (
        select(CallerPick.id).where(CallerPick.remote == bindparam("key"), pick_col == model.id)
    ).exists()
    return select(model.id, picked, latest, open_tickets).where(
        model.id.in_(bindparam("ids", expanding=True))
    )


_EVIDENCE = {
    RecordKind.CONTACT: _evidence_query(
        Contact, Interaction.contact_id, Ticket.contact_id, CallerPick.contact_id
    ),
    RecordKind.ORGANIZATION: _evidence_query(
        Organization,
        Interaction.organization_id,
        Ticket.organization_id,
        CallerPick.organization_id,
    ),
}


def _person_name(title: str | None, first: str | None, last: str | None) -> str:
    return " ".join(p for p in (title, first, last) if p)


def _owner(row: Any, *, company_only: bool = False) -> MatchedRecord | None:
    """The record a stored number (or address) row belongs to.

    With ``company_only`` a person's row stands for their organization (a switchboard or a role
    address), and a person without organization for nobody.
    """
    if row.organization_id is not None:
        return MatchedRecord(
            RecordKind.ORGANIZATION,
            row.organization_id,
            row.owner_org_name or "",
            row.organization_id,
            row.owner_org_name or "",
        )
    if row.contact_id is None:
        return None
    if company_only:
        if row.contact_org_id is None:
            return None
        return MatchedRecord(
            RecordKind.ORGANIZATION,
            row.contact_org_id,
            row.contact_org_name or "",
            row.contact_org_id,
            row.contact_org_name or "",
        )
    name = _person_name(row.title, row.first_name, row.last_name)
    return MatchedRecord(
        RecordKind.CONTACT,
        row.contact_id,
        name or row.contact_org_name or row.raw,
        row.contact_org_id,
        row.contact_org_name or "",
    )


#: Country codes of the countries whose PBXs dial extensions directly (data.phone.DID_COUNTRIES).
DID_COUNTRY_CODES = frozenset(
    phonenumbers.country_code_for_region(region) for region in DID_COUNTRIES
)


@lru_cache(maxsize=4096)
def _takes_extensions(base_e164: str) -> bool:
    """Whether a number stored without extension can carry them: not a mobile (costly to tell,
    hence cached)."""
    try:
        number = phonenumbers.parse(base_e164, None)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    return kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.PAGER,
        phonenumbers.PhoneNumberType.VOIP,
        phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    )


def _base_prefixes(reading: Reading) -> list[str]:
    """Base numbers a direct dial could extend: the reading without its last 1-5 digits."""
    e164 = reading.e164
    shortest = 1 + len(str(reading.country_code)) + MIN_BASE_DIGITS
    return [e164[:-k] for k in range(1, MAX_EXTENSION_DIGITS + 1) if len(e164) - k >= shortest]


def _caller_matches(session: Session, caller: CallerNumber, rules: DialingRules) -> list[Match]:
    if caller.readings:
        readings = {r.e164: r for r in caller.readings}
        prefix_of: dict[str, Reading] = {}
        for reading in caller.readings:
            for prefix in _base_prefixes(reading):
                prefix_of.setdefault(prefix, reading)
        r_size, params = _padded("r", list(readings), READING_SLOTS)
        b_size, b_params = _padded("b", [*readings, *prefix_of], BASE_SLOTS)
        rows = _rows(session, _BY_NUMBER[(r_size, b_size)], params | b_params)
        exact = []
        for row in rows:
            hit = readings.get(row.e164)
            owner = _owner(row) if hit is not None else None
            if hit is not None and owner is not None:
                exact.append(Match(owner, row.raw, Reason.EXACT, hit.weight, note=hit.how))
        if exact:
            return exact
        # a direct dial into a company: its own number first; a person's direct dial stands
        # for their company only when no company's own number fits (and never for the person)
        if switchboard := _switchboard(rows, readings, prefix_of):
            return switchboard
        people = _rows(session, _BY_PEOPLES_NUMBER[b_size], b_params)
        if switchboard := _switchboard(people, readings, prefix_of):
            return switchboard
    if not caller.suffix_allowed:
        return []
    return _suffix_matches(session, caller, rules)


def _switchboard(
    rows: Sequence[Row[Any]], readings: dict[str, Reading], prefix_of: dict[str, Reading]
) -> list[Match]:
    out: dict[int, Match] = {}  # one per company, the best-scoring number
    for row in rows:
        if row.base_e164 in readings:  # its main line, stored as "-0"
            base, reading, explicit = row.base_e164, readings[row.base_e164], True
        elif row.base_e164 in prefix_of:  # a number written with its extension
            base, reading, explicit = row.base_e164, prefix_of[row.base_e164], True
        elif row.e164 in prefix_of:  # stored without extension
            base, reading = row.e164, prefix_of[row.e164]
            explicit = row.kind == PhoneKind.SWITCHBOARD
        else:
            continue
        if reading.country_code not in DID_COUNTRY_CODES:
            continue
        # a number written with an extension (or marked switchboard) is a PBX's; one stored
        # plainly may be a mobile, which has no extensions
        if not explicit and not _takes_extensions(base):
            continue
        owner = _owner(row, company_only=True)
        if owner is None:  # a person without company: never them for someone else's line
            continue
        score = BASE_SCORE[Reason.SWITCHBOARD] * reading.weight
        if not explicit:
            score *= PLAIN_PREFIX_FACTOR
        known = out.get(owner.id)
        if known is not None and known.score >= score:
            continue
        extension = reading.e164[len(base) :] or None
        out[owner.id] = Match(owner, row.raw, Reason.SWITCHBOARD, score, extension, reading.how)
    return list(out.values())


def _suffix_matches(session: Session, caller: CallerNumber, rules: DialingRules) -> list[Match]:
    tail = suffix_digits_of(caller, rules)
    key = tail[::-1]
    upper = key[:-1] + chr(ord(key[-1]) + 1)
    rows = _rows(session, _BY_SUFFIX, {"low": key, "high": upper})
    home = "+" + rules.country_code
    received = caller.digits
    out = []
    for row in rows:
        stored = row.suffix_key[::-1]  # all digits of the stored number
        # beyond the compared tail, the digits received must not contradict the stored ones
        if not (stored.endswith(received) or received.endswith(stored)):
            continue
        if caller.domestic_only and row.e164 and not row.e164.startswith(home):
            continue
        owner = _owner(row)
        if owner is not None:
            note = f"last {len(tail)} digits"
            out.append(Match(owner, row.raw, Reason.SUFFIX, BASE_SCORE[Reason.SUFFIX], note=note))
    return out


def _internal_matches(session: Session, extension: str) -> list[Match]:
    rows = _rows(session, _USER_BY_EXTENSION, {"extension": extension})
    return [
        Match(
            MatchedRecord(RecordKind.USER, row.id, row.name or row.login),
            row.phone_extension or extension,
            Reason.INTERNAL,
            BASE_SCORE[Reason.INTERNAL],
        )
        for row in rows
    ]


def resolve_caller(session: Session, caller_id: str | None, rules: DialingRules) -> Resolution:
    """Who is calling: the ranked matches for a caller ID as the phone system delivers it."""
    caller = read_caller_id(caller_id, rules)
    matches: list[Match] = []
    if caller.status is CallerStatus.INTERNAL:
        matches = _internal_matches(session, caller.digits)
    elif not caller.withheld and (caller.readings or caller.suffix_allowed):
        matches = _caller_matches(session, caller, rules)
    return Resolution(
        query=caller_id or "",
        channel=Channel.PHONE,
        status=str(caller.status),
        normalized=caller.normalized,
        key="" if caller.withheld or caller.status is CallerStatus.INTERNAL else caller.key,
        matches=_rank(session, matches, caller.key),
        caller=caller,
    )


# --- e-mail senders -------------------------------------------------------------------------


def _email_matches(session: Session, sender: Sender) -> list[Match]:
    assert sender.address is not None
    rows = _rows(session, _BY_ADDRESS, {"address": sender.address})
    out = []
    for row in rows:
        owner = _owner(row, company_only=sender.role)
        if owner is None:
            continue
        person_stored = row.contact_id is not None
        score = ROLE_ADDRESS_SCORE if sender.role and person_stored else 1.0
        out.append(Match(owner, row.raw, Reason.EMAIL, score))
    if out or sender.freemail:
        return out
    candidates = domain_candidates(sender.domain)
    if not candidates:
        return []
    # the address's domain is in IDNA form; an organization's may be stored as typed (ü)
    candidates = list(dict.fromkeys([*candidates, *map(unicode_domain, candidates)]))
    own = {sender.domain, unicode_domain(sender.domain)}
    domain_rows = session.connection().execute(_BY_DOMAIN, {"domains": candidates}).all()
    for domain, organization_id, name in domain_rows:
        score = BASE_SCORE[Reason.DOMAIN] * (1.0 if domain in own else 0.9)
        record = MatchedRecord(
            RecordKind.ORGANIZATION, organization_id, name, organization_id, name
        )
        out.append(Match(record, domain, Reason.DOMAIN, score))
    return out


def resolve_sender(
    session: Session, from_value: str | None, headers: HeaderSource | None = None
) -> Resolution:
    """Who wrote a mail: the ranked matches for its From, unless a robot sent it.

    ``headers`` are the message's headers (a mapping or ``(name, value)`` pairs, e.g.
    ``message.items()``); Auto-Submitted, Return-Path, Content-Type and X-Autoreply are read
    from them to tell bounces and auto-replies, which never match anybody.
    """
    sender = read_sender(from_value, headers)
    query = from_value if from_value is not None else sender.raw
    if sender.address is None:
        return Resolution(
            query,
            Channel.EMAIL,
            "unreadable",
            None,
            "",
            note=sender.automated or "no sender address",
            sender=sender,
        )
    if sender.automated:
        return Resolution(
            query,
            Channel.EMAIL,
            "automated",
            sender.address,
            "",
            note=sender.automated,
            sender=sender,
        )
    matches = _email_matches(session, sender)
    return Resolution(
        query,
        Channel.EMAIL,
        "address",
        sender.address,
        sender.address,
        _rank(session, matches, sender.address),
        sender=sender,
    )


def looks_like_address(value: str) -> bool:
    text = value.strip().lower()
    return "@" in text and not text.startswith(("sip:", "sips:", "tel:")) and "<sip" not in text


def resolve(session: Session, value: str, rules: DialingRules) -> Resolution:
    """A number or an address, as typed in search or on the command line."""
    if looks_like_address(value):
        return resolve_sender(session, value)
    return resolve_caller(session, value, rules)


# --- ranking and remembered picks -----------------------------------------------------------


def _dedupe(matches: Iterable[Match]) -> list[Match]:
    best: dict[tuple[RecordKind, int], Match] = {}
    for match in matches:
        key = (match.record.kind, match.record.id)
        if key not in best or match.score > best[key].score:
            best[key] = match
    return list(best.values())


def _rank(session: Session, matches: Sequence[Match], key: str) -> tuple[Match, ...]:
    """Best first: picked last time, then score, most recent interaction, open tickets."""
    unique = _dedupe(matches)
    if len(unique) > 1:
        unique = _with_evidence(session, unique, key)
    unique.sort(
        key=lambda m: (
            not m.picked_last,
            -m.score,
            -(m.last_interaction.timestamp() if m.last_interaction else float("-inf")),
            -m.open_tickets,
            m.record.name.casefold(),
            m.record.kind,
            m.record.id,
        )
    )
    return tuple(unique[:MAX_MATCHES])


def _with_evidence(session: Session, matches: list[Match], key: str) -> list[Match]:
    evidence: dict[tuple[RecordKind, int], tuple[bool, datetime | None, int]] = {}
    conn = session.connection()
    for kind, query in _EVIDENCE.items():
        ids = [m.record.id for m in matches if m.record.kind is kind]
        if ids:
            for record_id, picked, latest, open_tickets in conn.execute(
                query, {"ids": ids, "key": key}
            ):
                evidence[(kind, record_id)] = (bool(picked), latest, open_tickets or 0)
    out = []
    for m in matches:
        picked, latest, open_tickets = evidence.get((m.record.kind, m.record.id), (False, None, 0))
        out.append(
            replace(m, picked_last=picked, last_interaction=latest, open_tickets=open_tickets)
        )
    return out


def remember_pick(
    session: Session,
    key: str,
    *,
    contact_id: int | None = None,
    organization_id: int | None = None,
    user_id: int | None = None,
) -> None:
    """Remember that the agent picked this record for ``key`` (``Resolution.key``)."""
    if (contact_id is None) == (organization_id is None):
        raise ValueError("pick either a contact or an organization")
    if not key:
        return
    row = session.scalar(select(CallerPick).where(CallerPick.remote == key))
    if row is None:
        savepoint = session.begin_nested()
        try:
            row = CallerPick(remote=key, contact_id=contact_id, organization_id=organization_id)
            session.add(row)
            session.flush()
            savepoint.commit()
        except IntegrityError:  # another agent remembered a pick for it at the same moment
            savepoint.rollback()
            row = session.scalar(select(CallerPick).where(CallerPick.remote == key))
            if row is None:
                raise
    row.contact_id = contact_id
    row.organization_id = organization_id
    row.user_id = user_id
    row.picked_at = utcnow()
    session.flush()
