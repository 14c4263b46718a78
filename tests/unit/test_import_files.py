"""Importing files the tests write: German Outlook and Excel CSVs, encodings, broken rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_crm.data.db import Database
from desktop_crm.data.errors import ValidationError
from desktop_crm.data.importing import import_file
from desktop_crm.data.importing import writer as import_writer
from tests.unit.test_import import contacts, emails, phones

OUTLOOK_DE_HEADER = [
    "Anrede",
    "Vorname",
    "Weitere Vornamen",
    "Nachname",
    "Suffix",
    "Firma",
    "Abteilung",
    "Position",
    "Straße geschäftlich",
    "Straße geschäftlich 2",
    "Ort geschäftlich",
    "Region geschäftlich",
    "Postleitzahl geschäftlich",
    "Land/Region geschäftlich",
    "Straße privat",
    "Ort privat",
    "Postleitzahl privat",
    "Land/Region privat",
    "Telefon geschäftlich",
    "Telefon geschäftlich 2",
    "Telefon Firma",
    "Mobiltelefon",
    "Fax geschäftlich",
    "Telefon privat",
    "Pager",
    "E-Mail-Adresse",
    "E-Mail-Typ",
    "E-Mail: Angezeigter Name",
    "E-Mail 2: Adresse",
    "Geburtstag",
    "Jahrestag",
    "Kategorien",
    "Notizen",
    "Priorität",
    "Privat",
    "Vertraulichkeit",
    "Geschlecht",
    "Ort",
    "Hobby",
]


def outlook_row(**values: str) -> list[str]:
    defaults = {
        "Geburtstag": "0.0.00",
        "Jahrestag": "0.0.00",
        "Priorität": "Normal",
        "Privat": "Aus",
        "Vertraulichkeit": "Normal",
        "Geschlecht": "Unbestimmt",
        "E-Mail-Typ": "SMTP",
    }
    defaults.update(values)
    return [defaults.get(h, "") for h in OUTLOOK_DE_HEADER]


def write_csv(
    path: Path, rows: list[list[str]], *, sep: str, encoding: str, bom: bool = False
) -> Path:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    text = "\r\n".join(sep.join(cell(v) for v in row) for row in rows) + "\r\n"
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def test_german_outlook_csv_windows_1252(db: Database, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "Kontakte.CSV",
        [
            OUTLOOK_DE_HEADER,
            outlook_row(
                Anrede="Herr Dr.",
                Vorname="Jürgen",
                Nachname="Müller-Lüdenscheidt",
                Firma="Müller Anlagenbau GmbH",
                Abteilung="Vertrieb",
                Position="Geschäftsführer",
                **{
                    "Straße geschäftlich": "Hauptstraße 5",
                    "Straße geschäftlich 2": "Hinterhaus",
                    "Ort geschäftlich": "München",
                    "Region geschäftlich": "Bayern",
                    "Postleitzahl geschäftlich": "80331",
                    "Land/Region geschäftlich": "Deutschland",
                    "Straße privat": "Gärtnerweg 1",
                    "Ort privat": "Grünwald",
                    "Postleitzahl privat": "82031",
                    "Telefon geschäftlich": "089/2020447-25",
                    "Telefon geschäftlich 2": "+49 (0)89 2020447-25",
                    "Telefon Firma": "+49 (0)89 2020447-0",
                    "Mobiltelefon": "0171 1234567",
                    "Fax geschäftlich": "089 2020447-99",
                    "E-Mail-Adresse": "j.mueller@mueller-anlagenbau.de",
                    "E-Mail: Angezeigter Name": "Jürgen Müller (j.mueller@mueller-anlagenbau.de)",
                    "E-Mail 2: Adresse": "JM@Privat-Mail.DE",
                    "Geburtstag": "22.03.1970",
                    "Kategorien": "Kunde;VIP",
                    "Notizen": "Größter Kunde.\r\nMag keine Anrufe vor 9 Uhr.",
                    "Ort": "Büro 3.12",
                    "Hobby": "Segeln",
                },
            ),
            outlook_row(
                Anrede="Frau",
                Vorname="Änne",
                Nachname="Weiß",
                Firma="Süßwaren Öztürk KG",
                **{
                    "Ort geschäftlich": "Köln",
                    "Land/Region geschäftlich": "Österreich",
                    "Telefon geschäftlich": "0221 9876543",
                    "E-Mail-Adresse": "aenne.weiss@suesswaren-oeztuerk.de",
                },
            ),
        ],
        sep=";",
        encoding="cp1252",
    )
    report = import_file(db, path)

    assert report.format == "Outlook CSV (German), ';' separated"
    assert report.encoding == "Windows-1252"
    assert (report.created, report.skipped, report.problems) == (2, 0, [])
    juergen, aenne = contacts(db)
    assert (juergen["salutation"], juergen["title"]) == ("Herr", "Dr.")
    assert (juergen["first_name"], juergen["last_name"]) == ("Jürgen", "Müller-Lüdenscheidt")
    assert (juergen["organization"], juergen["position"]) == (
        "Müller Anlagenbau GmbH",
        "Geschäftsführer",
    )
    assert (juergen["street"], juergen["postal_code"], juergen["city"], juergen["country"]) == (
        "Hauptstraße 5, Hinterhaus",
        "80331",
        "München",
        "DE",
    )
    # "+49 (0)89 2020447-25" in "Telefon geschäftlich 2" is the same work number again
    assert [(p["raw"], p["kind"], p["e164"], p["extension"]) for p in juergen["phones"]] == [
        ("089/2020447-25", "work", "+4989202044725", "25"),
        ("+49 (0)89 2020447-0", "switchboard", "+498920204470", "0"),
        ("0171 1234567", "mobile", "+491711234567", None),
        ("089 2020447-99", "fax", "+4989202044799", "99"),
    ]
    assert emails(juergen) == [
        ("j.mueller@mueller-anlagenbau.de", True),
        ("JM@Privat-Mail.DE", False),
    ]
    assert juergen["emails"][1]["normalized"] == "jm@privat-mail.de"
    assert juergen["birthday"] == "1970-03-22"
    assert juergen["tags"] == ["Kunde", "VIP"]
    assert juergen["notes"].splitlines() == [
        "Größter Kunde.",
        "Mag keine Anrufe vor 9 Uhr.",
        "Department: Vertrieb",
        "Ort: Büro 3.12",  # Outlook's "Ort" is the office location, not the city
        "Hobby: Segeln",
        "Home address: Gärtnerweg 1, 82031 Grünwald",
        "Region: Bayern",
    ]
    assert (aenne["salutation"], aenne["first_name"], aenne["last_name"]) == (
        "Frau",
        "Änne",
        "Weiß",
    )
    assert aenne["organization"] == "Süßwaren Öztürk KG"
    assert (aenne["city"], aenne["country"]) == ("Köln", "AT")
    # the contact's country decides how a number without country code is read
    assert phones(aenne) == [("0221 9876543", "work", "+432219876543")]
    assert aenne["birthday"] is None and aenne["notes"] == ""  # "0.0.00" means no date


def test_excel_list_semicolon_windows_1252(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "Adressen.csv"
    lines = [
        "sep=;",
        "Anrede;Titel;Vorname;Name;Firma;Straße;PLZ;Ort;Land;Telefon;Handy;Fax;E-Mail;Bemerkung",
        "Herr;Prof. Dr.;Hans-Jörg;Großmann;Ärzte am Ölberg;Ölbergstraße 7;69117;Heidelberg;;"
        "+49 (0)6221 123456;0151/2345678;06221 123457;hj.grossmann@aerzte-oelberg.de;Rückruf erbeten",
        "Frau;;Zoë;Çelik;;;;Zürich;Schweiz;044 123 45 67;;;zoe@celik.ch;",
        ";;;;Stadtwerke Süd;;;;;;;;;",
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    report = import_file(db, path)

    assert report.format == "CSV, ';' separated"
    assert report.encoding == "Windows-1252"
    assert (report.created, report.unchanged, report.problems) == (2, 1, [])
    assert report.organizations_created == 2
    hj, zoe = contacts(db)
    assert (hj["salutation"], hj["title"], hj["first_name"], hj["last_name"]) == (
        "Herr",
        "Prof. Dr.",
        "Hans-Jörg",
        "Großmann",  # "Name" next to "Vorname" is the surname
    )
    assert (hj["organization"], hj["street"], hj["postal_code"], hj["city"]) == (
        "Ärzte am Ölberg",
        "Ölbergstraße 7",
        "69117",
        "Heidelberg",
    )
    assert phones(hj) == [
        ("+49 (0)6221 123456", "work", "+496221123456"),
        ("0151/2345678", "mobile", "+491512345678"),
        ("06221 123457", "fax", "+496221123457"),
    ]
    assert emails(hj) == [("hj.grossmann@aerzte-oelberg.de", True)]
    assert hj["notes"] == "Rückruf erbeten"
    assert (zoe["first_name"], zoe["last_name"], zoe["city"], zoe["country"]) == (
        "Zoë",
        "Çelik",
        "Zürich",
        "CH",
    )
    assert phones(zoe) == [("044 123 45 67", "work", "+41441234567")]
    # the company-only row made the organization, no person
    with db.session() as s:
        from desktop_crm.data import queries

        names = [r.name for r in queries.organization_rows(s, queries.organization_ids(s)).values()]
    assert sorted(names) == ["Stadtwerke Süd", "Ärzte am Ölberg"]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", False), ("utf-8", True), ("utf-16", False), ("utf-16-le", False), ("cp1252", False)],
)
def test_csv_encodings(db: Database, tmp_path: Path, encoding: str, bom: bool) -> None:
    path = write_csv(
        tmp_path / "list.csv",
        [
            ["First Name", "Last Name", "Company", "E-mail Address"],
            ["Jörg", "Öß", "Ü AG", "j@ü.de"],
        ],
        sep=",",
        encoding=encoding,
        bom=bom,
    )
    report = import_file(db, path)

    assert (report.created, report.problems) == (1, [])
    (c,) = contacts(db)
    assert (c["first_name"], c["last_name"], c["organization"]) == ("Jörg", "Öß", "Ü AG")
    assert c["emails"][0]["normalized"] == "j@xn--tda.de"
    expected = {"utf-8": "UTF-8 with BOM" if bom else "UTF-8", "cp1252": "Windows-1252"}
    assert report.encoding == expected.get(encoding, "UTF-16")
    assert report.format == "Outlook CSV, ',' separated"


def test_utf8_file_with_one_windows_1252_line(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "Vorname;Nachname\r\nJürgen;Groß\r\n".encode() + "Änne;Weiß\r\n".encode("cp1252")
    )
    report = import_file(db, path)

    assert report.encoding == "UTF-8 and Windows-1252 (mixed)"
    assert [(c["first_name"], c["last_name"]) for c in contacts(db)] == [
        ("Jürgen", "Groß"),
        ("Änne", "Weiß"),
    ]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_vcard_in_utf16_and_with_bom(db: Database, tmp_path: Path, codec: str) -> None:
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Bäcker;Jürgen;;Herr;\r\nFN:Jürgen Bäcker\r\n"
        "ORG:Bäckerei Größ\r\nTEL;TYPE=WORK,VOICE:+49 89 123456-78\r\n"
        "EMAIL;TYPE=INTERNET:juergen@baeckerei-groess.de\r\nNOTE:Brötchen\\, Brezn\r\n"
        "END:VCARD\r\n"
    )
    path = tmp_path / "card.vcf"
    path.write_bytes(card.encode(codec))
    report = import_file(db, path)

    assert (report.format, report.created, report.problems) == ("vCard 3.0", 1, [])
    (c,) = contacts(db)
    assert (c["salutation"], c["first_name"], c["last_name"]) == ("Herr", "Jürgen", "Bäcker")
    assert c["organization"] == "Bäckerei Größ"
    assert phones(c) == [("+49 89 123456-78", "work", "+498912345678")]
    assert c["notes"] == "Brötchen, Brezn"


def test_vcard21_quoted_printable_windows_1252_charset(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "outlook.vcf"
    text = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        "N;CHARSET=Windows-1252;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen\r\n"
        "ORG;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:Gro=DF & S=F6hne=\r\n GmbH\r\n"
        "ADR;WORK;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:;;Stra=C3=9Fe 1=0D=0A=\r\n"
        "Hinterhaus;M=C3=BCnchen;;80331;Deutschland\r\n"
        "TEL;WORK;VOICE:089 123456\r\n"
        "NOTE;ENCODING=QUOTED-PRINTABLE:Zeile eins, mit Komma=0D=0AZeile zwei; Ende\r\n"
        "END:VCARD\r\n"
    )
    path.write_bytes(text.encode("ascii"))
    report = import_file(db, path)

    assert report.problems == []
    (c,) = contacts(db)
    assert (c["first_name"], c["last_name"]) == ("Jürgen", "Müller")
    assert c["organization"] == "Groß & Söhne GmbH"  # a soft break inside a folded line
    assert (c["street"], c["postal_code"], c["city"], c["country"]) == (
        "Straße 1, Hinterhaus",
        "80331",
        "München",
        "DE",
    )
    assert c["notes"] == "Zeile eins, mit Komma\nZeile zwei; Ende"


def test_bad_rows_are_reported_with_line_numbers_and_the_rest_imports(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "\n".join(
            [
                "First Name,Last Name,Company,Business Phone,E-mail Address,Notes",  # 1
                "Anna,Schmidt,ACME,089 123456,anna@acme.de,",  # 2
                "Bernd,Bauer,ACME,keine Nummer,bernd(at)acme.de,erster Kontakt",  # 3
                ",,,,,",  # 4: empty
                ",,,,,nur eine Notiz",  # 5: nothing to import
                'Carla,"Cortez,ACME,089 1,carla@acme.de,',  # 6: a quote that never closes
                "Dora,Dorn,ACME,089 654321,dora@acme.de,zu viele,Zellen",  # 7
                'Emil,Ernst,ACME,089 777777,emil@acme.de,"zwei',  # 8
                'Zeilen"',  # 9
                "Fritz,Fuchs,ACME,089 888888,fritz@acme.de,",  # 10
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    report = import_file(db, path)

    found = {(p.line, p.raw): p.reason for p in report.problems}
    assert "keine Nummer" in found[(3, "keine Nummer")] or found[(3, "keine Nummer")]
    assert found[(3, "keine Nummer")].startswith("phone number could not be read")
    assert found[(3, "bernd(at)acme.de")].startswith("not a usable e-mail address")
    assert found[(5, "nur eine Notiz")].startswith("nothing to import")
    assert found[(6, 'Carla,"Cortez,ACME,089 1,carla@acme.de,')].startswith(
        "a quotation mark in this row is never closed"
    )
    assert (
        "has 7 cells but the header only 6"
        in found[(7, "Dora,Dorn,ACME,089 654321,dora@acme.de,zu viele,Zellen")]
    )
    assert len(report.problems) == 5
    assert (report.created, report.skipped) == (5, 2)
    people = {c["first_name"]: c for c in contacts(db)}
    assert sorted(people) == ["Anna", "Bernd", "Dora", "Emil", "Fritz"]
    bernd = people["Bernd"]
    assert phones(bernd) == [("keine Nummer", "work", None)]  # kept as written
    assert bernd["emails"] == []
    assert bernd["notes"] == "erster Kontakt\nE-mail address (not usable): bernd(at)acme.de"
    assert people["Dora"]["notes"] == "zu viele\nValue without a column: Zellen"
    assert people["Emil"]["notes"] == "zwei\nZeilen"


def test_too_long_values_are_shortened_and_kept_whole_in_the_notes(
    db: Database, tmp_path: Path
) -> None:
    long_name = "Maximilian-" * 15
    path = tmp_path / "long.csv"
    path.write_text(f"Vorname;Nachname;Firma\n{long_name};Lang;{'Firma ' * 50}\n", encoding="utf-8")
    report = import_file(db, path)

    (c,) = contacts(db)
    assert c["first_name"] == long_name[:120]
    assert f"First name (full text): {long_name}" in c["notes"]
    assert len(c["organization"]) <= 200
    assert [p.line for p in report.problems] == [2, 2]


def test_a_row_the_database_refuses_costs_that_row_only(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = import_writer.insert_contacts  # the batched create path

    def refuse_bruno(session, items, **kwargs):  # type: ignore[no-untyped-def]
        if any(item.data.first_name == "Bruno" for item in items):
            raise ValidationError("refused for the test")
        return real(session, items, **kwargs)

    monkeypatch.setattr(import_writer, "insert_contacts", refuse_bruno)
    path = tmp_path / "list.csv"
    path.write_text("Vorname,Nachname\nAnna,A\nBruno,B\nCarla,C\n", encoding="utf-8")
    report = import_file(db, path)

    assert [(c["first_name"]) for c in contacts(db)] == ["Anna", "Carla"]
    assert (report.created, report.skipped) == (2, 1)
    assert [(p.line, p.reason) for p in report.problems] == [
        (3, "the contact could not be saved (refused for the test); skipped")
    ]


def test_unknown_header_imports_nothing(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "numbers.csv"
    path.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    report = import_file(db, path)

    assert report.created == 0 and contacts(db) == []
    assert report.problems[0].line == 1
    assert "names no column this program knows" in report.problems[0].reason


def test_excel_workbook_is_refused_with_advice(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "Kontakte.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    report = import_file(db, path)

    assert report.format == "Excel workbook"
    assert "save the sheet as CSV" in report.problems[0].reason


def test_broken_vcard_lines_and_cards(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "broken.vcf"
    path.write_text(
        "\r\n".join(
            [
                "BEGIN:VCARD",  # 1
                "VERSION:3.0",
                "N:Eins;Anna;;;",
                "this line has no colon",  # 4
                "EMAIL:anna@example.org",
                "END:VCARD",
                "BEGIN:VCARD",  # 7
                "VERSION:3.0",
                "NOTE:only a note",
                "END:VCARD",
                "BEGIN:VCARD",  # 11
                "VERSION:3.0",
                "N:Drei;Dora;;;",
                "EMAIL:not-an-address",  # 14
                "TEL:+49 30 1234567",
            ]
        ),
        encoding="utf-8",
    )
    report = import_file(db, path)

    lines = [(p.line, p.reason.split(";")[0]) for p in report.problems]
    assert lines == [
        (4, "this line of the card could not be read"),
        (7, "nothing to import: no name, company, phone number or e-mail address"),
        (11, "the card has no END:VCARD (the file may be cut off)"),
        (14, "not a usable e-mail address"),
    ]
    anna, dora = contacts(db)
    assert "Unreadable line: this line has no colon" in anna["notes"]
    assert emails(anna) == [("anna@example.org", True)]
    assert phones(dora) == [("+49 30 1234567", "work", "+49301234567")]
    assert dora["notes"] == "E-mail address (not usable): not-an-address"


def test_json_with_a_syntax_error_keeps_what_came_before(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "contacts.json"
    good = {"first_name": "Anna", "last_name": "Arm", "emails": [{"raw": "anna@arm.de"}]}
    path.write_text("[\n" + json.dumps(good) + ",\n" + '{"first_name": "Bo",\n' + "]\n")
    report = import_file(db, path)

    assert report.created == 1
    assert report.problems[0].line == 4
    assert "not valid JSON" in report.problems[0].reason


def test_vcard_without_end_before_the_next_card(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "cut.vcf"
    path.write_text(
        "BEGIN:VCARD\nVERSION:2.1\nN:Agent;Anna\nAGENT:\nBEGIN:VCARD\nVERSION:2.1\n"
        "N:Sekretariat;Sue\nEND:VCARD\nTEL:030 1234567\nEND:VCARD\n"  # AGENT: a card inside
        "BEGIN:VCARD\nVERSION:3.0\nN:Bauer;Bea\n"  # 11: no END:VCARD
        "BEGIN:VCARD\nVERSION:3.0\nN:Cramer;Cleo\nEND:VCARD\n",
        encoding="utf-8",
    )
    report = import_file(db, path)

    assert [(p.line, p.reason.split(" (")[0]) for p in report.problems] == [
        (11, "the card has no END:VCARD")
    ]
    assert [(c["first_name"], c["last_name"]) for c in contacts(db)] == [
        ("Anna", "Agent"),
        ("Bea", "Bauer"),
        ("Cleo", "Cramer"),
    ]
    assert phones(contacts(db)[0]) == [("030 1234567", "work", "+49301234567")]
