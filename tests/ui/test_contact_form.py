"""Editing for the back office: live validation, duplicates, conflicts, delete with its impact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.errors import NotFound
from desktop_crm.data.records import ContactInput, PhoneInput
from desktop_crm.ui.contact_form import ConflictDialog, ContactDialog, OrganizationDialog
from desktop_crm.ui.main_window import MainWindow
from tests.ui.conftest import seed_small

OpenWindow = Callable[..., MainWindow]


def test_numbers_are_read_and_formatted_as_typed_and_the_raw_text_is_kept(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    window = open_window(sqlite_db)
    dialog = window.new_contact()
    phone = dialog.phone_rows[0]
    qtbot.keyClicks(phone.edit, "089/2020447")
    assert phone.feedback.text() == "✓ +49 89 2020447"
    qtbot.keyClicks(phone.edit, "-25")
    assert phone.feedback.text() == "✓ +49 89 2020447-25"
    assert phone.e164 == "+49892020447" + "25"
    # the record's country decides how a national number is read
    dialog.country_edit.setText("AT")
    assert phone.feedback.text().startswith("✓ +43 89")
    dialog.country_edit.setText("")
    phone.edit.setText("hallo")
    assert phone.feedback.text().startswith("✗")
    phone.edit.setText("089/2020447-25")
    dialog.last_name_edit.setText("Huber")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.record_dialog is None, timeout=5000)
    qtbot.waitUntil(lambda: window.contact_view.contact_id is not None)
    with sqlite_db.session() as s:
        contact = records.get_contact(s, window.contact_view.contact_id or 0)
        assert contact.last_name == "Huber"
        assert [p.raw for p in contact.phones] == ["089/2020447-25"]  # as typed


def test_email_syntax_is_checked_live_and_blocks_saving(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    window = open_window(sqlite_db)
    dialog = window.new_contact()
    email = dialog.email_rows[0]
    qtbot.keyClicks(email.edit, "anna.example.de")
    assert email.feedback.text() == "✗ not an e-mail address"
    assert not dialog.save_button.isEnabled()
    email.edit.setText("anna@example.de")
    assert email.feedback.text() == "✓"
    assert dialog.save_button.isEnabled()


def test_duplicates_are_pointed_out_before_saving_with_a_link(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    window = open_window(sqlite_db)
    dialog = window.new_contact()
    qtbot.keyClicks(dialog.phone_rows[0].edit, "+49 171 5558123")  # Bernd's mobile
    qtbot.waitUntil(lambda: dialog.duplicate_label.isVisible(), timeout=3000)
    assert f'href="contact:{data.bernd}"' in dialog.duplicate_label.text()
    assert "Bernd Zimmermann" in dialog.duplicate_label.text()
    assert "same number" in dialog.duplicate_label.text()
    dialog.duplicate_label.linkActivated.emit(f"contact:{data.bernd}")
    qtbot.waitUntil(lambda: window.contact_view.contact_id == data.bernd)

    dialog.phone_rows[0].edit.clear()
    dialog.first_name_edit.setText("Anna")
    dialog.last_name_edit.setText("Schäfer")
    qtbot.waitUntil(lambda: "same name" in dialog.duplicate_label.text(), timeout=3000)


def test_a_conflict_shows_both_versions_and_overwrites_only_when_asked(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    window = open_window(sqlite_db)
    dialog = window.edit_contact(data.bernd)
    assert isinstance(dialog, ContactDialog)
    qtbot.waitUntil(lambda: dialog.version is not None, timeout=3000)
    assert dialog.last_name_edit.text() == "Zimmermann"
    # someone else saves meanwhile
    with sqlite_db.session() as s:
        records.update_contact(
            s,
            data.bernd,
            1,
            ContactInput(
                first_name="Bernd",
                last_name="Zimmermann-Roth",
                city="Hamburg",
                phones=[PhoneInput("0171 5558123")],
            ),
        )
    dialog.city_edit.setText("Lübeck")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.conflict_dialog is not None, timeout=3000)
    conflict = dialog.conflict_dialog
    assert isinstance(conflict, ConflictDialog)
    table = conflict.table
    rows = {
        table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
        for r in range(table.rowCount())
    }
    assert rows["Last name"] == ("Zimmermann-Roth", "Zimmermann")
    assert rows["City"] == ("Hamburg", "Lübeck")
    assert set(conflict.differences) == {"last_name", "city"}
    with sqlite_db.session() as s:  # nothing overwritten yet
        assert records.get_contact(s, data.bernd).last_name == "Zimmermann-Roth"
    qtbot.mouseClick(conflict.overwrite_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.record_dialog is None, timeout=3000)
    with sqlite_db.session() as s:
        contact = records.get_contact(s, data.bernd)
        assert (contact.last_name, contact.city) == ("Zimmermann", "Lübeck")


def test_a_conflict_can_take_the_other_version(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    window = open_window(sqlite_db)
    dialog = window.edit_contact(data.bernd)
    qtbot.waitUntil(lambda: dialog.version == 1, timeout=3000)
    with sqlite_db.session() as s:
        records.update_contact(s, data.bernd, 1, ContactInput(first_name="B.", last_name="Z."))
    dialog.city_edit.setText("Kiel")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.conflict_dialog is not None, timeout=3000)
    assert dialog.conflict_dialog is not None
    dialog.conflict_dialog.theirs_button.click()
    qtbot.waitUntil(lambda: dialog.version == 2, timeout=3000)
    assert dialog.last_name_edit.text() == "Z."
    assert dialog.city_edit.text() == ""


def test_delete_asks_and_says_what_goes_with_the_contact(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    window = open_window(sqlite_db)
    dialog = window.edit_contact(data.anna)
    qtbot.waitUntil(lambda: dialog.version is not None, timeout=3000)
    dialog.delete_button.click()
    qtbot.waitUntil(lambda: dialog.message_box is not None, timeout=3000)
    box = dialog.message_box
    assert box is not None
    assert box.text() == "Delete the contact Anna Schäfer?"
    assert "1 phone number(s) and 1 e-mail address(es)" in box.informativeText()
    assert "4 history entries" in box.informativeText()
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: window.record_dialog is None, timeout=3000)
    with sqlite_db.session() as s:
        try:
            records.get_contact(s, data.anna)
        except NotFound:
            pass
        else:
            raise AssertionError("the contact is still there")


def test_cancelling_delete_keeps_the_contact(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    window = open_window(sqlite_db)
    window.contact_table.selectRow(window.contact_model.row_of(data.bernd))
    qtbot.waitUntil(lambda: not window.detail_loading)
    dialog = window.delete_current_contact()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.message_box is not None, timeout=3000)
    assert dialog.message_box is not None
    dialog.message_box.button(QMessageBox.StandardButton.Cancel).click()
    with sqlite_db.session() as s:
        assert records.get_contact(s, data.bernd).first_name == "Bernd"
    dialog.reject()


def test_organization_form_creates_and_spots_a_duplicate_customer_number(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    seed_small(sqlite_db)
    window = open_window(sqlite_db)
    dialog = window.new_organization()
    assert isinstance(dialog, OrganizationDialog)
    qtbot.keyClicks(dialog.customer_number_edit, "K-1001")
    qtbot.waitUntil(lambda: "same customer number" in dialog.duplicate_label.text(), timeout=3000)
    dialog.customer_number_edit.setText("K-2002")
    dialog.name_edit.setText("Neue Firma GmbH")
    dialog.phone_rows[0].edit.setText("040 123456-0")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.record_dialog is None, timeout=3000)
    with sqlite_db.session() as s:
        from desktop_crm.data import queries

        assert queries.organization_ids(s, "K-2002")


def test_the_contact_view_adds_notes_and_logs_calls_and_filters_by_kind(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database
) -> None:
    data = seed_small(sqlite_db)
    window = open_window(sqlite_db)
    window.contact_table.selectRow(window.contact_model.row_of(data.anna))
    qtbot.waitUntil(lambda: not window.detail_loading)
    view = window.contact_view
    assert view.history_model.rowCount() == 4
    view.kind_filter.setCurrentIndex(view.kind_filter.findText("Call"))
    assert view.history_model.rowCount() == 1
    view.kind_filter.setCurrentIndex(0)
    window.note_action.trigger()  # Ctrl+Shift+N
    view.note_edit.setText("Kundin wünscht Rückruf")
    view.add_note_button.click()
    qtbot.waitUntil(lambda: view.history_model.rowCount() == 5, timeout=3000)
    view.note_edit.setText("Termin bestätigt")
    view.log_call_button.click()
    qtbot.waitUntil(lambda: view.history_model.rowCount() == 6, timeout=3000)
    view.kind_filter.setCurrentIndex(view.kind_filter.findText("Call"))
    assert view.history_model.rowCount() == 2
