"""Creating many new contacts in a few statements: the importer's batched create path.

:func:`~desktop_crm.data.records.create_contact` builds ORM objects and flushes once per contact
(an INSERT each for the contact, its numbers, addresses and tags): about 470 contacts a second
on SQLite. A first import of a big file is almost only creates, so the importer collects the
new contacts of a batch and hands them here: one multi-row INSERT … RETURNING for the contacts,
one for all their numbers, one for the addresses, one for the tag links. The derived columns
(E.164, suffix key, lower-cased address, domain, sort key) come from the same functions the
services use, so the rows are exactly what ``create_contact`` would have written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from ..models import (
    Contact,
    EmailAddress,
    Organization,
    PhoneKind,
    PhoneNumber,
    contact_tag,
    utcnow,
)
from ..phone import NormalizedPhone, normalize_phone_cached
from ..records import (
    _CONTACT_SCALARS,
    ContactInput,
    _country,
    _tags,
    contact_sort_key,
    normalize_email,
    sort_key,
)


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


@dataclass(frozen=True)
class NewContact:
    data: ContactInput
    organization_name: str = ""  # for the sort key of a contact without a name
    #: data.phones already normalised in the contact's country (the importer's prepare() did
    #: it, maybe in another process); None: normalise them here
    numbers: Sequence[NormalizedPhone] | None = None
    #: records.sort_key(last_name, first_name) when the caller computed it already
    name_sort_key: str | None = None
    #: records.normalize_email(raw)[0] of each of data.emails, when the caller has them
    emails_normalized: Sequence[str] | None = None


def insert_contacts(
    session: Session, items: Sequence[NewContact], *, home_region: str = "DE"
) -> list[int]:
    """Insert ``items`` as new contacts; their ids, in the same order.

    Raises what ``create_contact`` raises for bad input (a malformed address, a country code
    that is not one); the caller's transaction then rolls back the whole batch.
    """
    if not items:
        return []
    now = utcnow()
    contact_rows: list[dict[str, Any]] = []
    phones: list[list[dict[str, Any]]] = []
    emails: list[list[dict[str, Any]]] = []
    tag_names: list[list[str]] = []
    for item in items:
        data = item.data
        country = _country(data.country)
        region = country or home_region
        row = {name: getattr(data, name) for name in _CONTACT_SCALARS}
        row["country"] = country
        own_phones = []
        known: Sequence[NormalizedPhone | None] = [None] * len(data.phones)
        if item.numbers is not None and len(item.numbers) == len(data.phones):
            known = item.numbers
        for phone, read in zip(data.phones, known, strict=True):
            if not phone.raw.strip():
                continue
            if read is not None and read.raw == phone.raw:
                n = read
            else:
                n = normalize_phone_cached(phone.raw, region)
            own_phones.append(
                {
                    "raw": phone.raw,
                    "kind": PhoneKind(phone.kind),
                    "extension": n.extension,
                    "e164": n.e164,
                    "base_e164": n.base_e164,
                    "suffix_key": n.suffix_key,
                }
            )
        own_emails = []
        known_mail: Sequence[str | None] = [None] * len(data.emails)
        if item.emails_normalized is not None and len(item.emails_normalized) == len(data.emails):
            known_mail = item.emails_normalized
        for mail, address in zip(data.emails, known_mail, strict=True):
            if not mail.raw.strip():
                continue
            if address is not None:  # normalize_email's address is local@domain, domain as is
                normalized, domain = address, address.rpartition("@")[2]
            else:
                normalized, domain = normalize_email(mail.raw)
            own_emails.append(
                {
                    "raw": mail.raw,
                    "normalized": normalized,
                    "domain": domain,
                    "is_primary": mail.primary,
                }
            )
        if own_emails and not any(e["is_primary"] for e in own_emails):
            own_emails[0]["is_primary"] = True
        row["sort_key"] = item.name_sort_key or contact_sort_key(
            data.first_name,
            data.last_name,
            item.organization_name if data.organization_id is not None else "",
            str(own_phones[0]["raw"]) if own_phones else "",
            str(own_emails[0]["normalized"]) if own_emails else "",
        )
        row["created_at"] = row["updated_at"] = now
        row["version"] = 1
        contact_rows.append(row)
        phones.append(own_phones)
        emails.append(own_emails)
        tag_names.append(list(data.tags))
    # Core inserts on the tables: the ORM's bulk path costs more than the database here
    ids = _insert_returning_ids(session, _table(Contact), contact_rows)
    phone_rows = [
        {**p, "contact_id": cid} for cid, own in zip(ids, phones, strict=True) for p in own
    ]
    if phone_rows:
        session.execute(insert(_table(PhoneNumber)), phone_rows)
    email_rows = [
        {**e, "contact_id": cid} for cid, own in zip(ids, emails, strict=True) for e in own
    ]
    if email_rows:
        session.execute(insert(_table(EmailAddress)), email_rows)
    wanted = sorted({t.strip() for names in tag_names for t in names if t.strip()})
    if wanted:
        tag_objects = _tags(session, wanted)
        session.flush()  # tags new to the database get their ids
        by_name = {t.name: t.id for t in tag_objects}
        links = {
            (cid, by_name[name.strip()])
            for cid, names in zip(ids, tag_names, strict=True)
            for name in names
            if name.strip()
        }
        session.execute(
            insert(contact_tag), [{"contact_id": c, "tag_id": t} for c, t in sorted(links)]
        )
    return ids


def insert_organizations(
    session: Session, names: Sequence[str], keys: Sequence[str] | None = None
) -> list[int]:
    """New organizations that only have a name (as a contact row names its company).

    ``keys``: their ``sort_key(name)`` when the caller has them already.
    """
    if not names:
        return []
    now = utcnow()
    if keys is None or len(keys) != len(names):
        keys = [sort_key(name) for name in names]
    rows = [
        {"name": name, "sort_key": key, "created_at": now, "updated_at": now} | {"version": 1}
        for name, key in zip(names, keys, strict=True)
    ]
    return _insert_returning_ids(session, _table(Organization), rows)


def _insert_returning_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows``; their new ids in the same order.

    PostgreSQL: one multi-row INSERT … RETURNING (SQLAlchemy's insertmanyvalues keeps the
    order). SQLite has no way to tie RETURNING rows to their parameters, so SQLAlchemy would
    send one INSERT per row (measured: most of the time of writing a batch). There the first
    row is inserted alone, which gives this transaction SQLite's write lock until it commits:
    nobody else can add rows now, so the next ids are the ones after the highest, given
    explicitly to the other rows, which go in as one executemany. (Were an id taken after all,
    the INSERT fails and the importer saves that batch row by row: nothing is written twice.)
    """
    if not rows:
        return []
    if session.get_bind().dialect.name != "sqlite":
        return list(
            session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        )
    first = session.scalars(insert(table).returning(table.c.id), rows[0]).one()
    if len(rows) == 1:
        return [first]
    top = session.scalar(select(func.max(table.c.id)))
    assert top is not None  # the row just inserted is there
    ids = [first, *range(top + 1, top + len(rows))]
    session.execute(
        insert(table), [{**row, "id": rid} for row, rid in zip(rows[1:], ids[1:], strict=True)]
    )
    return ids
