"""Take the README screenshots (German) offscreen: the main window, a record, the pop-up, settings.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/take.py [de|en]

Uses a fresh demo database (250 contacts) and the real pop-up fed through the real listener.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop_crm.cti.events import CallEvent, CallState  # noqa: E402
from desktop_crm.data.db import Database  # noqa: E402
from desktop_crm.data.demo import seed_demo  # noqa: E402
from desktop_crm.settings import Settings  # noqa: E402
from desktop_crm.tickets import service as tickets  # noqa: E402
from desktop_crm.ui.startup import open_main_window  # noqa: E402

OUT = Path(__file__).resolve().parent


def main() -> int:
    lang = sys.argv[1] if len(sys.argv) > 1 else "de"
    suffix = "" if lang == "de" else f"-{lang}"
    app = QApplication([])
    app.setStyle("Fusion")
    tmp = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{tmp / 'crm.db'}")
    db.upgrade()
    seed_demo(db, contacts=250)
    settings = Settings(path=tmp / "desktop-crm.toml", values={"ui": {"language": lang}})

    def wait(condition, seconds: float = 10) -> None:  # type: ignore[no-untyped-def]
        end = time.time() + seconds
        while time.time() < end and not condition():
            app.processEvents()
            time.sleep(0.01)
        for _ in range(10):
            app.processEvents()

    window = open_main_window(
        app, db, settings, is_default_database=False, confirm=lambda _w: False
    )
    window.resize(1280, 780)
    wait(lambda: window.contact_model.rowCount() > 0)

    # a record with an organization, colleagues, history and an open ticket
    window.search_box.setText("Böhm")
    window.run_search()
    wait(lambda: not window.searching and not window.detail_loading)
    contact_id = window.contact_view.contact_id
    assert contact_id is not None
    with db.session() as s:
        tickets.create_ticket(
            s, tickets.TicketInput("Wartungsvertrag verlängern", contact_id=contact_id)
        )
    window.reload()
    wait(lambda: not window.searching and not window.detail_loading)
    window.grab().save(str(OUT / f"main-window{suffix}.png"))

    window.navigation.setCurrentRow(window.ORGANIZATIONS)
    wait(lambda: window.organizations_page.current_id is not None)
    wait(lambda: window.organizations_page.history_model.rowCount() > 0, 3)
    window.grab().save(str(OUT / f"organization{suffix}.png"))
    window.navigation.setCurrentRow(window.CONTACTS)

    # the pop-up: the known caller (Katharina Böhm, Elektro Lange e.K.) and an unknown one
    assert window.calls.listener is not None
    for n, number in enumerate(("04217033166", "+493055501234")):
        window.calls.listener.enqueue(
            CallEvent(
                call_id=f"shot-{n}",
                state=CallState.RINGING,
                source="sip:office",
                remote_number=number,
                line="201",
            )
        )
    wait(lambda: len(window.popup.visible_cards()) == 2)
    window.popup.grab().save(str(OUT / f"popup{suffix}.png"))

    dialog = window.open_settings()
    dialog.navigation.setCurrentRow(1)
    wait(lambda: dialog.isVisible())
    dialog.grab().save(str(OUT / f"settings{suffix}.png"))
    dialog.reject()

    # the supervisor's board (Tickets → Übersicht), with the "Queues…" button
    window.navigation.setCurrentRow(window.TICKETS)
    page = window.tickets_page
    wait(lambda: getattr(page, "board", None) is not None)
    page.tabs.setCurrentWidget(page.board)
    wait(lambda: page.board.tickets.model.rowCount() > 0)
    window.grab().save(str(OUT / f"tickets-board{suffix}.png"))
    window.shutdown()
    window.close()
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
