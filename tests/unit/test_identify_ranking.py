"""Several hits are ranked (pick, interaction, tickets), picks are remembered, the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from desktop_crm.data import history as hist
from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.models import (
    Base,
    CallerPick,
    InteractionKind,
    PhoneKind,
    Ticket,
    TicketStatus,
    User,
)
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput, PhoneInput
from desktop_crm.identify import (
    DialingRules,
    Reason,
    RecordKind,
    format_report,
    lookup_report,
    remember_pick,
    resolve,
    resolve_caller,
    resolve_sender,
)
from desktop_crm.settings import Settings, SettingsError, parse_settings

RULES = DialingRules()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _family(s) -> dict[str, int]:
    """Four people sharing one home number, written four ways."""
    ids = {}
    for name, raw in [
        ("Alt", "089 123456"),
        ("Neu", "+49 89 123456"),
        ("Ticket", "089-123456"),
        ("Nichts", "0049 89 123456"),
    ]:
        ids[name] = records.create_contact(
            s, ContactInput(first_name=name, last_name="Huber", phones=[PhoneInput(raw)])
        ).id
    for name, age in [("Alt", timedelta(days=2)), ("Neu", timedelta(hours=1))]:
        hist.log_interaction(
            s,
            hist.InteractionInput(
                kind=InteractionKind.CALL, contact_id=ids[name], occurred_at=T0 - age
            ),
        )
    s.add(Ticket(number="T-1", subject="offen", contact_id=ids["Ticket"], status=TicketStatus.OPEN))
    s.add(Ticket(number="T-2", subject="zu", contact_id=ids["Nichts"], status=TicketStatus.CLOSED))
    s.flush()
    return ids


def test_several_hits_are_ranked_and_the_pick_is_remembered(db: Database) -> None:
    with db.session() as s:
        ids = _family(s)
    with db.session() as s:
        result = resolve_caller(s, "+4989123456", RULES)
        names = [m.record.name for m in result.matches]
        # most recent interaction first, then open tickets; nobody is dropped
        assert names == ["Neu Huber", "Alt Huber", "Ticket Huber", "Nichts Huber"]
        assert {m.reason for m in result.matches} == {Reason.EXACT}
        assert result.matches[0].last_interaction == T0 - timedelta(hours=1)
        assert result.matches[2].open_tickets == 1 and result.matches[3].open_tickets == 0
        assert result.key == "+4989123456"
        remember_pick(s, result.key, contact_id=ids["Nichts"])
    with db.session() as s:
        # the same number in another written form: the pick comes first
        result = resolve_caller(s, "089 123456", RULES)
        assert result.matches[0].record.id == ids["Nichts"] and result.matches[0].picked_last
        assert len(result.matches) == 4
        remember_pick(s, result.key, contact_id=ids["Ticket"])
    with db.session() as s:
        result = resolve_caller(s, "tel:+49-89-123456", RULES)
        assert result.matches[0].record.id == ids["Ticket"]
        assert s.scalar(select(func.count()).select_from(CallerPick)) == 1


def test_pick_for_an_address_and_for_an_organization(db: Database) -> None:
    with db.session() as s:
        org = records.create_organization(
            s, OrganizationInput(name="Huber & Söhne", emails=[EmailInput("familie@web.de")])
        )
        person = records.create_contact(
            s, ContactInput(last_name="Huber", emails=[EmailInput("familie@web.de")])
        )
        org_id, person_id = org.id, person.id
    with db.session() as s:
        result = resolve_sender(s, "Familie Huber <Familie@Web.de>")
        assert {(m.record.kind, m.record.id) for m in result.matches} == {
            (RecordKind.ORGANIZATION, org_id),
            (RecordKind.CONTACT, person_id),
        }
        remember_pick(s, result.key, organization_id=org_id)
    with db.session() as s:
        result = resolve_sender(s, "familie@web.de")
        assert result.matches[0].record.kind is RecordKind.ORGANIZATION
        with pytest.raises(ValueError, match="either a contact or an organization"):
            remember_pick(s, result.key, contact_id=person_id, organization_id=org_id)
    with db.session() as s:  # deleting the picked record forgets the pick
        records.delete_organization(s, org_id, expected_version=1)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CallerPick)) == 0


def test_one_company_with_two_base_numbers_is_one_match(db: Database) -> None:
    with db.session() as s:
        records.create_organization(
            s,
            OrganizationInput(
                name="Müller Anlagenbau GmbH",
                phones=[
                    PhoneInput("+49 89 2020447-0", PhoneKind.SWITCHBOARD),
                    PhoneInput("089 2020447"),
                    PhoneInput("089 2020447-99", PhoneKind.FAX),
                ],
            ),
        )
    with db.session() as s:
        result = resolve_caller(s, "+4989202044750", RULES)
        assert [(m.reason, m.extension) for m in result.matches] == [(Reason.SWITCHBOARD, "50")]


def test_big_company_direct_dial_finds_the_company_number(db: Database) -> None:
    """Hundreds of stored direct dials share the base number; the company's own is shown."""
    with db.session() as s:
        org = records.create_organization(
            s,
            OrganizationInput(
                name="Großkunde AG", phones=[PhoneInput("+49 69 4444444-0", PhoneKind.SWITCHBOARD)]
            ),
        )
        for ext in range(100, 180):
            records.create_contact(
                s,
                ContactInput(
                    last_name=f"Mitarbeiter {ext}",
                    organization_id=org.id,
                    phones=[PhoneInput(f"069 4444444-{ext}")],
                ),
            )
        org_id = org.id
    with db.session() as s:
        result = resolve_caller(s, "+49 69 4444444 999", RULES)
        assert [(m.reason, m.record.id, m.matched, m.extension) for m in result.matches] == [
            (Reason.SWITCHBOARD, org_id, "+49 69 4444444-0", "999")
        ]
        exact = resolve_caller(s, "069 4444444-150", RULES)
        assert [(m.reason, m.record.name) for m in exact.matches] == [
            (Reason.EXACT, "Mitarbeiter 150")
        ]


