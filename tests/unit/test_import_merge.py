"""Importing into a database that already has contacts: matching, merging, batches, cancel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, func, select

from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.importing import BATCH_SIZE, import_file
from desktop_crm.data.models import Contact, Organization, PhoneKind
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput, PhoneInput
from tests.unit.test_import import contacts, emails, phones


def csv_file(path: Path, *rows: str) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def existing(db: Database) -> dict[str, int]:
    """Three people already in the CRM, found by e-mail, by number+name, by name+company."""
    with db.session() as s:
        acme = records.create_organization(s, OrganizationInput(name="ACME GmbH"))
        anna = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Arndt",
                city="Berlin",
                notes="VIP seit 2019",
                emails=[EmailInput("Anna.Arndt@Example.org")],
                tags=["Kunde"],
            ),
        )
        bert = records.create_contact(
            s,
            ContactInput(first_name="Bert", last_name="Brandt", phones=[PhoneInput("030 1234567")]),
        )
        cora = records.create_contact(
            s, ContactInput(first_name="Cora", last_name="Conrad", organization_id=acme.id)
        )
        return {"acme": acme.id, "anna": anna.id, "bert": bert.id, "cora": cora.id}


def test_reimport_creates_no_duplicates(db: Database, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "list.csv",
        "Vorname;Nachname;Firma;Telefon;E-Mail",
        "Anna;Arndt;;030 111;anna@example.org",
        "Bert;Brandt;;;",
        "Cora;Conrad;ACME GmbH;;",
        ";;;0171 9999999;",
    )
    first = import_file(db, path)
    second = import_file(db, path)

    assert (first.created, first.updated, first.unchanged) == (4, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 4)
    assert len(contacts(db)) == 4
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == 1


def test_matches_are_merged_not_duplicated(db: Database, tmp_path: Path) -> None:
    ids = existing(db)
    path = csv_file(
        tmp_path / "update.csv",
        "First Name,Last Name,Company,Business Phone,Mobile Phone,E-mail Address,Business City,"
        "Categories,Notes",
        # 1. the same address (written differently): merged into Anna, her city stays
        "Annemarie,Arndt-Neu,,+49 30 5555555,,ANNA.ARNDT@example.org,Hamburg,Kunde;Presse,"
        "VIP seit 2019",
        # 2. Bert's number (written differently) and Bert's name
        "Bert,Brandt,,+49 (0)30 1234567,0171 2223334,bert@brandt.de,,,",
        # 3. Bert's number under another name: somebody else
        "Berta,Brandt,,+49 30 1234567,,,,,",
        # 4. the same name in the same company
        "Cora,Conrad,ACME GmbH,,,cora@acme.de,,,",
        # 5. the same name in another company: somebody else
        "Cora,Conrad,Other AG,,,,,,",
    )
    report = import_file(db, path)

    assert (report.created, report.updated, report.unchanged) == (2, 3, 0)
    people = {c["id"]: c for c in contacts(db)}
    anna = people[ids["anna"]]
    assert (anna["first_name"], anna["last_name"], anna["city"]) == ("Anna", "Arndt", "Berlin")
    assert anna["emails"] == [
        {"raw": "Anna.Arndt@Example.org", "normalized": "anna.arndt@example.org", "primary": True}
    ]
    assert phones(anna) == [("+49 30 5555555", "work", "+49305555555")]
    assert anna["tags"] == ["Kunde", "Presse"]
    assert anna["notes"] == "VIP seit 2019"  # the same line is not added twice
    assert anna["version"] == 2
    bert = people[ids["bert"]]
    assert phones(bert) == [
        ("030 1234567", "work", "+49301234567"),
        ("0171 2223334", "mobile", "+491712223334"),
    ]
    assert emails(bert) == [("bert@brandt.de", True)]
    cora = people[ids["cora"]]
    assert emails(cora) == [("cora@acme.de", True)]
    new = [c for c in people.values() if c["id"] not in ids.values()]
    assert sorted((c["first_name"], c["organization"]) for c in new) == [
        ("Berta", None),
        ("Cora", "Other AG"),
    ]


def test_the_same_person_twice_in_one_file(db: Database, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "twice.csv",
        "Vorname;Nachname;Telefon;Mobil;E-Mail",
        "Dana;Dorn;089 1111111;;dana@dorn.de",
        "Dana;Dorn;;0170 2222222;DANA@dorn.de",
        "Dana;Dorn;089 1111111;;",
    )
    report = import_file(db, path)

    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    (dana,) = contacts(db)
    assert phones(dana) == [
        ("089 1111111", "work", "+49891111111"),
        ("0170 2222222", "mobile", "+491702222222"),
    ]


def test_existing_organization_is_found_by_name(db: Database, tmp_path: Path) -> None:
    ids = existing(db)
    path = csv_file(tmp_path / "o.csv", "Vorname;Nachname;Firma", "Emil;Eck;acme gmbh")
    report = import_file(db, path)

    assert report.organizations_created == 0
    (emil,) = [c for c in contacts(db) if c["first_name"] == "Emil"]
    assert emil["organization_id"] == ids["acme"]


@contextmanager
def counted_statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def big_file(path: Path, rows: int) -> Path:
    lines = ["First Name,Last Name,Company,Business Phone,E-mail Address"]
    for i in range(rows):
        lines.append(f"Vorname{i},Nachname{i},Firma {i % 7},089 {1000000 + i},p{i}@example.org")
    return csv_file(path, *lines)


def test_large_file_in_batches_with_few_queries_per_batch(db: Database, tmp_path: Path) -> None:
    rows = BATCH_SIZE * 2 + 100
    path = big_file(tmp_path / "big.csv", rows)
    seen: list[tuple[int, int]] = []
    first = import_file(db, path, progress=lambda done, total: seen.append((done, total)))

    assert (first.created, first.organizations_created, first.problems) == (rows, 7, [])
    assert seen[0] == (0, rows + 1) and seen[-1] == (rows + 1, rows + 1)
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)
    assert len(seen) >= 4  # at least once per batch
    with counted_statements(db) as statements:
        again = import_file(db, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, rows)
    # look-ups are batched: a handful of statements per batch of 500, not several per row
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 12 * 3, len(selects)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == rows


def test_cancel_keeps_what_was_committed(db: Database, tmp_path: Path) -> None:
    rows = BATCH_SIZE * 3
    path = big_file(tmp_path / "big.csv", rows)
    progressed: list[int] = []

    def cancel() -> bool:
        return any(done > 0 for done in progressed)  # stop after the first batch is saved

    report = import_file(
        db, path, progress=lambda done, _total: progressed.append(done), cancel=cancel
    )

    assert report.cancelled
    assert report.created == BATCH_SIZE
    assert "cancelled" in report.summary()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == BATCH_SIZE
    # importing again picks up where it stopped, without duplicates
    rest = import_file(db, path)
    assert (rest.created, rest.unchanged, rest.cancelled) == (rows - BATCH_SIZE, BATCH_SIZE, False)


def test_cancel_before_anything_is_saved(db: Database, tmp_path: Path) -> None:
    path = big_file(tmp_path / "small.csv", 10)
    report = import_file(db, path, cancel=lambda: True)

    assert report.cancelled and report.created == 0
    assert contacts(db) == []


def test_company_only_rows_with_phone_are_contacts_of_the_company(
    db: Database, tmp_path: Path
) -> None:
    path = csv_file(tmp_path / "c.csv", "Firma;Telefon", "Stadtwerke Süd;089 2345678")
    import_file(db, path)
    again = import_file(db, path)

    (c,) = contacts(db)
    assert (c["first_name"], c["last_name"], c["organization"]) == ("", "", "Stadtwerke Süd")
    assert phones(c) == [("089 2345678", "work", "+49892345678")]
    assert again.unchanged == 1


def test_summary_is_one_line(db: Database, tmp_path: Path) -> None:
    path = csv_file(tmp_path / "s.csv", "Vorname;Nachname;E-Mail", "Ida;Ihle;ida@", "Jan;Jung;")
    report = import_file(db, path)

    assert report.summary() == (
        f"{path} (CSV, ';' separated): 2 created, 0 updated, 0 unchanged, 0 skipped, 1 problem(s)"
    )
    assert str(report.problems[0]) == (
        "line 2: not a usable e-mail address; the text is kept in the notes ('ida@')"
    )


def test_phone_kinds_survive_merge(db: Database, tmp_path: Path) -> None:
    with db.session() as s:
        records.create_contact(
            s,
            ContactInput(
                first_name="Kai",
                last_name="Klein",
                phones=[PhoneInput("089 5555555", PhoneKind.FAX)],
            ),
        )
    path = csv_file(tmp_path / "k.csv", "Vorname;Nachname;Fax;Mobil", "Kai;Klein;089 5555555;")
    report = import_file(db, path)

    assert report.unchanged == 1
    (kai,) = contacts(db)
    assert phones(kai) == [("089 5555555", "fax", "+49895555555")]


def test_company_only_row_fills_the_organization(db: Database, tmp_path: Path) -> None:
    with db.session() as s:
        org_id = records.create_organization(s, OrganizationInput(name="Stadtwerke Süd")).id
    path = csv_file(
        tmp_path / "firmen.csv",
        "Firma;Straße;PLZ;Ort;Kategorien;Bemerkung",
        "stadtwerke süd;Werkstraße 1;86150;Augsburg;Versorger;Hausanschluss",
        "Neue Firma AG;;;Ulm;;",
    )
    first = import_file(db, path)
    again = import_file(db, path)

    assert (first.created, first.updated, first.unchanged) == (0, 1, 1)
    assert first.organizations_created == 1
    assert (again.updated, again.unchanged, again.organizations_created) == (0, 2, 0)
    assert contacts(db) == []
    with db.session() as s:
        org = records.get_organization(s, org_id)
        assert (org.name, org.street, org.postal_code, org.city) == (
            "Stadtwerke Süd",
            "Werkstraße 1",
            "86150",
            "Augsburg",
        )
        assert (org.notes, [t.name for t in org.tags], org.version) == (
            "Hausanschluss",
            ["Versorger"],
            2,
        )
        new = s.scalar(select(Organization).where(Organization.name == "Neue Firma AG"))
        assert new is not None and new.city == "Ulm"


def test_namesakes_without_company_stay_two_people_and_reimport_adds_nothing(
    db: Database, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path / "private.csv",
        "Vorname;Nachname;Ort privat;Land/Region privat;Mobiltelefon;E-Mail-Adresse",
        "Verena;Koch;Wien;AT;+43 660 4483728;verena.koch27@aon.at",
        "Verena;Koch;;;0175/3460597;verena.koch41@gmail.com",
    )
    first = import_file(db, path)
    assert (first.created, first.updated) == (2, 0)
    before = sorted((c["emails"][0]["normalized"], [p[0] for p in phones(c)]) for c in contacts(db))
    for _ in range(2):  # again and again: nothing changes, no number is added twice
        again = import_file(db, path)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    after = sorted((c["emails"][0]["normalized"], [p[0] for p in phones(c)]) for c in contacts(db))
    assert (
        after
        == before
        == [
            ("verena.koch27@aon.at", ["+43 660 4483728"]),
            ("verena.koch41@gmail.com", ["0175/3460597"]),
        ]
    )


def test_a_number_read_in_another_country_is_not_added_again(db: Database, tmp_path: Path) -> None:
    austrian = csv_file(
        tmp_path / "at.csv",
        "Vorname;Nachname;Ort privat;Land/Region privat;Mobiltelefon;E-Mail-Adresse",
        "Eva;Lang;Wien;AT;0175/3460597;eva.lang@aon.at",
    )
    plain = csv_file(
        tmp_path / "plain.csv",
        "Vorname;Nachname;Mobiltelefon;E-Mail-Adresse",
        "Eva;Lang;0175/3460597;eva.lang@aon.at",
    )
    import_file(db, austrian)
    for _ in range(2):
        report = import_file(db, plain)
        assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    (eva,) = contacts(db)
    assert [p[0] for p in phones(eva)] == ["0175/3460597"]
