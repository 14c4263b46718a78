"""The main window on real databases: opening, searching, the detail pane, database failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from desktop_crm.data import history, queries
from desktop_crm.data.db import Database
from desktop_crm.ui.contact_view import ContactView
from desktop_crm.ui.main_window import MainWindow
from desktop_crm.ui.models import ContactTableModel, HistoryModel
from desktop_crm.ui.tasks import TaskContext
from tests.ui.conftest import seed, seed_small

OpenWindow = Callable[..., MainWindow]


def _names(window: MainWindow) -> list[str]:
    model = window.contact_model
    return [model.data(model.index(r, ContactTableModel.NAME)) for r in range(model.rowCount())]


def _type_search(qtbot: Any, window: MainWindow, text_: str) -> None:
    window.search_box.clear()
    qtbot.keyClicks(window.search_box, text_)


def test_opens_on_an_empty_database(open_window: OpenWindow, db: Database) -> None:
    window = open_window(db)
    assert window.windowTitle() == f"desktop_crm — {db.display_url}"
    assert "password" not in window.windowTitle()
    assert window.contact_model.rowCount() == 0
    assert window.count_label.text() == "0 of 0 contacts shown"
    assert window.contact_view.currentWidget() is window.contact_view.hint
    assert window.search_box.placeholderText()


def test_opens_on_a_demo_database(open_window: OpenWindow, db: Database) -> None:
    seed(db)
    with db.session() as s:
        total = queries.count_contacts(s)
    window = open_window(db)
    assert window.contact_model.rowCount() == total > 0
    assert window.count_label.text() == f"{total} of {total} contacts shown"
    # the first contact is selected and shown
    first = window.contact_model.contact_id(0)
    assert window.contact_view.contact_id == first
    assert window.contact_view.currentWidget() is window.contact_view.page
    assert window.contact_view.name_label.text()
    # lazy: opening fetched one block of rows, not every row
    assert window.contact_model.fetches <= 2


def test_search_filters_as_you_type(open_window: OpenWindow, qtbot: Any, db: Database) -> None:
    data = seed_small(db)
    window = open_window(db)
    assert _names(window) == ["Anna Schäfer", "Clara Schmidt", "Bernd Zimmermann"]

    _type_search(qtbot, window, "schm")
    # debounced: nothing happens while typing, the list follows ~150 ms later
    assert window.search_timer.isActive()
    qtbot.waitUntil(lambda: _names(window) == ["Clara Schmidt"])
    assert window.count_label.text() == "1 of 3 contacts shown"

    _type_search(qtbot, window, data.hidden_number)
    qtbot.waitUntil(lambda: _names(window) == ["Bernd Zimmermann"])

    _type_search(qtbot, window, "gibt es nicht")
    qtbot.waitUntil(lambda: window.contact_model.rowCount() == 0)
    assert window.contact_view.currentWidget() is window.contact_view.hint
    assert "gibt es nicht" in window.contact_view.hint.text()

    window.search_box.setFocus()
    qtbot.keyClick(window.search_box, Qt.Key.Key_Escape)  # Escape clears the search
    assert window.search_box.text() == ""
    qtbot.waitUntil(lambda: window.contact_model.rowCount() == 3)  # searched in the background


def test_ctrl_f_focuses_the_search_box(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    seed_small(sqlite_db)
    window = open_window(sqlite_db)
    window.activateWindow()
    window.contact_table.setFocus()
    qtbot.waitUntil(window.contact_table.hasFocus)
    qtbot.keyClick(window.contact_table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.search_box.hasFocus)


def test_arrow_keys_in_the_search_box_move_through_the_list(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    seed_small(sqlite_db)
    window = open_window(sqlite_db)
    assert window.contact_table.currentIndex().row() == 0
    qtbot.keyClick(window.search_box, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: not window.searching and not window.detail_loading)
    assert window.contact_table.currentIndex().row() == 1
    assert window.contact_view.name_label.text() == "Clara Schmidt"


def test_selecting_a_contact_shows_its_history_newest_first(
    open_window: OpenWindow, qtbot: Any, db: Database
) -> None:
    data = seed_small(db)
    window = open_window(db)
    window.contact_table.selectRow(window.contact_model.row_of(data.bernd))
    qtbot.waitUntil(lambda: not window.detail_loading)
    view: ContactView = window.contact_view
    assert view.name_label.text() == "Bernd Zimmermann"
    assert view.history_model.rowCount() == 0
    assert view.history_label.text() == "History: no entries yet"

    window.contact_table.selectRow(window.contact_model.row_of(data.anna))
    qtbot.waitUntil(lambda: not window.detail_loading)
    assert view.name_label.text() == "Anna Schäfer"
    assert view.subtitle_label.text() == "Einkauf · Müller Anlagenbau GmbH"
    values = [label.text() for label in view.findChildren(type(view.name_label), "fieldValue")]
    # numbers are tel: links, addresses mailto: links; the text is what was typed
    assert '<a href="tel:+49892020447">089/2020447-25</a>' in values
    assert (
        '<a href="mailto:anna.schaefer@mueller-anlagenbau.de">'
        "anna.schaefer@mueller-anlagenbau.de</a>" in values
    )

    model = view.history_model
    subjects = [model.data(model.index(r, HistoryModel.SUBJECT)) for r in range(model.rowCount())]
    assert subjects == data.anna_subjects_newest_first
    times = [
        datetime.strptime(model.data(model.index(r, HistoryModel.TIME)), "%d.%m.%Y %H:%M")
        for r in range(model.rowCount())
    ]
    assert times == sorted(times, reverse=True)
    assert model.data(model.index(0, HistoryModel.KIND)) == "Call"
    assert model.data(model.index(0, HistoryModel.DIRECTION)) == "incoming · answered · 3:05"
    assert view.history_label.text() == "History (4)"
    # the newest entry is selected and readable below the list
    assert (
        view.body_view.toPlainText() == "Rückruf wegen Rechnung\n\nText zu Rückruf wegen Rechnung"
    )


def test_reload_shows_changes_of_the_selected_contact(
    open_window: OpenWindow, qtbot: Any, db: Database
) -> None:
    data = seed_small(db)
    window = open_window(db)
    assert window.contact_view.contact_id == data.anna
    assert window.contact_view.history_model.rowCount() == 4
    with db.session() as s:
        history.log_interaction(
            s,
            history.InteractionInput(
                kind=history.InteractionKind.NOTE, contact_id=data.anna, subject="Neu"
            ),
        )
    window.reload_action.trigger()
    qtbot.waitUntil(lambda: not window.searching and not window.detail_loading)
    assert window.contact_view.contact_id == data.anna
    assert window.contact_view.history_model.rowCount() == 5


def _hide_contacts(db: Database, hide: bool) -> None:
    with db.engine.begin() as conn:
        if hide:
            conn.execute(text("ALTER TABLE contact RENAME TO contact_hidden"))
        else:
            conn.execute(text("ALTER TABLE contact_hidden RENAME TO contact"))


@pytest.mark.allow_logged_errors
def test_a_database_error_is_shown_in_words_and_the_window_keeps_working(
    open_window: OpenWindow, qtbot: Any, db: Database
) -> None:
    seed_small(db)
    window = open_window(db)
    assert window.contact_model.rowCount() == 3
    _hide_contacts(db, True)
    try:
        window.reload_action.trigger()
        qtbot.waitUntil(lambda: not window.searching)
        message = window.statusBar().currentMessage()
        assert message.startswith("Database error:")
        assert "contact" in message
        assert "Traceback" not in message and "\n" not in message
        # typing still works, and tries again
        _type_search(qtbot, window, "schm")
        qtbot.waitUntil(lambda: not window.search_timer.isActive())
        assert window.statusBar().currentMessage().startswith("Database error:")
    finally:
        _hide_contacts(db, False)
    window.reload_action.trigger()
    qtbot.waitUntil(lambda: not window.searching)
    assert window.statusBar().currentMessage() == ""
    assert _names(window) == ["Clara Schmidt"]


@pytest.mark.allow_logged_errors
def test_rows_that_cannot_be_loaded_are_reported_after_painting(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    seed_small(sqlite_db)
    window = open_window(sqlite_db)
    ids = window.contact_model.ids
    _hide_contacts(sqlite_db, True)
    try:
        window.contact_model.set_ids(ids)  # forget the cached rows
        window.contact_table.viewport().repaint()
        qtbot.waitUntil(lambda: "Database error" in window.statusBar().currentMessage())
        assert _names(window) == ["…", "…", "…"]
    finally:
        _hide_contacts(sqlite_db, False)
    window.reload_action.trigger()
    qtbot.waitUntil(lambda: not window.searching)
    assert _names(window) == ["Anna Schäfer", "Clara Schmidt", "Bernd Zimmermann"]


def test_closing_the_window_stops_its_workers(
    open_window: OpenWindow, qapp: QApplication, sqlite_db: Database
) -> None:
    window = open_window(sqlite_db)
    started = threading.Event()

    def work(context: TaskContext) -> None:
        started.set()
        while True:
            context.raise_if_cancelled()
            time.sleep(0.005)

    task = window.tasks.run(work, on_done=lambda _r: None, name="endless")
    assert started.wait(5)
    window.close()
    assert task.thread is not None and not task.thread.is_alive()
