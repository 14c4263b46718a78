"""Services for contacts and organizations: create, update (version-checked), delete, merge.

The UI and the command line call these; they never build SQL themselves. Every write recomputes
the derived look-up columns (E.164, suffix key, lower-cased e-mail, domain, sort key), so the
indexes behind caller identification are always current.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from .errors import ConflictError, NotFound, ValidationError
from .models import (
    Contact,
    EmailAddress,
    Interaction,
    Organization,
    OrganizationDomain,
    PhoneKind,
    PhoneNumber,
    Tag,
    Ticket,
    utcnow,
)
from .phone import normalize_phone

_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\]]+$")


def normalize_email(raw: str) -> tuple[str, str]:
    """(lower-cased address, domain) of ``raw``; raises ValidationError for a malformed one."""
    text = raw.strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not _EMAIL.match(text):
        raise ValidationError(f"{raw!r} is not an e-mail address", field="email")
    local, _, domain = text.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        domain = domain.lower()
    return f"{local.lower()}@{domain}", domain


def normalize_domain(raw: str) -> str:
    text = raw.strip().lower().lstrip("@")
    text = re.sub(r"^https?://", "", text).split("/", 1)[0]
    if text.startswith("www."):
        text = text[4:]
    if not text or "." not in text or " " in text:
        raise ValidationError(f"{raw!r} is not a mail domain", field="domains")
    return text


def sort_key(*parts: str | None) -> str:
    """Lower-case, accents folded (DIN 5007-1: ä sorts as a), for ordering and prefix search."""
    text = " ".join(p.strip() for p in parts if p and p.strip())
    text = text.replace("ß", "ss").replace("ẞ", "ss")
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return folded.casefold()[:250]


@dataclass
class PhoneInput:
    raw: str
    kind: PhoneKind = PhoneKind.WORK


@dataclass
class EmailInput:
    raw: str
    primary: bool = False


@dataclass
class ContactInput:
    """Everything a person can type for a contact; nothing is required ("Dirty CRM")."""

    salutation: str = ""
    title: str = ""
    first_name: str = ""
    last_name: str = ""
    organization_id: int | None = None
    position: str = ""
    language: str = ""
    marketing_consent: bool = False
    consent_date: date | None = None
    consent_source: str = ""
    notes: str = ""
    birthday: date | None = None
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str | None = None
    tags: list[str] = field(default_factory=list)
    phones: list[PhoneInput] = field(default_factory=list)
    emails: list[EmailInput] = field(default_factory=list)


@dataclass
class OrganizationInput:
    name: str = ""
    customer_number: str | None = None
    notes: str = ""
    owner_id: int | None = None
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str | None = None
    domains: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    phones: list[PhoneInput] = field(default_factory=list)
    emails: list[EmailInput] = field(default_factory=list)


_CONTACT_SCALARS = [
    f.name for f in fields(ContactInput) if f.name not in ("tags", "phones", "emails")
]
_ORG_SCALARS = [
    f.name
    for f in fields(OrganizationInput)
    if f.name not in ("tags", "phones", "emails", "domains")
]


def _country(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValidationError(
            f"{value!r} is not a two-letter country code (DE, AT, CH, …)", field="country"
        )
    return value


def phone_row(data: PhoneInput, region: str) -> PhoneNumber:
    raw = data.raw.strip()
    if not raw:
        raise ValidationError("an empty phone number cannot be stored", field="phones")
    n = normalize_phone(raw, region)
    return PhoneNumber(
        raw=data.raw,
        kind=PhoneKind(data.kind),
        extension=n.extension,
        e164=n.e164,
        base_e164=n.base_e164,
        suffix_key=n.suffix_key,
    )


def email_row(data: EmailInput) -> EmailAddress:
    normalized, domain = normalize_email(data.raw)
    return EmailAddress(raw=data.raw, normalized=normalized, domain=domain, is_primary=data.primary)


def _tags(session: Session, names: Iterable[str]) -> list[Tag]:
    wanted = []
    for name in names:
        name = name.strip()
        if name and name not in wanted:
            wanted.append(name)
    if not wanted:
        return []
    existing = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    out = []
    for name in wanted:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
            existing[name] = tag
        out.append(tag)
    return out


def _sync_phones(
    current: list[PhoneNumber], wanted: Sequence[PhoneInput], region: str
) -> list[PhoneNumber]:
    """Keep rows whose raw text and kind are unchanged (their ids stay), rebuild the rest."""
    pool = {(p.raw, p.kind): p for p in current}
    out = []
    for item in wanted:
        if not item.raw.strip():
            continue
        existing = pool.pop((item.raw, PhoneKind(item.kind)), None)
        if existing is not None:
            fresh = phone_row(item, region)
            existing.e164, existing.base_e164 = fresh.e164, fresh.base_e164
            existing.extension, existing.suffix_key = fresh.extension, fresh.suffix_key
            out.append(existing)
        else:
            out.append(phone_row(item, region))
    return out


def _sync_emails(current: list[EmailAddress], wanted: Sequence[EmailInput]) -> list[EmailAddress]:
    pool = {e.raw: e for e in current}
    out = []
    for item in wanted:
        if not item.raw.strip():
            continue
        existing = pool.pop(item.raw, None)
        if existing is not None:
            existing.is_primary = item.primary
            out.append(existing)
        else:
            out.append(email_row(item))
    if out and not any(e.is_primary for e in out):
        out[0].is_primary = True
    return out


def contact_sort_key(
    first_name: str, last_name: str, org_name: str = "", first_phone: str = "", first_mail: str = ""
) -> str:
    """How a contact sorts: by name; a record without one by its organization, number or mail."""
    return (
        sort_key(last_name, first_name)
        or sort_key(org_name)
        or sort_key(first_phone)
        or sort_key(first_mail)
    )


def _load_contact(session: Session, contact_id: int) -> Contact:
    contact = session.scalar(
        select(Contact)
        .where(Contact.id == contact_id)
        .options(
            selectinload(Contact.phones),
            selectinload(Contact.emails),
            selectinload(Contact.tags),
            selectinload(Contact.organization),
        )
    )
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist (it may have been deleted)")
    return contact


def get_contact(session: Session, contact_id: int) -> Contact:
    """A contact with its numbers, addresses, tags and organization loaded."""
    return _load_contact(session, contact_id)


def _apply_contact(
    session: Session, contact: Contact, data: ContactInput, home_region: str
) -> None:
    for name in _CONTACT_SCALARS:
        setattr(contact, name, getattr(data, name))
    contact.country = _country(data.country)
    region = contact.country or home_region
    contact.phones = _sync_phones(list(contact.phones), data.phones, region)
    contact.emails = _sync_emails(list(contact.emails), data.emails)
    contact.tags = _tags(session, data.tags)
    org_name = ""
    if data.organization_id is not None:
        org = session.get(Organization, data.organization_id)
        if org is None:
            raise ValidationError(
                f"organization {data.organization_id} does not exist", field="organization"
            )
        org_name = org.name
    first_phone = contact.phones[0].raw if contact.phones else ""
    first_mail = contact.emails[0].normalized if contact.emails else ""
    contact.sort_key = contact_sort_key(
        contact.first_name, contact.last_name, org_name, first_phone, first_mail
    )


def create_contact(session: Session, data: ContactInput, *, home_region: str = "DE") -> Contact:
    contact = Contact(phones=[], emails=[], tags=[])
    _apply_contact(session, contact, data, home_region)
    session.add(contact)
    session.flush()
    return contact


def contact_snapshot(contact: Contact) -> dict[str, Any]:
    """A plain dict of a contact as stored (for conflict dialogs and exports)."""
    out: dict[str, Any] = {name: getattr(contact, name) for name in _CONTACT_SCALARS}
    out["id"] = contact.id
    out["version"] = contact.version
    out["phones"] = [{"raw": p.raw, "kind": p.kind.value, "e164": p.e164} for p in contact.phones]
    out["emails"] = [{"raw": e.raw, "primary": e.is_primary} for e in contact.emails]
    out["tags"] = [t.name for t in contact.tags]
    return out


def _attempted(data: Any) -> dict[str, Any]:
    return {f.name: getattr(data, f.name) for f in fields(data)}


def update_contact(
    session: Session,
    contact_id: int,
    expected_version: int,
    data: ContactInput,
    *,
    home_region: str = "DE",
) -> Contact:
    """Save ``data`` over the contact, unless someone saved it after ``expected_version``."""
    contact = _load_contact(session, contact_id)
    if contact.version != expected_version:
        raise ConflictError(
            "Contact", contact_id, expected_version, contact_snapshot(contact), _attempted(data)
        )
    _apply_contact(session, contact, data, home_region)
    contact.version = expected_version + 1  # bump even when only phones/e-mails changed
    try:
        session.flush()
    except StaleDataError as exc:  # saved by someone else between our read and our write
        session.rollback()
        current = _load_contact(session, contact_id)
        raise ConflictError(
            "Contact", contact_id, expected_version, contact_snapshot(current), _attempted(data)
        ) from exc
    return contact


@dataclass(frozen=True)
class DeletionImpact:
    """What goes with a record when it is deleted, and what stays."""

    phones: int
    emails: int
    interactions: int  # kept, moved to the organization when there is one
    tickets: int  # kept, unlinked from the person

    def describe(self) -> str:
        return (
            f"{self.phones} phone number(s) and {self.emails} e-mail address(es) are deleted; "
            f"{self.interactions} history entrie(s) and {self.tickets} ticket(s) are kept"
        )


def contact_deletion_impact(session: Session, contact_id: int) -> DeletionImpact:
    def count(model: Any, column: Any) -> int:
        return (
            session.scalar(select(func.count()).select_from(model).where(column == contact_id)) or 0
        )

    if session.get(Contact, contact_id) is None:
        raise NotFound(f"contact {contact_id} does not exist")
    return DeletionImpact(
        phones=count(PhoneNumber, PhoneNumber.contact_id),
        emails=count(EmailAddress, EmailAddress.contact_id),
        interactions=count(Interaction, Interaction.contact_id),
        tickets=count(Ticket, Ticket.contact_id),
    )


def delete_contact(session: Session, contact_id: int, expected_version: int) -> DeletionImpact:
    """Delete a contact; its history stays (attached to its organization), so nothing is lost."""
    impact = contact_deletion_impact(session, contact_id)
    contact = _load_contact(session, contact_id)
    if contact.version != expected_version:
        raise ConflictError("Contact", contact_id, expected_version, contact_snapshot(contact))
    label = " ".join(p for p in (contact.first_name, contact.last_name) if p) or f"#{contact_id}"
    session.execute(
        update(Interaction)
        .where(Interaction.contact_id == contact_id, Interaction.organization_id.is_(None))
        .values(organization_id=contact.organization_id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Interaction)
        .where(Interaction.contact_id == contact_id, Interaction.remote == "")
        .values(remote=f"deleted contact {label}")
        .execution_options(synchronize_session=False)
    )
    session.delete(contact)
    try:
        session.flush()
    except StaleDataError as exc:
        session.rollback()
        raise ConflictError("Contact", contact_id, expected_version) from exc
    return impact


def merge_contacts(session: Session, keep_id: int, duplicate_id: int) -> Contact:
    """Move numbers, addresses, tags, history and tickets of the duplicate to ``keep``."""
    if keep_id == duplicate_id:
        raise ValidationError("a contact cannot be merged with itself")
    keep = _load_contact(session, keep_id)
    dup = _load_contact(session, duplicate_id)
    known_phones = {(p.e164 or p.raw) for p in keep.phones}
    for phone in list(dup.phones):
        if (phone.e164 or phone.raw) not in known_phones:
            dup.phones.remove(phone)
            keep.phones.append(phone)
    known_mails = {e.normalized for e in keep.emails}
    for mail in list(dup.emails):
        if mail.normalized not in known_mails:
            dup.emails.remove(mail)
            mail.is_primary = mail.is_primary and not keep.emails
            keep.emails.append(mail)
    keep.tags = keep.tags + [t for t in dup.tags if t not in keep.tags]
    for name in _CONTACT_SCALARS:
        if not getattr(keep, name) and getattr(dup, name):
            setattr(keep, name, getattr(dup, name))
    if dup.notes and dup.notes not in keep.notes:
        keep.notes = f"{keep.notes}\n{dup.notes}".strip()
    for model in (Interaction, Ticket):
        session.execute(
            update(model)
            .where(model.contact_id == duplicate_id)
            .values(contact_id=keep_id)
            .execution_options(synchronize_session=False)
        )
    session.delete(dup)
    keep.version += 1
    session.flush()
    return _load_contact(session, keep_id)


# --- organizations --------------------------------------------------------------------------


def _load_organization(session: Session, organization_id: int) -> Organization:
    org = session.scalar(
        select(Organization)
        .where(Organization.id == organization_id)
        .options(
            selectinload(Organization.phones),
            selectinload(Organization.emails),
            selectinload(Organization.domains),
            selectinload(Organization.tags),
        )
    )
    if org is None:
        raise NotFound(f"organization {organization_id} does not exist (it may have been deleted)")
    return org


def get_organization(session: Session, organization_id: int) -> Organization:
    return _load_organization(session, organization_id)


def _apply_organization(
    session: Session, org: Organization, data: OrganizationInput, home_region: str
) -> None:
    for name in _ORG_SCALARS:
        setattr(org, name, getattr(data, name))
    org.customer_number = (data.customer_number or "").strip() or None
    org.country = _country(data.country)
    org.sort_key = sort_key(data.name)
    region = org.country or home_region
    org.phones = _sync_phones(list(org.phones), data.phones, region)
    org.emails = _sync_emails(list(org.emails), data.emails)
    wanted = []
    for raw in data.domains:
        if raw.strip():
            domain = normalize_domain(raw)
            if domain not in wanted:
                wanted.append(domain)
    keep = {d.domain: d for d in org.domains}
    org.domains = [keep.get(d) or OrganizationDomain(domain=d) for d in wanted]
    org.tags = _tags(session, data.tags)
    if org.customer_number:
        clash = session.scalar(
            select(Organization.id).where(
                Organization.customer_number == org.customer_number,
                Organization.id != (org.id or -1),
            )
        )
        if clash is not None:
            raise ValidationError(
                f"customer number {org.customer_number} already belongs to organization {clash}",
                field="customer_number",
            )


def create_organization(
    session: Session, data: OrganizationInput, *, home_region: str = "DE"
) -> Organization:
    org = Organization(phones=[], emails=[], domains=[], tags=[])
    _apply_organization(session, org, data, home_region)
    session.add(org)
    session.flush()
    return org


def organization_snapshot(org: Organization) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(org, name) for name in _ORG_SCALARS}
    out["id"] = org.id
    out["version"] = org.version
    out["domains"] = [d.domain for d in org.domains]
    out["phones"] = [{"raw": p.raw, "kind": p.kind.value, "e164": p.e164} for p in org.phones]
    out["emails"] = [{"raw": e.raw, "primary": e.is_primary} for e in org.emails]
    out["tags"] = [t.name for t in org.tags]
    return out


def update_organization(
    session: Session,
    organization_id: int,
    expected_version: int,
    data: OrganizationInput,
    *,
    home_region: str = "DE",
) -> Organization:
    org = _load_organization(session, organization_id)
    if org.version != expected_version:
        raise ConflictError(
            "Organization",
            organization_id,
            expected_version,
            organization_snapshot(org),
            _attempted(data),
        )
    _apply_organization(session, org, data, home_region)
    org.version = expected_version + 1
    try:
        session.flush()
    except StaleDataError as exc:
        session.rollback()
        current = _load_organization(session, organization_id)
        raise ConflictError(
            "Organization",
            organization_id,
            expected_version,
            organization_snapshot(current),
            _attempted(data),
        ) from exc
    return org


def delete_organization(session: Session, organization_id: int, expected_version: int) -> int:
    """Delete an organization; its people stay (without organization), as does their history.

    Returns the number of contacts that were detached.
    """
    org = _load_organization(session, organization_id)
    if org.version != expected_version:
        raise ConflictError(
            "Organization", organization_id, expected_version, organization_snapshot(org)
        )
    detached = (
        session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(Contact.organization_id == organization_id)
        )
        or 0
    )
    session.execute(
        update(Contact)
        .where(Contact.organization_id == organization_id)
        .values(organization_id=None)
        .execution_options(synchronize_session=False)
    )
    session.delete(org)
    session.flush()
    return detached


# --- calls, as the pop-up edits them -----------------------------------------------------------


def _call_entry(
    session: Session, interaction_id: int | None, source: str, call_id: str
) -> Interaction:
    """The history row of a call: by id when known, else by the call's (source, Call-ID)."""
    entry: Interaction | None = None
    if interaction_id is not None:
        entry = session.get(Interaction, interaction_id)
    if entry is None and call_id:
        entry = session.scalar(
            select(Interaction).where(
                Interaction.source == source, Interaction.external_id == call_id
            )
        )
    if entry is None:
        raise NotFound("the call is not in the history yet; try again in a moment")
    return entry


