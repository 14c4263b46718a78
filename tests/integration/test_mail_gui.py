"""The desktop client with a real, private Dovecot (issue 5): mail appended over IMAP shows up
as a tray notification (a known customer) or as a row on the Mail page (nobody known), within
two seconds, and the account's state is in the status bar."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from desktop_crm import secrets
from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.records import ContactInput, EmailInput
from desktop_crm.settings import Settings
from desktop_crm.ui.mail import MailPage
from desktop_crm.ui.startup import open_main_window
from tests.helpers.dovecot import DovecotServer
from tests.integration.test_imap_watcher import imap, message

pytestmark = [
    pytest.mark.integration,
    pytest.mark.qt_log_ignore("This plugin does not support raise"),
]

ANNA = "anna.schaefer@mueller-anlagenbau.de"


def test_mail_from_dovecot_reaches_the_tray_and_the_mail_page(
    qapp: QApplication,
    qtbot: Any,
    tmp_path: Path,
    sqlite_db: Database,
    dovecot: DovecotServer,
) -> None:
    with sqlite_db.session() as s:
        anna = records.create_contact(
            s, ContactInput(first_name="Anna", last_name="Schäfer", emails=[EmailInput(ANNA)])
        ).id
    secrets.set_secret("imap-anna", dovecot.user("anna").password)
    settings = Settings(
        path=tmp_path / "desktop-crm.toml",
        values={"ui": {"language": "en"}},
        lists={
            "imap": [
                {
                    "name": "office",
                    "host": dovecot.host,
                    "port": dovecot.port,
                    "tls": "none",
                    "user": "anna",
                    "secret": "imap-anna",
                    "folders": ["INBOX"],
                    "poll_seconds": 1,
                    "lookback_days": 30,
                }
            ]
        },
    )
    window = open_main_window(
        qapp, sqlite_db, settings, is_default_database=False, confirm=lambda _p: False
    )
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: "office: idle" in window.telephony_label.text(), timeout=10_000)
    page = window.mail_page
    assert isinstance(page, MailPage)
    qtbot.waitUntil(lambda: not page.loading, timeout=5000)
    assert page.count == 0

    client = imap(dovecot)
    try:
        started = time.monotonic()
        client.append("INBOX", message(f"Anna Schäfer <{ANNA}>", "Bitte um Rückruf"))
        qtbot.waitUntil(lambda: bool(window.tray.notified), timeout=2000)
        assert time.monotonic() - started < 2.0
        assert window.tray.notified[-1] == ("Mail from Anna Schäfer", "Bitte um Rückruf")
        with qtbot.waitSignal(window.tray.open_record) as opened:
            window.tray._message_clicked()
        assert opened.args == ["contact", anna]

        started = time.monotonic()
        client.append("INBOX", message("Fremder <fremd@example.org>", "Wer ist zuständig?"))
        qtbot.waitUntil(lambda: page.count == 1, timeout=2000)
        assert time.monotonic() - started < 2.0
        assert window.navigation.item(window.MAIL).text() == "Mail (1)"
        assert page.model.index(0, 1).data() == "Wer ist zuständig?"
        assert len(window.tray.notified) == 1  # nobody known: no notification
    finally:
        client.logout()

    started = time.monotonic()
    window.shutdown()
    assert time.monotonic() - started < 1.5
    assert not window.mail.running
