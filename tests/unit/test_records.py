"""The data layer on SQLite and on a real PostgreSQL: records, history, conflicts, migrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from desktop_crm.data import history as hist
from desktop_crm.data import queries, records
from desktop_crm.data.db import Database, head_revision
from desktop_crm.data.errors import ConflictError, NotFound, ValidationError
from desktop_crm.data.models import Direction, InteractionKind, PhoneKind
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput, PhoneInput


def _acme(session):
    return records.create_organization(
        session,
        OrganizationInput(
            name="Müller Anlagenbau GmbH",
            customer_number="K-1001",
            domains=["mueller-anlagenbau.de"],
            phones=[PhoneInput("+49 89 2020447-0", PhoneKind.SWITCHBOARD)],
            city="München",
        ),
    )


def test_contact_round_trip_keeps_raw_and_normalises(db: Database) -> None:
    with db.session() as s:
        org = _acme(s)
        c = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Schäfer",
                organization_id=org.id,
                phones=[PhoneInput("089/2020447-25"), PhoneInput("0171 1234567", PhoneKind.MOBILE)],
                emails=[EmailInput("Anna.Schaefer@Mueller-Anlagenbau.DE")],
                tags=["VIP", "VIP", "Newsletter"],
            ),
        )
        cid = c.id
    with db.session() as s:
        c = records.get_contact(s, cid)
        assert [p.raw for p in c.phones] == ["089/2020447-25", "0171 1234567"]
        assert c.phones[0].e164 == "+4989202044725"
        assert c.phones[0].base_e164 == "+49892020447"
        assert c.phones[0].extension == "25"
        assert c.phones[1].e164 == "+491711234567"
        assert c.phones[1].suffix_key == "491711234567"[::-1]  # digits reversed
        assert c.emails[0].raw == "Anna.Schaefer@Mueller-Anlagenbau.DE"
        assert c.emails[0].normalized == "anna.schaefer@mueller-anlagenbau.de"
        assert c.emails[0].domain == "mueller-anlagenbau.de"
        assert c.emails[0].is_primary
        assert sorted(t.name for t in c.tags) == ["Newsletter", "VIP"]
        assert c.organization is not None and c.organization.name == "Müller Anlagenbau GmbH"
        assert c.sort_key == "schafer anna"
        assert c.version == 1


def test_dirty_crm_contact_with_only_a_number(db: Database) -> None:
    with db.session() as s:
        c = records.create_contact(s, ContactInput(phones=[PhoneInput("0171 1234567")]))
        assert c.first_name == c.last_name == ""
        assert c.sort_key == "0171 1234567"
    with db.session() as s:
        c2 = records.create_contact(s, ContactInput(emails=[EmailInput("nur@mail.de")]))
        assert c2.sort_key == "nur@mail.de"


def test_unparseable_number_is_kept_as_typed(db: Database) -> None:
    with db.session() as s:
        c = records.create_contact(
            s, ContactInput(last_name="X", phones=[PhoneInput("bitte anrufen: 12")])
        )
        assert c.phones[0].raw == "bitte anrufen: 12"
        assert c.phones[0].e164 is None


def test_bad_email_is_refused_with_field(db: Database) -> None:
    with db.session() as s, pytest.raises(ValidationError) as err:
        records.create_contact(s, ContactInput(emails=[EmailInput("kein at zeichen")]))
    assert err.value.field == "email"
    assert "not an e-mail address" in str(err.value)


def test_stored_number_read_in_country_of_address(db: Database) -> None:
    with db.session() as s:
        c = records.create_contact(
            s, ContactInput(last_name="Meier", country="CH", phones=[PhoneInput("071 727 18 18")])
        )
        assert c.phones[0].e164 == "+41717271818"


def test_version_conflict_raises_and_overwrites_nothing(db: Database) -> None:
    with db.session() as s:
        cid = records.create_contact(s, ContactInput(last_name="Alt")).id
    # two users open version 1
    with db.session() as s:
        records.update_contact(s, cid, 1, ContactInput(last_name="Erster"))
    with db.session() as s, pytest.raises(ConflictError) as err:
        records.update_contact(s, cid, 1, ContactInput(last_name="Zweiter"))
    assert "changed by someone else" in str(err.value)
    assert err.value.current["last_name"] == "Erster"
    assert err.value.attempted["last_name"] == "Zweiter"
    with db.session() as s:
        c = records.get_contact(s, cid)
        assert (c.last_name, c.version) == ("Erster", 2)


def test_phone_only_change_bumps_version(db: Database) -> None:
    with db.session() as s:
        cid = records.create_contact(
            s, ContactInput(last_name="A", phones=[PhoneInput("030 1234567")])
        ).id
    with db.session() as s:
        c = records.update_contact(
            s,
            cid,
            1,
            ContactInput(
                last_name="A", phones=[PhoneInput("030 1234567"), PhoneInput("040 7654321")]
            ),
        )
        assert c.version == 2
    with db.session() as s, pytest.raises(ConflictError):
        records.update_contact(s, cid, 1, ContactInput(last_name="B"))


def test_history_newest_first_and_logged_once(db: Database) -> None:
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with db.session() as s:
        org = _acme(s)
        cid = records.create_contact(s, ContactInput(last_name="Huber", organization_id=org.id)).id
        for minutes, subject in [(5, "zweiter"), (0, "erster"), (10, "dritter")]:
            hist.log_interaction(
                s,
                hist.InteractionInput(
                    kind=InteractionKind.NOTE,
                    contact_id=cid,
                    occurred_at=t0 + timedelta(minutes=minutes),
                    subject=subject,
                ),
            )
        call = hist.InteractionInput(
            kind=InteractionKind.CALL,
            contact_id=cid,
            direction=Direction.INBOUND,
            occurred_at=t0 + timedelta(hours=1),
            outcome="missed",
            source="sip:office",
            external_id="a84b4c76e66710@pc33.example.com",
        )
        first, created = hist.log_interaction(s, call)
        again, created_again = hist.log_interaction(s, call)
        assert created and not created_again and first.id == again.id
    with db.session() as s:
        entries = hist.history(s, contact_id=cid)
        assert [e.subject or e.outcome for e in entries] == [
            "missed",
            "dritter",
            "zweiter",
            "erster",
        ]
        assert entries[0].organization_id == org.id  # the call is on the company's record too
        assert entries[0].occurred_at == t0 + timedelta(hours=1)
        assert [
            e.kind for e in hist.history(s, organization_id=org.id, kinds=[InteractionKind.CALL])
        ] == [InteractionKind.CALL]


def test_naive_times_are_refused(db: Database) -> None:
    with db.session() as s, pytest.raises(ValidationError):
        hist.log_interaction(
            s, hist.InteractionInput(kind=InteractionKind.NOTE, occurred_at=datetime(2026, 1, 1))
        )


def test_delete_keeps_history_on_the_organization(db: Database) -> None:
    with db.session() as s:
        org = _acme(s)
        cid = records.create_contact(
            s,
            ContactInput(
                last_name="Weg", organization_id=org.id, phones=[PhoneInput("0301234567")]
            ),
        ).id
        hist.log_interaction(
            s, hist.InteractionInput(kind=InteractionKind.NOTE, contact_id=cid, subject="bleibt")
        )
    with db.session() as s:
        impact = records.contact_deletion_impact(s, cid)
        assert (impact.phones, impact.interactions) == (1, 1)
        with pytest.raises(ConflictError):
            records.delete_contact(s, cid, expected_version=7)
    with db.session() as s:
        records.delete_contact(s, cid, expected_version=1)
    with db.session() as s:
        with pytest.raises(NotFound):
            records.get_contact(s, cid)
        kept = hist.history(s, organization_id=org.id)
        assert [e.subject for e in kept] == ["bleibt"]
        assert kept[0].remote == "deleted contact Weg"


def test_merge_moves_everything_to_the_kept_contact(db: Database) -> None:
    with db.session() as s:
        a = records.create_contact(
            s, ContactInput(last_name="Kunz", phones=[PhoneInput("030 1234567")])
        )
        b = records.create_contact(
            s,
            ContactInput(
                first_name="Eva",
                last_name="Kunz",
                phones=[PhoneInput("+49 30 1234567"), PhoneInput("0171 9999999")],
                emails=[EmailInput("eva@kunz.de")],
            ),
        )
        hist.log_interaction(
            s, hist.InteractionInput(kind=InteractionKind.NOTE, contact_id=b.id, subject="von b")
        )
        a_id, b_id = a.id, b.id
    with db.session() as s:
        merged = records.merge_contacts(s, a_id, b_id)
        assert merged.first_name == "Eva"
        assert sorted(p.raw for p in merged.phones) == ["0171 9999999", "030 1234567"]
        assert [e.normalized for e in merged.emails] == ["eva@kunz.de"]
    with db.session() as s:
        assert [e.subject for e in hist.history(s, contact_id=a_id)] == ["von b"]
        with pytest.raises(NotFound):
            records.get_contact(s, b_id)


def test_search_by_name_mail_number_and_customer_number(db: Database) -> None:
    with db.session() as s:
        org = _acme(s)
        anna = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Schäfer",
                organization_id=org.id,
                phones=[PhoneInput("089/2020447-25")],
                emails=[EmailInput("anna@mueller-anlagenbau.de")],
            ),
        ).id
        records.create_contact(s, ContactInput(first_name="Bernd", last_name="Schulz"))
    with db.session() as s:
        assert queries.find_contacts(s, "schäf") == [anna]
        assert queries.find_contacts(s, "Schaf") == [anna]
        assert queries.find_contacts(s, "anna schäfer") == [anna]
        assert queries.find_contacts(s, "anna@mueller") == [anna]
        assert queries.find_contacts(s, "+49 89 2020447-25") == [anna]
        assert queries.find_contacts(s, "2020447-25") == [anna]
        assert queries.find_contacts(s, "K-1001") == [anna]
        assert len(queries.find_contacts(s, "sch")) == 2
        assert queries.find_contacts(s, "zzz") == []
        rows = queries.contact_rows(s, [anna])
        assert rows[anna].organization == "Müller Anlagenbau GmbH"
        assert rows[anna].phone == "089/2020447-25"


def test_customer_number_is_unique_with_a_clear_message(db: Database) -> None:
    with db.session() as s:
        _acme(s)
        with pytest.raises(ValidationError, match="customer number K-1001 already belongs"):
            records.create_organization(
                s, OrganizationInput(name="Other", customer_number="K-1001")
            )


def test_migrations_from_empty_reach_head(db: Database, tmp_path, request) -> None:
    if db.is_sqlite:
        fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
        cleanup = fresh.dispose
    else:
        server = request.getfixturevalue("pg_server")
        name = server.new_database()
        fresh = Database(server.url_for(name))

        def cleanup() -> None:
            fresh.dispose()
            server.drop_database(name)

    try:
        before = fresh.schema_state()
        assert before.empty and before.current is None
        fresh.upgrade()
        state = fresh.schema_state()
        assert state.current == head_revision() and state.up_to_date
        names = set(inspect(fresh.engine).get_table_names())
        assert {
            "contact",
            "organization",
            "phone_number",
            "email_address",
            "interaction",
            "ticket",
        } <= names
        fresh.downgrade("base")  # and all the way down again
        assert fresh.schema_state().current is None
    finally:
        cleanup()


@pytest.mark.parametrize(
    ("raw", "region", "e164", "base", "extension"),
    [
        ("089/2020447-25", "DE", "+4989202044725", "+49892020447", "25"),
        ("+49-89-2020447-25", "DE", "+4989202044725", "+49892020447", "25"),
        ("+49 (0)89 2020447-0", "DE", "+498920204470", "+49892020447", "0"),
        ("+43 1 53422-12", "DE", "+4315342212", "+43153422", "12"),
        ("030-123456", "DE", "+4930123456", None, None),  # area code - subscriber
        ("(905) 555-1234", "US", "+19055551234", None, None),  # no extensions in NANP
        ("+1-418-262-6501", "DE", "+14182626501", None, None),
        ("+41 44 268 12-00", "DE", "+41442681200", None, None),  # a whole Swiss line
        ("+1 418 262 6501 ext. 12", "DE", "+14182626501", "+14182626501", "12"),
        ("089 2020447 Durchwahl 25", "DE", "+4989202044725", "+49892020447", "25"),
    ],
)
def test_written_extensions(raw, region, e164, base, extension) -> None:
    from desktop_crm.data.phone import normalize_phone

    n = normalize_phone(raw, region)
    assert (n.e164, n.base_e164, n.extension) == (e164, base, extension)
    assert n.raw == raw
