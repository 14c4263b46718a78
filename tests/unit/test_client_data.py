"""Data functions the desktop client needs: the pop-up's card and writes, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from desktop_crm.data import queries, records
from desktop_crm.data.db import Database
from desktop_crm.data.errors import NotFound, ValidationError
from desktop_crm.data.history import InteractionInput, log_interaction
from desktop_crm.data.models import InteractionKind, Tag, TicketStatus
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput, PhoneInput
from desktop_crm.tickets.service import TicketInput, create_ticket


def _people(db: Database) -> tuple[int, int, int]:
    with db.session() as s:
        org = records.create_organization(
            s, OrganizationInput(name="Elektro Lange e.K.", customer_number="K-7")
        )
        anna = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Berg",
                organization_id=org.id,
                street="Hauptstr. 1",
                postal_code="28195",
                notes="Nur vormittags erreichbar.\nZweite Zeile",
                tags=["VIP", "Newsletter"],
                phones=[PhoneInput("0421 70331-66")],
                emails=[EmailInput("anna@lange.de")],
            ),
        )
        s.query(Tag).filter(Tag.name == "VIP").update({"important": True})
        other = records.create_contact(s, ContactInput(first_name="Otto", last_name="Berg"))
        return org.id, anna.id, other.id


def test_caller_card_has_important_tags_notes_last_five_entries_and_open_tickets(
    db: Database,
) -> None:
    org, anna, _ = _people(db)
    now = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    with db.session() as s:
        for i in range(7):
            log_interaction(
                s,
                InteractionInput(
                    kind=InteractionKind.NOTE,
                    contact_id=anna,
                    body=f"Notiz {i}\nmehr",
                    occurred_at=now + timedelta(hours=i),
                ),
            )
        earlier = now - timedelta(days=1)  # the tickets' own history entries come before
        open_ticket = create_ticket(s, TicketInput("Wartung", contact_id=anna), now=earlier)
        closed = create_ticket(s, TicketInput("Alt", contact_id=anna), now=earlier)
        closed.status = TicketStatus.CLOSED
    with db.session() as s:
        card = queries.caller_card(s, contact_id=anna)
        assert card is not None
        assert card.important_tags == ("VIP",)
        assert card.notes.startswith("Nur vormittags")
        assert [e.text for e in card.history] == [f"Notiz {i}" for i in (6, 5, 4, 3, 2)]
        assert [t.subject for t in card.tickets] == ["Wartung"]
        assert card.tickets[0].number == f"T-{open_ticket.id:06d}"
        org_card = queries.caller_card(s, organization_id=org)
        assert org_card is not None and [t.subject for t in org_card.tickets] == ["Wartung"]
        assert queries.caller_card(s, contact_id=999_999) is None


def test_a_note_goes_into_the_calls_history_entry_found_by_id_or_by_call_id(db: Database) -> None:
    _, anna, other = _people(db)
    with db.session() as s:
        entry, _ = log_interaction(
            s,
            InteractionInput(
                kind=InteractionKind.CALL,
                contact_id=anna,
                body="line 201",
                source="sip:office",
                external_id="abc@pbx",
            ),
        )
        entry_id, version = entry.id, entry.version
    with db.session() as s:
        assert records.add_call_note(s, "Rückruf morgen", source="sip:office", call_id="abc@pbx")
        records.add_call_note(s, "Angebot schicken", interaction_id=entry_id)
    with db.session() as s:
        assert records.attach_call(s, contact_id=other, interaction_id=entry_id) == entry_id
    with db.session() as s:
        from desktop_crm.data.models import Interaction

        row = s.get(Interaction, entry_id)
        assert row is not None
        assert row.body == "line 201\n\nRückruf morgen\n\nAngebot schicken"
        assert row.contact_id == other
        assert row.version == version + 3
        with pytest.raises(ValidationError):
            records.add_call_note(s, "   ", interaction_id=entry_id)
        with pytest.raises(NotFound):
            records.add_call_note(s, "x", source="sip:office", call_id="unknown")


def test_add_number_to_an_existing_contact_once(db: Database) -> None:
    _, anna, _ = _people(db)
    with db.session() as s:
        contact = records.add_phone_to_contact(s, anna, "+49 171 4952936")
        assert len(contact.phones) == 2
        again = records.add_phone_to_contact(s, anna, "0171 4952936")  # same number
        assert len(again.phones) == 2
        assert queries.contacts_by_phone(s, "01714952936") == [anna]


def test_duplicates_by_name_number_email_and_address(db: Database) -> None:
    org, anna, _ = _people(db)
    with db.session() as s:
        same_name = queries.contact_duplicates(s, first_name="anna", last_name="BERG")
        assert [(d.id, d.why) for d in same_name] == [(anna, "name")]
        by_number = queries.contact_duplicates(s, e164s=["+494217033166"])
        assert [(d.id, d.why) for d in by_number] == [(anna, "number")]
        by_mail = queries.contact_duplicates(s, emails=["anna@lange.de"])
        assert [d.why for d in by_mail] == ["email"]
        by_address = queries.contact_duplicates(
            s, first_name="A.", last_name="Berg", street="Hauptstr. 1", postal_code="28195"
        )
        assert [(d.id, d.why) for d in by_address] == [(anna, "address")]
        assert (
            queries.contact_duplicates(s, first_name="Anna", last_name="Berg", exclude_id=anna)
            == []
        )
        orgs = queries.organization_duplicates(s, name="elektro lange e.k.", customer_number="K-7")
        assert [(d.id, d.why) for d in orgs] == [(org, "name")]
        assert queries.organization_choices(s, "elek") == [(org, "Elektro Lange e.K.")]


def test_the_batched_create_path_writes_what_create_contact_writes(db: Database) -> None:
    from desktop_crm.data.importing.bulk import NewContact, insert_contacts, insert_organizations
    from desktop_crm.data.models import Organization

    def data(org_id: int | None) -> ContactInput:
        return ContactInput(
            salutation="Frau",
            first_name="Käthe",
            last_name="Peters",
            organization_id=org_id,
            country="AT",
            tags=["VIP", " Newsletter "],
            notes="aus Import",
            phones=[PhoneInput("0171-4952936"), PhoneInput("01 5120 30-12")],
            emails=[EmailInput("K.Peters@Example.DE"), EmailInput("kp@example.at")],
        )

    with db.session() as s:
        (org_id,) = insert_organizations(s, ["Peters & Söhne OG"])
        org = s.get(Organization, org_id)
        assert org is not None and org.sort_key == records.sort_key("Peters & Söhne OG")
        one = records.create_contact(s, data(org_id))
        (two_id,) = insert_contacts(s, [NewContact(data(org_id), "Peters & Söhne OG")])
        one_id = one.id
    with db.session() as s:
        first = records.contact_snapshot(records.get_contact(s, one_id))
        second = records.contact_snapshot(records.get_contact(s, two_id))
        for snapshot in (first, second):
            snapshot.pop("id")
        assert first == second
        rows = {i: records.get_contact(s, i) for i in (one_id, two_id)}
        assert rows[one_id].sort_key == rows[two_id].sort_key
        phones = [
            [(p.e164, p.base_e164, p.extension, p.suffix_key) for p in rows[i].phones]
            for i in (one_id, two_id)
        ]
        assert phones[0] == phones[1]
        mails = [
            [(e.normalized, e.domain, e.is_primary) for e in rows[i].emails]
            for i in (one_id, two_id)
        ]
        assert mails[0] == mails[1]


@pytest.mark.parametrize("what", ["note", "attach"])
def test_a_note_or_pick_lands_even_when_the_call_logger_moves_the_call_on_meanwhile(
    db: Database, what: str
) -> None:
    """The logger writes "answered" after the agent's session read the row: the note lands."""
    from sqlalchemy import update

    from desktop_crm.data.models import Interaction

    _, anna, other = _people(db)
    with db.session() as s:
        entry, _ = log_interaction(
            s,
            InteractionInput(
                kind=InteractionKind.CALL, contact_id=anna, body="line 201", source="sip:office"
            ),
        )
        entry_id, version = entry.id, entry.version
    with db.session() as s:
        seen = s.get(Interaction, entry_id)  # the agent's side has read version 1
        assert seen is not None and seen.version == version
        with db.engine.begin() as conn:  # the listener's writer, on another connection
            conn.execute(
                update(Interaction)
                .where(Interaction.id == entry_id)
                .values(outcome="answered", version=Interaction.version + 1)
            )
        if what == "note":
            assert records.add_call_note(s, "Rückruf morgen", interaction_id=entry_id) == entry_id
        else:
            assert records.attach_call(s, contact_id=other, interaction_id=entry_id) == entry_id
        assert seen.version == version + 2  # read again: both writes counted
    with db.session() as s:
        row = s.get(Interaction, entry_id)
        assert row is not None
        assert row.outcome == "answered"  # what the logger wrote stays
        if what == "note":
            assert row.body == "line 201\n\nRückruf morgen"
        else:
            assert row.contact_id == other
