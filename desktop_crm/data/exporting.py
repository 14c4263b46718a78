"""Exporting contacts as CSV, vCard 3.0 or JSON; what is exported imports back unchanged.

* **CSV** – our own layout (:data:`~desktop_crm.data.importing.layout.OWN_CSV_COLUMNS`), UTF-8
  with BOM so Excel shows umlauts, ``,`` separated, one contact per row. Several numbers,
  addresses or tags share a cell, one per line. A cell that a spreadsheet would run as a formula
  (it starts with ``=``, ``+``, ``-``, ``@``) gets an apostrophe in front, which our importer
  removes again.
* **vCard 3.0** – written with vobject: N, FN, ORG, TITLE, TEL with TYPE, EMAIL, ADR, NOTE,
  CATEGORIES, BDAY, plus ``X-DESKTOP-CRM-*`` properties for salutation, academic title,
  language and marketing consent, which vCard 3.0 has no place for.
* **JSON** – a list of objects with every field, phones with ``raw``, ``kind``, ``e164`` and
  ``extension``, e-mail addresses with ``raw``, ``normalized`` and ``primary``.

``out`` is a text stream; open files with ``encoding="utf-8", newline=""`` (the writers put in
their own line ends). Contacts are read in pages of :data:`PAGE_SIZE`, each in its own session,
so the export of a large database runs in constant memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Literal, TextIO

import vobject
import vobject.vcard
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .db import Database
from .importing.layout import (
    CELL_SEPARATOR,
    OWN_CSV_COLUMNS,
    PHONE_COLUMNS,
    VCARD_PHONE_TYPES,
    X_CONSENT,
    X_CONSENT_DATE,
    X_CONSENT_SOURCE,
    X_LANGUAGE,
    X_SALUTATION,
    X_TITLE,
    protect_cell,
)
from .models import Contact

PAGE_SIZE = 500

Format = Literal["csv", "vcard", "json"]


def _contacts(db: Database) -> Iterator[Contact]:
    last_id = 0
    while True:
        with db.session() as session:
            page = list(
                session.scalars(
                    select(Contact)
                    .where(Contact.id > last_id)
                    .order_by(Contact.id)
                    .limit(PAGE_SIZE)
                    .options(
                        selectinload(Contact.phones),
                        selectinload(Contact.emails),
                        selectinload(Contact.tags),
                        selectinload(Contact.organization),
                    )
                )
            )
            yield from page
        if len(page) < PAGE_SIZE:
            return
        last_id = page[-1].id


def _iso(value: date | datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _emails(contact: Contact) -> list[str]:
    """Addresses as typed, the primary one first."""
    ordered = sorted(contact.emails, key=lambda e: not e.is_primary)
    return [e.raw for e in ordered]


def contact_record(contact: Contact) -> dict[str, Any]:
    """Everything about a contact as plain JSON values (the JSON export's objects)."""
    org = contact.organization
    return {
        "id": contact.id,
        "version": contact.version,
        "created_at": _iso(contact.created_at),
        "updated_at": _iso(contact.updated_at),
        "salutation": contact.salutation,
        "title": contact.title,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "organization": org.name if org is not None else None,
        "organization_id": contact.organization_id,
        "position": contact.position,
        "street": contact.street,
        "postal_code": contact.postal_code,
        "city": contact.city,
        "country": contact.country,
        "language": contact.language,
        "birthday": _iso(contact.birthday) or None,
        "marketing_consent": contact.marketing_consent,
        "consent_date": _iso(contact.consent_date) or None,
        "consent_source": contact.consent_source,
        "notes": contact.notes,
        "tags": [t.name for t in contact.tags],
        "phones": [
            {"raw": p.raw, "kind": p.kind.value, "e164": p.e164, "extension": p.extension}
            for p in contact.phones
        ],
        "emails": [
            {"raw": e.raw, "normalized": e.normalized, "primary": e.is_primary}
            for e in contact.emails
        ],
    }


def _csv_row(contact: Contact) -> list[str]:
    org = contact.organization
    emails = _emails(contact)
    values: dict[str, str] = {
        "salutation": contact.salutation,
        "title": contact.title,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "organization": org.name if org is not None else "",
        "position": contact.position,
        "street": contact.street,
        "postal_code": contact.postal_code,
        "city": contact.city,
        "country": contact.country or "",
        "email": emails[0] if emails else "",
        "email_other": CELL_SEPARATOR.join(emails[1:]),
        "tags": CELL_SEPARATOR.join(t.name for t in contact.tags),
        "birthday": _iso(contact.birthday),
        "language": contact.language,
        "marketing_consent": "yes" if contact.marketing_consent else "no",
        "consent_date": _iso(contact.consent_date),
        "consent_source": contact.consent_source,
        "notes": contact.notes,
    }
    for kind, column in PHONE_COLUMNS.items():
        values[column] = CELL_SEPARATOR.join(p.raw for p in contact.phones if p.kind == kind)
    return [protect_cell(values[column]) for column in OWN_CSV_COLUMNS]


def _vcard(contact: Contact) -> str:
    card = vobject.vCard()
    org = contact.organization
    prefix = " ".join(p for p in (contact.salutation, contact.title) if p)
    card.add("n").value = vobject.vcard.Name(
        family=contact.last_name, given=contact.first_name, prefix=prefix
    )
    name = " ".join(p for p in (prefix, contact.first_name, contact.last_name) if p)
    emails = _emails(contact)
    fallback = (org.name if org is not None else "") or (emails[0] if emails else "")
    if not fallback and contact.phones:
        fallback = contact.phones[0].raw
    card.add("fn").value = name or fallback
    if contact.salutation or contact.title:
        card.add(X_SALUTATION.lower()).value = contact.salutation
        card.add(X_TITLE.lower()).value = contact.title
    if org is not None:
        card.add("org").value = [org.name]
    if contact.position:
        card.add("title").value = contact.position
    for phone in contact.phones:
        line = card.add("tel")
        line.value = phone.raw
        line.type_param = VCARD_PHONE_TYPES[phone.kind]
    for mail in contact.emails:
        line = card.add("email")
        line.value = mail.raw
        line.type_param = ["INTERNET", "PREF"] if mail.is_primary else ["INTERNET"]
    if contact.street or contact.postal_code or contact.city or contact.country:
        line = card.add("adr")
        line.value = vobject.vcard.Address(
            street=contact.street,
            city=contact.city,
            code=contact.postal_code,
            country=contact.country or "",
        )
        line.type_param = ["WORK"]
    if contact.birthday is not None:
        card.add("bday").value = contact.birthday.isoformat()
    if contact.notes:
        card.add("note").value = contact.notes
    if contact.tags:
        card.add("categories").value = [t.name for t in contact.tags]
    if contact.language:
        card.add(X_LANGUAGE.lower()).value = contact.language
    if contact.marketing_consent:
        card.add(X_CONSENT.lower()).value = "yes"
    if contact.consent_date is not None:
        card.add(X_CONSENT_DATE.lower()).value = contact.consent_date.isoformat()
    if contact.consent_source:
        card.add(X_CONSENT_SOURCE.lower()).value = contact.consent_source
    text: str = card.serialize()
    return text


def export_contacts(db: Database, fmt: Format, out: TextIO) -> int:
    """Write every contact to ``out`` in ``fmt``; returns how many were written."""
    count = 0
    if fmt == "csv":
        out.write("\ufeff")  # so Excel reads the file as UTF-8
        writer = csv.writer(out)
        writer.writerow(OWN_CSV_COLUMNS)
        for contact in _contacts(db):
            writer.writerow(_csv_row(contact))
            count += 1
    elif fmt == "vcard":
        for contact in _contacts(db):
            out.write(_vcard(contact))
            count += 1
    elif fmt == "json":
        out.write("[")
        for contact in _contacts(db):
            out.write(",\n" if count else "\n")
            out.write(json.dumps(contact_record(contact), ensure_ascii=False))
            count += 1
        out.write("\n]\n")
    else:
        raise ValueError(f"unknown export format {fmt!r}; use csv, vcard or json")
    return count