def test_internal_caller_is_a_colleague(db: Database) -> None:
    with db.session() as s:
        s.add(User(login="kai", name="Kai Kollege", phone_extension="231"))
        s.add(User(login="old", name="Ausgeschieden", phone_extension="232", active=False))
        records.create_contact(
            s, ContactInput(last_name="Kunde", phones=[PhoneInput("089 2020447-231")])
        )
    with db.session() as s:
        result = resolve_caller(s, "231", RULES)
        assert result.status == "internal"
        assert [(m.reason, m.record.kind, m.record.name) for m in result.matches] == [
            (Reason.INTERNAL, RecordKind.USER, "Kai Kollege")
        ]
        assert resolve_caller(s, "232", RULES).matches == ()


def test_withheld_never_matches_even_odd_stored_numbers(db: Database) -> None:
    with db.session() as s:
        records.create_contact(
            s,
            ContactInput(last_name="Seltsam", phones=[PhoneInput("unbekannt"), PhoneInput("0")]),
        )
    with db.session() as s:
        for raw in ("anonymous", "unknown", "", "restricted", "0"):
            assert resolve_caller(s, raw, RULES).matches == ()


def test_lookup_report_json_and_text(db: Database) -> None:
    with db.session() as s:
        org = records.create_organization(
            s,
            OrganizationInput(
                name="Müller Anlagenbau GmbH",
                domains=["mueller-anlagenbau.de"],
                phones=[PhoneInput("+49 89 2020447-0", PhoneKind.SWITCHBOARD)],
            ),
        )
        anna = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Schäfer",
                organization_id=org.id,
                phones=[PhoneInput("089/2020447-25")],
                emails=[EmailInput("anna@mueller-anlagenbau.de")],
            ),
        )
        org_id, anna_id = org.id, anna.id
    with db.session() as s:
        report = lookup_report(s, "0892020447-25", RULES)
        assert report == {
            "query": "0892020447-25",
            "normalized": "+4989202044725",
            "matches": [
                {
                    "contact_id": anna_id,
                    "organization_id": org_id,
                    "name": "Anna Schäfer",
                    "organization": "Müller Anlagenbau GmbH",
                    "matched": "089/2020447-25",
                    "reason": "exact",
                    "score": 1.0,
                }
            ],
        }
        json.dumps(report)
        assert "Anna Schäfer (Müller Anlagenbau GmbH) — exact" in format_report(report)

        board = lookup_report(s, "+49 89 2020447 50", RULES)
        assert [(m["contact_id"], m["organization_id"], m["reason"]) for m in board["matches"]] == [
            (None, org_id, "switchboard")
        ]
        assert "switchboard, extension 50" in format_report(board)

        mail = lookup_report(s, "Neu <neu@Mueller-Anlagenbau.de>", RULES)
        assert mail["normalized"] == "neu@mueller-anlagenbau.de"
        assert [(m["reason"], m["matched"]) for m in mail["matches"]] == [
            ("domain", "mueller-anlagenbau.de")
        ]

        unknown = lookup_report(s, "+49 30 1234567", RULES)
        assert unknown == {"query": "+49 30 1234567", "normalized": "+49301234567", "matches": []}
        assert format_report(unknown) == "+49 30 1234567: unknown caller"

        withheld = lookup_report(s, "anonymous", RULES)
        assert withheld == {"query": "anonymous", "normalized": None, "matches": []}
        assert "withheld" in format_report(withheld)
        assert resolve(s, "sip:+4989202044725@pbx", RULES).matches[0].record.id == anna_id


