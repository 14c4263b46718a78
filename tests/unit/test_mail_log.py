"""Mail logging and the unassigned list, on SQLite and PostgreSQL (no IMAP server needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.errors import NotFound, ValidationError
from desktop_crm.data.history import history
from desktop_crm.data.mail_store import (
    assign_unassigned,
    count_unassigned,
    dismiss_unassigned,
    folder_state,
    list_unassigned,
    record_skip,
    save_folder_state,
)
from desktop_crm.data.models import (
    Base,
    Contact,
    Direction,
    Interaction,
    MailDirection,
    MailMessage,
    MailSkip,
    UnassignedStatus,
)
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput
from desktop_crm.mail.events import MailOutcome
from desktop_crm.mail.maillog import handle_mail
from desktop_crm.mail.message import parse_message

ANNA = "anna.schaefer@mueller-anlagenbau.de"
BERND = "bernd.klein@web.de"


@pytest.fixture
def crm(db: Database) -> dict[str, int]:
    with db.session() as s:
        company = records.create_organization(
            s, OrganizationInput(name="Müller Anlagenbau GmbH", domains=["mueller-anlagenbau.de"])
        )
        anna = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Schäfer",
                organization_id=company.id,
                emails=[EmailInput(ANNA)],
            ),
        )
        bernd = records.create_contact(
            s, ContactInput(first_name="Bernd", emails=[EmailInput(BERND)])
        )
        return {"company": company.id, "anna": anna.id, "bernd": bernd.id}


def raw(sender: str, subject: str = "Angebot", *, mid: str = "m1@x", extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: support@crm.test\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n"
        f"Date: Mon, 2 Mar 2026 09:30:00 +0100\r\n{extra}\r\nBitte um Rückruf.\r\n"
    ).encode()


def handle(
    db: Database,
    data: bytes,
    folder: str = "INBOX",
    direction: MailDirection = MailDirection.INBOUND,
    **kw: object,
):  # type: ignore[no-untyped-def]
    with db.session() as s:
        return handle_mail(
            s,
            parse_message(data),
            account="office",
            folder=folder,
            uid=1,
            direction=direction,
            **kw,  # type: ignore[arg-type]
        )


def count(db: Database, model: type[Base]) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_mail_from_a_known_contact_is_logged_once_and_pops_up(
    db: Database, crm: dict[str, int]
) -> None:
    event = handle(db, raw(f"Anna <{ANNA}>"))
    assert event.outcome is MailOutcome.LOGGED and event.popup
    assert event.best is not None and event.best.contact_id == crm["anna"]
    again = handle(db, raw(f"Anna <{ANNA}>"), folder="Archiv")  # the same mail in another folder
    assert again.interaction_ids == event.interaction_ids
    with db.session() as s:
        rows = history(s, contact_id=crm["anna"])
        assert len(rows) == 1
        entry = rows[0]
        assert (entry.subject, entry.direction, entry.remote, entry.source) == (
            "Angebot",
            Direction.INBOUND,
            ANNA,
            "mail",
        )
        assert entry.occurred_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
        assert entry.organization_id == crm["company"]
        assert "From: Anna <" in entry.body and "Bitte um Rückruf." in entry.body
    assert count(db, MailMessage) == 1


def test_backlog_mail_does_not_pop_up(db: Database, crm: dict[str, int]) -> None:
    event = handle(db, raw(ANNA), backlog=True)
    assert event.outcome is MailOutcome.LOGGED and not event.popup


def test_a_domain_match_logs_on_the_organization(db: Database, crm: dict[str, int]) -> None:
    event = handle(db, raw("neu@mueller-anlagenbau.de"))
    assert event.outcome is MailOutcome.LOGGED
    with db.session() as s:
        assert [e.organization_id for e in history(s, organization_id=crm["company"])] == [
            crm["company"]
        ]


@pytest.mark.parametrize(
    "extra",
    [
        "Auto-Submitted: auto-replied\r\n",
        "Precedence: bulk\r\n",
        "Return-Path: <>\r\n",
        "X-Autoreply: yes\r\n",
    ],
)
def test_robots_are_neither_logged_nor_unassigned(
    db: Database, crm: dict[str, int], extra: str
) -> None:
    event = handle(db, raw(ANNA, extra=extra))
    assert event.outcome is MailOutcome.AUTOMATED and not event.popup
    assert count(db, Interaction) == 0
    with db.session() as s:
        assert count_unassigned(s) == 0


def test_unknown_senders_wait_and_can_be_assigned_or_dismissed(
    db: Database, crm: dict[str, int]
) -> None:
    first = handle(db, raw("Fremd <fremd@example.org>", "Anfrage", mid="u1@x"))
    second = handle(db, raw("spam@example.net", "Spam", mid="u2@x"))
    handle(db, raw("Fremd <fremd@example.org>", "Anfrage", mid="u1@x"))  # seen again: listed once
    assert first.outcome is MailOutcome.UNASSIGNED and first.unassigned_id is not None
    assert not first.popup and count(db, Interaction) == 0
    with db.session() as s:
        listed = list_unassigned(s)
        # newest first (same date here: the one read last first)
        assert [(r.sender, r.subject) for r in listed] == [
            ("spam@example.net", "Spam"),
            ("fremd@example.org", "Anfrage"),
        ]
        assert listed[1].snippet == "Bitte um Rückruf." and listed[1].sender_name == "Fremd"
    with db.session() as s:
        entry = assign_unassigned(s, first.unassigned_id, contact_id=crm["bernd"])
        assert (entry.contact_id, entry.direction, entry.subject) == (
            crm["bernd"],
            Direction.INBOUND,
            "Anfrage",
        )
    with db.session() as s:
        assert second.unassigned_id is not None
        dismiss_unassigned(s, second.unassigned_id)
    with db.session() as s:
        assert list_unassigned(s) == [] and count_unassigned(s) == 0
        everything = list_unassigned(s, status=None)
        assert {(r.subject, r.status) for r in everything} == {
            ("Anfrage", UnassignedStatus.ASSIGNED),
            ("Spam", UnassignedStatus.DISMISSED),
        }
        assert next(r for r in everything if r.subject == "Anfrage").interaction_id is not None
        assert [e.subject for e in history(s, contact_id=crm["bernd"])] == ["Anfrage"]
    with db.session() as s, pytest.raises(ValidationError, match="already assigned"):
        assign_unassigned(s, first.unassigned_id, contact_id=crm["anna"])
    with db.session() as s, pytest.raises(NotFound):
        assign_unassigned(s, 9999, contact_id=crm["anna"])
    with db.session() as s, pytest.raises(ValidationError):
        assign_unassigned(
            s, second.unassigned_id, contact_id=crm["anna"], organization_id=crm["company"]
        )


def test_a_mail_without_sender_is_unknown_and_waits(db: Database, crm: dict[str, int]) -> None:
    event = handle(db, b"Subject: ohne Absender\r\n\r\nText\r\n")
    assert event.outcome is MailOutcome.UNASSIGNED and event.sender is None
    assert event.reason == "no sender address"


def test_sent_mail_is_logged_on_each_known_to_recipient_and_stored_cc_only(
    db: Database, crm: dict[str, int]
) -> None:
    data = (
        f"From: support@crm.test\r\nTo: Anna <{ANNA}>, neu@mueller-anlagenbau.de, x@unknown.example\r\n"
        f"Cc: {BERND}, kollege@mueller-anlagenbau.de, fremd@example.org\r\n"
        "Subject: Angebot\r\nMessage-ID: <out@crm.test>\r\n\r\nAnbei.\r\n"
    ).encode()
    event = handle(db, data, folder="Sent", direction=MailDirection.OUTBOUND)
    assert event.outcome is MailOutcome.LOGGED and not event.popup
    # To: Anna, and the company by its domain; Cc: only Bernd's stored address (the company
    # would be a domain guess from a Cc; the unknown Cc never becomes anything)
    assert {(m.record.kind, m.record.id) for m in event.matches} == {
        ("contact", crm["anna"]),
        ("organization", crm["company"]),
        ("contact", crm["bernd"]),
    }
    with db.session() as s:
        rows = s.scalars(select(Interaction)).all()
        assert {(r.contact_id, r.direction, r.remote) for r in rows} == {
            (crm["anna"], Direction.OUTBOUND, ANNA),
            (None, Direction.OUTBOUND, "neu@mueller-anlagenbau.de"),
            (crm["bernd"], Direction.OUTBOUND, BERND),
        }
        assert s.scalar(select(func.count()).select_from(Contact)) == 2
    again = handle(db, data, folder="Sent", direction=MailDirection.OUTBOUND)
    assert sorted(again.interaction_ids) == sorted(event.interaction_ids)
    assert count(db, Interaction) == 3


def test_sent_mail_to_nobody_known_is_ignored(db: Database, crm: dict[str, int]) -> None:
    data = b"From: me@crm.test\r\nTo: x@unknown.example\r\nSubject: s\r\nMessage-ID: <o2@x>\r\n\r\nx\r\n"
    event = handle(db, data, folder="Sent", direction=MailDirection.OUTBOUND)
    assert event.outcome is MailOutcome.IGNORED
    with db.session() as s:
        assert count_unassigned(s) == 0


def test_our_own_mail_copied_to_inbox_is_not_an_unknown_sender(
    db: Database, crm: dict[str, int]
) -> None:
    data = (
        f"From: me@crm.test\r\nTo: {ANNA}\r\nSubject: s\r\nMessage-ID: <o3@x>\r\n\r\nx\r\n".encode()
    )
    inbox = handle(db, data)  # read first from INBOX: an unknown sender for now
    assert inbox.outcome is MailOutcome.UNASSIGNED
    handle(db, data, folder="Sent", direction=MailDirection.OUTBOUND)
    with db.session() as s:
        assert count_unassigned(s) == 0  # seen in Sent: ours
    assert handle(db, data).outcome is MailOutcome.IGNORED


def test_folder_state_never_goes_back_and_resets_with_uidvalidity(db: Database) -> None:
    with db.session() as s:
        save_folder_state(s, "office", "INBOX", 7, 10)
        save_folder_state(s, "office", "INBOX", 7, 5)
    with db.session() as s:
        state = folder_state(s, "office", "INBOX")
        assert state is not None and (state.uidvalidity, state.last_uid) == (7, 10)
        save_folder_state(s, "office", "INBOX", 8, 3)
    with db.session() as s:
        state = folder_state(s, "office", "INBOX")
        assert state is not None and (state.uidvalidity, state.last_uid) == (8, 3)
        assert folder_state(s, "office", "Sent") is None
        # UIDs above 2**31 (allowed by RFC 3501) fit
        save_folder_state(s, "office", "Big", 4_000_000_000, 4_000_000_001)


def test_skips_are_recorded_once(db: Database) -> None:
    for _ in range(2):
        with db.session() as s:
            record_skip(s, "office", "INBOX", 7, 3, "too large")
    with db.session() as s:
        assert [(r.uid, r.reason) for r in s.scalars(select(MailSkip))] == [(3, "too large")]


def test_migration_0003_matches_the_model_and_goes_down(db: Database) -> None:
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if "mail_" in repr(d)] == []
    tables = {"mail_message", "mail_folder_state", "mail_unassigned", "mail_skip"}
    assert tables <= set(inspect(db.engine).get_table_names())
    db.downgrade("0002")
    assert not tables & set(inspect(db.engine).get_table_names())
    db.upgrade()
    assert tables <= set(inspect(db.engine).get_table_names())
