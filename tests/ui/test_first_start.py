"""First start: demo data is offered only on an empty default database, and loads off the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication, QPushButton

from desktop_crm.app import run_gui
from desktop_crm.data import queries
from desktop_crm.data.db import Database
from desktop_crm.ui.main_window import DEMO_CONTACTS, MainWindow
from tests.ui.conftest import make_settings, need_demo, seed_small

OpenWindow = Callable[..., MainWindow]


class Answer:
    """The injected question dialog: records that it was asked, answers without blocking."""

    def __init__(self, yes: bool) -> None:
        self.yes = yes
        self.asked: list[Any] = []

    def __call__(self, parent: Any) -> bool:
        self.asked.append(parent)
        return self.yes


def test_yes_loads_demo_data_in_the_background(
    open_window: OpenWindow, qtbot: Any, db: Database
) -> None:
    demo = need_demo()
    answer = Answer(yes=True)
    seeding_threads: list[threading.Thread] = []
    real_seed = demo.seed_demo

    def spy(*args: Any, **kwargs: Any) -> Any:
        seeding_threads.append(threading.current_thread())
        return real_seed(*args, **kwargs)

    demo.seed_demo = spy
    try:
        window = open_window(db, is_default_database=True, confirm=answer)
        qtbot.waitUntil(lambda: bool(answer.asked))
        assert answer.asked == [window]
        assert window.progress_dialog is not None and window.progress_dialog.isVisible()
        qtbot.waitUntil(lambda: window.contact_model.rowCount() > 0, timeout=60_000)
    finally:
        demo.seed_demo = real_seed
    assert seeding_threads and seeding_threads[0] is not threading.main_thread()
    assert window.contact_model.rowCount() == DEMO_CONTACTS
    assert window.count_label.text() == f"{DEMO_CONTACTS} of {DEMO_CONTACTS} contacts shown"
    assert window.progress_dialog is None and window.demo_task is None
    assert window.statusBar().currentMessage().startswith("Demo data loaded: 250 contacts")
    qtbot.waitUntil(lambda: not window.detail_loading)
    assert window.contact_view.contact_id == window.contact_model.contact_id(0)


def test_no_leaves_the_database_empty(open_window: OpenWindow, qtbot: Any, db: Database) -> None:
    answer = Answer(yes=False)
    window = open_window(db, is_default_database=True, confirm=answer)
    qtbot.waitUntil(lambda: bool(answer.asked))
    assert window.demo_task is None and window.progress_dialog is None
    assert window.contact_model.rowCount() == 0
    with db.session() as s:
        assert queries.count_contacts(s) == 0
    window.close()
    # the answer is remembered for this database: the next start does not ask again
    again = Answer(yes=True)
    second = open_window(db, is_default_database=True, confirm=again)
    for _ in range(5):
        QApplication.processEvents()
    assert again.asked == [] and second.demo_task is None


@pytest.mark.parametrize(
    ("is_default", "offer", "filled"),
    [(False, True, False), (True, False, False), (True, True, True)],
    ids=["not-the-default-database", "offer-turned-off", "not-empty"],
)
def test_no_question_unless_empty_default_and_wanted(
    open_window: OpenWindow,
    qapp: QApplication,
    sqlite_db: Database,
    is_default: bool,
    offer: bool,
    filled: bool,
) -> None:
    if filled:
        seed_small(sqlite_db)
    answer = Answer(yes=True)
    window = open_window(
        sqlite_db, is_default_database=is_default, confirm=answer, offer_demo_data=offer
    )
    for _ in range(5):
        qapp.processEvents()
    assert answer.asked == []
    assert window.demo_task is None


def test_cancelling_keeps_nothing(open_window: OpenWindow, qtbot: Any, sqlite_db: Database) -> None:
    need_demo()
    window = open_window(sqlite_db)
    release = threading.Event()
    import desktop_crm.data.demo as demo

    real_seed = demo.seed_demo

    def slow_seed(db: Database, **kwargs: Any) -> Any:
        progress = kwargs["progress"]

        def gated(done: int, total: int) -> None:
            release.wait(5)  # hold the worker until the user has pressed Cancel
            progress(done, total)

        return real_seed(db, **{**kwargs, "progress": gated})

    demo.seed_demo = slow_seed
    try:
        window.load_demo_data()
        assert window.progress_dialog is not None
        cancel_button = window.progress_dialog.findChild(QPushButton)
        qtbot.mouseClick(cancel_button, Qt.MouseButton.LeftButton)
        assert window.statusBar().currentMessage() == "Cancelling…"
        release.set()
        qtbot.waitUntil(lambda: window.demo_task is None and not window.searching, timeout=30_000)
    finally:
        demo.seed_demo = real_seed
    assert window.statusBar().currentMessage() == "Loading the demo data was cancelled."
    with sqlite_db.session() as s:
        assert queries.count_contacts(s) == 0
    assert window.demo_action.isEnabled()


def test_run_gui_runs_and_returns_the_exit_code(
    qapp: QApplication, qtbot: Any, tmp_path: Any, sqlite_db: Database
) -> None:
    seed_small(sqlite_db)
    seen: dict[str, Any] = {}

    def look_and_quit() -> None:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen["windows"] = windows
        seen["rows"] = windows[0].contact_model.rowCount() if windows else None
        qapp.quit()

    QTimer.singleShot(200, look_and_quit)
    settings = make_settings(tmp_path, language="en")
    code = run_gui(sqlite_db, settings, is_default_database=True, confirm=Answer(yes=True))
    assert code == 0
    assert len(seen["windows"]) == 1
    assert seen["windows"][0].windowTitle().startswith("desktop_crm — sqlite:///")
    assert seen["rows"] == 3
    assert qapp.applicationName() == "desktop_crm"
    # no quit request is left behind to end the next event loop of this process at once
    qapp.processEvents()
    loop = QEventLoop()
    QTimer.singleShot(20, loop.quit)
    assert loop.exec() == 0


@pytest.mark.allow_logged_errors
def test_a_failing_demo_load_is_reported_and_the_window_keeps_working(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = need_demo()
    from desktop_crm.data.errors import DataError

    def broken(_db: Database, **_kwargs: Any) -> Any:
        raise DataError("The demo data clashes with records already in this database.")

    monkeypatch.setattr(demo, "seed_demo", broken)
    window = open_window(sqlite_db)
    window.load_demo_data()
    qtbot.waitUntil(lambda: window.message_box is not None)
    box = window.message_box
    assert box is not None
    assert box.text() == (
        "The demo data could not be loaded.\n\n"
        "The demo data clashes with records already in this database."
    )
    assert "Traceback" not in box.text()
    box.accept()
    qtbot.waitUntil(lambda: window.message_box is None)
    assert window.demo_task is None and window.demo_action.isEnabled()
    window.reload_action.trigger()
    qtbot.waitUntil(lambda: not window.searching)
    assert window.contact_model.rowCount() == 0


def test_loading_twice_adds_nothing(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    need_demo()
    window = open_window(sqlite_db)
    window.load_demo_data(contacts=20)
    qtbot.waitUntil(lambda: window.demo_task is None and not window.searching, timeout=30_000)
    assert window.contact_model.rowCount() == 20
    window.load_demo_data(contacts=20)
    qtbot.waitUntil(lambda: window.demo_task is None and not window.searching, timeout=30_000)
    assert window.statusBar().currentMessage() == (
        "The demo data is already in this database; nothing was added."
    )
    assert window.contact_model.rowCount() == 20


@pytest.mark.allow_logged_errors
def test_no_question_when_the_database_cannot_be_read(
    open_window: OpenWindow, qapp: QApplication, sqlite_db: Database
) -> None:
    with sqlite_db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE contact RENAME TO contact_hidden")
    answer = Answer(yes=True)
    window = open_window(sqlite_db, is_default_database=True, confirm=answer)
    for _ in range(5):
        qapp.processEvents()
    assert answer.asked == []
    assert window.statusBar().currentMessage().startswith("Database error:")
