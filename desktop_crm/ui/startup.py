"""Opening the client: translators, the main window, and the demo-data offer on first start."""

from __future__ import annotations

import gc
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy.exc import SQLAlchemyError

from desktop_crm.data import meta
from desktop_crm.data.db import Database
from desktop_crm.data.errors import DataError
from desktop_crm.identify.rules import DialingRules
from desktop_crm.settings import Settings

from .i18n import install_translators
from .mail import MailPage
from .main_window import MainWindow, ask_load_demo_data
from .tickets_page import TicketsPage

# asks the user whether to load demo data; tests pass ``lambda parent: True`` so nothing blocks
Confirm = Callable[[QWidget], bool]


def should_offer_demo_data(
    window: MainWindow, settings: Settings, *, is_default_database: bool
) -> bool:
    """Only on the user's own default database, only when it is empty, only if not turned off."""
    if not is_default_database or not settings.get("ui.offer_demo_data"):
        return False
    # the window counted the contacts when it opened; after a load error it offers nothing
    return not window.load_failed and window.total_contacts == 0


def offer_demo_data(
    window: MainWindow,
    settings: Settings,
    *,
    is_default_database: bool,
    confirm: Confirm = ask_load_demo_data,
) -> bool:
    """Ask, and on yes start loading demo data in the background. True when loading started."""
    if not should_offer_demo_data(window, settings, is_default_database=is_default_database):
        return False
    try:
        with window.db.session() as session:
            if meta.get_meta(session, meta.DEMO_DECLINED):
                return False  # asked once for this database; the File menu still offers it
    except (DataError, SQLAlchemyError):
        return False
    if not confirm(window):
        try:
            with window.db.session() as session:
                meta.set_meta(session, meta.DEMO_DECLINED, "1")
        except (DataError, SQLAlchemyError):
            pass  # asking again next time is the worst that happens
        return False
    window.load_demo_data()
    return True


def open_main_window(
    app: QApplication,
    db: Database,
    settings: Settings,
    *,
    is_default_database: bool,
    confirm: Confirm | None = None,
) -> MainWindow:
    """Install the language, show the main window, and offer demo data once it is up."""
    install_translators(app, settings.get("ui.language"))
    window = MainWindow(db, rules=DialingRules.from_settings(settings), settings=settings)
    window.set_tickets_page(TicketsPage(db, window.tasks))
    window.set_mail_page(MailPage(db, window.tasks, window.reader))
    window.show()
    window.start_telephony()
    window.start_live_refresh()
    # the objects of start-up (modules, widgets) live as long as the window: moved out of the
    # collector's generations, a full collection later does not walk them all again while the
    # agent scrolls or a call rings (one took 50-120 ms); MainWindow.shutdown unfreezes
    gc.freeze()

    # asked once the first list is shown: only then is it known whether the database is empty
    def offer() -> None:
        window.loaded.disconnect(offer)
        QTimer.singleShot(
            0,
            window,
            lambda: offer_demo_data(
                window,
                settings,
                is_default_database=is_default_database,
                confirm=confirm or ask_load_demo_data,
            ),
        )

    window.loaded.connect(offer)
    return window
