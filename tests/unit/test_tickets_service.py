"""Ticket services on SQLite and PostgreSQL: history, versions, transitions, SLA, calls, mails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from desktop_crm.data import history, records
from desktop_crm.data.db import Database
from desktop_crm.data.errors import ConflictError, ValidationError
from desktop_crm.data.history import InteractionInput, log_interaction
from desktop_crm.data.models import (
    Base,
    Direction,
    InteractionKind,
    Role,
    Ticket,
    TicketChange,
    TicketPriority,
    TicketStatus,
    User,
)
from desktop_crm.data.records import ContactInput, OrganizationInput
from desktop_crm.tickets import service
from desktop_crm.tickets.service import (
    MailInput,
    QueueSetup,
    TicketChanges,
    TicketClosedError,
    TicketInput,
    TransitionError,
)

MONDAY_8 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Mon 2 March 2026 08:00 CET
H = timedelta(hours=1)
TARGETS = {
    TicketPriority.URGENT: (60, 240),
    TicketPriority.HIGH: (120, 240),
    TicketPriority.NORMAL: (240, 960),
    TicketPriority.LOW: (480, 1440),
}


@dataclass(frozen=True)
class World:
    queue: int
    other_queue: int
    anna: int  # contact
    org: int
    agent: int
    agent2: int
    supervisor: int


def world(db: Database) -> World:
    with db.session() as s:
        users = []
        for login, role in (
            ("lena", Role.AGENT),
            ("murat", Role.AGENT),
            ("sabine", Role.SUPERVISOR),
        ):
            user = User(login=login, name=login.title(), role=role)
            s.add(user)
            users.append(user)
        s.flush()
        queue = service.save_queue(
            s,
            QueueSetup(
                "Support",
                holidays="DE-BY",
                targets=TARGETS,
                supervisor_id=users[2].id,
                closed_days=[date(2026, 12, 24)],
            ),
        )
        other = service.save_queue(s, QueueSetup("Second level", targets=TARGETS))
        org = records.create_organization(s, OrganizationInput(name="Müller GmbH"))
        anna = records.create_contact(
            s, ContactInput(first_name="Anna", last_name="Schäfer", organization_id=org.id)
        )
        return World(queue.id, other.id, anna.id, org.id, users[0].id, users[1].id, users[2].id)


def new_ticket(db: Database, w: World, at: datetime = MONDAY_8, **kw: object) -> int:
    with db.session() as s:
        data = TicketInput(
            subject=str(kw.pop("subject", "Drucker druckt nicht")),
            queue_id=kw.pop("queue_id", w.queue),  # type: ignore[arg-type]
            contact_id=kw.pop("contact_id", w.anna),  # type: ignore[arg-type]
            **kw,  # type: ignore[arg-type]
        )
        return service.create_ticket(s, data, user_id=w.agent, now=at).id


def test_a_new_ticket_is_numbered_in_history_and_has_stored_due_times(db: Database) -> None:
    w = world(db)
    tid = new_ticket(db, w)
    with db.session() as s:
        t = s.get(Ticket, tid)
        assert t is not None
        assert t.number == f"T-{tid:06d}"
        assert t.status == TicketStatus.NEW and t.organization_id == w.org
        assert t.first_response_due == MONDAY_8 + 4 * H  # 12:00 CET
        assert t.first_response_warn_at == MONDAY_8 + 3 * H
        # 16 business hours: Mon 9 h + Tue 7 h → Tue 15:00 CET
        assert t.resolution_due == datetime(2026, 3, 3, 14, tzinfo=UTC)
        assert t.sla_due == MONDAY_8 + 4 * H and t.sla_warn_at == MONDAY_8 + 3 * H
        for kwargs in ({"contact_id": w.anna}, {"organization_id": w.org}):
            entries = history.history(s, **kwargs)  # type: ignore[arg-type]
            assert [e.subject for e in entries] == [
                f"Ticket {t.number} created: Drucker druckt nicht"
            ]
            assert entries[0].kind == InteractionKind.TICKET_EVENT
            assert entries[0].ticket_id == tid and entries[0].user_id == w.agent


def test_every_change_is_recorded_with_who_when_what(db: Database) -> None:
    w = world(db)
    tid = new_ticket(db, w)
    later = MONDAY_8 + 30 * timedelta(minutes=1)
    with db.session() as s:
        t = service.get_ticket(s, tid)
        service.update_ticket(
            s,
            tid,
            TicketChanges(
                status=TicketStatus.OPEN, assignee_id=w.agent2, priority=TicketPriority.HIGH
            ),
            expected_version=t.version,
            user_id=w.supervisor,
            now=later,
        )
    with db.session() as s:
        changes = [
            (c.field, c.old_value, c.new_value, c.user_id, c.changed_at)
            for c in service.changes_of(s, tid)
            if c.changed_at == later
        ]
        assert sorted(changes) == sorted(
            [
                ("status", "new", "open", w.supervisor, later),
                ("assignee_id", None, str(w.agent2), w.supervisor, later),
                ("priority", "normal", "high", w.supervisor, later),
            ]
        )
        newest = history.history(s, contact_id=w.anna)[0]
        assert newest.occurred_at == later and newest.user_id == w.supervisor
        assert "status: new → open" in newest.subject
        assert "assignee: Murat" in newest.subject
        assert "priority: normal → high" in newest.subject
        t = service.get_ticket(s, tid)
        assert t.first_responded_at == later  # the first status change answers it
        # high: resolution 4 h from 08:00, 0.5 h used → 12:00 CET
        assert t.resolution_due == MONDAY_8 + 4 * H
        assert t.sla_due == MONDAY_8 + 4 * H


def test_a_stale_version_is_refused_and_nothing_is_overwritten(db: Database) -> None:
    w = world(db)
    tid = new_ticket(db, w)
    with db.session() as s:
        version = service.get_ticket(s, tid).version
        service.update_ticket(
            s, tid, TicketChanges(subject="Neu"), expected_version=version, user_id=w.agent
        )
    with db.session() as s, pytest.raises(ConflictError) as err:
        service.update_ticket(
            s, tid, TicketChanges(subject="Alt"), expected_version=version, user_id=w.agent2
        )
    assert err.value.current["subject"] == "Neu"
    assert err.value.attempted == {"subject": "Alt"}


def test_status_transitions_are_checked_and_closed_tickets_are_reopened(db: Database) -> None:
    w = world(db)
    tid = new_ticket(db, w)

    def change(status: TicketStatus, at: datetime) -> Ticket:
        with db.session() as s:
            t = service.get_ticket(s, tid)
            return service.update_ticket(
                s,
                tid,
                TicketChanges(status=status),
                expected_version=t.version,
                user_id=w.agent,
                now=at,
            )

    change(TicketStatus.OPEN, MONDAY_8 + H)
    with pytest.raises(TransitionError):
        change(TicketStatus.NEW, MONDAY_8 + 2 * H)
    closed = change(TicketStatus.CLOSED, MONDAY_8 + 2 * H)
    assert closed.resolved_at == MONDAY_8 + 2 * H and closed.closed_at == MONDAY_8 + 2 * H
    assert closed.sla_due is None
    with db.session() as s:
        t = service.get_ticket(s, tid)
        with pytest.raises(TicketClosedError, match="reopen"):
            service.update_ticket(
                s, tid, TicketChanges(subject="still"), expected_version=t.version, user_id=w.agent
            )
    with db.session() as s:
        t = service.get_ticket(s, tid)
        reopened = service.reopen_ticket(
            s,
            tid,
            expected_version=t.version,
            user_id=w.agent,
            reason="Kunde meldet sich erneut",
            now=MONDAY_8 + 3 * H,
        )
        assert reopened.status == TicketStatus.OPEN
        assert reopened.resolved_at is None and reopened.closed_at is None
        # 2 h used before closing; normal resolution 16 h → 14 h from Mon 11:00 CET:
        # Mon 6 h, Tue 8 h → Tue 16:00 CET
        assert reopened.resolution_due == datetime(2026, 3, 3, 15, tzinfo=UTC)
    with db.session() as s:
        subjects = [e.subject for e in history.history(s, contact_id=w.anna)]
        assert subjects[0].endswith("status: closed → open")


def test_waiting_for_the_customer_clears_the_due_time_and_resuming_restores_it(
    db: Database,
) -> None:
    w = world(db)
    tid = new_ticket(db, w)
    with db.session() as s:
        t = service.get_ticket(s, tid)
        t = service.update_ticket(
            s,
            tid,
            TicketChanges(status=TicketStatus.WAITING_CUSTOMER),
            expected_version=t.version,
            user_id=w.agent,
            now=MONDAY_8 + 2 * H,
        )
        assert t.sla_paused and t.sla_due is None and t.sla_warn_at is None
        assert t.resolution_due is None
    with db.session() as s:
        t = service.get_ticket(s, tid)
        # resumed Wed 4 March 14:00 CET; 2 h used of 16 → Wed 3 h, Thu 9 h, Fri 2 h → Fri 10:00
        t = service.update_ticket(
            s,
            tid,
            TicketChanges(status=TicketStatus.OPEN),
            expected_version=t.version,
            user_id=w.agent,
            now=datetime(2026, 3, 4, 13, tzinfo=UTC),
        )
        assert not t.sla_paused
        assert t.resolution_due == datetime(2026, 3, 6, 9, tzinfo=UTC)
        assert t.sla_due == t.resolution_due  # first response was given at 10:00


def test_a_ticket_from_a_call_is_answered_and_links_the_call(db: Database) -> None:
    w = world(db)
    with db.session() as s:
        call, _ = log_interaction(
            s,
            InteractionInput(
                kind=InteractionKind.CALL,
                contact_id=w.anna,
                direction=Direction.INBOUND,
                occurred_at=MONDAY_8,
                source="sip:office",
                external_id="call-1",
            ),
        )
        t = service.create_from_call(
            s,
            call.id,
            TicketInput(subject="Rückruf Rechnung", queue_id=w.queue),
            user_id=w.agent,
            now=MONDAY_8,
        )
        assert t.channel == "phone" and t.status == TicketStatus.OPEN
        assert t.first_responded_at == MONDAY_8 and t.assignee_id == w.agent
        assert t.contact_id == w.anna and t.organization_id == w.org
        assert call.ticket_id == t.id
        assert t.sla_due == t.resolution_due


def test_mail_opens_a_ticket_and_replies_join_it(db: Database) -> None:
    w = world(db)

    def mail(subject: str, mid: str, **kw: object) -> MailInput:
        with db.session() as s:
            entry, _ = log_interaction(
                s,
                InteractionInput(
                    kind=InteractionKind.EMAIL,
                    contact_id=w.anna,
                    subject=subject,
                    direction=Direction.INBOUND,
                    source="imap:support",
                    external_id=mid,
                    occurred_at=MONDAY_8,
                ),
            )
            return MailInput(entry.id, subject, message_id=mid, **kw)  # type: ignore[arg-type]

    first = mail("Anlage steht", "<a1@kunde.de>")
    with db.session() as s:
        t, created = service.create_from_mail(
            s, first, TicketInput(subject="", queue_id=w.queue), now=MONDAY_8
        )
        assert created and t.subject == "Anlage steht" and t.channel == "email"
        tid, number = t.id, t.number
        service.update_ticket(
            s,
            tid,
            TicketChanges(status=TicketStatus.WAITING_CUSTOMER),
            expected_version=t.version,
            user_id=w.agent,
            now=MONDAY_8 + H,
        )
    reply = mail("Re: Anlage steht", "<a2@kunde.de>", in_reply_to="<a1@kunde.de>")
    by_number = mail(f"AW: [{number}] noch eine Frage", "<a3@kunde.de>")
    unrelated = mail("Neue Anfrage", "<a4@kunde.de>", references=["<zz@elsewhere>"])
    with db.session() as s:
        t, created = service.create_from_mail(
            s, reply, TicketInput(subject="", queue_id=w.queue), now=MONDAY_8 + 2 * H
        )
        assert not created and t.id == tid
        assert t.status == TicketStatus.OPEN  # the customer answered: the clock runs again
        assert service.ticket_for_mail(s, by_number) == tid
        assert service.ticket_for_mail(s, unrelated) is None
        mails = history.history(s, contact_id=w.anna, kinds=[InteractionKind.EMAIL])
        assert {m.subject: m.ticket_id for m in mails} == {
            "Anlage steht": tid,
            "Re: Anlage steht": tid,
            f"AW: [{number}] noch eine Frage": None,  # only looked up here, not added
            "Neue Anfrage": None,
        }


def test_bad_input_is_refused_in_words(db: Database) -> None:
    w = world(db)
    with db.session() as s:
        with pytest.raises(ValidationError, match="subject"):
            service.create_ticket(s, TicketInput(subject="  ", queue_id=w.queue))
        with pytest.raises(ValidationError, match="queue 999"):
            service.create_ticket(s, TicketInput(subject="x", queue_id=999))
        with pytest.raises(ValidationError, match="holidays"):
            service.save_queue(s, QueueSetup("Bad", holidays="DE-XX"))


def test_queue_change_of_hours_recomputes_open_tickets(db: Database) -> None:
    w = world(db)
    tid = new_ticket(db, w)
    with db.session() as s:
        service.save_queue(
            s,
            QueueSetup(
                "Support",
                holidays="DE-BY",
                targets=TARGETS,
                hours=dict.fromkeys(range(7), ((0, 1440),)),  # round the clock
            ),
        )
        t = service.get_ticket(s, tid)
        assert t.first_response_due == MONDAY_8 + 4 * H
        assert t.resolution_due == MONDAY_8 + 16 * H  # 16 h round the clock
        assert s.scalar(select(TicketChange.id).where(TicketChange.ticket_id == tid))


def test_migration_0004_matches_the_model_and_goes_down(db: Database) -> None:
    mine = (
        "queue_business_hours",
        "queue_closed_day",
        "queue_sla_target",
        "queue_member",
        "agent_presence",
        "ticket_change",
        "ticket_notification",
        "escalation_rule",
        "ticket_message",
        "'ticket'",
        "'queue'",
        "sla_",
        "warn_at",
        "closed_at",
        "time_zone",
        "holiday",
        "at_risk",
        "assignment_mode",
        "last_assigned",
        "supervisor",
    )
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if any(m in repr(d) for m in mine)] == []
    db.downgrade("0002")
    assert "ticket_change" not in inspect(db.engine).get_table_names()
    db.upgrade()
    assert "ticket_change" in inspect(db.engine).get_table_names()


def test_a_ticket_written_without_the_services_counts_from_its_creation(db: Database) -> None:
    """Demo data and imports write tickets directly; their first change replays correctly."""
    w = world(db)
    with db.session() as s:
        t = Ticket(
            number="IMP-1",
            subject="importiert",
            queue_id=w.queue,
            status=TicketStatus.WAITING_CUSTOMER,
            priority=TicketPriority.NORMAL,
            first_responded_at=MONDAY_8,
            created_at=MONDAY_8,
        )
        s.add(t)
        s.flush()
        tid = t.id
    with db.session() as s:
        t = service.get_ticket(s, tid)
        # waiting since creation (Mon 08:00), open from Mon 10:00: 16 h from then → Tue 17:00
        t = service.update_ticket(
            s,
            tid,
            TicketChanges(status=TicketStatus.OPEN),
            expected_version=t.version,
            user_id=w.agent,
            now=MONDAY_8 + 2 * H,
        )
        assert t.resolution_due == datetime(2026, 3, 3, 16, tzinfo=UTC)
        moments = service.timeline(s, t)
        assert [(m.at, m.status) for m in moments] == [
            (MONDAY_8, TicketStatus.WAITING_CUSTOMER),
            (MONDAY_8 + 2 * H, TicketStatus.OPEN),
        ]
