"""The demo data set on SQLite and PostgreSQL: complete, loaded once, realistic, deterministic,
and stored exactly as the record services would store it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from desktop_crm.data import history as hist
from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.demo import DEMO_MARKER, DEMO_SOURCE, DemoSummary, seed_demo
from desktop_crm.data.errors import ValidationError
from desktop_crm.data.models import (
    AppMeta,
    Contact,
    EmailAddress,
    Interaction,
    InteractionKind,
    Organization,
    OrganizationDomain,
    PhoneKind,
    PhoneNumber,
    Queue,
    Role,
    Tag,
    Ticket,
    TicketStatus,
    User,
    contact_tag,
)
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput, PhoneInput

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _count(db: Database, model: Any) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _rows(db: Database, model: Any, order: Any) -> list[dict[str, Any]]:
    table = model.__table__
    with db.session() as s:
        return [dict(r._mapping) for r in s.execute(select(table).order_by(order))]


@pytest.fixture
def seeded(db: Database) -> tuple[Database, DemoSummary]:
    return db, seed_demo(db, contacts=250, now=NOW)


def test_counts_match_what_is_stored(seeded: tuple[Database, DemoSummary]) -> None:
    db, summary = seeded
    assert not summary.already_present
    assert summary.contacts == 250 == _count(db, Contact)
    assert summary.organizations == _count(db, Organization) > 10
    assert summary.phones == _count(db, PhoneNumber) > 250
    assert summary.emails == _count(db, EmailAddress) > 200
    assert summary.interactions == _count(db, Interaction) > 1500
    assert summary.tickets == _count(db, Ticket) > 0
    assert summary.users == _count(db, User) == 11
    assert summary.queues == _count(db, Queue) == 3
    with db.session() as s:
        roles = set(s.scalars(select(User.role)))
        assert roles == {Role.AGENT, Role.BACKOFFICE, Role.SUPERVISOR, Role.ADMIN}
        assert all(s.scalars(select(User.phone_extension)))
        assert set(s.scalars(select(Queue.name))) == {"Support", "Vertrieb", "Buchhaltung"}
        statuses = set(s.scalars(select(Ticket.status)))
        assert {TicketStatus.NEW, TicketStatus.OPEN} <= statuses
        vip = s.scalar(select(Tag).where(Tag.name == "VIP"))
        assert vip is not None and vip.important
        assert (s.scalar(select(func.count()).select_from(contact_tag)) or 0) > 0
        sources = set(s.scalars(select(Interaction.source)))
        assert sources == {DEMO_SOURCE}


def test_second_run_adds_nothing_and_reports_the_first(
    seeded: tuple[Database, DemoSummary],
) -> None:
    db, first = seeded
    before = [_count(db, m) for m in (Contact, Organization, PhoneNumber, Interaction, Ticket)]
    again = seed_demo(db, contacts=1000, now=NOW)  # more than before: no top-up
    assert again.already_present
    assert again == DemoSummary(**{**first.__dict__, "already_present": True})
    after = [_count(db, m) for m in (Contact, Organization, PhoneNumber, Interaction, Ticket)]
    assert after == before
    with db.session() as s:
        assert s.get(AppMeta, DEMO_MARKER) is not None


def test_direct_dials_in_every_written_form_share_the_company_base(
    seeded: tuple[Database, DemoSummary],
) -> None:
    db, _ = seeded
    with db.session() as s:
        orgs = {o.id: o for o in s.scalars(select(Organization))}
        switchboards = {
            p.organization_id: p
            for p in s.scalars(select(PhoneNumber).where(PhoneNumber.kind == PhoneKind.SWITCHBOARD))
        }
        assert set(switchboards) == set(orgs)  # every company has one
        people = {c.id: c for c in s.scalars(select(Contact))}
        work = list(s.scalars(select(PhoneNumber).where(PhoneNumber.kind == PhoneKind.WORK)))
        all_phones = list(s.scalars(select(PhoneNumber)))
    assert all(p.e164 for p in all_phones), [p.raw for p in all_phones if not p.e164]
    assert {orgs[i].country for i in orgs} == {"DE", "AT", "CH"}
    assert any(p.raw.startswith("+43") for p in switchboards.values())
    assert any(p.raw.startswith("+41") for p in switchboards.values())
    assert any(p.raw.endswith("-0") for p in switchboards.values())
    checked = 0
    forms: set[str] = set()
    for phone in work:
        contact = people[phone.contact_id]  # type: ignore[index]
        if contact.organization_id is None:
            continue  # a private customer's office number
        org = orgs[contact.organization_id]
        board = switchboards[org.id]
        if org.country == "CH" or phone.raw == board.raw:
            continue  # Swiss lines are whole numbers; some people only have the switchboard
        base = board.base_e164
        assert base is not None and board.extension == "0"
        assert phone.e164 is not None and phone.e164.startswith(base)
        if phone.base_e164 is not None:  # the written form shows where the extension starts
            assert phone.base_e164 == base
            assert phone.e164 == base + (phone.extension or "")
        checked += 1
        raw = phone.raw
        forms.add(
            "+cc (0)"
            if "(0)" in raw
            else "0area/"
            if "/" in raw
            else "(0area)"
            if raw.startswith("(")
            else "00cc"
            if raw.startswith("00")
            else "+cc-area-"
            if raw.startswith("+") and raw.count("-") >= 3
            else "+cc area -ext"
            if raw.startswith("+")
            else "0area -ext"
        )
    assert checked > 50
    assert len(forms) == 7, forms


def test_call_history_names_the_numbers_as_the_normaliser_stores_them(
    seeded: tuple[Database, DemoSummary],
) -> None:
    db, _ = seeded
    with db.session() as s:
        numbers: dict[int, set[str]] = defaultdict(set)
        for p in s.scalars(select(PhoneNumber).where(PhoneNumber.contact_id.is_not(None))):
            numbers[p.contact_id].add(p.e164 or "")  # type: ignore[index]
        mails: dict[int, set[str]] = defaultdict(set)
        for m in s.scalars(select(EmailAddress).where(EmailAddress.contact_id.is_not(None))):
            mails[m.contact_id].add(m.normalized)  # type: ignore[index]
        org_of = {
            r.id: r.organization_id for r in s.execute(select(Contact.id, Contact.organization_id))
        }
        entries = list(s.scalars(select(Interaction)))
    kinds = {e.kind for e in entries}
    assert kinds == {
        InteractionKind.CALL,
        InteractionKind.EMAIL,
        InteractionKind.NOTE,
        InteractionKind.MEETING,
        InteractionKind.TICKET_EVENT,
    }
    calls = [e for e in entries if e.kind == InteractionKind.CALL]
    assert {e.outcome for e in calls} == {"answered", "missed"}
    assert {e.direction.value for e in calls} == {"inbound", "outbound"}
    for e in entries:
        assert e.contact_id is not None
        assert e.organization_id == org_of[e.contact_id]  # as log_interaction fills it
        if e.kind == InteractionKind.CALL:
            assert e.remote in numbers[e.contact_id]
            assert (e.duration_seconds or 0) > 0 if e.outcome == "answered" else True
        if e.kind == InteractionKind.EMAIL:
            assert e.remote in mails[e.contact_id]
            assert e.subject
        if e.kind == InteractionKind.TICKET_EVENT:
            assert e.ticket_id is not None


def test_history_is_a_year_newest_first_with_time_zones(
    seeded: tuple[Database, DemoSummary],
) -> None:
    db, _ = seeded
    with db.session() as s:
        contact_ids = list(s.scalars(select(Contact.id).order_by(Contact.id).limit(40)))
        org_id = s.scalar(select(Organization.id).order_by(Organization.id))
        assert org_id is not None
        for cid in contact_ids:
            entries = hist.history(s, contact_id=cid, limit=100)
            assert entries, cid
            times = [e.occurred_at for e in entries]
            assert times == sorted(times, reverse=True)
            for e in entries:
                assert e.occurred_at.tzinfo is not None and e.created_at.tzinfo is not None
                assert e.occurred_at.utcoffset() == timedelta(0)
                assert NOW - timedelta(days=366) <= e.occurred_at <= NOW
                if e.kind != InteractionKind.TICKET_EVENT:
                    assert e.occurred_at.weekday() < 5  # working days
        company = hist.history(s, organization_id=org_id, limit=500)
        assert len(company) > 5
        assert [e.occurred_at for e in company] == sorted(
            (e.occurred_at for e in company), reverse=True
        )
        contact = records.get_contact(s, contact_ids[0])
        assert contact.created_at.tzinfo is not None and contact.version == 1


def test_dirty_contacts_are_only_a_number_or_only_an_address(
    seeded: tuple[Database, DemoSummary],
) -> None:
    db, _ = seeded
    with db.session() as s:
        nameless = list(
            s.scalars(select(Contact).where(Contact.first_name == "", Contact.last_name == ""))
        )
        only_number = only_mail = 0
        for c in nameless:
            full = records.get_contact(s, c.id)
            assert full.organization_id is None
            if full.phones and not full.emails:
                only_number += 1
                assert len(full.phones) == 1
                assert full.sort_key == records.sort_key(full.phones[0].raw)
            elif full.emails and not full.phones:
                only_mail += 1
                assert full.sort_key == full.emails[0].normalized
        freemail = set(s.scalars(select(EmailAddress.domain)))
        titled = set(s.scalars(select(Contact.title)))
        salutations = set(s.scalars(select(Contact.salutation)))
        names = " ".join(s.scalars(select(Contact.last_name)))
        domains = list(s.scalars(select(OrganizationDomain.domain)))
    assert only_number >= 1 and only_mail >= 1
    assert freemail & {"gmx.de", "web.de", "t-online.de"}
    assert "Dr." in titled
    assert {"Herr", "Frau"} <= salutations
    assert any(ch in names for ch in "äöüß")
    assert len(domains) == len(set(domains))  # a domain names one company


def test_same_seed_same_data_on_any_backend(
    seeded: tuple[Database, DemoSummary], tmp_path: Path
) -> None:
    db, summary = seeded
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    other.upgrade()
    different = Database(f"sqlite:///{tmp_path / 'different.db'}")
    different.upgrade()
    try:
        assert seed_demo(other, contacts=250, now=NOW) == summary
        seed_demo(different, contacts=250, now=NOW, seed=7)
        for model, order in (
            (Contact, Contact.id),
            (Organization, Organization.id),
            (PhoneNumber, PhoneNumber.id),
            (EmailAddress, EmailAddress.id),
            (Interaction, Interaction.id),
            (Ticket, Ticket.id),
        ):
            assert _rows(db, model, order) == _rows(other, model, order), model
        assert _rows(db, Contact, Contact.id) != _rows(different, Contact, Contact.id)
    finally:
        other.dispose()
        different.dispose()


def _contact_input(c: Contact) -> ContactInput:
    return ContactInput(
        **{name: getattr(c, name) for name in records._CONTACT_SCALARS},
        tags=[t.name for t in c.tags],
        phones=[PhoneInput(p.raw, p.kind) for p in c.phones],
        emails=[EmailInput(e.raw, e.is_primary) for e in c.emails],
    )


def _contact_view(c: Contact) -> dict[str, Any]:
    out = {col.key: getattr(c, col.key) for col in Contact.__table__.c}
    for key in ("id", "created_at", "updated_at"):
        out.pop(key)
    out["phones"] = [
        (p.kind, p.raw, p.extension, p.e164, p.base_e164, p.suffix_key, p.organization_id)
        for p in c.phones
    ]
    out["emails"] = [
        (e.raw, e.normalized, e.domain, e.is_primary, e.organization_id) for e in c.emails
    ]
    out["tags"] = sorted(t.name for t in c.tags)
    return out


def test_stored_exactly_as_the_record_services_store_it(
    seeded: tuple[Database, DemoSummary],
) -> None:
    db, _ = seeded
    with db.session() as s:
        ids = list(s.scalars(select(Contact.id).order_by(Contact.id)))
        demo = [records.get_contact(s, cid) for cid in ids]
        org_ids = list(s.scalars(select(Organization.id).order_by(Organization.id)))
        demo_orgs = [records.get_organization(s, oid) for oid in org_ids]
        for c in demo:
            again = records.create_contact(s, _contact_input(c))  # new ids: sequences moved on
            assert again.id > max(ids)
            assert _contact_view(records.get_contact(s, again.id)) == _contact_view(c)
        for o in demo_orgs:
            again_org = records.create_organization(
                s,
                OrganizationInput(
                    **{n: getattr(o, n) for n in records._ORG_SCALARS if n != "customer_number"},
                    domains=[d.domain for d in o.domains],
                    tags=[t.name for t in o.tags],
                    phones=[PhoneInput(p.raw, p.kind) for p in o.phones],
                    emails=[EmailInput(e.raw, e.is_primary) for e in o.emails],
                ),
            )
            mine = records.get_organization(s, again_org.id)
            assert mine.sort_key == o.sort_key and mine.version == o.version == 1
            assert [
                (p.kind, p.raw, p.extension, p.e164, p.base_e164, p.suffix_key) for p in mine.phones
            ] == [(p.kind, p.raw, p.extension, p.e164, p.base_e164, p.suffix_key) for p in o.phones]
            assert [(e.normalized, e.domain, e.is_primary) for e in mine.emails] == [
                (e.normalized, e.domain, e.is_primary) for e in o.emails
            ]
            assert [d.domain for d in mine.domains] == [d.domain for d in o.domains]
        s.rollback()


def test_existing_users_queues_and_tags_are_reused(db: Database) -> None:
    with db.session() as s:
        s.add(User(login="sabine.wolf", name="Sabine Wolf", role=Role.SUPERVISOR))
        s.add(Queue(name="Support"))
        s.add(Tag(name="VIP", important=True))
    summary = seed_demo(db, contacts=30, now=NOW)
    assert summary.users == 10 and summary.queues == 2
    assert _count(db, User) == 11 and _count(db, Queue) == 3


def test_progress_is_reported_in_order(db: Database) -> None:
    seen: list[tuple[int, int]] = []
    seed_demo(db, contacts=40, now=NOW, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 40) and seen[-1] == (40, 40)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_cancelled_seed_leaves_nothing(db: Database) -> None:
    class Cancelled(Exception):
        pass

    def cancel(done: int, total: int) -> None:
        if done:
            raise Cancelled

    with pytest.raises(Cancelled):
        seed_demo(db, contacts=40, now=NOW, progress=cancel)
    assert _count(db, Contact) == _count(db, AppMeta) == _count(db, User) == 0
    assert not seed_demo(db, contacts=5, now=NOW).already_present


def test_naive_or_negative_input_is_refused(db: Database) -> None:
    with pytest.raises(ValidationError):
        seed_demo(db, now=datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        seed_demo(db, contacts=-1)
    assert _count(db, AppMeta) == 0


def test_empty_demo_still_has_users_and_queues(db: Database) -> None:
    summary = seed_demo(db, contacts=0, now=NOW)
    assert summary.contacts == 0 and summary.users == 11 and summary.queues == 3


def test_default_now_is_the_current_time(db: Database) -> None:
    seed_demo(db, contacts=5)
    with db.session() as s:
        newest = s.scalar(select(func.max(Interaction.occurred_at)))
    assert newest is not None
    assert datetime.now(UTC) - timedelta(days=366) < newest < datetime.now(UTC)
