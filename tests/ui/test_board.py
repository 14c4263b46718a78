"""The ticket board and "My tickets": models, live updates that keep selection, reassignment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt

from desktop_crm.data.db import Database
from desktop_crm.data.models import TicketPriority, TicketStatus, User
from desktop_crm.tickets import board as ticket_board
from desktop_crm.tickets import service
from desktop_crm.tickets.board import AgentFigures, QueueFigures, TicketRow
from desktop_crm.tickets.service import QueueSetup, TicketChanges, TicketInput
from desktop_crm.ui.board import (
    AgentFiguresModel,
    MyTickets,
    QueueFiguresModel,
    TicketBoard,
    TicketDialog,
    TicketListModel,
)
from desktop_crm.ui.board.models import SLA_COLOURS, SLA_STATE_ROLE, TICKET_ID_ROLE
from desktop_crm.ui.tasks import TaskRunner

NOW = datetime.now(UTC)


@pytest.fixture
def runner(qapp: Any) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    r.shutdown()
    r.deleteLater()


def seed(db: Database, tickets: int = 6) -> dict[str, int]:
    """A queue round the clock (so due times are plain arithmetic on now), three people."""
    with db.session() as s:
        people = {}
        for login in ("lena", "murat", "sabine"):
            user = User(login=login, name=login.title())
            s.add(user)
            s.flush()
            people[login] = user.id
        queue = service.save_queue(
            s,
            QueueSetup(
                "Support",
                holidays="DE",
                hours=dict.fromkeys(range(7), ((0, 1440),)),
                targets={
                    TicketPriority.NORMAL: (240, 960),
                    TicketPriority.URGENT: (30, 120),
                    TicketPriority.LOW: (600, 6000),
                },
                supervisor_id=people["sabine"],
            ),
        )
        ids = {}
        for n in range(tickets):
            ids[f"t{n}"] = service.create_ticket(
                s,
                TicketInput(subject=f"Fall {n}", queue_id=queue.id, priority=TicketPriority.LOW),
                now=NOW - timedelta(minutes=n),
            ).id
        # one breached ticket: created 5 h ago, normal: first response due after 4 h
        ids["late"] = service.create_ticket(
            s,
            TicketInput(subject="Überfällig", queue_id=queue.id, assignee_id=people["lena"]),
            now=NOW - timedelta(hours=5),
        ).id
    return {**people, **ids, "queue": queue.id}


def make_board(qtbot: Any, db: Database, runner: TaskRunner, user: int, **kw: Any) -> TicketBoard:
    widget = TicketBoard(db, runner, user, poll_interval_ms=kw.pop("poll", 60_000), **kw)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.start()
    return widget


def queue_cell(widget: TicketBoard, figure: str) -> QModelIndex:
    column = QueueFiguresModel.FIGURES.index(figure) + 1
    return widget.queue_model.index(0, column)


# --- the models through qtmodeltester --------------------------------------------------------


def row(tid: int, **kw: Any) -> TicketRow:
    values: dict[str, Any] = {
        "id": tid,
        "number": f"T-{tid:06d}",
        "subject": f"Fall {tid}",
        "queue": "Support",
        "priority": TicketPriority.NORMAL,
        "status": TicketStatus.OPEN,
        "assignee_id": None,
        "assignee": "",
        "customer": "Anna Schäfer",
        "created_at": NOW,
        "sla_due": NOW + timedelta(hours=1),
        "sla_warn_at": NOW + timedelta(minutes=30),
        "sla_paused": False,
        "version": 1,
    }
    values.update(kw)
    return TicketRow(**values)


def test_models_pass_qtmodeltester(qtmodeltester: Any) -> None:
    queues = QueueFiguresModel()
    queues.set_rows(
        [
            QueueFigures(1, "Support", 3, 4, 2, 1, 1, 1, NOW),
            QueueFigures(None, "", 1, 0, 0, 1, 0, 0, None),
        ]
    )
    qtmodeltester.check(queues)
    agents = AgentFiguresModel()
    agents.set_rows([AgentFigures(1, "Lena", True, 3, 1, 2), AgentFigures(2, "Murat", False)])
    qtmodeltester.check(agents)

    asked: list[list[int]] = []
    tickets = TicketListModel(asked.append)
    tickets.set_ids(range(1, 501), {i: row(i) for i in range(1, 51)}, NOW)
    qtmodeltester.check(tickets)
    assert tickets.data(tickets.index(60, TicketListModel.SUBJECT)) == "…"
    assert asked and 61 in asked[-1]  # a row without data asks for its block, once
    calls = len(asked)
    tickets.data(tickets.index(61, TicketListModel.SUBJECT))
    assert len(asked) == calls
    tickets.add_rows({i: row(i) for i in range(51, 501)})
    qtmodeltester.check(tickets)
    tickets.set_ids([])
    qtmodeltester.check(tickets)


def test_sla_colouring(qapp: Any) -> None:
    model = TicketListModel()
    model.set_ids(
        [1, 2, 3, 4],
        {
            1: row(1, sla_due=NOW - timedelta(minutes=1)),
            2: row(2, sla_warn_at=NOW - timedelta(minutes=1)),
            3: row(
                3,
                sla_due=None,
                sla_warn_at=None,
                sla_paused=True,
                status=TicketStatus.WAITING_CUSTOMER,
            ),
            4: row(4),
        },
        NOW,
    )
    states = [model.data(model.index(r, 0), SLA_STATE_ROLE) for r in range(4)]
    assert states == ["breached", "at_risk", "paused", "ok"]
    background = Qt.ItemDataRole.BackgroundRole
    assert model.data(model.index(0, 3), background).color() == SLA_COLOURS["breached"]
    assert model.data(model.index(1, 3), background).color() == SLA_COLOURS["at_risk"]
    assert model.data(model.index(3, 3), background) is None
    assert model.data(model.index(0, TicketListModel.SLA)) == "breached"


# --- the board on a real database --------------------------------------------------------------


def test_board_shows_figures_and_the_tickets_behind_them(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    ids = seed(sqlite_db)
    widget = make_board(qtbot, sqlite_db, runner, ids["sabine"])
    support = widget.queue_model.rows[0]
    assert (support.name, support.new, support.unassigned, support.breached) == ("Support", 7, 6, 1)
    assert widget.tickets.model.rowCount() == 7

    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.queue_view.clicked.emit(queue_cell(widget, "breached"))
    assert widget.tickets.model.ids == [ids["late"]]
    assert "Breached" in widget.list_title.text()
    qtbot.waitUntil(lambda: widget.tickets.model.ticket(0) is not None)
    assert widget.tickets.model.data(widget.tickets.model.index(0, 0), SLA_STATE_ROLE) == (
        "breached"
    )

    lena = next(a for a in widget.agent_model.rows if a.name == "Lena")
    assert lena.assigned == 1
    row_of_lena = widget.agent_model.rows.index(lena)
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.agent_view.clicked.emit(widget.agent_model.index(row_of_lena, 2))
    assert widget.tickets.model.ids == [ids["late"]]
    widget.stop()


def test_live_update_keeps_selection_and_scroll_position(
    qtbot: Any, db: Database, runner: TaskRunner
) -> None:
    """A ticket changed in the database shows up by itself; the user's selection stays."""
    ids = seed(db, tickets=120)
    widget = make_board(qtbot, db, runner, ids["sabine"], poll=150, escalate=False)
    view, model = widget.tickets.view, widget.tickets.model
    assert model.rowCount() == 121
    target = model.row_of(ids["t80"])
    assert target is not None
    qtbot.waitUntil(lambda: model.ticket(target) is not None, timeout=10_000)
    view.scrollTo(model.index(target, 0))
    view.selectionModel().select(
        model.index(target, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    view.selectionModel().setCurrentIndex(
        model.index(target, 0), QItemSelectionModel.SelectionFlag.NoUpdate
    )
    scroll = view.verticalScrollBar().value()
    assert scroll > 0

    # someone else makes a ticket urgent (it moves to the top: due soonest) and adds a new one
    with db.session() as s:
        t = service.get_ticket(s, ids["t5"])
        service.update_ticket(
            s,
            t.id,
            TicketChanges(priority=TicketPriority.URGENT),
            expected_version=t.version,
            user_id=ids["lena"],
        )
        fresh = service.create_ticket(
            s, TicketInput(subject="Neu hereingekommen", queue_id=ids["queue"])
        ).id
    qtbot.waitUntil(lambda: fresh in model.ids, timeout=10_000)
    qtbot.waitUntil(lambda: widget.queue_model.rows[0].new == 122, timeout=10_000)
    assert widget.tickets.selected_ids() == [ids["t80"]]
    assert model.ticket_id(view.currentIndex().row()) == ids["t80"]
    assert view.verticalScrollBar().value() == scroll

    # a change that keeps the same tickets changes cells in place
    with db.session() as s:
        t = service.get_ticket(s, ids["t80"])
        service.update_ticket(
            s,
            t.id,
            TicketChanges(subject="Fall 80 (geändert)"),
            expected_version=t.version,
            user_id=ids["lena"],
        )
    row80 = model.row_of(ids["t80"])
    qtbot.waitUntil(
        lambda: model.data(model.index(model.row_of(ids["t80"]) or 0, 1)) == "Fall 80 (geändert)",
        timeout=10_000,
    )
    assert model.row_of(ids["t80"]) == row80
    assert widget.tickets.selected_ids() == [ids["t80"]]
    assert view.verticalScrollBar().value() == scroll
    widget.stop()


def test_reassign_by_selection_and_by_drag_and_drop(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    ids = seed(sqlite_db)
    widget = make_board(qtbot, sqlite_db, runner, ids["sabine"], escalate=False)
    view, model = widget.tickets.view, widget.tickets.model
    qtbot.waitUntil(lambda: all(model.ticket(r) is not None for r in range(model.rowCount())))
    qtbot.waitUntil(lambda: widget.assign_to.count() == 3)
    for tid in (ids["t1"], ids["t2"]):
        view.selectionModel().select(
            model.index(model.row_of(tid) or 0, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    widget.assign_to.setCurrentIndex(widget.assign_to.findData(ids["murat"]))
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        qtbot.mouseClick(widget.assign_button, Qt.MouseButton.LeftButton)
    with sqlite_db.session() as s:
        assert service.get_ticket(s, ids["t1"]).assignee_id == ids["murat"]
        assert service.get_ticket(s, ids["t2"]).assignee_id == ids["murat"]
        assert service.get_ticket(s, ids["t3"]).assignee_id is None
        changes = service.changes_of(s, ids["t1"])
        assert changes[-1].field == "assignee_id" and changes[-1].user_id == ids["sabine"]

    # drag ticket t3 from the list and drop it on Lena's row
    mime = model.mimeData([model.index(model.row_of(ids["t3"]) or 0, 0)])
    lena_row = [a.name for a in widget.agent_model.rows].index("Lena")
    parent = widget.agent_model.index(lena_row, 0)
    assert widget.agent_model.canDropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, parent)
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.agent_model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, parent)
    with sqlite_db.session() as s:
        assert service.get_ticket(s, ids["t3"]).assignee_id == ids["lena"]

    # a ticket changed by someone else since it was shown is not overwritten
    with sqlite_db.session() as s:
        t = service.get_ticket(s, ids["t4"])
        stale_version = t.version
        service.update_ticket(
            s,
            t.id,
            TicketChanges(subject="anders"),
            expected_version=t.version,
            user_id=ids["lena"],
        )
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.reassign(ids["murat"], [(ids["t4"], stale_version)])
    assert "changed by someone else" in widget.status.text()
    with sqlite_db.session() as s:
        assert service.get_ticket(s, ids["t4"]).assignee_id is None
    widget.stop()


def test_filters_change_the_figures(qtbot: Any, sqlite_db: Database, runner: TaskRunner) -> None:
    ids = seed(sqlite_db)
    widget = make_board(qtbot, sqlite_db, runner, ids["sabine"], escalate=False)
    assert widget.queue_model.rows[0].new == 7
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.priority_filter.setCurrentIndex(
            widget.priority_filter.findData(TicketPriority.NORMAL.value)
        )
    assert widget.queue_model.rows[0].new == 1
    assert widget.tickets.model.ids == [ids["late"]]
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.priority_filter.setCurrentIndex(0)
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.age_filter.setCurrentIndex(2)  # older than 4 hours
    assert widget.queue_model.rows[0].new == 1
    widget.stop()


def test_the_poll_escalates_once_and_shows_the_supervisor(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    ids = seed(sqlite_db)
    widget = make_board(qtbot, sqlite_db, runner, ids["sabine"])
    assert "escalations" in widget.status.text()
    with sqlite_db.session() as s:
        from desktop_crm.tickets.escalation import notifications

        levels = sorted(n.level for n in notifications(s, ids["sabine"]))
    assert levels == ["first_response_at_risk", "first_response_breached"]
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.refresh()
    with sqlite_db.session() as s:
        assert len(notifications(s, ids["sabine"])) == 2  # not again
    widget.stop()


def test_my_tickets_lists_only_mine_with_the_same_colours(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    ids = seed(sqlite_db)
    widget = MyTickets(sqlite_db, runner, ids["lena"], poll_interval_ms=100)
    qtbot.addWidget(widget)
    widget.show()
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.start()
    model = widget.tickets.model
    assert model.ids == [ids["late"]]
    assert "(1)" in widget.title.text()
    qtbot.waitUntil(lambda: model.ticket(0) is not None)
    assert model.data(model.index(0, 0), SLA_STATE_ROLE) == "breached"
    assert model.data(model.index(0, 0), TICKET_ID_ROLE) == ids["late"]
    with sqlite_db.session() as s:
        t = service.get_ticket(s, ids["t0"])
        service.update_ticket(
            s,
            t.id,
            TicketChanges(assignee_id=ids["lena"]),
            expected_version=t.version,
            user_id=ids["sabine"],
        )
    qtbot.waitUntil(lambda: len(model.ids) == 2, timeout=10_000)

    # the agent says she is present: round-robin may now give her tickets
    assert widget.present.isEnabled() and not widget.present.isChecked()
    widget.present.setChecked(True)
    qtbot.waitUntil(lambda: "present" in widget.status.text(), timeout=10_000)
    with sqlite_db.session() as s:
        from desktop_crm.data.models import AgentPresence

        row = s.get(AgentPresence, ids["lena"])
        assert row is not None and row.present
    widget.stop()


def test_board_rows_come_from_the_board_queries(sqlite_db: Database) -> None:
    ids = seed(sqlite_db, tickets=2)
    with sqlite_db.session() as s:
        rows = ticket_board.ticket_rows(s, [ids["late"]])
    assert rows[ids["late"]].assignee == "Lena"


# --- the ticket dialog -------------------------------------------------------------------------


def open_dialog(qtbot: Any, db: Database, runner: TaskRunner, tid: int, user: int) -> TicketDialog:
    dialog = TicketDialog(db, runner, tid, user)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    return dialog


def test_dialog_saves_changes_with_the_version_it_showed(
    qtbot: Any, db: Database, runner: TaskRunner
) -> None:
    ids = seed(db, tickets=1)
    dialog = open_dialog(qtbot, db, runner, ids["t0"], ids["sabine"])
    assert dialog.subject.text() == "Fall 0"
    assert dialog.status_box.findData(TicketStatus.NEW.value) == 0
    dialog.priority.setCurrentIndex(dialog.priority.findData(TicketPriority.URGENT.value))
    dialog.status_box.setCurrentIndex(dialog.status_box.findData(TicketStatus.OPEN.value))
    dialog.assignee.setCurrentIndex(dialog.assignee.findData(ids["murat"]))
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.save()
    qtbot.waitUntil(lambda: dialog.detail is not None and dialog.detail.status == TicketStatus.OPEN)
    with db.session() as s:
        t = service.get_ticket(s, ids["t0"])
        assert (t.priority, t.status, t.assignee_id) == (
            TicketPriority.URGENT,
            TicketStatus.OPEN,
            ids["murat"],
        )
    texts = [dialog.changes.item(i).text() for i in range(dialog.changes.count())]
    assert any("priority: low → urgent" in line and "(Sabine)" in line for line in texts)
    # the status offered next follows the workflow: nothing goes back to "new"
    assert dialog.status_box.findData(TicketStatus.NEW.value) == -1

    # someone else saves meanwhile: our save is refused and the dialog shows their state
    with db.session() as s:
        t = service.get_ticket(s, ids["t0"])
        service.update_ticket(
            s,
            t.id,
            TicketChanges(subject="Von Lena geändert"),
            expected_version=t.version,
            user_id=ids["lena"],
        )
    dialog.description.setPlainText("meine Notiz")
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.save()
    assert "Someone else changed this ticket" in dialog.message.text()
    assert dialog.subject.text() == "Von Lena geändert"
    with db.session() as s:
        assert service.get_ticket(s, ids["t0"]).description == ""


def test_dialog_closed_ticket_is_read_only_until_reopened(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    ids = seed(sqlite_db, tickets=1)
    with sqlite_db.session() as s:
        t = service.get_ticket(s, ids["t0"])
        service.update_ticket(
            s,
            t.id,
            TicketChanges(status=TicketStatus.CLOSED),
            expected_version=t.version,
            user_id=ids["lena"],
        )
    dialog = open_dialog(qtbot, sqlite_db, runner, ids["t0"], ids["sabine"])
    assert not dialog.subject.isEnabled() and not dialog.reopen_button.isHidden()
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.reopen()
    qtbot.waitUntil(lambda: dialog.subject.isEnabled(), timeout=10_000)
    with sqlite_db.session() as s:
        assert service.get_ticket(s, ids["t0"]).status == TicketStatus.OPEN


def test_double_click_on_the_board_opens_the_ticket(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    ids = seed(sqlite_db, tickets=1)
    widget = make_board(qtbot, sqlite_db, runner, ids["sabine"], escalate=False)
    dialog = widget.open_ticket(ids["late"])
    qtbot.waitUntil(lambda: dialog.detail is not None, timeout=10_000)
    assert dialog.subject.text() == "Überfällig"
    dialog.close()
    widget.stop()
