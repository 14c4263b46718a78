"""Import and export from the File menu: progress that cancels, and a report with reasons."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_crm.data import queries
from desktop_crm.data.db import Database
from desktop_crm.ui.main_window import MainWindow
from desktop_crm.ui.transfer import ImportReportDialog
from tests.ui.conftest import seed

OpenWindow = Callable[..., MainWindow]

CSV = (
    "First Name,Last Name,E-mail Address,Business Phone\n"
    "Anna,Berg,anna@berg.de,0421 70331-66\n"
    ",,kein-mail,\n"
    "Otto,Kurz,otto@kurz.de,040 123456\n"
)


def test_import_shows_progress_then_a_report_of_imported_skipped_and_why(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "outlook.csv"
    path.write_text(CSV, encoding="utf-8")
    window = open_window(sqlite_db)
    window.import_files([path])
    assert window.transfers.progress is not None  # the progress dialog is up meanwhile
    qtbot.waitUntil(lambda: window.transfers.report_dialog is not None, timeout=10_000)
    dialog = window.transfers.report_dialog
    assert isinstance(dialog, ImportReportDialog)
    text = dialog.summary_label.text()
    assert "Imported: 2 new" in text
    assert "Skipped: 1" in text
    reasons = [dialog.problems.item(r, 2).text() for r in range(dialog.problems.rowCount())]
    lines = [dialog.problems.item(r, 1).text() for r in range(dialog.problems.rowCount())]
    assert reasons and "3" in lines  # the empty row, with its line and the reason
    qtbot.waitUntil(lambda: window.contact_model.rowCount() == 2)
    dialog.close()


def test_import_can_be_cancelled_and_keeps_what_was_saved(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    rows = [f"Vorname{i},Nachname{i},p{i}@example.de\n" for i in range(6000)]
    path.write_text("First Name,Last Name,E-mail Address\n" + "".join(rows), encoding="utf-8")
    window = open_window(sqlite_db)
    window.import_files([path])
    progress = window.transfers.progress
    assert progress is not None
    progress.canceled.emit()  # the Cancel button
    qtbot.waitUntil(lambda: window.transfers.report_dialog is not None, timeout=30_000)
    dialog = window.transfers.report_dialog
    assert dialog is not None
    assert dialog.findChild(type(dialog.summary_label), "importCancelled") is not None
    with sqlite_db.session() as s:
        assert queries.count_contacts(s) < 6000
    dialog.close()


def test_export_writes_the_file_and_a_cancelled_export_leaves_none(
    open_window: OpenWindow, qtbot: Any, sqlite_db: Database, tmp_path: Path
) -> None:
    seed(sqlite_db)
    window = open_window(sqlite_db)
    target = tmp_path / "alle.vcf"
    window.export_to(target)
    qtbot.waitUntil(lambda: window.transfers.task is None, timeout=10_000)
    assert target.read_text(encoding="utf-8").count("BEGIN:VCARD") == 250
    assert "250 contacts exported" in window.statusBar().currentMessage()

    other = tmp_path / "abgebrochen.csv"
    window.export_to(other)
    assert window.transfers.task is not None
    window.transfers.task.cancel()
    qtbot.waitUntil(lambda: window.transfers.task is None, timeout=10_000)
    assert not other.exists() and not other.with_name(other.name + ".part").exists()
    assert window.statusBar().currentMessage() == "Export cancelled; no file written."
