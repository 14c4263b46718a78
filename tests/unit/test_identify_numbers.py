"""Caller identification, table-driven: stored form × incoming form × dialling rules.

Every case stores one number the way people type it (on a person, on a company, or on a person
without company), then resolves one caller ID under one set of dialling rules, on SQLite and on
PostgreSQL. The expectation is the reason and the record kind of the best match, or no match.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.models import PhoneKind, User
from desktop_crm.data.records import ContactInput, OrganizationInput, PhoneInput
from desktop_crm.identify import (
    CallerStatus,
    DialingRules,
    Reason,
    RecordKind,
    read_caller_id,
    resolve_caller,
)
from tests.helpers.integration import unavailable

RULES = {
    "DE": DialingRules(),  # German office, area code not configured
    "M": DialingRules(area_code="89"),  # Munich office
    "M0": DialingRules(area_code="089", outside_line_prefix="0"),  # Munich, PBX prepends 0
    "P0": DialingRules(outside_line_prefix="0"),  # PBX prepends 0, area code unknown
    "AT": DialingRules(country="AT", area_code="1"),  # Vienna office
    "CH": DialingRules(country="CH", area_code="71"),  # St. Gallen office
}

ANNA = "+4989202044725"  # Anna's direct dial at Müller Anlagenbau in Munich


@dataclass(frozen=True)
class Case:
    stored: str  # as typed
    incoming: str  # as the phone system delivers it
    expect: str | None  # "exact:person", "switchboard:company", "suffix:person", … or None
    rules: str = "DE"
    on: str = "person"  # person (at the company), company, or loner (person without company)
    country: str | None = None  # country of the record's address
    kind: PhoneKind = PhoneKind.WORK

    def __str__(self) -> str:
        return (
            f"{self.stored!r}@{self.on}[{self.country or '-'}] <- {self.incoming!r} [{self.rules}]"
        )


CASES = [
    # --- the same number written every way people write it (stored) ---------------------------
    Case("+49 89 2020447 25", ANNA, "exact:person"),
    Case("0049 89 202044725", ANNA, "exact:person"),
    Case("089/2020447-25", ANNA, "exact:person"),
    Case("(089) 2020 44725", ANNA, "exact:person"),
    Case("+49 (0)89 2020447-25", ANNA, "exact:person"),
    Case("+49-89-2020447-25", ANNA, "exact:person"),
    Case("+49 89 2020447 ext. 25", ANNA, "exact:person"),
    Case("089 2020447 Durchwahl 25", ANNA, "exact:person"),
    Case("089 2020447#25", ANNA, "exact:person"),
    Case("089-2020447-25", ANNA, "exact:person"),
    Case("089 / 2020447 - 25", ANNA, "exact:person"),
    Case("Tel.: 089 2020447-25", ANNA, "exact:person"),
    Case("0049 (0) 89 2020447 25", ANNA, "exact:person"),
    # --- incoming forms of the same number -------------------------------------------------------
    Case("089/2020447-25", "089202044725", "exact:person"),
    Case("089/2020447-25", "89202044725", "exact:person"),
    Case("089/2020447-25", "004989202044725", "exact:person"),
    Case("089/2020447-25", "4989202044725", "exact:person"),
    Case("089/2020447-25", "+49 89 2020447-25", "exact:person"),
    Case("089/2020447-25", "0089202044725", "exact:person", rules="P0"),
    Case("089/2020447-25", "0004989202044725", "exact:person", rules="M0"),
    Case("089/2020447-25", "089202044725", "exact:person", rules="M0"),
    Case("089/2020447-25", "tel:+49-89-2020447-25", "exact:person"),
    Case("089/2020447-25", "tel:+49892020447;ext=25", "exact:person"),
    Case("089/2020447-25", "sip:+4989202044725@sip.example.de;user=phone", "exact:person"),
    Case("089/2020447-25", '"Anna" <sip:089202044725@10.1.1.1>', "exact:person"),
    Case("089/2020447-25", "sip:%2B4989202044725@pbx.example", "exact:person"),
    Case("089/2020447-25", "tel:202044725;phone-context=+4989", "exact:person"),
    Case("089/2020447-25", "+49 (0)89 2020447-25", "exact:person"),
    # a local call without area code: completed by the configured area code …
    Case("089/2020447-25", "202044725", "exact:person", rules="M"),
    Case("089/2020447-25", "0202044725", "exact:person", rules="M0"),
    # … or, when it is not configured, only a low-confidence suffix match
    Case("089/2020447-25", "202044725", "suffix:person", rules="DE"),
    Case("089/2020447-25", "0202044725", "suffix:person", rules="P0"),
    # truncated / garbled caller IDs
    Case("089/2020447-25", "2044725", "suffix:person"),
    Case("089/2020447-25", "+49 89", None),
    Case("089/2020447-25", "+49 89 2020447 25 999 999 9", None),
    # --- direct dial to a switchboard -> the company (and the extension), never a wrong person ----
    Case("+49 89 2020447-0", "+4989202044750", "switchboard:company", on="company"),
    Case("+49 89 2020447", "+4989202044750", "switchboard:company", on="company"),
    Case("089 2020447-0", "089202044750", "switchboard:company", on="company"),
    Case("+49 89 2020447-0", "0089202044750", "switchboard:company", rules="M0", on="company"),
    Case("+49 89 2020447-0", "+49892020447", "switchboard:company", on="company"),
    Case("+49 89 2020447-0", "+498920204470", "exact:company", on="company"),
    Case("089/2020447-25", "+4989202044750", "switchboard:company", on="person"),
    Case("089/2020447-25", "+4989202044750", None, on="loner"),
    Case("089/2020447-25", "+49892020447", "switchboard:company", on="person"),
    Case("+49 6221 54-0", "06221544711", "switchboard:company", on="company"),
    Case("+43 1 58801-0", "+431588014711", "switchboard:company", on="company"),
    Case("01 58801-0", "+431588014711", "switchboard:company", on="company", country="AT"),
    Case("0171 1234567", "+4917112345678", None, on="company", kind=PhoneKind.MOBILE),
    # --- a stored number without country code is read in the record's country ----------------
    Case("071 727 18 18", "+41717271818", "exact:person", country="CH"),
    Case("071 727 18 18", "0041717271818", "exact:person", country="CH"),
    Case("071 727 18 18", "+49717271818", None, country="CH"),
    Case("071 727 18 18", "+49717271818", "exact:person"),  # no address: home country
    Case("0664 1234567", "+436641234567", "exact:person", country="AT"),
    Case("+41 (0)44 668 18 00", "+41446681800", "exact:person"),
    Case("+43 (0)1 58801 4711", "+431588014711", "exact:person"),
    Case("01 58801-4711", "+431588014711", "exact:person", country="AT"),
    # --- offices in Austria and Switzerland --------------------------------------------------------
    Case("+43 664 1234567", "06641234567", "exact:person", rules="AT"),
    Case("+43 664 1234567", "06641234567", None, rules="DE"),  # a German 0664 number
    Case("+43 1 58801-4711", "588014711", "exact:person", rules="AT"),
    Case("+41 71 727 18 18", "0717271818", "exact:person", rules="CH"),
    Case("+41 71 727 18 18", "7271818", "exact:person", rules="CH"),
    Case("071 727 18 18", "+41717271818", "exact:person", rules="CH"),
    # --- two complete numbers that differ are different lines ---------------------------------------
    Case("+49 30 12345678", "+43 30 12345678", None),
    Case("+49 30 12345678", "0043 30 12345678", None),
    Case("+49 40 30123456", "+49 30 123456", None),
    Case("+49 30 123456", "+49 40 30123456", None),
    Case("+49 30 123456", "04030123456", None),
    Case("+49 30 123456", "4030123456", None),
    Case("+49 40 30123456", "030123456", None),
    Case("030 1234567", "+49301234567", "exact:person"),
    # --- withheld numbers never match ---------------------------------------------------------------
    Case("089/2020447-25", "anonymous", None),
    Case("089/2020447-25", "", None),
    Case("089/2020447-25", "unknown", None),
    Case("089/2020447-25", "Restricted", None),
    Case("089/2020447-25", "sip:anonymous@anonymous.invalid", None),
    Case("089/2020447-25", '"Anonymous" <sip:anonymous@anonymous.invalid>', None),
    Case("089/2020447-25", "sip:anna@pbx.example", None),
    # --- internal calls are colleagues (a user with extension 25), not customers --------------------
    Case("089/2020447-25", "25", "internal:user"),
    Case("089/2020447-25", "sip:25@pbx.local", "internal:user"),
]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 60
    assert len({str(c) for c in CASES}) == len(CASES), "duplicate cases"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def table_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One migrated database per backend for the whole table; each case rolls back."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("identify-table") / "crm.db"
        shutil.copy(template, path)
        db = Database(f"sqlite:///{path}")
        yield db
        db.dispose()
        return
    server = request.getfixturevalue("pg_server")
    pg_template = request.getfixturevalue("pg_template")
    if isinstance(server, str) or pg_template is None:
        unavailable(str(server))
    name = server.new_database(template=pg_template)
    db = Database(server.url_for(name))
    yield db
    db.dispose()
    server.drop_database(name)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_number_case(table_db: Database, case: Case) -> None:
    rules = RULES[case.rules]
    with table_db.session() as s:
        company = records.create_organization(
            s,
            OrganizationInput(
                name="Müller Anlagenbau GmbH",
                country=case.country if case.on == "company" else None,
                phones=[PhoneInput(case.stored, case.kind)] if case.on == "company" else [],
            ),
            home_region=rules.country,
        )
        person = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Schäfer",
                organization_id=company.id if case.on != "loner" else None,
                country=case.country if case.on != "company" else None,
                phones=[PhoneInput(case.stored, case.kind)] if case.on != "company" else [],
            ),
            home_region=rules.country,
        )
        colleague = User(login="kai", name="Kai Kollege", phone_extension="25")
        s.add(colleague)
        s.flush()
        ids = {
            RecordKind.CONTACT: person.id,
            RecordKind.ORGANIZATION: company.id,
            RecordKind.USER: colleague.id,
        }
        result = resolve_caller(s, case.incoming, rules)
        s.rollback()

    got = [(m.reason.value, m.record.kind.value) for m in result.matches]
    if case.expect is None:
        assert result.matches == (), f"{case}: expected no match, got {got}"
        return
    assert result.matches, f"{case}: expected {case.expect}, got nothing ({result.status})"
    reason, who = case.expect.split(":")
    kind = {"person": RecordKind.CONTACT, "company": RecordKind.ORGANIZATION}.get(
        who, RecordKind.USER
    )
    best = result.matches[0]
    assert (best.reason, best.record.kind) == (Reason(reason), kind), f"{case}: got {got}"
    assert best.record.id == ids[kind]
    assert len(result.matches) == 1, f"{case}: one record stored, got {got}"
    if best.reason is Reason.SUFFIX:
        assert best.score < 0.5  # marked low confidence
    if best.reason is Reason.SWITCHBOARD and case.incoming.endswith("4711"):
        assert best.extension == "4711"
    if best.reason is Reason.SWITCHBOARD and case.incoming.endswith("50"):
        assert best.extension == "50"


# --- reading caller IDs, no database ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        "anonymous",
        "Anonymous",
        "unknown",
        "restricted",
        "private",
        "withheld",
        "sip:anonymous@anonymous.invalid",
        '"Anonymous" <sip:anonymous@anonymous.invalid>',
        "tel:",
        "  ",
        "unterdrückt",
    ],
)
def test_withheld_caller_ids(raw: str | None) -> None:
    caller = read_caller_id(raw, DialingRules())
    assert caller.withheld
    assert caller.readings == () and caller.normalized is None and caller.key == ""


def test_readings_are_ordered_and_weighted() -> None:
    munich = RULES["M"]
    local = read_caller_id("2020447", munich)
    assert local.status is CallerStatus.COMPLETE
    assert [r.e164 for r in local.readings] == ["+49892020447", "+492020447"]
    assert local.readings[0].how == "local, area 89"
    assert not local.suffix_allowed
    bare = read_caller_id("2020447", DialingRules())
    assert bare.suffix_allowed and bare.domestic_only
    assert bare.normalized == "2020447"  # a guess is not shown as the number
    full = read_caller_id("+49 89 2020447-50", DialingRules())
    assert full.normalized == "+4989202044750"
    assert full.display == "+49 89 202044750"
    assert full.readings[0].weight == 1.0 and not full.suffix_allowed


def test_outside_line_prefix_is_optional() -> None:
    rules = RULES["M0"]
    with_prefix = read_caller_id("00049892020447", rules)
    assert with_prefix.e164 == "+49892020447"
    without_prefix = read_caller_id("0049892020447", rules)
    assert without_prefix.e164 == "+49892020447"
    national = read_caller_id("0892020447", rules)
    assert national.e164 == "+49892020447"


def test_internal_extension_lengths() -> None:
    rules = DialingRules(internal_min_digits=3, internal_max_digits=3)
    assert read_caller_id("250", rules).status is CallerStatus.INTERNAL
    assert read_caller_id("25", rules).status is not CallerStatus.INTERNAL
    none = DialingRules(internal_min_digits=0, internal_max_digits=0)
    assert read_caller_id("25", none).status is not CallerStatus.INTERNAL
