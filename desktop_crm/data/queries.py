"""Read-side queries for lists and search: ids first, rows for the visible ids only.

Lists work like Anki's browser: the view holds the ordered ids and asks for the few rows it
shows. Search uses indexed prefix ranges only (``sort_key``, ``normalized``, ``suffix_key``,
``e164``), never ``LIKE '%…'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, union
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import ColumnElement, Select

from .models import Contact, EmailAddress, Organization, PhoneNumber
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


def contact_rows(session: Session, ids: Sequence[int]) -> dict[int, ContactRow]:
    """Display rows for ``ids`` in three indexed queries, however many ids there are."""
    if not ids:
        return {}
    base = session.execute(
        select(
            Contact.id,
            Contact.title,
            Contact.first_name,
            Contact.last_name,
            Contact.city,
            Contact.version,
            Organization.name,
        )
        .outerjoin(Organization, Contact.organization_id == Organization.id)
        .where(Contact.id.in_(ids))
    ).all()
    phones = _first_per_owner(session, PhoneNumber.contact_id, PhoneNumber.raw, ids, PhoneNumber.id)
    emails = _first_per_owner(
        session,
        EmailAddress.contact_id,
        EmailAddress.raw,
        ids,
        EmailAddress.is_primary.desc(),
        EmailAddress.id,
    )
    out = {}
    for cid, title, first, last, city, version, org_name in base:
        name = " ".join(p for p in (title, first, last) if p)
        out[cid] = ContactRow(
            id=cid,
            name=name,
            organization=org_name or "",
            phone=phones.get(cid, ""),
            email=emails.get(cid, ""),
            city=city,
            version=version,
        )
    return out


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