def add_call_note(
    session: Session,
    text: str,
    *,
    interaction_id: int | None = None,
    source: str = "",
    call_id: str = "",
) -> int:
    """Append an agent's note to a call's history entry; returns the entry's id.

    The note goes below what the source wrote (line, caller ID name), separated by an empty
    line, so nothing the phone system reported is lost; the call logger never rewrites the text.
    """
    text = text.strip()
    if not text:
        raise ValidationError("an empty note is not saved", field="note")

    entry_id = _call_entry(session, interaction_id, source, call_id).id
    # one UPDATE that appends to what is stored now, not a read-modify-write: the call logger
    # moves the row forward (answered, ended) while the agent types, and a write on top of the
    # version read before would fail (it changes only outcome, times and version, never the text)
    body = func.rtrim(Interaction.body, _WHITESPACE)
    _update_call_entry(
        session,
        entry_id,
        body=case(
            (body == "", text),
            else_=body + "\n\n" + text,
        ),
    )
    return entry_id


_WHITESPACE = " \t\r\n"


def _update_call_entry(session: Session, entry_id: int, **values: Any) -> None:
    """Change a call's history row in one statement, on top of whatever version is stored."""
    session.execute(
        update(Interaction)
        .where(Interaction.id == entry_id)
        .values(**values, updated_at=utcnow(), version=Interaction.version + 1)
        .execution_options(synchronize_session=False)
    )
    row = session.identity_map.get(session.identity_key(Interaction, entry_id))
    if row is not None:
        session.expire(row)  # read again when used: the statement changed it


