"""Assignment (manual, round-robin, least-busy among present agents) and escalation."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from desktop_crm.data.db import Database
from desktop_crm.data.models import AssignmentMode, Queue, TicketNotification, TicketPriority
from desktop_crm.tickets import assignment, escalation, service
from desktop_crm.tickets.service import QueueSetup, TicketChanges, TicketInput
from tests.unit.test_tickets_service import MONDAY_8, World, new_ticket, world

H = timedelta(hours=1)


def mode(db: Database, w: World, value: AssignmentMode, members: list[int]) -> None:
    with db.session() as s:
        queue = s.get(Queue, w.queue)
        assert queue is not None
        queue.assignment_mode = value
        assignment.set_members(s, w.queue, members)


def test_round_robin_among_present_agents(db: Database) -> None:
    w = world(db)
    with db.session() as s:
        for uid in (w.agent, w.agent2, w.supervisor):
            assignment.set_presence(s, uid, True)
        assignment.set_presence(s, w.supervisor, False)  # on a break: skipped
    mode(db, w, AssignmentMode.ROUND_ROBIN, [w.agent, w.agent2, w.supervisor])
    got = []
    for i in range(4):
        tid = new_ticket(db, w, subject=f"Fall {i}")
        with db.session() as s:
            got.append(service.get_ticket(s, tid).assignee_id)
    assert got == [w.agent, w.agent2, w.agent, w.agent2]
    with db.session() as s:
        assignment.set_presence(s, w.agent, False)
    tid = new_ticket(db, w, subject="nur Murat da")
    with db.session() as s:
        assert service.get_ticket(s, tid).assignee_id == w.agent2
        assignment.set_presence(s, w.agent2, False)
    tid = new_ticket(db, w, subject="niemand da")
    with db.session() as s:
        assert service.get_ticket(s, tid).assignee_id is None  # stays unassigned


def test_least_busy_takes_the_agent_with_fewest_open_tickets(db: Database) -> None:
    w = world(db)
    with db.session() as s:
        for uid in (w.agent, w.agent2):
            assignment.set_presence(s, uid, True)
    for i in range(3):  # Lena has three open tickets by hand
        new_ticket(db, w, subject=f"Lena {i}", assignee_id=w.agent)
    mode(db, w, AssignmentMode.LEAST_BUSY, [w.agent, w.agent2])
    got = []
    for i in range(4):
        tid = new_ticket(db, w, subject=f"auto {i}")
        with db.session() as s:
            got.append(service.get_ticket(s, tid).assignee_id)
    # Murat 0,1,2 → gets three; then 3 vs 3: the next in turn after Murat is Lena
    assert got == [w.agent2, w.agent2, w.agent2, w.agent]


def test_manual_assignment_is_a_recorded_change(db: Database) -> None:
    w = world(db)
    tid = new_ticket(db, w)
    with db.session() as s:
        t = service.get_ticket(s, tid)
        service.update_ticket(
            s,
            tid,
            TicketChanges(assignee_id=w.agent2),
            expected_version=t.version,
            user_id=w.supervisor,
        )
        fields = [(c.field, c.new_value, c.user_id) for c in service.changes_of(s, tid)]
        assert ("assignee_id", str(w.agent2), w.supervisor) in fields


def test_escalation_notifies_once_per_ticket_and_level(db: Database) -> None:
    w = world(db)
    tid = new_ticket(db, w)  # normal: first response due 12:00 CET, at risk 11:00 CET
    with db.session() as s:
        assert escalation.run_escalation(s, now=MONDAY_8 + 2 * H) == []
    with db.session() as s:
        first = escalation.run_escalation(s, now=MONDAY_8 + 3 * H)
        assert [(n.ticket_id, n.level, n.recipient_id) for n in first] == [
            (tid, "first_response_at_risk", w.supervisor)
        ]
        assert first[0].due_at == MONDAY_8 + 4 * H
    with db.session() as s:
        assert escalation.run_escalation(s, now=MONDAY_8 + 3.5 * H) == []  # already told
        breached = escalation.run_escalation(s, now=MONDAY_8 + 4 * H)
        assert [n.level for n in breached] == ["first_response_breached"]
    with db.session() as s:
        assert escalation.run_escalation(s, now=MONDAY_8 + 5 * H) == []
        unread = escalation.notifications(s, w.supervisor)
        assert sorted(n.level for n in unread) == [
            "first_response_at_risk",
            "first_response_breached",
        ]
        escalation.mark_read(s, [n.id for n in unread])
        assert escalation.notifications(s, w.supervisor) == []


def test_notify_once_holds_across_sessions_and_racing_processes(db: Database) -> None:
    """Clients escalating at the same moment: the unique constraint lets exactly one notify."""
    w = world(db)
    tids = [new_ticket(db, w, subject=f"Fall {i}") for i in range(5)]
    at = MONDAY_8 + 3 * H
    results: list[list[escalation.Notification]] = []
    if db.is_sqlite:  # one writer at a time: the second client comes after the first
        for _ in range(2):
            with db.session() as s:
                results.append(escalation.run_escalation(s, now=at))
    else:
        start = threading.Barrier(4)
        lock = threading.Lock()

        def client() -> None:
            start.wait()
            with db.session() as s:
                found = escalation.run_escalation(s, now=at)
            with lock:
                results.append(found)

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    told = sorted(n.ticket_id for found in results for n in found)
    assert told == tids  # every ticket once, whoever told it
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(TicketNotification)) == 5
        assert (
            escalation._insert_once(
                s, {"ticket_id": tids[0], "level": "first_response_at_risk", "created_at": at}
            )
            is None
        )


def test_rules_move_or_reassign_escalated_tickets(db: Database) -> None:
    w = world(db)
    with db.session() as s:
        escalation.add_rule(
            s, w.queue, "first_response_breached", "move", target_queue_id=w.other_queue
        )
        escalation.add_rule(
            s, w.queue, "first_response_at_risk", "reassign", target_user_id=w.agent2
        )
    tid = new_ticket(db, w, assignee_id=w.agent)
    with db.session() as s:
        escalation.run_escalation(s, now=MONDAY_8 + 3 * H)
        t = service.get_ticket(s, tid)
        assert t.assignee_id == w.agent2 and t.queue_id == w.queue
    with db.session() as s:
        escalation.run_escalation(s, now=MONDAY_8 + 4 * H)
        t = service.get_ticket(s, tid)
        assert t.queue_id == w.other_queue and t.assignee_id is None
        notes = [c.field for c in service.changes_of(s, tid) if c.user_id is None]
        assert "queue_id" in notes


def test_priority_raise_can_breach_at_once_and_escalates_both_levels(db: Database) -> None:
    w = world(db)
    tid = new_ticket(db, w, priority=TicketPriority.LOW)  # first response 8 h
    with db.session() as s:
        t = service.get_ticket(s, tid)
        t = service.update_ticket(
            s,
            tid,
            TicketChanges(priority=TicketPriority.URGENT),
            expected_version=t.version,
            user_id=w.agent,
            now=MONDAY_8 + 2 * H,
        )
        assert t.first_response_due == MONDAY_8 + H  # urgent: 1 h, already used 2 h
        levels = [n.level for n in escalation.run_escalation(s, now=MONDAY_8 + 2 * H)]
        assert levels == ["first_response_at_risk", "first_response_breached"]


def test_save_queue_keeps_targets_editable(db: Database) -> None:
    w = world(db)
    with db.session() as s:
        queue = service.save_queue(
            s,
            QueueSetup("Support", targets={TicketPriority.NORMAL: (30, None)}, at_risk_percent=50),
        )
        assert queue.id == w.queue
        tid = service.create_ticket(s, TicketInput(subject="x", queue_id=w.queue), now=MONDAY_8).id
        t = service.get_ticket(s, tid)
        assert t.first_response_due == MONDAY_8 + 0.5 * H
        assert t.first_response_warn_at == MONDAY_8 + 0.25 * H
        assert t.resolution_due is None
