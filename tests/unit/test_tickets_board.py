"""The board's figures and drill-down lists, from stored due times only, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from desktop_crm.data.db import Database
from desktop_crm.data.models import TicketPriority, TicketStatus
from desktop_crm.tickets import board, service, sla
from desktop_crm.tickets.board import BoardFilter
from desktop_crm.tickets.service import TicketChanges
from tests.unit.test_tickets_service import MONDAY_8, World, new_ticket, world

H = timedelta(hours=1)
NOW = MONDAY_8 + 4.5 * H  # Mon 12:30 CET


def status(db: Database, tid: int, value: TicketStatus, at: datetime, **kw: object) -> None:
    with db.session() as s:
        t = service.get_ticket(s, tid)
        service.update_ticket(
            s,
            tid,
            TicketChanges(status=value, **kw),  # type: ignore[arg-type]
            expected_version=t.version,
            user_id=None,
            now=at,
        )


def scene(db: Database) -> tuple[World, dict[str, int]]:
    w = world(db)
    t = {
        # normal: first response due 4 h after creation, at risk after 3 h
        "breached": new_ticket(db, w, MONDAY_8),  # due 12:00 CET < 12:30
        "at_risk": new_ticket(db, w, MONDAY_8 + H),  # at risk 12:00, due 13:00 CET
        "open": new_ticket(db, w, MONDAY_8, assignee_id=w.agent),
        "waiting": new_ticket(db, w, MONDAY_8, assignee_id=w.agent2),
        "resolved": new_ticket(db, w, MONDAY_8, assignee_id=w.agent),
        "other": new_ticket(
            db,
            w,
            MONDAY_8 + 4 * H,
            queue_id=w.other_queue,
            contact_id=None,
            priority=TicketPriority.HIGH,
        ),
    }
    status(db, t["open"], TicketStatus.OPEN, MONDAY_8 + H)
    status(db, t["waiting"], TicketStatus.WAITING_CUSTOMER, MONDAY_8 + H)
    status(db, t["resolved"], TicketStatus.RESOLVED, MONDAY_8 + 2 * H)
    return w, t


def test_figures_per_queue_and_per_agent(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    scene(db)

    def no_computing(*_a: object, **_k: object) -> None:
        raise AssertionError("the board computed an SLA instead of reading the stored times")

    monkeypatch.setattr(sla, "compute_sla", no_computing)
    monkeypatch.setattr(service, "compute_sla", no_computing)
    with db.session() as s:
        result = board.board(s, now=NOW)
    queues = {q.name: q for q in result.queues}
    support = queues["Support"]
    assert (support.new, support.open, support.waiting, support.unassigned) == (2, 1, 1, 2)
    assert (support.at_risk, support.breached) == (1, 1)
    assert support.oldest_waiting == MONDAY_8
    second = queues["Second level"]
    assert (second.new, second.unassigned, second.at_risk, second.breached) == (1, 1, 0, 0)
    assert second.oldest_waiting == MONDAY_8 + 4 * H
    agents = {a.name: a for a in result.agents}
    assert set(agents) == {"Lena", "Murat"}
    lena, murat = agents["Lena"], agents["Murat"]
    assert (lena.assigned, lena.in_progress, lena.resolved_today) == (1, 1, 1)
    assert (murat.assigned, murat.in_progress, murat.resolved_today) == (1, 0, 0)
    assert not lena.present

    # a little later the at-risk ticket breaches too, without anything being recomputed
    with db.session() as s:
        later = {q.name: q for q in board.board(s, now=MONDAY_8 + 6 * H).queues}
    assert (later["Support"].at_risk, later["Support"].breached) == (0, 2)


def test_filters_by_priority_organization_and_age(db: Database) -> None:
    w, t = scene(db)
    with db.session() as s:
        high = {
            q.name: q
            for q in board.board(s, now=NOW, filters=BoardFilter(TicketPriority.HIGH)).queues
        }
        assert high["Support"].new == 0 and high["Second level"].new == 1
        org = {
            q.name: q
            for q in board.board(s, now=NOW, filters=BoardFilter(organization_id=w.org)).queues
        }
        assert org["Support"].new == 2 and org["Second level"].new == 0
        old = {
            q.name: q for q in board.board(s, now=NOW, filters=BoardFilter(min_age=3 * H)).queues
        }
        assert old["Support"].new == 2 and old["Second level"].new == 0
        young = board.ticket_ids(s, "new", filters=BoardFilter(min_age=4 * H), now=NOW)
        assert young == [t["breached"]]


def test_drill_down_lists_the_tickets_behind_each_figure(db: Database) -> None:
    w, t = scene(db)
    with db.session() as s:

        def ids(figure: str, **kw: object) -> list[int]:
            return board.ticket_ids(s, figure, now=NOW, **kw)  # type: ignore[arg-type]

        assert ids("breached", queue_id=w.queue) == [t["breached"]]
        assert ids("at_risk", queue_id=w.queue) == [t["at_risk"]]
        assert ids("unassigned", queue_id=w.queue) == [t["breached"], t["at_risk"]]
        assert ids("waiting") == [t["waiting"]]
        assert ids("oldest_waiting", queue_id=w.queue) == [t["breached"], t["at_risk"]]
        assert ids("resolved_today", agent_id=w.agent) == [t["resolved"]]
        assert ids("in_progress", agent_id=w.agent) == [t["open"]]
        assert set(ids("all_open")) == set(t.values()) - {t["resolved"]}
        rows = board.ticket_rows(s, [t["breached"], t["waiting"], 999_999])
        assert set(rows) == {t["breached"], t["waiting"]}
        row = rows[t["breached"]]
        assert row.customer == "Anna Schäfer, Müller GmbH" and row.queue == "Support"
        assert board.sla_state(row.status, row.sla_due, row.sla_warn_at, row.sla_paused, NOW) == (
            "breached"
        )
        waiting = rows[t["waiting"]]
        assert (
            board.sla_state(
                waiting.status, waiting.sla_due, waiting.sla_warn_at, waiting.sla_paused, NOW
            )
            == "paused"
        )
        with pytest.raises(Exception, match="not a figure"):
            ids("nonsense")


def test_every_board_query_reads_a_covering_index_on_sqlite(sqlite_db: Database) -> None:
    """No board query reads the ticket table itself: each count is an index-only scan."""
    scene(sqlite_db)
    statements: list[tuple[str, object]] = []

    def remember(_conn: object, _cursor: object, sql: str, params: object, *_a: object) -> None:
        if "FROM ticket" in sql and sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))

    event.listen(sqlite_db.engine, "before_cursor_execute", remember)
    try:
        with sqlite_db.session() as s:
            board.board(s, now=NOW)
    finally:
        event.remove(sqlite_db.engine, "before_cursor_execute", remember)
    assert len(statements) == 5
    with sqlite_db.engine.connect() as conn:
        for sql, params in statements:
            plan = [
                str(r[-1])
                for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)  # type: ignore[arg-type]
            ]
            reads = [p for p in plan if " ticket " in f"{p} "]
            assert reads and all("COVERING INDEX" in p for p in reads), (sql, plan)
