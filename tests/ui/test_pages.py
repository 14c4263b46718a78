"""Navigation and the pages beside the contacts: organizations (360°), calls, placeholders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from desktop_crm.cti.events import CallEvent, CallState
from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.tickets.service import TicketInput, create_ticket
from desktop_crm.ui.main_window import MainWindow
from desktop_crm.ui.models import CallTableModel, OrganizationTableModel
from desktop_crm.ui.reader import CrmReader
from tests.ui.conftest import seed_small

OpenWindow = Callable[..., MainWindow]


def test_models_of_the_other_pages_pass_qtmodeltester(
    qtmodeltester: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    reader = CrmReader(sqlite_db)
    organizations = OrganizationTableModel(reader.organization_rows)
    organizations.set_ids(reader.organization_ids("").ids)
    assert organizations.rowCount() == 1
    assert organizations.data(organizations.index(0, OrganizationTableModel.NAME)) == (
        "Müller Anlagenbau GmbH"
    )
    qtmodeltester.check(organizations)
    calls = CallTableModel(reader.call_rows)
    calls.set_ids(reader.call_ids())
    assert calls.rowCount() == 1
    assert calls.data(calls.index(0, CallTableModel.WHO)) == "Anna Schäfer"
    assert calls.data(calls.index(0, CallTableModel.OUTCOME)) == "incoming · answered · 3:05"
    qtmodeltester.check(calls)
    assert data.anna


def test_navigation_has_the_five_pages_and_a_tickets_placeholder_to_replace(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    window = open_window(sqlite_db)
    names = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert names == ["Contacts", "Organizations", "Calls", "Mail", "Tickets"]
    window.navigation.setCurrentRow(window.TICKETS)
    assert window.pages.currentWidget().objectName() == "ticketsPage"
    board = QWidget()
    board.setObjectName("board")
    window.set_tickets_page(board)
    assert window.pages.currentWidget() is board
    window.navigation.setCurrentRow(window.MAIL)
    assert window.pages.currentWidget() is window.mail_page
    # Ctrl+F goes back to the contacts and their search
    window.find_action.trigger()
    assert window.pages.currentIndex() == window.CONTACTS


def test_the_organization_page_is_a_360_degree_view(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    with sqlite_db.session() as s:
        org_id = records.get_contact(s, data.anna).organization_id
        create_ticket(s, TicketInput("Wartung Halle 2", organization_id=org_id))
    window = open_window(sqlite_db)
    window.navigation.setCurrentRow(window.ORGANIZATIONS)
    page = window.organizations_page
    qtbot.waitUntil(lambda: page.name_label.text() == "Müller Anlagenbau GmbH", timeout=5000)
    fields = [w.text() for w in page.findChildren(QLabel, "organizationField")]
    assert "K-1001" in fields
    assert any(f'href="contact:{data.anna}"' in f for f in fields)
    assert any("Wartung Halle 2" in f for f in fields)
    assert page.history_model.rowCount() == 5  # the history of its people and the ticket
    page._link(f"contact:{data.anna}")
    assert window.pages.currentIndex() == window.CONTACTS
    qtbot.waitUntil(lambda: not window.detail_loading)
    assert window.contact_view.contact_id == data.anna
    # the contact's 360° view names the organization's open tickets and colleagues
    values = [w.text() for w in window.contact_view.findChildren(QLabel, "fieldValue")]
    assert any("Müller Anlagenbau GmbH" in v for v in values)


def test_the_calls_page_lists_calls_newest_first_and_filters_missed(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    window = open_window(sqlite_db)
    assert window.calls.listener is not None
    for call_id, state in (("m1", CallState.RINGING), ("m1", CallState.MISSED)):
        window.calls.listener.enqueue(
            CallEvent(call_id=call_id, state=state, source="t", remote_number="0171 5558123")
        )
    qtbot.waitUntil(lambda: window.tray.missed == 1, timeout=5000)

    def logged_as_missed() -> bool:  # the history row is written after the pop-up is told
        from desktop_crm.data.models import Interaction

        with sqlite_db.session() as s:
            rows = s.query(Interaction.outcome).filter(Interaction.external_id == "m1").all()
            return [r[0] for r in rows] == ["missed"]

    qtbot.waitUntil(logged_as_missed, timeout=5000)
    window.navigation.setCurrentRow(window.CALLS)
    page = window.calls_page
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    assert window.tray.missed == 0  # seen
    first = page.model.row_data(0)
    assert first is not None and first.who == "Bernd Zimmermann" and first.outcome == "missed"
    page.missed_only.setChecked(True)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    page.table.doubleClicked.emit(page.model.index(0, 0))
    assert window.pages.currentIndex() == window.CONTACTS
    qtbot.waitUntil(lambda: not window.detail_loading)
    assert window.contact_view.contact_id == data.bernd
    assert Qt  # used for typing of the flags above


def test_the_whole_list_shows_its_first_screen_then_the_rest_without_a_reset(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database, monkeypatch: Any
) -> None:
    from tests.ui.conftest import seed

    seed(sqlite_db)
    monkeypatch.setattr(MainWindow, "FIRST_PAGE", 40)
    window = open_window(sqlite_db)
    qtbot.waitUntil(lambda: window.contact_model.rowCount() == 250, timeout=10_000)
    assert window.count_label.text() == "250 of 250 contacts shown"
    assert window.contact_table.currentIndex().row() == 0  # the selection stayed
    model = window.contact_model
    assert model.by_anchors  # the rest is held as anchors every BLOCK rows, not as ids
    assert model.anchors is not None and len(model.anchors.ids) == 2  # rows 0 and 200
    ids = [model.record_id(row) for row in range(model.rowCount())]
    with sqlite_db.session() as s:
        from desktop_crm.data import queries

        assert ids == list(queries.all_contact_ids(s))
        assert ids == queries.contact_ids(s)  # the same order as the query the services use
