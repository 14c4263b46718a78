"""Exporting contacts as CSV, vCard and JSON, and importing the export back unchanged."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import vobject
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from desktop_crm.data import exporting, records
from desktop_crm.data.db import Database
from desktop_crm.data.exporting import contact_record, export_contacts
from desktop_crm.data.importing import OWN_CSV_COLUMNS, import_file
from desktop_crm.data.models import Contact, Organization, PhoneKind, Tag
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput, PhoneInput

NOTES = 'Zeile 1\nZeile 2, mit; Sonderzeichen \\ und "Anführungszeichen"\n=SUMME(A1:A2)'


def seed(db: Database) -> None:
    with db.session() as s:
        acme = records.create_organization(
            s, OrganizationInput(name="Müller; Anlagen, GmbH & Co. KG")
        )
        records.create_contact(
            s,
            ContactInput(
                salutation="Herr",
                title="Dr.",
                first_name="Jürgen",
                last_name="Weiß-Öztürk, jun.",
                organization_id=acme.id,
                position="=Geschäftsführer",
                street="Hauptstraße 5\\a, Hinterhaus",
                postal_code="80331",
                city="München",
                country="DE",
                language="de",
                marketing_consent=True,
                consent_date=date(2024, 1, 2),
                consent_source="Messe München; Stand 4",
                notes=NOTES,
                birthday=date(1970, 3, 22),
                tags=["VIP", "Kunde, Süd", "Newsletter"],
                phones=[
                    PhoneInput("089/2020447-25"),
                    PhoneInput("+49 171 1234567", PhoneKind.MOBILE),
                    PhoneInput("089 7654321", PhoneKind.HOME),
                    PhoneInput("089 2020447-99", PhoneKind.FAX),
                    PhoneInput("+49 (0)89 2020447-0", PhoneKind.SWITCHBOARD),
                    PhoneInput("Zentrale, bitte Durchwahl", PhoneKind.OTHER),
                    PhoneInput("-12", PhoneKind.OTHER),
                ],
                emails=[
                    EmailInput("j.weiss@mueller-anlagen.de"),
                    EmailInput("Juergen@Privat.de", primary=True),
                ],
            ),
        )
        records.create_contact(
            s,
            ContactInput(
                first_name="Zoë",
                last_name="Çelik",
                city="Zürich",
                country="CH",
                phones=[PhoneInput("044 123 45 67")],
            ),
        )
        # no name: a number of the company
        records.create_contact(
            s,
            ContactInput(
                organization_id=acme.id, phones=[PhoneInput("089 2020447-50", PhoneKind.FAX)]
            ),
        )
        # no name: only an address
        records.create_contact(s, ContactInput(emails=[EmailInput("info@kunde.example")]))


def normalized(db: Database) -> list[dict[str, Any]]:
    """The contacts without what the database assigns (ids, times, versions), sorted."""
    with db.session() as s:
        rows = s.scalars(
            select(Contact).options(
                selectinload(Contact.phones),
                selectinload(Contact.emails),
                selectinload(Contact.tags),
                selectinload(Contact.organization),
            )
        ).all()
        out = []
        for c in rows:
            d = contact_record(c)
            for key in ("id", "version", "created_at", "updated_at", "organization_id"):
                del d[key]
            d["phones"] = sorted(d["phones"], key=lambda p: (p["kind"], p["raw"]))
            d["emails"] = sorted(d["emails"], key=lambda e: e["raw"])
            d["tags"] = sorted(d["tags"])
            out.append(d)
    return sorted(out, key=lambda d: json.dumps(d, sort_keys=True))


def export_text(db: Database, fmt: exporting.Format) -> tuple[int, str]:
    out = io.StringIO(newline="")
    count = export_contacts(db, fmt, out)
    return count, out.getvalue()


def test_csv_export(db: Database) -> None:
    seed(db)
    count, text = export_text(db, "csv")

    assert count == 4
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert rows[0] == list(OWN_CSV_COLUMNS)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["first_name"] == "Jürgen" and row["last_name"] == "Weiß-Öztürk, jun."
    assert row["organization"] == "Müller; Anlagen, GmbH & Co. KG"
    assert row["position"] == "'=Geschäftsführer"  # a spreadsheet must not run it
    assert row["phone_work"] == "089/2020447-25"
    assert row["phone_mobile"] == "'+49 171 1234567"
    assert row["phone_other"] == "Zentrale, bitte Durchwahl\n-12"
    assert row["email"] == "Juergen@Privat.de"  # the primary address first
    assert row["email_other"] == "j.weiss@mueller-anlagen.de"
    assert row["tags"].splitlines() == ["VIP", "Kunde, Süd", "Newsletter"]
    assert (row["birthday"], row["marketing_consent"], row["consent_date"]) == (
        "1970-03-22",
        "yes",
        "2024-01-02",
    )
    assert row["notes"] == NOTES
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")


def test_vcard_export(db: Database) -> None:
    seed(db)
    count, text = export_text(db, "vcard")

    cards = list(vobject.readComponents(text))
    assert count == len(cards) == 4
    card = cards[0]
    assert card.n.value.family == "Weiß-Öztürk, jun."
    assert card.n.value.given == "Jürgen"
    assert card.n.value.prefix == "Herr Dr."
    assert card.fn.value == "Herr Dr. Jürgen Weiß-Öztürk, jun."
    assert card.org.value == ["Müller; Anlagen, GmbH & Co. KG"]
    assert card.title.value == "=Geschäftsführer"
    tels = [(t.value, t.params["TYPE"]) for t in card.contents["tel"]]
    assert tels[:5] == [
        ("089/2020447-25", ["WORK", "VOICE"]),
        ("+49 171 1234567", ["CELL", "VOICE"]),
        ("089 7654321", ["HOME", "VOICE"]),
        ("089 2020447-99", ["WORK", "FAX"]),
        ("+49 (0)89 2020447-0", ["WORK", "VOICE", "X-SWITCHBOARD"]),
    ]
    mails = [(e.value, e.params["TYPE"]) for e in card.contents["email"]]
    assert mails == [
        ("j.weiss@mueller-anlagen.de", ["INTERNET"]),
        ("Juergen@Privat.de", ["INTERNET", "PREF"]),
    ]
    adr = card.adr.value
    assert (adr.street, adr.code, adr.city, adr.country) == (
        "Hauptstraße 5\\a, Hinterhaus",
        "80331",
        "München",
        "DE",
    )
    assert card.note.value == NOTES
    assert card.categories.value == ["VIP", "Kunde, Süd", "Newsletter"]
    assert card.bday.value == "1970-03-22"
    assert card.contents["x-desktop-crm-consent-source"][0].value == "Messe München; Stand 4"
    assert cards[2].fn.value == "Müller; Anlagen, GmbH & Co. KG"  # no name: the company


def test_json_export(db: Database) -> None:
    seed(db)
    count, text = export_text(db, "json")

    data = json.loads(text)
    assert count == len(data) == 4
    first = data[0]
    assert first["first_name"] == "Jürgen"
    assert first["organization"] == "Müller; Anlagen, GmbH & Co. KG"
    assert first["phones"][0] == {
        "raw": "089/2020447-25",
        "kind": "work",
        "e164": "+4989202044725",
        "extension": "25",
    }
    assert first["emails"][1] == {
        "raw": "Juergen@Privat.de",
        "normalized": "juergen@privat.de",
        "primary": True,
    }
    assert (first["birthday"], first["consent_date"], first["marketing_consent"]) == (
        "1970-03-22",
        "2024-01-02",
        True,
    )
    assert set(first) >= {"id", "version", "created_at", "updated_at", "notes", "tags"}


@pytest.mark.parametrize("fmt", ["csv", "vcard", "json"])
def test_round_trip(db: Database, tmp_path: Path, fmt: exporting.Format) -> None:
    seed(db)
    before = normalized(db)
    path = tmp_path / f"contacts.{fmt}"
    with path.open("w", encoding="utf-8", newline="") as out:
        assert export_contacts(db, fmt, out) == 4

    again = import_file(db, path)  # into the same database: everything is there already
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)

    with db.session() as s:
        s.execute(delete(Contact))
        s.execute(delete(Organization))
        s.execute(delete(Tag))
    report = import_file(db, path)

    assert (report.created, report.skipped, report.organizations_created) == (4, 0, 1)
    # the only problems: numbers that were never normalisable, stored as written again
    assert [p.raw for p in report.problems] == ["Zentrale, bitte Durchwahl", "-12"]
    assert normalized(db) == before


def test_export_pages_through_many_contacts(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exporting, "PAGE_SIZE", 2)
    with db.session() as s:
        for i in range(5):
            records.create_contact(s, ContactInput(first_name=f"P{i}", last_name="Page"))
    count, text = export_text(db, "json")

    assert count == 5
    assert [c["first_name"] for c in json.loads(text)] == [f"P{i}" for i in range(5)]


@pytest.mark.parametrize("fmt", ["csv", "vcard", "json"])
def test_export_of_an_empty_database(db: Database, fmt: exporting.Format) -> None:
    count, text = export_text(db, fmt)

    assert count == 0
    expected = {"csv": "\ufeff" + ",".join(OWN_CSV_COLUMNS) + "\r\n", "vcard": "", "json": "[\n]\n"}
    assert text == expected[fmt]


def test_unknown_format_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export_contacts(db, "xml", io.StringIO())  # type: ignore[arg-type]


def test_csv_export_saved_again_by_german_excel_imports_the_same(
    db: Database, tmp_path: Path
) -> None:
    seed(db)
    before = normalized(db)
    _count, text = export_text(db, "csv")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    resaved = io.StringIO(newline="")
    csv.writer(resaved, delimiter=";").writerows(rows)
    path = tmp_path / "Kontakte.csv"
    path.write_bytes(resaved.getvalue().encode("cp1252"))
    with db.session() as s:
        s.execute(delete(Contact))
        s.execute(delete(Organization))
        s.execute(delete(Tag))
    report = import_file(db, path)

    assert report.format == "desktop_crm CSV, ';' separated"
    assert report.encoding == "Windows-1252"
    assert report.created == 4
    assert normalized(db) == before
