"""Saving prepared contacts in batches, merging into the contacts already there.

A batch is one session and one transaction. Its duplicate look-ups are a handful of indexed
``IN`` queries for the whole batch (e-mail, E.164, name sort key, organization sort key), kept
in memory and updated as the batch creates contacts, so a person who appears twice in the same
file is found too. If a batch fails in the database it is rolled back and tried again one row
per transaction, so one row the database refuses costs that row only.

Matching, in this order (the first that fits wins):

1. the same e-mail address (``EmailAddress.normalized``);
2. the same number (``PhoneNumber.e164``) and the same first and last name;
3. the same first and last name in the same organization; people without an organization only
   when the row brings no address or number of its own (which would have matched in 1 or 2).

A match is merged, never overwritten: empty fields are filled, new numbers, addresses and tags
added, notes lines appended when not there yet.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from ..db import Database
from ..errors import DataError
from ..models import Contact, EmailAddress, Organization, PhoneNumber
from ..records import (
    ContactInput,
    EmailInput,
    OrganizationInput,
    PhoneInput,
    create_organization,
    get_contact,
    get_organization,
    update_contact,
    update_organization,
)
from .bulk import NewContact, insert_contacts, insert_organizations
from .draft import Prepared, name_key
from .report import ImportReport

log = logging.getLogger(__name__)

IN_CHUNK = 500
# SQLite, while a batch is written (see Writer.write); the defaults are put back when the
# batch's connection goes back to the pool
WAL_AUTOCHECKPOINT_PAGES = 20_000  # default 1,000
CACHE_KIB = 65_536  # default 2,000
_DEFAULTS = "PRAGMA wal_autocheckpoint=1000", "PRAGMA cache_size=-2000"
_TUNED = "desktop_crm.import_tuned"
_SCALARS = [f.name for f in fields(ContactInput) if f.name not in ("tags", "phones", "emails")]


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(values), IN_CHUNK):
        yield values[i : i + IN_CHUNK]


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    organizations_created: int = 0
    done: int = 0  # rows handled (a cancelled batch stops early)
    cancelled: bool = False


@dataclass
class _Index:
    """What the batch knows about existing contacts, kept current while it writes."""

    by_email: dict[str, int] = field(default_factory=dict)
    by_phone: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    names: dict[int, tuple[str, str]] = field(default_factory=dict)
    by_name_org: dict[tuple[str, str, int | None], int] = field(default_factory=dict)
    orgs: dict[str, Organization] = field(default_factory=dict)  # sort key -> organization

    def add(self, contact: Contact) -> None:
        key = name_key(contact.first_name, contact.last_name)
        self.names[contact.id] = key
        if key[0] or key[1]:
            self.by_name_org.setdefault((key[0], key[1], contact.organization_id), contact.id)
        for mail in contact.emails:
            self.by_email.setdefault(mail.normalized, contact.id)
        for phone in contact.phones:
            if phone.e164 and contact.id not in self.by_phone[phone.e164]:
                self.by_phone[phone.e164].append(contact.id)


class _Pending:
    """New contacts of a batch not inserted yet, known to the index by placeholder ids (< 0)."""

    def __init__(self, home_region: str) -> None:
        self.home_region = home_region
        self.items: list[NewContact] = []
        self.rows: list[Prepared] = []

    def add(self, row: Prepared, org: Organization | None, index: _Index) -> None:
        placeholder = -(len(self.items) + 1)
        self.items.append(
            NewContact(
                row.data,
                org.name if org is not None else "",
                numbers=row.numbers,
                name_sort_key=row.name_sort_key,
                emails_normalized=row.emails,
            )
        )
        self.rows.append(row)
        key = row.name_key
        index.names[placeholder] = key
        if key[0] or key[1]:
            index.by_name_org.setdefault((key[0], key[1], row.data.organization_id), placeholder)
        for address in row.emails:
            index.by_email.setdefault(address, placeholder)
        for number in row.e164:
            index.by_phone[number].append(placeholder)

    def flush(self, session: Session, index: _Index) -> dict[int, int]:
        """Insert what is pending; placeholder → real id (also replaced in the index)."""
        if not self.items:
            return {}
        ids = insert_contacts(session, self.items, home_region=self.home_region)
        real = {-(i + 1): cid for i, cid in enumerate(ids)}
        self.items, self.rows = [], []
        for placeholder, cid in real.items():
            index.names[cid] = index.names.pop(placeholder)
        for key, value in list(index.by_name_org.items()):
            if value < 0:
                index.by_name_org[key] = real[value]
        for address, value in list(index.by_email.items()):
            if value < 0:
                index.by_email[address] = real[value]
        for number, owners in index.by_phone.items():
            if any(o < 0 for o in owners):
                index.by_phone[number] = [real.get(o, o) for o in owners]
        return real


def _untune(dbapi_connection: Any, record: Any) -> None:
    """Pool check-in: a connection a batch tuned gets SQLite's defaults back."""
    if record is not None and record.info.pop(_TUNED, False):
        cursor = dbapi_connection.cursor()
        try:
            for statement in _DEFAULTS:
                cursor.execute(statement)
        finally:
            cursor.close()


