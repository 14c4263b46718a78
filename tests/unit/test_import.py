"""Importing real exports from phones, mail programs and address books (../shared/testdata).

Each file is what some program really wrote (collected by the ez-vcard and Roundcube
projects); the expected values below are what those files contain, checked field by field.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import vobject
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from desktop_crm.data.db import Database
from desktop_crm.data.exporting import contact_record
from desktop_crm.data.importing import ImportReport, import_file
from desktop_crm.data.models import Contact
from tests.helpers import integration

LICENSE_START = "THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS"


def shared(name: str) -> Path:
    return integration.testdata("contact-exports", name)


def contacts(db: Database) -> list[dict[str, Any]]:
    """Every contact as the JSON export shows it, oldest first."""
    with db.session() as s:
        rows = s.scalars(
            select(Contact)
            .order_by(Contact.id)
            .options(
                selectinload(Contact.phones),
                selectinload(Contact.emails),
                selectinload(Contact.tags),
                selectinload(Contact.organization),
            )
        ).all()
        return [contact_record(c) for c in rows]


def phones(contact: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(p["raw"], p["kind"], p["e164"]) for p in contact["phones"]]


def emails(contact: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(e["raw"], e["primary"]) for e in contact["emails"]]


def problems(report: ImportReport) -> list[tuple[int, str]]:
    return [(p.line, p.raw) for p in report.problems]


def test_android_vcard21_quoted_printable_over_soft_line_breaks(db: Database) -> None:
    path = shared("ezvcard-John_Doe_ANDROID.vcf")
    # the trap this guards against: vobject alone gives up on the whole file
    with pytest.raises(vobject.base.ParseError):
        list(vobject.readComponents(path.read_text(encoding="utf-8")))

    report = import_file(db, path)

    assert report.format == "vCard 2.1"
    assert (report.created, report.updated, report.skipped) == (6, 0, 0)
    assert report.organizations_created == 2
    john, jane, single, many, bob, henry = contacts(db)
    assert emails(john) == [("john.doe@company.com", True)]
    assert emails(jane) == [("jane.doe@company.com", True)]
    assert john["tags"] == [] and john["first_name"] == john["last_name"] == ""  # "My Contacts"
    # N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=91=20=C3=91=20=C3=91=20=C3=91=20;;;;
    assert (single["first_name"], single["last_name"]) == ("", "Ñ Ñ Ñ Ñ")
    assert phones(single) == [("123456789", "mobile", "+49123456789")]
    # an N continued over a soft line break (=\r\n=20=C3=91...)
    assert many["last_name"] == " ".join(["Ñ"] * 11)
    assert [p[:2] for p in phones(many)] == [
        ("123456", "mobile"),
        ("234567", "home"),
        ("3456789", "mobile"),
        ("45678901", "home"),
    ]
    note = "Ñ Ñ Ñ Ñ Ñ Ñ Ñ ÑÑ Ñ Ñ Ñ Ñ Ñ Ñ ÑÑ Ñ Ñ Ñ Ñ"  # three lines joined, no space at the breaks
    assert many["notes"] == f"{note}\n{note}"
    assert (bob["first_name"], bob["last_name"]) == ("Ñ Ñ Ñ", "Ñ Ñ")
    assert bob["organization"] == "Ñ" * 12
    # TEL;CELL;PREF, TEL;WORK and TEL;WORK;FAX: the same (too short) number three times
    assert phones(bob) == [
        ("123456", "mobile", None),
        ("123456", "work", None),
        ("123456", "fax", None),
    ]
    assert emails(bob) == [("bob@company.com", True)]
    # EMAIL;PREF;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=91... is no address: kept in notes
    assert "E-mail address (not usable): " + "Ñ" * 14 in bob["notes"]
    assert "Web: www.company.com" in bob["notes"]
    assert henry["last_name"] == "ÑÑÑÑ"
    assert henry["organization"] == "Ñ" * 44
    assert emails(henry) == [("henry@company.com", True)]
    assert phones(henry) == [("55556666", "mobile", "+4955556666")]
    # the second ORG ends in "=80", a byte that is not UTF-8: reported, the rest kept
    assert "Organization: " + "Ñ" * 44 + "\ufffd" in henry["notes"]
    assert (44, "Ñ" * 14) in problems(report)
    assert any(p.line == 82 and "not valid UTF-8" in p.reason for p in report.problems)


def test_iphone_vcard30(db: Database) -> None:
    report = import_file(db, shared("ezvcard-John_Doe_IPHONE.vcf"))  # lines end in CR CR LF

    assert (report.format, report.created, report.problems) == ("vCard 3.0", 1, [])
    (c,) = contacts(db)
    assert (c["salutation"], c["first_name"], c["last_name"]) == (
        "Mr.",
        "John Richter James",
        "Doe",
    )
    assert c["organization"] == "IBM"
    assert c["position"] == "Money Counter"
    assert emails(c) == [("john.doe@ibm.com", True)]
    # the preferred (home) address is the contact's; its country makes the numbers American
    assert (c["street"], c["postal_code"], c["city"], c["country"]) == (
        "Silicon Alley 5,",
        "12345",
        "New York",
        "US",
    )
    assert phones(c) == [
        ("905-555-1234", "mobile", "+19055551234"),
        ("905-666-1234", "home", "+19056661234"),
        ("905-777-1234", "work", "+19057771234"),
        ("905-888-1234", "fax", "+19058881234"),
        ("905-999-1234", "fax", "+19059991234"),
        ("905-111-1234", "other", "+19051111234"),
        ("905-222-1234", "work", "+19052221234"),
    ]
    assert c["birthday"] == "2012-06-06"
    notes = c["notes"].splitlines()
    assert "Work address: Street4, Building 6, Floor 8, 12345 New York, USA" in notes
    assert {"Department: Accounting", "Nickname: Johny", "Name suffix: Sr."} <= set(notes)
    assert "Web: http://www.ibm.com" in notes


def test_outlook_vcard21(db: Database) -> None:
    report = import_file(db, shared("ezvcard-John_Doe_MS_OUTLOOK.vcf"))

    assert (report.format, report.created) == ("vCard 2.1", 1)
    (c,) = contacts(db)
    assert (c["salutation"], c["first_name"], c["last_name"]) == (
        "Mr.",
        "John Richter James",
        "Doe",
    )
    assert (c["organization"], c["position"]) == ("IBM", "Money Counter")
    assert [(p["raw"], p["kind"]) for p in c["phones"]] == [
        ("(905) 555-1234", "work"),
        ("(905) 666-1234", "home"),
    ]
    # the address only makes it to the notes through a typo: "ibm.cm" is still an address
    assert emails(c) == [("john.doe@ibm.cm", True)]
    assert (c["street"], c["postal_code"], c["city"], c["country"]) == (
        "Cresent moon drive",
        "12345",
        "Albaney",
        "US",
    )
    assert c["birthday"] == "1980-03-22"  # BDAY:19800322
    notes = c["notes"].splitlines()
    # vCard 2.1 never escapes commas; vobject alone would cut the note at the first one
    assert notes[0].startswith("THIS SOFTWARE IS PROVIDED BY GEORGE EL-HADDAD ''AS IS'' AND ANY")
    assert notes[0].endswith("EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.")
    assert "Role: Counting Money" in notes
    assert "Home address: Silicon Alley 5,, 12345 New York, New York, United States of America" in (
        notes
    )
    assert "Messenger: johny5@aol.com" in notes


def test_evolution_vcard30(db: Database) -> None:
    report = import_file(db, shared("ezvcard-John_Doe_EVOLUTION.vcf"))

    assert (report.created, report.problems) == (1, [])
    (c,) = contacts(db)
    # N:Doe;John;Richter\, James;Mr.;Sr.
    assert (c["salutation"], c["first_name"], c["last_name"]) == (
        "Mr.",
        "John Richter, James",
        "Doe",
    )
    assert (c["organization"], c["position"]) == ("IBM", "Money Counter")
    assert phones(c) == [
        ("905-666-1234", "mobile", "+19056661234"),
        ("905-555-1234", "work", "+19055551234"),
    ]
    assert emails(c) == [("john.doe@ibm.com", True)]
    assert (c["street"], c["postal_code"], c["city"], c["country"]) == (
        "15 Crescent moon drive",
        "12345",
        "Albaney",
        "US",
    )
    assert c["tags"] == ["VIP"]
    assert c["birthday"] == "1980-03-22"
    notes = c["notes"].splitlines()
    assert notes[0].startswith(LICENSE_START + ' "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, ')
    assert {"Department: Accounting / Dungeon", "PO box: ASB-123", "Region: New York"} <= set(notes)


def test_gmail_vcard30(db: Database) -> None:
    report = import_file(db, shared("ezvcard-John_Doe_GMAIL.vcf"))

    assert (report.created, report.problems) == (1, [])
    (c,) = contacts(db)
    assert (c["first_name"], c["last_name"], c["organization"]) == (
        "John Richter, James",
        "Doe",
        "IBM",
    )
    assert emails(c) == [("john.doe@ibm.com", True)]
    assert [(p["raw"], p["kind"]) for p in c["phones"]] == [
        ("905-555-1234", "mobile"),
        ("905-666-1234", "home"),
    ]
    # Gmail puts the whole address into the street component; nothing of it is lost
    assert c["street"] == (
        "Crescent moon drive, 555-asd, Nice Area, Albaney, New York 12345, United States of America"
    )
    assert c["country"] is None
    assert c["notes"].splitlines()[1] == "Favotire Color: Blue"
    assert "Web: http://www.ibm.com" in c["notes"]


def test_fullcontact_vcard40(db: Database) -> None:
    report = import_file(db, shared("ezvcard-fullcontact.vcf"))

    assert (report.format, report.created) == ("vCard 4.0", 1)
    (c,) = contacts(db)
    assert (c["title"], c["first_name"], c["last_name"]) == (
        "Prefix",
        "FirstName MiddleName",
        "LastName",
    )
    assert (c["organization"], c["position"]) == ("Organization1", "Title1")
    assert [(p["raw"], p["kind"]) for p in c["phones"]] == [
        ("555-555-1111", "home"),
        ("555-555-1112", "work"),
        ("555-555-1113", "mobile"),
        ("555-555-1114", "mobile"),
        ("555-555-1115", "work"),
        ("555-555-1116", "fax"),
        ("555-555-1117", "fax"),
        ("555-555-1118", "work"),
        ("555-555-1119", "work"),
    ]
    assert emails(c) == [
        ("home@example.com", True),
        ("work@example.com", False),
        ("school@example.com", False),
        ("other@example.com", False),
        ("custom@example.com", False),
    ]
    assert (c["street"], c["postal_code"], c["city"]) == (
        "WorkStreet, WorkExtended",
        "WorkPostal",
        "WorkCity",
    )
    assert c["tags"] == ["Tag"]
    assert c["birthday"] == "2016-08-01"
    notes = c["notes"].splitlines()
    assert notes[:2] == ["Notes line 1", "Notes line 2"]
    assert "Organization: Organization2 / Department2" in notes
    assert "Job title: Title2" in notes
    assert "Country: WorkCountry" in notes
    assert (
        "Home address: HomeStreet, HomeExtended, HomePostal HomeCity, HomeState, HomeCountry"
        in notes
    )


def test_gmail_list_vcard(db: Database) -> None:
    report = import_file(db, shared("ezvcard-gmail-list.vcf"))

    assert (report.created, report.problems) == (3, [])
    assert [(c["first_name"], c["last_name"], emails(c)) for c in contacts(db)] == [
        ("Arnold", "Smith", [("asmithk@gmail.com", True)]),
        ("Chris", "Beatle", [("chrisy55d@yahoo.com", True)]),
        ("Doug", "White", [("dwhite@gmail.com", True)]),
    ]


def test_rfc6350_example(db: Database) -> None:
    report = import_file(db, shared("ezvcard-rfc6350-example.vcf"))  # LF line ends

    assert (report.format, report.created) == ("vCard 4.0", 1)
    (c,) = contacts(db)
    assert (c["first_name"], c["last_name"], c["organization"]) == (
        "Simon",
        "Perreault",
        "Viagenie",
    )
    assert c["language"] == "fr"  # LANG;PREF=1
    assert (c["street"], c["postal_code"], c["city"], c["country"]) == (
        "2875 Laurier, Suite D2-630",
        "G1V 2M2",
        "Quebec",
        "CA",
    )
    # TEL;VALUE=uri:tel:+1-418-656-9254;ext=102 is written the way people write it
    work = c["phones"][0]
    assert (work["raw"], work["kind"], work["e164"], work["extension"]) == (
        "+1-418-656-9254 ext. 102",
        "work",
        "+14186569254",
        "102",
    )
    assert [p["raw"] for p in c["phones"]] == ["+1-418-656-9254 ext. 102", "+1-418-262-6501"]
    assert c["phones"][1]["kind"] == "mobile"
    assert emails(c) == [("simon.perreault@viagenie.ca", True)]
    notes = c["notes"].splitlines()
    assert {"Birthday: --0203", "Name suffix: ing. jr M.Sc.", "Region: QC"} <= set(notes)
    assert c["birthday"] is None  # no year: kept in the notes instead


def test_roundcube_google_csv(db: Database) -> None:
    report = import_file(db, shared("roundcube-Csv2vcard-gmail.csv"))

    assert report.format == "Google CSV, ',' separated"
    assert report.created == 1
    (c,) = contacts(db)
    assert (c["title"], c["first_name"], c["last_name"]) == (
        "Prefix",
        "Firstname Middle",
        "Lastname",
    )
    assert (c["organization"], c["position"]) == ("company", "jobtitle")
    assert emails(c) == [
        ("home@aaa.pl", True),  # "* Home": Google's mark for the preferred address
        ("work@email.pl", False),
        ("unknown@email.com", False),
        ("other@email.com", False),
    ]
    assert [(p["raw"], p["kind"]) for p in c["phones"]] == [
        ("pager", "other"),
        ("mainphone", "work"),
        ("homephone", "home"),
        ("homefax", "fax"),
        ("mobile", "mobile"),
        ("workphone", "work"),
        ("workfax", "fax"),
    ]
    # numbers without digits are kept as written and reported
    assert len([p for p in report.problems if "could not be read" in p.reason]) == 7
    assert all(p.line == 2 for p in report.problems)
    assert c["tags"] == ["Test"]  # "* My Contacts ::: Test": Google's own group is no tag
    assert c["birthday"] == "1975-12-12"
    assert (c["street"], c["postal_code"], c["city"]) == ("work_street", "work_zip", "work_city")
    notes = c["notes"].splitlines()
    assert notes[0] == 'note"note'
    assert (
        "Home address: home_street, home_pobox, home_zip home_city, home_state, home_country"
        in (notes)
    )
    assert {"Nickname: nick", "Web: test.com", "Web: home.page.com"} <= set(notes)


def test_roundcube_thunderbird_csv(db: Database) -> None:
    report = import_file(db, shared("roundcube-Csv2vcard-tb_plain.csv"))

    assert report.format == "Thunderbird CSV, ',' separated"
    (c,) = contacts(db)
    assert (c["first_name"], c["last_name"]) == ("Firstname", "Lastname")
    assert (c["organization"], c["position"]) == ("Organization", "title")
    assert emails(c) == [("test@domain.tld", True), ("next@domain.tld", False)]
    assert [(p["raw"], p["kind"]) for p in c["phones"]] == [
        ("phone work", "work"),
        ("phone home", "home"),
        ("fax", "fax"),
        ("pager", "other"),
        ("mobile", "mobile"),
    ]
    assert (c["street"], c["postal_code"], c["city"], c["country"]) == (
        "Addr work",
        "33-333",
        "Wcity",
        "PL",
    )
    assert c["birthday"] == "1970-11-15"  # Birth Year, Birth Month, Birth Day
    notes = c["notes"].splitlines()
    assert "Home address: Priv address, xx-xxx City, region, USA" in notes
    assert {"Display name: Displayname", "Department: department", "Nickname: Nick"} <= set(notes)
    assert {"Web: http://page.com", "Web: http://webpage.tld"} <= set(notes)


def test_every_shared_file_twice_creates_nothing_new(db: Database) -> None:
    folder = shared("")
    files = sorted(folder.glob("*.vcf")) + sorted(folder.glob("*.csv"))
    assert len(files) == 10
    first = [import_file(db, f) for f in files]
    count = len(contacts(db))
    again = [import_file(db, f) for f in files]

    assert len(contacts(db)) == count
    assert sum(r.created for r in again) == 0
    assert sum(r.skipped for r in first) == sum(r.skipped for r in again) == 0
    # John Doe from Evolution, Gmail, iPhone share john.doe@ibm.com: one contact, merged
    johns = [c for c in contacts(db) if ("john.doe@ibm.com", True) in emails(c)]
    assert len(johns) == 1
    assert sum(r.created for r in first) == count


def test_date_of_birth_forms() -> None:
    from desktop_crm.data.importing.draft import parse_date

    assert parse_date("22.03.1970") == date(1970, 3, 22)
    assert parse_date("3/22/1970") == date(1970, 3, 22)
    assert parse_date("22/3/1970") == date(1970, 3, 22)
    assert parse_date("19700322") == date(1970, 3, 22)
    assert parse_date("1970-03-22T00:00:00Z") == date(1970, 3, 22)
    assert parse_date("0.0.00") is None
    assert parse_date("1/0/00") is None
    assert parse_date("--0322") is None
    assert parse_date("31.02.1970") is None
