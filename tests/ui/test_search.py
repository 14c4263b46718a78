"""The search box reads a typed number or address the way the caller pop-up does."""

from __future__ import annotations

from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.models import PhoneKind
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput, PhoneInput
from desktop_crm.identify.rules import DialingRules
from desktop_crm.ui.reader import CrmReader


def _office(db: Database) -> tuple[int, int, int]:
    with db.session() as s:
        org = records.create_organization(
            s,
            OrganizationInput(
                name="Huber Maschinenbau GmbH",
                phones=[PhoneInput("+49 89 2020447-0", PhoneKind.SWITCHBOARD)],
                domains=["huber-maschinenbau.de"],
            ),
        )
        anna = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Zeller",
                organization_id=org.id,
                phones=[PhoneInput("089/2020447-25")],
                emails=[EmailInput("a.zeller@huber-maschinenbau.de")],
            ),
        )
        bert = records.create_contact(
            s, ContactInput(first_name="Bert", last_name="Amsel", organization_id=org.id)
        )
        return org.id, anna.id, bert.id


def test_a_number_in_any_form_finds_its_owner_first(db: Database) -> None:
    _, anna, _ = _office(db)
    reader = CrmReader(db, DialingRules())
    for typed in ("0049 89 2020447 25", "tel:+49-89-2020447-25", "+49 (0)89 202044725"):
        assert reader.search(typed).ids[0] == anna, typed


def test_a_direct_dial_nobody_stored_lists_the_companys_people(db: Database) -> None:
    _, anna, bert = _office(db)
    result = CrmReader(db, DialingRules()).search("+49 89 2020447-50")
    assert set(result.ids) == {anna, bert}


def test_an_unknown_address_at_a_company_domain_lists_its_people(db: Database) -> None:
    _, anna, bert = _office(db)
    reader = CrmReader(db, DialingRules())
    assert reader.search("A.Zeller@Huber-Maschinenbau.de").ids[0] == anna
    assert set(reader.search("einkauf@huber-maschinenbau.de").ids) == {anna, bert}


def test_names_still_search_by_prefix(db: Database) -> None:
    _, anna, bert = _office(db)
    reader = CrmReader(db, DialingRules())
    assert reader.search("zell").ids == [anna]
    assert reader.search("").ids == [bert, anna]  # everything, in name order