def attach_call(
    session: Session,
    *,
    contact_id: int | None = None,
    organization_id: int | None = None,
    interaction_id: int | None = None,
    source: str = "",
    call_id: str = "",
) -> int:
    """Attach a call's history entry to the record the agent picked; returns the entry's id."""
    if (contact_id is None) == (organization_id is None):
        raise ValueError("attach the call to a contact or an organization")
    contact_org = None
    if contact_id is not None:
        # read before changing the row: the query's autoflush would write it twice
        contact_org = session.scalar(
            select(Contact.organization_id).where(Contact.id == contact_id)
        )

    entry_id = _call_entry(session, interaction_id, source, call_id).id
    if contact_id is not None:
        _update_call_entry(session, entry_id, contact_id=contact_id, organization_id=contact_org)
    else:
        _update_call_entry(session, entry_id, contact_id=None, organization_id=organization_id)
    return entry_id


def add_phone_to_contact(
    session: Session,
    contact_id: int,
    raw: str,
    kind: PhoneKind = PhoneKind.WORK,
    *,
    home_region: str = "DE",
) -> Contact:
    """Add a number to an existing contact (the pop-up's "add number to existing record")."""
    contact = _load_contact(session, contact_id)
    region = _country(contact.country) or home_region
    row = phone_row(PhoneInput(raw, kind), region)
    if row.e164 is not None and any(p.e164 == row.e164 for p in contact.phones):
        return contact  # already there, in another spelling
    contact.phones.append(row)
    contact.version += 1
    session.flush()
    return contact
