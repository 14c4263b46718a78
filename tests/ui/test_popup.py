"""The caller pop-up end to end: event → listener → bridge → pop-up → note in the history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from desktop_crm.cti.calllog import ResolvedCall
from desktop_crm.cti.events import (
    CallEvent,
    CallState,
    SourceProblem,
    SourceState,
    SourceStatus,
)
from desktop_crm.data import queries, records
from desktop_crm.data.db import Database
from desktop_crm.data.models import CallerPick, Interaction, InteractionKind, Ticket
from desktop_crm.data.records import ContactInput, PhoneInput
from desktop_crm.identify.resolve import Channel, Match, MatchedRecord, Reason, RecordKind
from desktop_crm.identify.resolve import Resolution as Res
from desktop_crm.ui.call_dialogs import FindContactDialog, NewTicketDialog, SimulateCallDialog
from desktop_crm.ui.calls import CallUpdate
from desktop_crm.ui.contact_form import ContactDialog
from desktop_crm.ui.main_window import MainWindow
from desktop_crm.ui.popup import CallCard, CallerPopup
from tests.ui.conftest import seed_small

OpenWindow = Callable[..., MainWindow]


def ring(window: MainWindow, number: str | None, call_id: str = "call-1", **kw: Any) -> None:
    """An INVITE as a source reports it, into the running listener (its worker thread)."""
    assert window.calls.listener is not None
    window.calls.listener.enqueue(
        CallEvent(
            call_id=call_id,
            state=kw.pop("state", CallState.RINGING),
            source="test",
            remote_number=number,
            withheld=number is None,
            **kw,
        )
    )


def first_card(window: MainWindow) -> CallCard:
    cards = window.popup.visible_cards()
    assert cards, "no call card is shown"
    return cards[0]


def wait_card(qtbot: Any, window: MainWindow, check: Callable[[CallCard], bool]) -> CallCard:
    def ok() -> bool:
        cards = window.popup.visible_cards()
        return bool(cards) and check(cards[0])

    qtbot.waitUntil(ok, timeout=5000)
    return first_card(window)


def test_a_known_caller_pops_up_with_data_and_the_note_lands_in_the_call_history(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    window = open_window(sqlite_db)
    popup = window.popup
    assert not popup.isVisible()
    made_at_start = popup

    ring(window, "+49 89 2020447-25")
    card = wait_card(qtbot, window, lambda c: c.name_label.text() == "Anna Schäfer")
    assert window.popup is made_at_start  # made once at start, reused
    assert card.organization_label.text() == "Müller Anlagenbau GmbH"
    assert "+49 89 2020447" in card.number_label.text()
    assert "matched exactly" in card.number_label.text()
    assert card.state_label.text() == "Incoming call"
    # last five history entries, newest first
    history = card.history_label.text()
    assert card.info is not None and card.info.card is not None
    assert [e.text for e in card.info.card.history] == data.anna_subjects_newest_first
    assert history.index("Rückruf") < history.index("Notiz zum Vertrag")
    assert history.count("<br>") == 4  # a heading and the four entries Anna has
    assert card.open_button.isVisible() and card.ticket_button.isVisible()
    assert not card.create_button.isVisible()

    # the call follows its states
    ring(window, "+49 89 2020447-25", state=CallState.ANSWERED)
    qtbot.waitUntil(lambda: card.state_label.text() == "Answered")

    # the agent takes a note; it is saved into this call's history entry
    qtbot.mouseClick(card.note_edit.viewport(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(card.note_edit, "Rueckruf morgen wegen Wartung")
    qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "saved" in card.note_status.text(), timeout=5000)
    with sqlite_db.session() as s:
        entry = s.scalar(select(Interaction).where(Interaction.external_id == "call-1"))
        assert entry is not None
        assert entry.kind == InteractionKind.CALL
        assert entry.contact_id == data.anna
        assert "Rueckruf morgen wegen Wartung" in entry.body

    # open record brings the contact into the main window
    qtbot.mouseClick(card.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.detail_loading)
    assert window.contact_view.contact_id == data.anna


def test_the_popup_never_takes_the_focus_from_what_the_agent_types(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    seed_small(sqlite_db)
    window = open_window(sqlite_db)
    window.activateWindow()
    window.search_box.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.search_box)
    qtbot.keyClicks(window.search_box, "Sch")

    ring(window, "0171 5558123")
    wait_card(qtbot, window, lambda c: c.name_label.text() == "Bernd Zimmermann")
    popup = window.popup
    assert popup.isVisible()
    assert QApplication.focusWidget() is window.search_box
    assert not popup.isActiveWindow()
    assert popup.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    flags = popup.windowFlags()
    assert flags & Qt.WindowType.WindowDoesNotAcceptFocus
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert flags & Qt.WindowType.Tool
    qtbot.keyClicks(window.search_box, "midt")  # the typing goes on where it was
    assert window.search_box.text() == "Schmidt"


def test_an_unknown_caller_offers_create_contact_with_the_number_formatted(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    window = open_window(sqlite_db)
    ring(window, "+493055501234")
    card = wait_card(qtbot, window, lambda c: c.name_label.text() == "Unknown caller")
    assert card.create_button.isVisible() and card.add_number_button.isVisible()
    assert not card.open_button.isVisible()
    assert card.number_label.text() == "+49 30 55501234"

    qtbot.mouseClick(card.create_button, Qt.MouseButton.LeftButton)
    dialog = window.record_dialog
    assert isinstance(dialog, ContactDialog)
    phone = dialog.phone_rows[0]
    assert phone.edit.text() == "+49 30 55501234"
    assert phone.feedback.text().endswith("+49 30 55501234")
    dialog.last_name_edit.setText("Neumann")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.record_dialog is None, timeout=5000)
    with sqlite_db.session() as s:
        assert queries.contacts_by_phone(s, "030 55501234")  # the caller is known now


def test_a_withheld_number_says_so(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    window = open_window(sqlite_db)
    ring(window, None)
    card = wait_card(qtbot, window, lambda c: c.name_label.text() == "Number withheld")
    assert not card.create_button.isVisible()
    assert not card.open_button.isVisible()


def test_several_candidates_give_a_pick_list_and_the_pick_is_remembered(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    with sqlite_db.session() as s:
        for first in ("Jana", "Jonas"):
            records.create_contact(
                s,
                ContactInput(
                    first_name=first, last_name="Wolf", phones=[PhoneInput("040 5556677")]
                ),
            )
    window = open_window(sqlite_db)
    ring(window, "040 5556677")
    card = wait_card(qtbot, window, lambda c: c.pick_list.isVisible())
    assert card.pick_list.count() == 2
    second = card.pick_list.item(1)
    picked_name = second.data(Qt.ItemDataRole.UserRole).record.name
    card.pick_list.itemClicked.emit(second)
    qtbot.waitUntil(lambda: card.name_label.text() == picked_name)
    with sqlite_db.session() as s:
        qtbot.waitUntil(lambda: s.scalar(select(CallerPick.contact_id)) is not None, timeout=3000)
    with sqlite_db.session() as s:
        pick = s.scalar(select(CallerPick))
        assert pick is not None and pick.remote == "+49405556677"


def test_a_missed_call_closes_by_itself_unless_the_agent_is_typing(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    seed_small(sqlite_db)
    window = open_window(sqlite_db)
    window.popup.auto_close_seconds = 1
    ring(window, "0171 5558123", call_id="a")
    ring(window, "+49 89 2020447-25", call_id="b")
    qtbot.waitUntil(lambda: len(window.popup.visible_cards()) == 2, timeout=5000)
    typing_card = window.popup.visible_cards()[1]
    typing_card.note_edit.setPlainText("Bitte zurückrufen")
    ring(window, "0171 5558123", call_id="a", state=CallState.MISSED)
    ring(window, "+49 89 2020447-25", call_id="b", state=CallState.MISSED)
    qtbot.waitUntil(lambda: len(window.popup.visible_cards()) == 1, timeout=5000)
    assert window.popup.visible_cards()[0] is typing_card  # its call kept its card
    assert typing_card.state_label.text() == "Missed call"
    assert window.tray.missed == 2
    assert "2 missed call(s)" in window.telephony_label.text()
    qtbot.mouseClick(typing_card.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.popup.isVisible())


def test_the_tray_and_status_bar_show_the_listener_status(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    window = open_window(sqlite_db)
    assert window.tray.level == "none"
    window.calls.bridge.submit(SourceStatus("office", SourceState.REGISTERED))
    qtbot.waitUntil(lambda: window.tray.level == "ok")
    assert "office: registered" in window.telephony_label.text()
    window.calls.bridge.submit(
        SourceStatus(
            "office",
            SourceState.FAILED,
            SourceProblem.WRONG_PASSWORD,
            detail="the registrar answered 401 to our credentials",
            retry_in=30,
        )
    )
    qtbot.waitUntil(lambda: window.tray.level == "failed")
    text = window.telephony_label.text()
    assert "wrong password" in text
    assert "the registrar answered 401" in text
    assert "next attempt in 30 s" in text
    assert "wrong password" in window.tray.icon.toolTip()


def test_simulate_incoming_call_from_the_menu(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    seed_small(sqlite_db)
    window = open_window(sqlite_db)
    dialog = window.simulate_call()
    assert isinstance(dialog, SimulateCallDialog)
    dialog.number_edit.setText("089 2020447-25")
    dialog.ring_box.setValue(60)
    qtbot.mouseClick(dialog.call_button, Qt.MouseButton.LeftButton)
    card = wait_card(qtbot, window, lambda c: c.name_label.text() == "Anna Schäfer")
    assert card.state_label.text() == "Incoming call"
    assert window.calls.simulators and window.calls.simulators[0].running


def test_new_ticket_from_the_popup_creates_an_open_ticket_shown_next_time(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    window = open_window(sqlite_db)
    ring(window, "+49 89 2020447-25")
    card = wait_card(qtbot, window, lambda c: c.name_label.text() == "Anna Schäfer")
    assert not card.tickets_label.isVisible()
    card.ticket_button.click()
    dialog = window.findChild(NewTicketDialog)
    assert dialog is not None
    dialog.subject_edit.setText("Wartung Anlage 3")
    dialog.accept()
    with sqlite_db.session() as s:
        qtbot.waitUntil(lambda: s.scalar(select(Ticket.number)) is not None, timeout=3000)
    with sqlite_db.session() as s:
        ticket = s.scalar(select(Ticket))
        assert ticket is not None and ticket.contact_id == data.anna
        assert ticket.number.startswith("T-")
        # through the ticket services: taken during the call, so answered and open, and the
        # agent's own; the call joins the ticket's history
        assert (ticket.channel, ticket.status.value) == ("phone", "open")
        assert ticket.assignee_id is not None and ticket.first_responded_at is not None
        call_row = s.scalar(select(Interaction).where(Interaction.external_id == "call-1"))
        assert call_row is not None and call_row.ticket_id == ticket.id
        number = ticket.number
    card.close_button.click()
    ring(window, "+49 89 2020447-25", call_id="call-2")
    card = wait_card(qtbot, window, lambda c: c.tickets_label.isVisible())
    assert "Wartung Anlage 3" in card.tickets_label.text()
    window.show_page(window.TICKETS)  # "My tickets" lists it
    page = window.tickets_page
    qtbot.waitUntil(lambda: getattr(page, "my_tickets", None) is not None, timeout=5000)
    mine = page.my_tickets
    qtbot.waitUntil(lambda: mine.tickets.model.rowCount() == 1, timeout=8000)
    assert number in str(mine.tickets.model.index(0, 0).data())


def _update(call_id: str, state: CallState, matches: tuple[Match, ...] = ()) -> CallUpdate:
    event = CallEvent(call_id=call_id, state=state, source="s", remote_number="+4940123456")
    resolution = Res(
        "+4940123456", Channel.PHONE, "complete", "+4940123456", "+4940123456", matches
    )
    return CallUpdate(ResolvedCall(event, resolution))


@pytest.mark.parametrize(
    ("reason", "extension", "expected"),
    [
        (Reason.EXACT, None, "matched exactly"),
        (Reason.SWITCHBOARD, "77", "switchboard, extension 77"),
        (Reason.SUFFIX, None, "only the last digits match"),
    ],
)
def test_how_the_caller_matched_is_said(
    qtbot: Any, reason: Reason, extension: str | None, expected: str
) -> None:
    popup = CallerPopup()
    qtbot.addWidget(popup)
    record = MatchedRecord(RecordKind.CONTACT, 1, "Eva Kurz", 2, "Kurz GmbH")
    popup.apply([_update("x", CallState.RINGING, (Match(record, "x", reason, 1.0, extension),))])
    assert expected in popup.visible_cards()[0].number_label.text()


def test_states_are_followed_and_calls_never_seen_ringing_are_ignored(qtbot: Any) -> None:
    popup = CallerPopup(auto_close_seconds=0)
    qtbot.addWidget(popup)
    popup.apply([_update("late", CallState.ENDED)])
    assert not popup.isVisible()
    texts = []
    for state in (CallState.RINGING, CallState.ANSWERED_ELSEWHERE):
        popup.apply([_update("y", state)])
        texts.append(popup.visible_cards()[0].state_label.text())
    assert texts == ["Incoming call", "Answered elsewhere"]


def test_add_the_number_of_an_unknown_caller_to_an_existing_contact(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    window = open_window(sqlite_db)
    ring(window, "+493055501234")
    card = wait_card(qtbot, window, lambda c: c.name_label.text() == "Unknown caller")
    qtbot.mouseClick(card.add_number_button, Qt.MouseButton.LeftButton)
    dialog = window.findChild(FindContactDialog)
    assert dialog is not None
    assert dialog.windowTitle() == "Add +49 30 55501234 to which contact?"
    qtbot.keyClicks(dialog.search_edit, "Zimmer")
    qtbot.waitUntil(lambda: dialog.result_list.count() == 1, timeout=3000)
    dialog.result_list.setCurrentRow(0)
    assert dialog.ok_button.isEnabled()
    dialog.accept()
    qtbot.waitUntil(
        lambda: "added to the contact" in window.statusBar().currentMessage(), timeout=3000
    )
    with sqlite_db.session() as s:
        assert queries.contacts_by_phone(s, "030 55501234") == [data.bernd]


def test_the_card_colour_follows_the_call_state(qtbot: Any) -> None:
    from PySide6.QtGui import QPalette

    popup = CallerPopup(auto_close_seconds=0)
    qtbot.addWidget(popup)
    colours = []
    for state in (CallState.RINGING, CallState.MISSED):
        popup.apply([_update("z", state)])
        card = popup.visible_cards()[0]
        colours.append(card.state_label.palette().color(QPalette.ColorRole.WindowText).name())
        image = card.grab().toImage()  # the stripe on the left edge is painted in it
        assert image.pixelColor(1, image.height() // 2).name() == colours[-1]
    assert colours == ["#1d6fb8", "#c62828"]
