"""Live refresh between two clients on one database (issue 8): what one saves appears in the
other's open list and record view within a second, without losing the selection; the banner
for a lost feed; an agent's window offers no delete, import or export."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from desktop_crm.cti.events import CallState
from desktop_crm.cti.simulator import ScriptedCall
from desktop_crm.data import records
from desktop_crm.data.changes import Change, FeedStatus
from desktop_crm.data.db import Database
from desktop_crm.data.models import Contact, Organization, Role
from desktop_crm.data.records import ContactInput, OrganizationInput
from desktop_crm.ui.main_window import MainWindow
from tests.helpers.integration import unavailable
from tests.helpers.postgres import PostgresServer, postgres_server
from tests.helpers.team import TeamDatabase
from tests.ui.conftest import seed_small

LIVE_MS = 1000  # from the other client's commit to this window


def _rename(other: Database, contact_id: int, first: str, last: str) -> None:
    with other.session() as s:
        version = s.get(Contact, contact_id).version  # type: ignore[union-attr]
        records.update_contact(
            s, contact_id, version, ContactInput(first_name=first, last_name=last)
        )


def _name_at(window: MainWindow, contact_id: int) -> str:
    row = window.contact_model.row_of(contact_id)
    assert row is not None
    return str(window.contact_model.index(row, 0).data())


def _selected_id(window: MainWindow) -> int | None:
    current = window.contact_table.currentIndex()
    return window.contact_model.contact_id(current.row()) if current.isValid() else None


def _select(qtbot: Any, window: MainWindow, contact_id: int) -> None:
    row = window.contact_model.row_of(contact_id)
    assert row is not None
    window.contact_table.selectRow(row)
    qtbot.waitUntil(
        lambda: window.contact_view.contact_id == contact_id and not window.detail_loading
    )


def _live(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.live.status is not None, timeout=5000)
    assert window.live.status.state == "connected"  # type: ignore[union-attr]


def test_a_change_by_another_client_appears_in_the_open_list_and_record(
    db: Database, open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    data = seed_small(db)
    other = Database(db.url)  # the second client: its own engine, as another process has
    try:
        window = open_window(db)
        _live(qtbot, window)
        time.sleep(0.3)  # the SQLite poller's first scan
        _select(qtbot, window, data.bernd)
        scroll = window.contact_table.verticalScrollBar().value()

        # a contact in the list (not the selected one) is renamed elsewhere
        _rename(other, data.anna, "Anna", "Schäfer-Lindner")
        qtbot.waitUntil(lambda: "Schäfer-Lindner" in _name_at(window, data.anna), timeout=LIVE_MS)
        assert _selected_id(window) == data.bernd

        # a new contact: the list grows, the selection stays on Bernd
        with other.session() as s:
            new_id = records.create_contact(s, ContactInput(last_name="Neumann")).id
        qtbot.waitUntil(lambda: window.contact_model.row_of(new_id) is not None, timeout=LIVE_MS)
        assert _selected_id(window) == data.bernd
        assert window.contact_table.verticalScrollBar().value() == scroll

        # the record shown changes: the detail pane shows the new name
        _rename(other, data.bernd, "Bernd", "Zimmermann-Kühn")
        qtbot.waitUntil(
            lambda: "Zimmermann-Kühn" in window.contact_view.name_label.text(), timeout=LIVE_MS
        )
        assert _selected_id(window) == data.bernd

        # a deleted contact leaves the list; the selection stays
        with other.session() as s:
            version = s.get(Contact, new_id).version  # type: ignore[union-attr]
            records.delete_contact(s, new_id, version)
        qtbot.waitUntil(lambda: window.contact_model.row_of(new_id) is None, timeout=LIVE_MS)
        assert _selected_id(window) == data.bernd
    finally:
        other.dispose()


def test_the_whole_list_held_as_anchors_keeps_the_selection_deep_in_it(
    sqlite_db: Database, open_window: Callable[..., MainWindow], qtbot: Any, monkeypatch: Any
) -> None:
    """Past its first screen the whole list is held as anchors: records added, renamed
    (which moves them in the name order) and deleted elsewhere move the rows, and the
    selection and the scroll position stay with the record."""
    from desktop_crm.data import queries
    from tests.ui.conftest import seed

    seed(sqlite_db)  # 250 contacts
    monkeypatch.setattr(MainWindow, "FIRST_PAGE", 40)
    other = Database(sqlite_db.url)
    try:
        window = open_window(sqlite_db)
        model = window.contact_model
        qtbot.waitUntil(lambda: model.by_anchors and model.rowCount() == 250, timeout=10_000)
        _live(qtbot, window)
        time.sleep(0.3)  # the SQLite poller's first scan
        with sqlite_db.session() as s:
            order = queries.contact_ids(s)
        chosen = order[170]
        _select(qtbot, window, chosen)
        window.contact_table.scrollTo(model.index(170, 0))
        scroll = window.contact_table.verticalScrollBar().value()

        def shown() -> list[int | None]:
            return [model.record_id(row) for row in range(model.rowCount())]

        def current() -> list[int]:
            with sqlite_db.session() as s:
                return queries.contact_ids(s)

        # two contacts sorting first arrive: the selected record moves down two rows
        with other.session() as s:
            for name in ("Aaron Aab", "Abel Aac"):
                first, last = name.split()
                records.create_contact(s, ContactInput(first_name=first, last_name=last))
        qtbot.waitUntil(lambda: model.rowCount() == 252, timeout=LIVE_MS * 3)
        assert _selected_id(window) == chosen == model.record_id(172)
        assert shown() == current()
        assert window.contact_table.verticalScrollBar().value() == scroll

        # a contact before the selection is renamed to sort after it: the list re-reads
        # its anchors (same count), the selected record moves up one row
        _rename(other, order[5], "Zacharias", "Zzyzx")
        qtbot.waitUntil(lambda: model.record_id(171) == chosen, timeout=LIVE_MS * 3)
        assert _selected_id(window) == chosen
        assert shown() == current()

        # the selected record itself is deleted elsewhere: no selection, the list shrinks
        with other.session() as s:
            version = s.get(Contact, chosen).version  # type: ignore[union-attr]
            records.delete_contact(s, chosen, version)
        qtbot.waitUntil(lambda: model.rowCount() == 251, timeout=LIVE_MS * 3)
        assert model.row_of(chosen) is None and shown() == current()
    finally:
        other.dispose()


def test_the_organizations_page_follows_changes_by_another_client(
    sqlite_db: Database, open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    seed_small(sqlite_db)
    other = Database(sqlite_db.url)
    try:
        window = open_window(sqlite_db)
        _live(qtbot, window)
        time.sleep(0.3)
        page = window.organizations_page
        window.show_page(window.ORGANIZATIONS)
        qtbot.waitUntil(lambda: page.loaded_once and page.current_id is not None)
        shown = page.current_id
        assert shown is not None
        with other.session() as s:
            version = s.get(Organization, shown).version  # type: ignore[union-attr]
            records.update_organization(
                s, shown, version, OrganizationInput(name="Müller Anlagenbau AG")
            )
            added = records.create_organization(s, OrganizationInput(name="Zeta GmbH")).id
        qtbot.waitUntil(lambda: "AG" in page.name_label.text(), timeout=LIVE_MS)
        qtbot.waitUntil(lambda: page.model.row_of(added) is not None, timeout=LIVE_MS)
        assert page.model.record_id(page.table.currentIndex().row()) == shown
    finally:
        other.dispose()


def test_an_open_edit_form_is_not_overwritten_but_told(
    sqlite_db: Database, open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    data = seed_small(sqlite_db)
    other = Database(sqlite_db.url)
    try:
        window = open_window(sqlite_db)
        _live(qtbot, window)
        time.sleep(0.3)
        dialog = window.edit_contact(data.anna)
        qtbot.waitUntil(lambda: dialog.version is not None)
        dialog.last_name_edit.setText("Mein Entwurf")
        _rename(other, data.anna, "Anna", "Von Anderen")
        qtbot.waitUntil(lambda: dialog.changed_elsewhere, timeout=LIVE_MS)
        assert dialog.last_name_edit.text() == "Mein Entwurf"
        assert "someone else" in dialog.error_label.text()
        dialog.save()
        qtbot.waitUntil(lambda: dialog.conflict_dialog is not None)
        dialog.conflict_dialog.reject()
        dialog.reject()
    finally:
        other.dispose()


def test_a_burst_of_changes_is_one_refresh_pass(
    sqlite_db: Database, open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    data = seed_small(sqlite_db)
    window = open_window(sqlite_db)
    live = window.live
    qtbot.waitUntil(lambda: not live.pass_timer.isActive() and not window.detail_loading)
    before = live.passes
    passes: list[Any] = []
    live.applied.connect(passes.append)

    def flood() -> None:
        for i in range(1000):
            live.bridge.submit(Change("contact", data.anna if i % 2 else data.bernd, "update"))

    threads = [threading.Thread(target=flood) for _ in range(1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    qtbot.waitUntil(lambda: len(passes) >= 1, timeout=LIVE_MS)
    qtbot.wait(300)
    assert live.passes == before + 1
    assert passes[0].changes == 1000


def test_the_banner_shows_a_lost_feed_and_goes_when_it_is_back(
    sqlite_db: Database, open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    seed_small(sqlite_db)
    window = open_window(sqlite_db)
    live = window.live
    _live(qtbot, window)
    assert not live.banner_visible
    live.bridge.submit(FeedStatus("disconnected", "server closed the connection", retry_in=4))
    qtbot.waitUntil(lambda: live.banner_visible)
    assert "retrying in 4 s" in live.banner_label.text()
    qtbot.waitUntil(lambda: "retrying in 3 s" in live.banner_label.text(), timeout=2000)
    before = live.passes
    live.bridge.submit(FeedStatus("connected"))
    qtbot.waitUntil(lambda: not live.banner_visible)
    qtbot.waitUntil(lambda: live.passes == before + 1)  # the catch-up refresh


# --- PostgreSQL: roles and a real restart ------------------------------------------------


def test_an_agent_window_offers_no_delete_import_or_export(
    team: TeamDatabase, open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    seed_small(team.owner)
    agent = team.login(Role.AGENT)
    window = open_window(agent)
    qtbot.waitUntil(lambda: window.live.identity is not None, timeout=5000)
    assert window.live.identity.role is Role.AGENT  # type: ignore[union-attr]
    for action in (window.delete_contact_action, window.import_action, window.export_action):
        assert not action.isVisible() and not action.isEnabled()
    assert "agent" in window.live.user_label.text()
    # an unknown caller: the pop-up does not offer what the server would refuse an agent
    window.calls.simulate(
        [ScriptedCall(number="+49 30 5550199", ring_seconds=5, outcome=CallState.MISSED)], speed=50
    )
    qtbot.waitUntil(lambda: bool(window.popup.visible_cards()), timeout=5000)
    card = window.popup.visible_cards()[0]
    assert card.name_label.text() == "Unknown caller"
    assert not card.create_button.isVisible() and not card.add_number_button.isVisible()
    assert card.note_edit.isVisible()  # a note is still welcome


def test_a_backoffice_window_keeps_delete_import_and_export(
    team: TeamDatabase, open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    backoffice = team.login(Role.BACKOFFICE)
    window = open_window(backoffice)
    qtbot.waitUntil(lambda: window.live.identity is not None, timeout=5000)
    for action in (window.delete_contact_action, window.import_action, window.export_action):
        assert action.isVisible() and action.isEnabled()


def test_a_refused_save_is_a_sentence_in_a_message_box(
    team: TeamDatabase, open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    data = seed_small(team.owner)
    agent = team.login(Role.AGENT)
    window = open_window(agent)
    dialog = window.edit_contact(data.anna)  # the menu hides it; the server still decides
    qtbot.waitUntil(lambda: dialog.version is not None)
    dialog.last_name_edit.setText("Agentenversuch")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.message_box is not None, timeout=5000)
    assert dialog.message_box.objectName() == "permissionDenied"  # type: ignore[union-attr]
    assert "agent" in dialog.message_box.text()  # type: ignore[union-attr]
    assert dialog.isVisible()  # the form stays open with what was typed
    assert dialog.last_name_edit.text() == "Agentenversuch"
    dialog.message_box.close()  # type: ignore[union-attr]
    dialog.reject()


@pytest.fixture(scope="module")
def restartable() -> Iterator[PostgresServer]:
    with postgres_server(private=True) as server:
        if isinstance(server, str):
            unavailable(server)
        assert isinstance(server, PostgresServer)
        yield server


def test_the_banner_follows_a_real_server_restart(
    restartable: PostgresServer, open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    name = restartable.new_database()
    db = Database(restartable.url_for(name))
    db.upgrade()
    try:
        window = open_window(db)
        live = window.live
        _live(qtbot, window)
        # restarted from a thread, so the window's event loop runs meanwhile as it would
        restart = threading.Thread(target=restartable.restart, kwargs={"down_seconds": 2.0})
        restart.start()
        try:
            qtbot.waitUntil(lambda: live.banner_visible, timeout=10_000)
            assert "Connection to the database lost" in live.banner_label.text()
        finally:
            restart.join()
        before = live.passes
        qtbot.waitUntil(lambda: not live.banner_visible, timeout=20_000)
        assert live.status is not None and live.status.state == "connected"
        qtbot.waitUntil(lambda: live.passes > before, timeout=5000)  # the catch-up refresh
        window.close()
    finally:
        db.dispose()
        restartable.drop_database(name)


def test_a_save_that_fails_for_a_lost_connection_says_so(qapp: Any) -> None:
    import psycopg
    from sqlalchemy.exc import OperationalError

    from desktop_crm.ui.errors import describe_error

    exc = OperationalError("UPDATE contact", {}, psycopg.OperationalError("connection refused"))
    assert "connection to the database was lost" in describe_error(exc)
    # SQLite's "database is locked" is not a lost connection
    import sqlite3

    locked = OperationalError("UPDATE contact", {}, sqlite3.OperationalError("database is locked"))
    assert "lost" not in describe_error(locked)