def test_dialing_rules_from_settings(tmp_path: Path) -> None:
    defaults = DialingRules.from_settings(Settings(path=tmp_path / "none.toml"))
    assert defaults == DialingRules()
    assert (defaults.country, defaults.area_code, defaults.outside_line_prefix) == ("DE", "", "")
    assert (defaults.internal_min_digits, defaults.internal_max_digits) == (2, 4)
    assert defaults.suffix_digits == 8

    text = (
        '[dialing]\ncountry = "at"\narea_code = "01"\noutside_line_prefix = "0"\n'
        'internal_extension_digits = "3"\nsuffix_digits = 7\n'
    )
    rules = DialingRules.from_settings(parse_settings(text, tmp_path / "crm.toml"))
    assert rules == DialingRules(
        country="AT",
        area_code="1",
        outside_line_prefix="0",
        internal_min_digits=3,
        internal_max_digits=3,
        suffix_digits=7,
    )
    none = parse_settings('[dialing]\ninternal_extension_digits = ""\n', tmp_path / "c.toml")
    assert DialingRules.from_settings(none).internal_max_digits == 0

    for bad, word in [
        ('country = "Deutschland"', "country"),
        ('area_code = "München"', "area_code"),
        ('internal_extension_digits = "viele"', "internal_extension_digits"),
        ("suffix_digits = 3", "suffix_digits"),
        ('outside_line_prefix = "x"', "outside_line_prefix"),
    ]:
        settings = parse_settings(f"[dialing]\n{bad}\n", tmp_path / "bad.toml")
        with pytest.raises(SettingsError, match=rf"bad\.toml: \[dialing\] {word}"):
            DialingRules.from_settings(settings)
    with pytest.raises(SettingsError, match="area_code"):
        parse_settings("[dialing]\narea_code = 89\n", tmp_path / "int.toml")


def test_migration_0002_matches_the_model_and_goes_down(db: Database) -> None:
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def mine(diff: object) -> bool:
        return "caller_pick" in repr(diff)

    assert [d for d in diffs if mine(d)] == []
    assert "caller_pick" in inspect(db.engine).get_table_names()
    db.downgrade("0001")
    assert "caller_pick" not in inspect(db.engine).get_table_names()
    db.upgrade()
    assert "caller_pick" in inspect(db.engine).get_table_names()
