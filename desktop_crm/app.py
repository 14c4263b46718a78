"""The desktop client's composition root: the CLI opens the database, this runs the GUI.

``desktop-crm`` (``cli.py``) resolves the settings and the database URL, opens the
:class:`Database` and checks its schema; only then is Qt imported, here, so the command line and
the headless listener never load it.
"""

from __future__ import annotations

import logging
import sys
from functools import partial
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from .data.db import Database
from .settings import Settings
from .ui.main_window import MainWindow
from .ui.startup import Confirm, open_main_window

log = logging.getLogger(__name__)

APP_NAME = "desktop_crm"


def _application(argv: list[str] | None) -> QApplication:
    existing = QCoreApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    if existing is not None:
        raise RuntimeError("a non-GUI Qt application is already running in this process")
    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName(APP_NAME)
    QApplication.setDesktopFileName("desktop-crm")
    return QApplication(list(sys.argv if argv is None else argv))


def run_gui(
    db: Database,
    settings: Settings,
    *,
    is_default_database: bool,
    argv: list[str] | None = None,
    confirm: Confirm | None = None,
) -> int:
    """Show the main window and run the event loop; returns the exit code.

    On an empty default database (and ``ui.offer_demo_data`` on) it asks whether to load demo
    data; ``confirm`` replaces that question (tests answer it without a dialog). The caller
    keeps ownership of ``db`` and disposes of it after this returns.
    """
    app = _application(argv)
    app.setApplicationName(APP_NAME)
    window = open_main_window(
        app, db, settings, is_default_database=is_default_database, confirm=confirm
    )
    app.aboutToQuit.connect(window.shutdown)
    previous_hook = sys.excepthook
    sys.excepthook = partial(_report_unexpected, window)
    try:
        return app.exec()
    finally:
        sys.excepthook = previous_hook
        app.aboutToQuit.disconnect(window.shutdown)
        window.shutdown()
        window.close()
        window.deleteLater()
        # quitting closes the windows, and closing the last one posts one more quit request;
        # left in the queue it would end every later event loop of this process at once
        QCoreApplication.removePostedEvents(app, QEvent.Type.Quit)


def _report_unexpected(
    window: MainWindow,
    kind: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
) -> None:
    """A bug in a slot: the traceback goes to the log, the user gets a sentence, work goes on."""
    log.error("unexpected error in the desktop client", exc_info=(kind, exc, tb))
    window.statusBar().showMessage(
        QCoreApplication.translate(
            "App", "Something went wrong ({error}); details are in the log."
        ).format(error=kind.__name__)
    )
