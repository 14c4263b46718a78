"""The settings dialog: through the registry into the file, passwords into the keyring only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from desktop_crm.data.db import Database
from desktop_crm.settings import Settings, load_settings
from desktop_crm.ui.main_window import MainWindow
from desktop_crm.ui.settings_dialog import SettingsDialog

OpenWindow = Callable[..., MainWindow]


def _dialog(window: MainWindow, path: Path) -> SettingsDialog:
    window.settings = Settings(path=path)
    return window.open_settings()


def test_saving_writes_the_toml_file_and_the_password_only_into_the_keyring(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database, tmp_path: Path, memory_keyring: Any
) -> None:
    window = open_window(sqlite_db)
    path = tmp_path / "conf" / "desktop-crm.toml"
    dialog = _dialog(window, path)
    dialog.country_edit.setText("AT")
    dialog.area_edit.setText("1")
    dialog.corner_box.setCurrentIndex(dialog.corner_box.findData("top-left"))
    dialog.close_box.setValue(25)
    dialog.language_box.setCurrentIndex(dialog.language_box.findData("de"))
    dialog.sip_enabled.setChecked(True)
    dialog.sip_edits["name"].setText("office")  # type: ignore[union-attr]
    dialog.sip_password_edit.setText("geheim-123")
    dialog.url_edit.setText("postgresql://anna@crm-server/crm")
    dialog.db_password_edit.setText("pg-pass")
    dialog.save()
    assert dialog.saved, dialog.error_label.text()
    text = path.read_text(encoding="utf-8")
    assert "geheim-123" not in text and "pg-pass" not in text
    loaded = load_settings(path)
    assert loaded.get("dialing.country") == "AT"
    assert loaded.get("popup.corner") == "top-left"
    assert loaded.get("popup.auto_close_seconds") == 25
    assert loaded.get("ui.language") == "de"
    assert loaded.get("database.url") == "postgresql://anna@crm-server/crm"
    assert loaded.entries("sip")[0]["name"] == "office"
    stored = memory_keyring.store
    assert ("desktop_crm", loaded.get("database.secret")) in stored
    assert "geheim-123" in stored.values() and "pg-pass" in stored.values()
    assert window.popup.corner == "top-left"  # applies at once


def test_the_dialling_rules_page_reads_a_sample_number_live(
    open_window: OpenWindow, sqlite_db: Database, tmp_path: Path
) -> None:
    window = open_window(sqlite_db)
    dialog = _dialog(window, tmp_path / "s.toml")
    dialog.sample_edit.setText("7033166")
    dialog.area_edit.setText("421")
    assert "+49 421 7033166" in dialog.sample_result.text()
    dialog.country_edit.setText("XX")
    assert dialog.sample_result.text()  # the problem in words, not a traceback
    dialog.save()
    assert not dialog.saved and dialog.error_label.isVisible()
    dialog.reject()


def test_the_connection_test_says_what_it_found(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database, tmp_path: Path
) -> None:
    window = open_window(sqlite_db)
    dialog = _dialog(window, tmp_path / "s.toml")
    dialog.url_edit.setText(str(sqlite_db.url))
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=10_000)
    assert dialog.test_result.text() == "Connected; the database is ready."
    dialog.url_edit.setText(f"sqlite:///{tmp_path}/neu.db")
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=10_000)
    assert "empty" in dialog.test_result.text()
    dialog.url_edit.setText("postgresql://nobody@127.0.0.1:1/crm")
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=20_000)
    assert dialog.test_result.text().startswith("Failed:")
    dialog.reject()


def test_a_missing_keyring_is_explained_not_a_traceback(
    open_window: OpenWindow, sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window(sqlite_db)
    keyring.set_keyring(FailKeyring())  # the autouse fixture restores the test keyring
    dialog = _dialog(window, tmp_path / "s.toml")
    warnings = dialog.findChildren(type(dialog.error_label), "keyringWarning")
    assert warnings and "No secure keyring" in warnings[0].text()
    assert not dialog.db_password_edit.isEnabled()
    assert not dialog.sip_password_edit.isEnabled()
    assert not dialog.imap_editor.password_edit.isEnabled()
    dialog.reject()
