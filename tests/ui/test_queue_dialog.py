"""The queue settings dialog: create and change queues as the command line does, typed text
survives every refusal, and only roles that may change queues see its button."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from desktop_crm.data.db import Database
from desktop_crm.data.models import (
    AssignmentMode,
    Queue,
    QueueBusinessHours,
    QueueClosedDay,
    QueueMember,
    QueueSlaTarget,
    Role,
    TicketPriority,
    User,
)
from desktop_crm.tickets import service
from desktop_crm.tickets.assignment import set_members
from desktop_crm.tickets.calendar import parse_duration, parse_hours
from desktop_crm.tickets.service import QueueSetup, QueueUser
from desktop_crm.ui.board import TicketBoard
from desktop_crm.ui.board.queue_dialog import MemberListModel, QueueDialog
from desktop_crm.ui.live import Identity
from desktop_crm.ui.main_window import MainWindow
from desktop_crm.ui.tasks import TaskRunner
from tests.helpers.team import TeamDatabase


@pytest.fixture
def runner(qapp: Any) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    r.shutdown()
    r.deleteLater()


def add_people(db: Database) -> dict[str, int]:
    with db.session() as s:
        people = {}
        for login, active in (("lena", True), ("murat", True), ("sabine", True), ("otto", False)):
            user = User(login=login, name=login.title(), active=active)
            s.add(user)
            s.flush()
            people[login] = user.id
    return people


def open_dialog(qtbot: Any, db: Database, runner: TaskRunner) -> QueueDialog:
    dialog = QueueDialog(db, runner)
    dialog.confirm_discard = lambda: True  # type: ignore[method-assign]  # no modal question
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    return dialog


def tick(model: MemberListModel, user_id: int, on: bool = True) -> None:
    row = next(r for r, u in enumerate(model.users) if u.id == user_id)
    state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
    assert model.setData(model.index(row), state.value, Qt.ItemDataRole.CheckStateRole)


def save(qtbot: Any, dialog: QueueDialog) -> int:
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        dialog.save()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)  # the list is read again
    return int(saved.args[0])


def stored(db: Database, queue_id: int) -> dict[str, Any]:
    with db.session() as s:
        queue = s.get(Queue, queue_id)
        assert queue is not None
        hours = {
            (h.weekday, h.start_minute, h.end_minute)
            for h in s.scalars(
                select(QueueBusinessHours).where(QueueBusinessHours.queue_id == queue_id)
            )
        }
        targets = {
            t.priority: (t.first_response_minutes, t.resolution_minutes)
            for t in s.scalars(select(QueueSlaTarget).where(QueueSlaTarget.queue_id == queue_id))
        }
        members = set(
            s.scalars(select(QueueMember.user_id).where(QueueMember.queue_id == queue_id))
        )
        closed = set(
            s.scalars(select(QueueClosedDay.day).where(QueueClosedDay.queue_id == queue_id))
        )
        return {
            "name": queue.name,
            "email": queue.email,
            "description": queue.description,
            "time_zone": queue.time_zone,
            "holidays": (queue.holiday_country, queue.holiday_subdivision),
            "at_risk": queue.at_risk_percent,
            "mode": queue.assignment_mode,
            "supervisor": queue.supervisor_id,
            "hours": hours,
            "targets": targets,
            "members": members,
            "closed": closed,
        }


@pytest.mark.parametrize(
    "text",
    [
        "mo-fr 08:00-17:00",
        "mo-fr 08:00-12:00,13:00-17:00; sa 09:00-12:00",
        "mo 00:00-24:00; we 08:00-16:00; fr-su 10:00-14:00",
        "sa-mo 09:00-12:00",  # wraps over the week's end
    ],
)
def test_hours_and_durations_read_back_as_the_command_line_writes_them(text: str) -> None:
    hours = parse_hours(text)
    assert parse_hours(service.hours_text(hours)) == hours
    for minutes in (0, 30, 60, 270, 1440, 2700):
        assert parse_duration(service.duration_text(minutes)) == minutes
    assert service.duration_text(None) == ""
    assert service.hours_text(parse_hours("mo-fr 08:00-17:00")) == "mo-fr 08:00-17:00"


def test_member_model_passes_qtmodeltester(qtmodeltester: Any) -> None:
    model = MemberListModel()
    model.set_users(
        [QueueUser(1, "Lena", True), QueueUser(2, "Murat", True), QueueUser(3, "Otto", False)],
        [2, 3],
    )
    qtmodeltester.check(model)
    assert [u.name for u in model.users] == ["Lena", "Murat", "Otto"]  # Otto is a member
    assert model.index(2).data() == "Otto (inactive)"
    tick(model, 1)
    assert model.member_ids() == [1, 2, 3]
    model.set_users([QueueUser(1, "Lena", True), QueueUser(3, "Otto", False)], [])
    assert [u.name for u in model.users] == ["Lena"]  # inactive non-members are not offered
    qtmodeltester.check(model)


def test_a_new_queue_is_stored_as_the_command_line_would(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    people = add_people(sqlite_db)
    dialog = open_dialog(qtbot, sqlite_db, runner)
    assert dialog.queue_id is None and dialog.queue_list.count() == 0  # no queue yet: a new one
    assert [u.name for u in dialog.members_model.users] == ["Lena", "Murat", "Sabine"]
    qtbot.keyClicks(dialog.name, "Hotline Wien")
    dialog.description.setPlainText("Anrufe aus Österreich")
    dialog.email.setText("hotline@example.at")
    dialog.time_zone.setCurrentText("Europe/Vienna")
    dialog.holidays.setCurrentText("AT")
    dialog.hours.setText("mo-fr 08:00-12:00,13:00-17:00; sa 09:00-12:00")
    assert dialog.hours_note.text() == "Open 43 hours a week."
    dialog.first_response[TicketPriority.URGENT].setText("30m")
    dialog.resolution[TicketPriority.URGENT].setText("4h 30m")
    dialog.first_response[TicketPriority.LOW].clear()
    dialog.resolution[TicketPriority.LOW].clear()
    dialog.at_risk.setValue(80)
    dialog.assignment.setCurrentIndex(dialog.assignment.findData("round_robin"))
    tick(dialog.members_model, people["lena"])
    tick(dialog.members_model, people["murat"])
    dialog.supervisor.setCurrentIndex(dialog.supervisor.findData(people["sabine"]))

    queue_id = save(qtbot, dialog)

    row = stored(sqlite_db, queue_id)
    assert row["name"] == "Hotline Wien"
    assert row["email"] == "hotline@example.at"
    assert row["description"] == "Anrufe aus Österreich"
    assert row["time_zone"] == "Europe/Vienna"
    assert row["holidays"] == ("AT", None)
    assert row["hours"] == {(d, 480, 720) for d in range(5)} | {
        (d, 780, 1020) for d in range(5)
    } | {(5, 540, 720)}
    assert row["targets"] == {
        TicketPriority.URGENT: (30, 270),
        TicketPriority.HIGH: service.DEFAULT_TARGETS[TicketPriority.HIGH],
        TicketPriority.NORMAL: service.DEFAULT_TARGETS[TicketPriority.NORMAL],
        TicketPriority.LOW: (None, None),  # empty: no target, not the default
    }
    assert row["at_risk"] == 80
    assert row["mode"] is AssignmentMode.ROUND_ROBIN
    assert row["members"] == {people["lena"], people["murat"]}
    assert row["supervisor"] == people["sabine"]
    # the list shows the new queue, selected; the form shows it as stored
    assert dialog.queue_list.count() == 1
    assert dialog.queue_list.currentItem().text() == "Hotline Wien"
    assert dialog.queue_id == queue_id and not dialog.dirty
    assert dialog.message.text() == "Saved."
    assert dialog.resolution[TicketPriority.URGENT].text() == "4h 30m"


def test_an_existing_queue_is_prefilled_and_changed_in_place(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    people = add_people(sqlite_db)
    with sqlite_db.session() as s:
        service.save_queue(s, QueueSetup("Backoffice"))
        queue = service.save_queue(
            s,
            QueueSetup(
                "Support",
                holidays="DE-BY",
                hours=parse_hours("mo-fr 08:00-17:00; sa 09:00-12:00"),
                closed_days=[date(2026, 12, 24)],
                targets={
                    TicketPriority.URGENT: (60, 240),
                    TicketPriority.HIGH: (120, None),
                    TicketPriority.NORMAL: (480, 2700),
                    TicketPriority.LOW: (None, None),
                },
                at_risk_percent=60,
                assignment_mode=AssignmentMode.LEAST_BUSY,
                supervisor_id=people["sabine"],
                email="support@example.de",
            ),
        )
        set_members(s, queue.id, [people["lena"], people["otto"]])
        support = queue.id
    dialog = open_dialog(qtbot, sqlite_db, runner)
    assert [dialog.queue_list.item(i).text() for i in range(2)] == ["Backoffice", "Support"]
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.queue_list.setCurrentRow(1)
    assert dialog.queue_id == support
    assert dialog.name.text() == "Support"
    assert dialog.email.text() == "support@example.de"
    assert dialog.holidays.currentText() == "DE-BY"
    assert dialog.time_zone.currentText() == "Europe/Berlin"
    assert dialog.hours.text() == "mo-fr 08:00-17:00; sa 09:00-12:00"
    assert dialog.first_response[TicketPriority.URGENT].text() == "1h"
    assert dialog.resolution[TicketPriority.URGENT].text() == "4h"
    assert dialog.resolution[TicketPriority.NORMAL].text() == "45h"
    assert dialog.resolution[TicketPriority.HIGH].text() == ""
    assert dialog.first_response[TicketPriority.LOW].text() == ""
    assert dialog.at_risk.value() == 60
    assert dialog.assignment.currentData() == "least_busy"
    assert dialog.supervisor.currentData() == people["sabine"]
    assert dialog.members_model.member_ids() == sorted([people["lena"], people["otto"]])
    assert not dialog.dirty

    dialog.name.setText("Support DE")  # a rename, not a second queue
    dialog.hours.setText("mo-do 08:00-16:00; fr 08:00-14:00")
    dialog.resolution[TicketPriority.HIGH].setText("1d")
    tick(dialog.members_model, people["otto"], on=False)
    tick(dialog.members_model, people["murat"])
    dialog.supervisor.setCurrentIndex(0)  # nobody
    assert dialog.dirty
    assert save(qtbot, dialog) == support

    row = stored(sqlite_db, support)
    assert row["name"] == "Support DE"
    assert row["hours"] == {(d, 480, 960) for d in range(4)} | {(4, 480, 840)}
    assert row["targets"][TicketPriority.HIGH] == (120, 1440)
    assert row["targets"][TicketPriority.LOW] == (None, None)
    assert row["members"] == {people["lena"], people["murat"]}
    assert row["supervisor"] is None
    assert row["holidays"] == ("DE", "BY")
    assert row["at_risk"] == 60
    assert row["closed"] == {date(2026, 12, 24)}  # not edited here, so kept
    with sqlite_db.session() as s:
        assert list(s.scalars(select(Queue.name).order_by(Queue.name))) == [
            "Backoffice",
            "Support DE",
        ]


def test_bad_hours_show_the_parser_error_and_keep_the_text(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, sqlite_db, runner)
    dialog.name.setText("Hotline")
    dialog.hours.setText("mo-xy 08:00-17:00")
    assert dialog.hours_note.text().startswith("Not understood:")
    assert "'mo-xy' is not a weekday range" in dialog.hours_note.text()
    dialog.hours.setText("mo-fr 17:00-08:00")  # live: every change is checked again
    assert "ends before it starts" in dialog.hours_note.text()
    dialog.first_response[TicketPriority.URGENT].setText("soon")
    assert "'soon' is not a duration" in dialog.targets_note.text()
    dialog.save()  # refused before anything runs
    assert not dialog.busy
    assert dialog.message.text().startswith("Not saved:")
    assert dialog.hours.text() == "mo-fr 17:00-08:00"
    assert dialog.first_response[TicketPriority.URGENT].text() == "soon"
    with sqlite_db.session() as s:
        assert s.scalar(select(Queue.id)) is None


def test_a_refusal_from_the_database_is_a_sentence_and_keeps_the_form(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    with sqlite_db.session() as s:
        service.save_queue(s, QueueSetup("Support", at_risk_percent=50))
    dialog = open_dialog(qtbot, sqlite_db, runner)
    dialog.new_queue()
    assert dialog.queue_id is None and dialog.name.text() == ""
    dialog.name.setText("Support")  # taken: saving would overwrite that queue
    dialog.time_zone.setCurrentText("Europe/Wien")
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.busy and bool(dialog.message.text()), timeout=10_000)
    assert "there is already a queue named 'Support'" in dialog.message.text()
    dialog.name.setText("Support Wien")
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.busy and bool(dialog.message.text()), timeout=10_000)
    assert "'Europe/Wien' is not a time zone" in dialog.message.text()
    assert dialog.name.text() == "Support Wien"  # nothing typed is lost
    assert dialog.time_zone.currentText() == "Europe/Wien"
    assert dialog.form.isEnabled()
    with sqlite_db.session() as s:
        assert s.scalar(select(Queue.at_risk_percent).where(Queue.name == "Support")) == 50
        assert s.scalar(select(Queue.id).where(Queue.name == "Support Wien")) is None


def test_someone_elses_save_in_between_is_not_overwritten(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    with sqlite_db.session() as s:
        service.save_queue(s, QueueSetup("Support", at_risk_percent=50))
    dialog = open_dialog(qtbot, sqlite_db, runner)
    with sqlite_db.session() as s:
        service.save_queue(s, QueueSetup("Support", at_risk_percent=90))
    dialog.at_risk.setValue(70)
    dialog.save()
    qtbot.waitUntil(lambda: "Someone else changed" in dialog.message.text(), timeout=10_000)
    assert dialog.at_risk.value() == 70
    with sqlite_db.session() as s:
        assert s.scalar(select(Queue.at_risk_percent)) == 90
    save(qtbot, dialog)  # saving again is a choice, made knowingly
    with sqlite_db.session() as s:
        assert s.scalar(select(Queue.at_risk_percent)) == 70


def test_unsaved_changes_are_dropped_only_when_the_user_says_so(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    with sqlite_db.session() as s:
        service.save_queue(s, QueueSetup("Backoffice"))
        service.save_queue(s, QueueSetup("Support"))
    dialog = open_dialog(qtbot, sqlite_db, runner)
    answers: list[bool] = []

    def keep_editing() -> bool:
        answers.append(False)
        return False

    dialog.confirm_discard = keep_editing  # type: ignore[method-assign]
    dialog.hours.setText("mo-fr 07:00-19:00")
    dialog.queue_list.setCurrentRow(1)
    assert answers == [False]
    assert dialog.queue_list.currentRow() == 0 and dialog.name.text() == "Backoffice"
    assert dialog.hours.text() == "mo-fr 07:00-19:00"
    dialog.new_queue()
    assert answers == [False, False] and dialog.queue_id is not None
    dialog.confirm_discard = lambda: True  # type: ignore[method-assign]
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.queue_list.setCurrentRow(1)
    assert dialog.name.text() == "Support" and dialog.hours.text() == "mo-fr 08:00-17:00"


def test_the_board_opens_the_dialog_and_refreshes_after_a_save(
    qtbot: Any, sqlite_db: Database, runner: TaskRunner
) -> None:
    board = TicketBoard(sqlite_db, runner, None, poll_interval_ms=60_000, escalate=False)
    qtbot.addWidget(board)
    board.resize(1000, 700)
    board.show()
    with qtbot.waitSignal(board.refreshed, timeout=10_000):
        board.start()
    assert board.queues_button.isVisible()  # a local SQLite file: everything is allowed
    qtbot.mouseClick(board.queues_button, Qt.MouseButton.LeftButton)
    dialog = board.queue_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    dialog.name.setText("Hotline")
    with qtbot.waitSignal(board.refreshed, timeout=10_000):
        save(qtbot, dialog)
    assert [r.name for r in board.queue_model.rows if r.queue_id is not None] == ["Hotline"]
    dialog.close()
    assert board.open_queues() is dialog  # one dialog, read again
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    board.stop()


def test_the_button_follows_the_role(
    qtbot: Any, sqlite_db: Database, open_window: Callable[..., MainWindow]
) -> None:
    window = open_window(sqlite_db)
    window.show_page(window.TICKETS)
    page: Any = window.tickets_page
    qtbot.waitUntil(lambda: page.board is not None, timeout=10_000)
    page.tabs.setCurrentWidget(page.board)
    button = page.board.queues_button
    qtbot.waitUntil(button.isVisible)
    window.live.apply_role(Identity("lena", Role.AGENT))
    assert not button.isVisible()
    window.live.apply_role(Identity("sabine", Role.SUPERVISOR))
    assert button.isVisible()


def test_an_agent_sees_no_button_and_the_server_refuses_anyway(
    team: TeamDatabase, open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    agent = team.login(Role.AGENT)
    window = open_window(agent)
    qtbot.waitUntil(lambda: window.live.identity is not None, timeout=5000)
    window.show_page(window.TICKETS)
    page: Any = window.tickets_page
    qtbot.waitUntil(lambda: page.board is not None, timeout=10_000)
    page.tabs.setCurrentWidget(page.board)
    qtbot.waitExposed(page.board)
    assert not page.board.queues_button.isVisible()
    dialog = page.board.open_queues()  # hidden, not impossible: the server still decides
    dialog.confirm_discard = lambda: True  # type: ignore[method-assign]
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    dialog.name.setText("Agentenqueue")
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.busy and bool(dialog.message.text()), timeout=10_000)
    assert "agent" in dialog.message.text() and "queue" in dialog.message.text()
    assert dialog.name.text() == "Agentenqueue"
    dialog.close()