class Writer:
    """Writes batches; :meth:`close` when done.

    On SQLite each batch raises two per-connection settings for as long as it holds the
    connection: the page cache (a batch's index pages stay in memory instead of being spilled
    and read again) and the WAL size that triggers a checkpoint. A checkpoint copies the WAL
    into the database and syncs the file; with the default (every ~4 MB) a big import did one
    after nearly every batch, each waiting for the disk. Neither changes what is stored or when
    a commit is durable (``synchronous`` stays as the database has it). :meth:`close` runs one
    checkpoint, so the import, not the next person's save, pays for the last one.
    """

    def __init__(self, db: Database, home_region: str, report: ImportReport) -> None:
        self.db = db
        self.home_region = home_region
        self.report = report
        self.tune = db.is_sqlite
        if self.tune and not event.contains(db.engine, "checkin", _untune):
            # stays registered (a no-op for connections no batch tuned), so imports running
            # at the same time on one database cannot unregister it under each other
            event.listen(db.engine, "checkin", _untune)

    def close(self) -> None:
        if not self.tune:
            return
        try:
            with self.db.session() as session:
                session.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
        except SQLAlchemyError as exc:  # the data is committed; this only saves the next save
            log.warning("import: checkpoint after the import failed: %s", exc)

    def _tune_batch(self, session: Session) -> None:
        if not self.tune:
            return
        connection = session.connection()
        connection.info[_TUNED] = True
        connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        connection.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")

    def write(self, batch: list[Prepared], cancel: Callable[[], bool] | None) -> Outcome:
        """Save ``batch``; every row it counts is committed when it returns."""
        if not batch:
            return Outcome()
        try:
            with self.db.session() as session:
                self._tune_batch(session)
                outcome = self._write(session, batch, cancel)
        except (DataError, SQLAlchemyError, ValueError) as exc:
            if len(batch) == 1:
                row = batch[0]
                log.warning("import: line %d could not be saved: %s", row.line, exc)
                self.report.add_problem(
                    row.line, f"the contact could not be saved ({_reason(exc)}); skipped"
                )
                self.report.skipped += 1
                return Outcome(done=1)
            log.warning("import: a batch of %d failed (%s); saving row by row", len(batch), exc)
            total = Outcome()
            for row in batch:
                one = self.write([row], cancel)
                total.done += one.done
                if one.cancelled:
                    total.cancelled = True
                    break
            return total
        self._count(outcome)
        return outcome

    def _count(self, outcome: Outcome) -> None:
        self.report.created += outcome.created
        self.report.updated += outcome.updated
        self.report.unchanged += outcome.unchanged
        self.report.organizations_created += outcome.organizations_created

    # --- one transaction ------------------------------------------------------------------

    def _write(
        self, session: Session, batch: list[Prepared], cancel: Callable[[], bool] | None
    ) -> Outcome:
        out = Outcome()
        pending = _Pending(self.home_region)
        index = self._lookups(session, batch)
        self._create_organizations(session, batch, index, out)
        cache = self._preload(session, batch, index)
        for row in batch:
            if cancel is not None and cancel():
                out.cancelled = True
                break
            created_before = out.organizations_created
            org = self._organization(session, row, index, out)
            if row.company_only and org is not None:
                if out.organizations_created > created_before:
                    out.unchanged += 1  # counted as a new organization
                elif self._merge_organization(session, org, row):
                    out.updated += 1
                else:
                    out.unchanged += 1
                out.done += 1
                continue
            data = row.data
            data.organization_id = org.id if org is not None else None
            match = self._match(row, data.organization_id, index)
            if match is not None and match < 0:
                # the file names this person twice: save the pending new contacts first
                match = pending.flush(session, index)[match]
            if match is None:
                # created together with the batch's other new contacts (bulk.insert_contacts)
                pending.add(row, org, index)
                out.created += 1
                out.done += 1
                continue
            contact = cache.get(match) or get_contact(session, match)
            merged = _merge(contact, row)
            if merged is None:
                out.unchanged += 1
            else:
                contact = update_contact(
                    session, contact.id, contact.version, merged, home_region=self.home_region
                )
                out.updated += 1
            cache[contact.id] = contact
            index.add(contact)
            out.done += 1
        pending.flush(session, index)
        return out

    def _lookups(self, session: Session, batch: list[Prepared]) -> _Index:
        index = _Index()
        emails = sorted({e for row in batch for e in row.emails})
        for chunk in _chunks(emails):
            for address, contact_id in session.execute(
                select(EmailAddress.normalized, EmailAddress.contact_id)
                .where(EmailAddress.normalized.in_(chunk), EmailAddress.contact_id.is_not(None))
                .order_by(EmailAddress.contact_id)
            ):
                if contact_id is not None:
                    index.by_email.setdefault(address, contact_id)
        numbers = sorted({n for row in batch for n in row.e164})
        for chunk in _chunks(numbers):
            for number, cid, first, last in session.execute(
                select(PhoneNumber.e164, Contact.id, Contact.first_name, Contact.last_name)
                .join(Contact, PhoneNumber.contact_id == Contact.id)
                .where(PhoneNumber.e164.in_(chunk))
                .order_by(Contact.id)
            ):
                if number is None:
                    continue
                if cid not in index.by_phone[number]:
                    index.by_phone[number].append(cid)
                index.names[cid] = name_key(first, last)
        keys = sorted({row.name_sort_key for row in batch})
        keys = [k for k in keys if k]
        for chunk in _chunks(keys):
            for cid, first, last, org_id in session.execute(
                select(Contact.id, Contact.first_name, Contact.last_name, Contact.organization_id)
                .where(Contact.sort_key.in_(chunk))
                .order_by(Contact.id)
            ):
                key = name_key(first, last)
                index.names[cid] = key
                index.by_name_org.setdefault((key[0], key[1], org_id), cid)
        org_keys = sorted({row.org_key for row in batch if row.organization})
        found: dict[str, list[Organization]] = defaultdict(list)
        for chunk in _chunks(org_keys):
            for org in session.scalars(
                select(Organization)
                .where(Organization.sort_key.in_(chunk))
                .order_by(Organization.id)
            ):
                found[org.sort_key].append(org)
        for row in batch:
            org_key = row.org_key
            if org_key in found and org_key not in index.orgs:
                exact = [
                    o for o in found[org_key] if o.name.casefold() == row.organization.casefold()
                ]
                index.orgs[org_key] = (exact or found[org_key])[0]
        return index

    def _create_organizations(
        self, session: Session, batch: list[Prepared], index: _Index, out: Outcome
    ) -> None:
        """The companies the batch's people name and the database lacks, in one INSERT.

        A company named by a company-only row is left to :meth:`_organization`, which gives it
        that row's address, notes and tags.
        """
        company_rows = {row.org_key for row in batch if row.company_only}
        names: dict[str, str] = {}
        for row in batch:
            key = row.org_key if row.organization else ""
            if key and key not in index.orgs and key not in company_rows:
                names.setdefault(key, row.organization)
        if not names:
            return
        ids = insert_organizations(session, list(names.values()), list(names))
        loaded = {
            org.id: org
            for org in session.scalars(select(Organization).where(Organization.id.in_(ids)))
        }
        for key, org_id in zip(names, ids, strict=True):
            index.orgs[key] = loaded[org_id]
        out.organizations_created += len(ids)

    def _preload(
        self, session: Session, batch: list[Prepared], index: _Index
    ) -> dict[int, Contact]:
        """Load the contacts the batch will probably merge into, with one query per relation."""
        ids: set[int] = set()
        for row in batch:
            org = index.orgs.get(row.org_key) if row.organization else None
            match = self._match(row, org.id if org is not None else None, index)
            if match is not None:
                ids.add(match)
        cache: dict[int, Contact] = {}
        wanted = sorted(ids)
        for i in range(0, len(wanted), IN_CHUNK):
            for contact in session.scalars(
                select(Contact)
                .where(Contact.id.in_(wanted[i : i + IN_CHUNK]))
                .options(
                    selectinload(Contact.phones),
                    selectinload(Contact.emails),
                    selectinload(Contact.tags),
                )
            ):
                cache[contact.id] = contact
        return cache

    def _organization(
        self, session: Session, row: Prepared, index: _Index, out: Outcome
    ) -> Organization | None:
        if not row.organization:
            return None
        key = row.org_key
        org = index.orgs.get(key)
        if org is None:
            data = OrganizationInput(name=row.organization)
            if row.company_only:  # the row's address and notes belong to the company
                data.street, data.postal_code = row.data.street, row.data.postal_code
                data.city, data.country = row.data.city, row.data.country
                data.notes, data.tags = row.data.notes, row.data.tags
            org = create_organization(session, data, home_region=self.home_region)
            index.orgs[key] = org
            out.organizations_created += 1
        return org

    def _merge_organization(self, session: Session, org: Organization, row: Prepared) -> bool:
        """Fill the empty address fields, notes and tags of ``org`` from a company-only row."""
        new = row.data
        fill = {
            name: getattr(new, name)
            for name in ("street", "postal_code", "city", "country")
            if getattr(new, name) and not getattr(org, name)
        }
        lines = _new_lines(org.notes, new.notes)
        full = get_organization(session, org.id)
        known_tags = {t.name.casefold() for t in full.tags}
        tags = [t for t in new.tags if t.casefold() not in known_tags]
        if not (fill or lines or tags):
            return False
        data = OrganizationInput(
            name=full.name,
            customer_number=full.customer_number,
            notes="\n".join([full.notes, *lines]).strip(),
            owner_id=full.owner_id,
            street=full.street,
            postal_code=full.postal_code,
            city=full.city,
            country=full.country,
            domains=[d.domain for d in full.domains],
            tags=[t.name for t in full.tags] + tags,
            phones=[PhoneInput(p.raw, p.kind) for p in full.phones],
            emails=[EmailInput(e.raw, e.is_primary) for e in full.emails],
        )
        for name, value in fill.items():
            setattr(data, name, value)
        update_organization(session, org.id, full.version, data, home_region=self.home_region)
        return True

    @staticmethod
    def _match(row: Prepared, organization_id: int | None, index: _Index) -> int | None:
        for address in row.emails:
            if address in index.by_email:
                return index.by_email[address]
        for number in row.e164:
            for cid in index.by_phone.get(number, ()):
                if index.names.get(cid) == row.name_key:
                    return cid
        if row.has_name:
            if organization_id is None and (row.emails or row.e164):
                # two private people of the same name whose addresses and numbers all differ
                # are two people (a re-import is caught above by its address or number)
                return None
            return index.by_name_org.get((row.name_key[0], row.name_key[1], organization_id))
        return None


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def _new_lines(existing: str, new: str) -> list[str]:
    """The lines of ``new`` that ``existing`` does not have yet."""
    known = {line.strip() for line in existing.splitlines() if line.strip()}
    return [line for line in new.splitlines() if line.strip() and line.strip() not in known]


