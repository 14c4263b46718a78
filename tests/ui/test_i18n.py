"""German ships: the catalogue is complete and compiled, and the window speaks German under "de"."""

from __future__ import annotations

import filecmp
import importlib.util
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
)

from desktop_crm.cti.events import CallEvent, CallState
from desktop_crm.data.db import Database
from desktop_crm.ui.i18n import TRANSLATIONS_DIR, resolve_language
from desktop_crm.ui.main_window import MainWindow, ask_load_demo_data
from desktop_crm.ui.models import HistoryModel
from desktop_crm.ui.popup import CallerPopup
from tests.ui.conftest import seed, seed_small

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "resources" / "translations" / "desktop_crm_de.ts"
QM = TRANSLATIONS_DIR / "desktop_crm_de.qm"
# the same word in both languages
SAME_IN_GERMAN = {"Name", "Fax", "Ticket"}


def _update_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "update_translations", ROOT / "resources" / "translations" / "update.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _catalogue() -> list[tuple[str, str]]:
    """(English source, German translation) of every message."""
    out = []
    for message in ET.parse(TS).getroot().iter("message"):
        source = message.findtext("source") or ""
        translation = message.findtext("translation") or ""
        out.append((source, translation))
    return out


def _pattern(text: str) -> re.Pattern[str]:
    """A catalogue string with its {placeholders} as wildcards."""
    parts = re.split(r"\{\w+\}", text)
    return re.compile(".+?".join(re.escape(p) for p in parts), re.DOTALL)


def test_catalogue_has_every_string_translated_and_the_qm_is_current(tmp_path: Path) -> None:
    update = _update_script()
    ts = tmp_path / TS.name
    shutil.copy(TS, ts)
    update.lupdate(ts)  # collects the strings of the code as it is now
    text = ts.read_text(encoding="utf-8")
    unfinished = re.findall(
        r"<source>(.*?)</source>\s*<translation type=\"unfinished\"", text, re.DOTALL
    )
    assert not unfinished, (
        f"untranslated UI strings {unfinished}: run resources/translations/update.py and "
        f"translate them in {TS.relative_to(ROOT)}"
    )
    qm = tmp_path / QM.name
    update.lrelease(TS, qm)
    assert filecmp.cmp(qm, QM, shallow=False), (
        f"{QM.relative_to(ROOT)} is older than {TS.relative_to(ROOT)}: "
        "run resources/translations/update.py"
    )


def _visible_texts(window: MainWindow) -> tuple[list[str], list[str]]:
    """(texts the program wrote, texts that are data) of everything the window shows."""
    chrome: list[str] = []
    data: list[str] = []
    for action in window.menuBar().actions():
        chrome.append(action.text())
        menu = action.menu()
        chrome += [a.text() for a in menu.actions() if not a.isSeparator()] if menu else []
    for label in window.findChildren(QLabel):
        if label.isVisibleTo(window) and label.text():
            is_data = label.objectName() in ("fieldValue", "contactName", "contactSubtitle")
            (data if is_data else chrome).append(label.text())
    for edit in window.findChildren(QLineEdit) + window.findChildren(QPlainTextEdit):
        if edit.placeholderText():
            chrome.append(edit.placeholderText())
    for view in window.findChildren(QTableView):
        model = view.model()
        chrome += [
            model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())
        ]
        if isinstance(model, HistoryModel):
            for row in range(model.rowCount()):
                for column in (HistoryModel.KIND, HistoryModel.DIRECTION):
                    if value := model.data(model.index(row, column)):
                        chrome.append(value)
    if window.statusBar().currentMessage():
        chrome.append(window.statusBar().currentMessage())
    return chrome, data


def _assert_german(texts: list[str], data: list[str]) -> None:
    catalogue = _catalogue()
    english = [_pattern(s) for s, t in catalogue if t and t != s and s not in SAME_IN_GERMAN]
    german = [_pattern(t) for s, t in catalogue if t] + [
        _pattern(s) for s, _ in catalogue if s in SAME_IN_GERMAN
    ]
    for text in texts + data:
        leftover = [p.pattern for p in english if p.fullmatch(text)]
        assert not leftover, f"English text {text!r} shown under language 'de'"
    for text in texts:
        # composed texts (a direction, an outcome and a duration) are checked piece by piece
        pieces = [p for p in re.split(r" · |\n", text) if p and not re.fullmatch(r"[\d:]+", p)]
        for piece in pieces:
            assert any(p.fullmatch(piece) for p in german), f"{piece!r} is not from the catalogue"


