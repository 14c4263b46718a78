"""Render docs/screenshots/main-window.png: the German main window on the demo data.

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/screenshot.py [OUT.png]

The demo data is seeded into a temporary SQLite file with a fixed seed and date, so the picture
only changes when the window does.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QAbstractItemView, QApplication

from desktop_crm.data.db import Database
from desktop_crm.data.demo import seed_demo
from desktop_crm.settings import Settings
from desktop_crm.ui.startup import open_main_window

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1200, 750)
CONTACT = "Johanna Leitner"  # a contact with calls, mails, notes, a meeting and a ticket


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs/screenshots/main-window.png"
    app = QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/crm.db")
        db.upgrade()
        seed_demo(db, contacts=250, seed=2026, now=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
        settings = Settings(path=Path(folder) / "none.toml", values={"ui": {"language": "de"}})
        window = open_main_window(app, db, settings, is_default_database=False)
        window.resize(*SIZE)
        app.processEvents()
        model = window.contact_model
        row = next(
            r
            for r in range(model.rowCount())
            if CONTACT in str(model.data(model.index(r, model.NAME)))
        )
        window.contact_table.selectRow(row)
        window.contact_table.scrollTo(
            model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter
        )
        # show an answered call with its note in the reading pane
        history = window.contact_view.history_model
        for r in range(history.rowCount()):
            entry = history.entry(r)
            if entry and entry.body and entry.duration_seconds and entry.subject:
                window.contact_view.history_view.selectRow(r)
                break
        window.contact_table.setFocus()
        for _ in range(3):
            app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out)):
            raise SystemExit(f"could not write {out}")
        print(f"{out} written ({window.width()}x{window.height()})")
        window.shutdown()
        window.close()
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