def _merge(contact: Contact, row: Prepared) -> ContactInput | None:
    """``contact`` with what ``row`` adds; None when it adds nothing."""
    new = row.data
    data = ContactInput(
        **{name: getattr(contact, name) for name in _SCALARS},
        tags=[t.name for t in contact.tags],
        phones=[PhoneInput(p.raw, p.kind) for p in contact.phones],
        emails=[EmailInput(e.raw, e.is_primary) for e in contact.emails],
    )
    changed = False
    for name in _SCALARS:
        if name == "notes":
            continue
        value = getattr(new, name)
        if value and not getattr(data, name):
            setattr(data, name, value)
            changed = True
    added = _new_lines(data.notes, new.notes)
    if added:
        data.notes = "\n".join([data.notes, *added]).strip() if data.notes else new.notes
        changed = True
    # a number is known by its E.164 and by its text: the row may read it in another country
    # than the stored contact does ("0175/3460597" on a contact with an Austrian address)
    known_numbers = {p.e164 for p in contact.phones if p.e164}
    known_numbers |= {" ".join(p.raw.split()) for p in contact.phones}
    for phone, e164 in zip(new.phones, row.phone_e164, strict=True):
        text = " ".join(phone.raw.split())
        if text not in known_numbers and (e164 is None or e164 not in known_numbers):
            known_numbers.update(k for k in (text, e164) if k)
            data.phones.append(PhoneInput(phone.raw, phone.kind))
            changed = True
    known_mails = {e.normalized for e in contact.emails}
    for mail, address in zip(new.emails, row.emails, strict=True):
        if address not in known_mails:
            known_mails.add(address)
            data.emails.append(EmailInput(mail.raw, primary=not data.emails))
            changed = True
    known_tags = {t.casefold() for t in data.tags}
    for tag in new.tags:
        if tag.casefold() not in known_tags:
            known_tags.add(tag.casefold())
            data.tags.append(tag)
            changed = True
    return data if changed else None