def test_the_main_window_speaks_german(
    open_window: Callable[..., MainWindow], qtbot: Any, sqlite_db: Database
) -> None:
    seed(sqlite_db)
    window = open_window(sqlite_db, lang="de")
    assert window.search_box.placeholderText() == "Suche nach Name, Nummer, E-Mail oder Kundennr."
    assert [a.text() for a in window.menuBar().actions()] == [
        "&Datei",
        "&Bearbeiten",
        "&Anrufe",
        "&Hilfe",
    ]
    header = window.contact_model
    assert [header.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == [
        "Name",
        "Organisation",
        "Telefon",
        "E-Mail",
        "Ort",
    ]
    assert re.fullmatch(r"\d+ von \d+ Kontakten angezeigt", window.count_label.text())
    # look at a few contacts, so many kinds of history entries and fields are on screen
    for row in range(0, min(window.contact_model.rowCount(), 60), 6):
        window.contact_table.selectRow(row)
        qtbot.waitUntil(lambda: not window.detail_loading)
        chrome, data = _visible_texts(window)
        _assert_german(chrome, data)
    assert window.contact_view.history_label.text().startswith("Verlauf")

    qtbot.keyClicks(window.search_box, "gibt es nicht")
    qtbot.waitUntil(lambda: window.contact_model.rowCount() == 0)
    assert window.contact_view.hint.text() == "Kein Kontakt passt zu „gibt es nicht“."
    _assert_german(*_visible_texts(window))


def test_an_empty_database_in_german(
    open_window: Callable[..., MainWindow], sqlite_db: Database
) -> None:
    window = open_window(sqlite_db, lang="de")
    assert window.count_label.text() == "0 von 0 Kontakten angezeigt"
    assert window.contact_view.hint.text().startswith("Noch keine Kontakte.")
    _assert_german(*_visible_texts(window))


def test_english_is_the_source_language(
    open_window: Callable[..., MainWindow], sqlite_db: Database
) -> None:
    seed_small(sqlite_db)
    window = open_window(sqlite_db, lang="en")
    assert window.search_box.placeholderText() == "Search name, number, e-mail or customer no."
    assert window.contact_view.history_label.text() == "History (4)"


def test_the_demo_question_in_german_with_qt_buttons_in_german(
    qapp: QApplication, language: Callable[[str], str]
) -> None:
    language("de")
    seen: dict[str, Any] = {}

    def answer() -> None:
        box = qapp.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen["text"] = box.text()
        seen["buttons"] = sorted(b.text().replace("&", "") for b in box.findChildren(QPushButton))
        box.button(QMessageBox.StandardButton.No).click()

    QTimer.singleShot(0, answer)
    assert ask_load_demo_data(None) is False  # type: ignore[arg-type]
    assert seen["text"] == "Die Datenbank ist leer. Demodaten laden?"
    assert seen["buttons"] == ["Ja", "Nein"]


@pytest.mark.parametrize(("setting", "expected"), [("de", "de"), ("en", "en")])
def test_language_setting(setting: str, expected: str) -> None:
    assert resolve_language(setting) == expected
    assert resolve_language("system") in ("de", "en")


_POPUP_DATA = ("callerName", "callerOrganization", "callerNumber", "callerHistory", "callerTickets")


def _popup_texts(popup: CallerPopup) -> tuple[list[str], list[str]]:
    chrome: list[str] = []
    data: list[str] = []
    for label in popup.findChildren(QLabel):
        if label.isVisibleTo(popup) and label.text():
            (data if label.objectName() in _POPUP_DATA else chrome).append(label.text())
    for button in popup.findChildren(QPushButton):
        if button.isVisibleTo(popup):
            chrome.append(button.text())
    for edit in popup.findChildren(QPlainTextEdit):
        if edit.isVisibleTo(popup):
            chrome.append(edit.placeholderText())
    return chrome, data


def test_the_caller_popup_speaks_german(
    open_window: Callable[..., MainWindow], qtbot: Any, sqlite_db: Database
) -> None:
    seed_small(sqlite_db)
    window = open_window(sqlite_db, lang="de")
    assert window.calls.listener is not None
    for n, number in enumerate(("+49 89 2020447-25", "+493055501234", None)):
        window.calls.listener.enqueue(
            CallEvent(
                call_id=f"de-{n}",
                state=CallState.RINGING,
                source="test",
                remote_number=number,
                withheld=number is None,
            )
        )
    qtbot.waitUntil(lambda: len(window.popup.visible_cards()) == 3, timeout=5000)
    # callers are identified side by side: the cards stack in the order they were identified
    cards = {c.info.key[1]: c for c in window.popup.visible_cards() if c.info is not None}
    known, unknown, withheld = cards["de-0"], cards["de-1"], cards["de-2"]
    assert known.state_label.text() == "Eingehender Anruf"
    assert "genauer Treffer" in known.number_label.text()
    assert "Letzte Kontakte" in known.history_label.text()
    assert unknown.name_label.text() == "Unbekannter Anrufer"
    assert withheld.name_label.text() == "Rufnummer unterdrückt"
    _assert_german(*_popup_texts(window.popup))
    _assert_german(*_visible_texts(window))
