"""Sender identification, table-driven: From value (and headers) -> the record, or nobody.

One set of records is stored once per backend (SQLite and PostgreSQL); each case resolves one
sender. Traps: freemail domains, role addresses, bounces and auto-replies, and the From forms
Python's ``email`` package gets wrong.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput
from desktop_crm.identify import Reason, RecordKind, read_sender, resolve_sender, sender_address
from desktop_crm.identify.sender import domain_candidates, freemail_domains, is_freemail
from tests.helpers.integration import unavailable

ANNA = "anna.schaefer@mueller-anlagenbau.de"
FREEMAIL_TRAPS = [
    "gmail.com",
    "googlemail.com",
    "gmx.de",
    "web.de",
    "t-online.de",
    "outlook.com",
    "yahoo.de",
    "icloud.com",
    "posteo.de",
    "mailbox.org",
    "gmx.at",
    "bluewin.ch",
]


@dataclass(frozen=True)
class Case:
    sender: str | None
    expect: str | None  # "email:anna", "domain:mueller", … or None
    headers: tuple[tuple[str, str], ...] = field(default=())

    def __str__(self) -> str:
        extra = f" +{dict(self.headers)}" if self.headers else ""
        return f"{self.sender!r}{extra}"


CASES = [
    # exact address, in the forms a From header takes
    Case(ANNA, "email:anna"),
    Case("Anna.Schaefer@Mueller-Anlagenbau.DE", "email:anna"),
    Case(f"Anna Schäfer <{ANNA}>", "email:anna"),
    Case(f'"Schäfer, Anna" <{ANNA.upper()}>', "email:anna"),
    Case(f"{ANNA} (Anna Schäfer)", "email:anna"),
    Case(f"alice@example.com <{ANNA}>", "email:anna"),  # the mailbox is the one in <>
    Case(f"=?utf-8?q?Anna_Sch=C3=A4fer?= <{ANNA}>", "email:anna"),
    Case(f"<mailto:{ANNA}>", "email:anna"),
    Case(f"Anna <{ANNA}>, Bob <bob@example.org>", "email:anna"),  # first author
    Case("a.schaefer@gmx.de", "email:anna"),  # any of her addresses, not only the primary
    Case("bernd.klein@web.de", "email:bernd"),  # a stored freemail address is exact
    # the domain of an organization
    Case("new.colleague@mueller-anlagenbau.de", "domain:mueller"),
    Case("X.Y@MUELLER-ANLAGENBAU.DE", "domain:mueller"),
    Case("someone@mail.mueller-anlagenbau.de", "domain:mueller"),  # a subdomain
    Case("someone@mueller.at", "domain:mueller"),  # its second domain
    Case("eva@müller-bau.de", "domain:bau"),  # IDN: stored as typed, sent as xn--
    Case(f"{ANNA.replace('@', '+crm@')}", "domain:mueller"),  # not her stored address
    # role addresses resolve to the organization, not to a person
    Case("info@mueller-anlagenbau.de", "email:mueller"),  # stored on the organization
    Case("vertrieb@mueller-anlagenbau.de", "email:mueller"),  # stored on Clara, a person
    Case("service@mueller-anlagenbau.de", "domain:mueller"),
    Case("noreply@mueller-anlagenbau.de", "domain:mueller"),
    Case("No-Reply@Mueller-Anlagenbau.de", "domain:mueller"),
    Case("service@bernd-elektro.de", None),  # a role address on a person without organization
    # freemail domains never name an organization (one has them entered by mistake)
    *[Case(f"stranger@{domain}", None) for domain in FREEMAIL_TRAPS],
    Case("stranger@andere-firma.de", None),
    # bounces and auto-responders are not customers
    Case("MAILER-DAEMON@mail.mueller-anlagenbau.de", None),
    Case("Mail Delivery System <mailer-daemon@mueller-anlagenbau.de>", None),
    Case("postmaster@mueller-anlagenbau.de", None),
    Case(ANNA, None, (("Auto-Submitted", "auto-replied"),)),
    Case(ANNA, None, (("auto-submitted", "auto-generated; type=vacation"),)),
    Case(ANNA, "email:anna", (("Auto-Submitted", "no"),)),
    Case(ANNA, None, (("X-Autoreply", "yes"),)),
    Case(ANNA, None, (("Precedence", "auto_reply"),)),
    Case(ANNA, None, (("Return-Path", "<>"),)),
    Case(ANNA, None, (("X-Failed-Recipients", "kunde@example.org"),)),
    Case(
        ANNA,
        None,
        (("Content-Type", 'multipart/report; report-type=delivery-status; boundary="x"'),),
    ),
    # no usable sender
    Case("", None),
    Case("undisclosed-recipients:;", None),
    Case("kein at zeichen", None),
    # From only in the headers, under the obsolete "From  :" name
    Case(None, "email:anna", (("From  ", f"Anna <{ANNA}>"),)),
]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({str(c) for c in CASES}) == len(CASES), "duplicate cases"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, dict[str, tuple[RecordKind, int]]]]:
    """The stored records, once per backend."""
    cleanup = None
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("identify-senders") / "crm.db"
        shutil.copy(template, path)
        db = Database(f"sqlite:///{path}")
    else:
        server = request.getfixturevalue("pg_server")
        pg_template = request.getfixturevalue("pg_template")
        if isinstance(server, str) or pg_template is None:
            unavailable(str(server))
        name = server.new_database(template=pg_template)
        db = Database(server.url_for(name))

        def cleanup() -> None:
            server.drop_database(name)

    with db.session() as s:
        mueller = records.create_organization(
            s,
            OrganizationInput(
                name="Müller Anlagenbau GmbH",
                domains=["mueller-anlagenbau.de", "mueller.at"],
                emails=[EmailInput("info@mueller-anlagenbau.de")],
            ),
        )
        bau = records.create_organization(
            s, OrganizationInput(name="Müller Bau", domains=["müller-bau.de"])
        )
        records.create_organization(
            s, OrganizationInput(name="Freemail Fehler GmbH", domains=FREEMAIL_TRAPS)
        )
        anna = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Schäfer",
                organization_id=mueller.id,
                emails=[EmailInput(ANNA, primary=True), EmailInput("a.schaefer@gmx.de")],
            ),
        )
        records.create_contact(
            s,
            ContactInput(
                first_name="Clara",
                last_name="Vogt",
                organization_id=mueller.id,
                emails=[EmailInput("vertrieb@mueller-anlagenbau.de")],
            ),
        )
        bernd = records.create_contact(
            s,
            ContactInput(
                first_name="Bernd",
                last_name="Klein",
                emails=[EmailInput("bernd.klein@web.de"), EmailInput("service@bernd-elektro.de")],
            ),
        )
        ids = {
            "anna": (RecordKind.CONTACT, anna.id),
            "bernd": (RecordKind.CONTACT, bernd.id),
            "mueller": (RecordKind.ORGANIZATION, mueller.id),
            "bau": (RecordKind.ORGANIZATION, bau.id),
        }
    yield db, ids
    db.dispose()
    if cleanup:
        cleanup()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_sender_case(world: tuple[Database, dict[str, tuple[RecordKind, int]]], case: Case) -> None:
    db, ids = world
    with db.session() as s:
        result = resolve_sender(s, case.sender, case.headers)
    got = [(m.reason.value, m.record.kind.value, m.record.name) for m in result.matches]
    if case.expect is None:
        assert result.matches == (), f"{case}: expected nobody, got {got}"
        return
    reason, who = case.expect.split(":")
    assert result.matches, f"{case}: expected {case.expect}, got nothing ({result.status})"
    assert len(result.matches) == 1, got
    best = result.matches[0]
    assert best.reason is Reason(reason), got
    assert (best.record.kind, best.record.id) == ids[who], got


# --- parsing without a database ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("Anna <anna@x.de>", "anna@x.de"),
        ("alice@example.com <bob@example.com>", "bob@example.com"),
        ('"a <c@d.de>" <bob@example.com>', "bob@example.com"),
        ('"Müller, Anna" <Anna@X.DE>', "anna@x.de"),
        ("anna@x.de (Anna, Vertrieb)", "anna@x.de"),
        ("Anna\r\n <anna@x.de>", "anna@x.de"),
        ("eva@müller-bau.de", "eva@xn--mller-bau-q9a.de"),
        ("undisclosed-recipients:;", None),
        ("", None),
        (None, None),
    ],
)
def test_sender_address(value: str | None, address: str | None) -> None:
    assert sender_address(value) == address


def test_sender_flags() -> None:
    sender = read_sender("Service <Service+ticket@Firma.de>")
    assert sender.address == "service+ticket@firma.de"
    assert sender.role and not sender.freemail and sender.automated is None
    assert read_sender("x@gmail.com").freemail
    bounce = read_sender("MAILER-DAEMON@firma.de")
    assert bounce.automated and "mailer-daemon" in bounce.automated
    reply = read_sender("anna@firma.de", {"Auto-Submitted": "auto-replied"})
    assert reply.automated == "Auto-Submitted: auto-replied"


def test_freemail_list_is_package_data() -> None:
    listed = freemail_domains()
    for domain in ("gmail.com", "gmx.de", "web.de", "t-online.de", "outlook.com", "yahoo.com"):
        assert domain in listed
    for domain in ("icloud.com", "posteo.de", "mailbox.org", "yahoo.de"):
        assert domain in listed
    assert is_freemail("mail.gmx.de")
    assert not is_freemail("mueller-anlagenbau.de")
    assert domain_candidates("a.b.firma.co.uk") == [
        "a.b.firma.co.uk",
        "b.firma.co.uk",
        "firma.co.uk",
    ]
