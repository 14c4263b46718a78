"""The client's mail (issue 5): watchers through the bridge, tray, the unassigned-mail page."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop_crm.data import mail_store, records
from desktop_crm.data.db import Database
from desktop_crm.data.mail_store import MailInput
from desktop_crm.data.models import MailDirection
from desktop_crm.data.records import ContactInput, EmailInput
from desktop_crm.identify.resolve import Match, MatchedRecord, Reason, RecordKind
from desktop_crm.mail.events import MailEvent, MailOutcome, MailState, MailStatus
from desktop_crm.settings import Settings
from desktop_crm.ui.mail import MailPage, UnassignedMailModel, check_connection, mail_state_words
from desktop_crm.ui.main_window import MainWindow
from desktop_crm.ui.startup import open_main_window


def add_unassigned(
    db: Database, sender: str, subject: str, *, minutes_ago: int = 0, snippet: str = ""
) -> int:
    with db.session() as s:
        mail, _ = mail_store.store_mail(
            s,
            MailInput(
                message_id=f"<{subject.replace(' ', '-')}@test>",
                account="office",
                folder="INBOX",
                direction=MailDirection.INBOUND,
                sent_at=datetime(2026, 11, 22, 12, 0, tzinfo=UTC) - timedelta(minutes=minutes_ago),
                sender=sender,
                sender_name="",
                recipients=["info@crm.test"],
                cc=[],
                subject=subject,
                snippet=snippet or f"Text of {subject}",
                attachments=[],
            ),
        )
        entry, _ = mail_store.add_unassigned(s, mail)
        return entry.id


def anna(db: Database) -> int:
    with db.session() as s:
        return records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Schäfer",
                emails=[EmailInput("anna.schaefer@mueller-anlagenbau.de")],
            ),
        ).id


def mail_event(
    contact_id: int | None, *, popup: bool = True, subject: str = "Angebot"
) -> MailEvent:
    matches: tuple[Match, ...] = ()
    if contact_id is not None:
        matches = (
            Match(
                MatchedRecord(RecordKind.CONTACT, contact_id, "Anna Schäfer"),
                "anna.schaefer@mueller-anlagenbau.de",
                Reason.EMAIL,
                1.0,
            ),
        )
    return MailEvent(
        account="office",
        folder="INBOX",
        uid=1,
        message_id="<1@test>",
        direction="inbound",
        sender="anna.schaefer@mueller-anlagenbau.de",
        sender_name="Anna Schäfer",
        recipients=("info@crm.test",),
        subject=subject,
        sent_at=datetime.now(UTC),
        snippet="Guten Tag",
        attachments=(),
        outcome=MailOutcome.LOGGED,
        matches=matches,
        popup=popup,
    )


@pytest.fixture
def window(
    qapp: QApplication,
    qtbot: Any,
    tmp_path: Path,
    sqlite_db: Database,
    language: Callable[[str], str],
) -> Callable[..., MainWindow]:
    def open_(imap: list[dict[str, Any]] | None = None, lang: str = "en") -> MainWindow:
        settings = Settings(
            path=tmp_path / "desktop-crm.toml",
            values={"ui": {"language": lang}},
            lists={"imap": imap or []},
        )
        win = open_main_window(
            qapp, sqlite_db, settings, is_default_database=False, confirm=lambda _p: False
        )
        qtbot.addWidget(win)
        qtbot.waitExposed(win)
        qtbot.waitUntil(lambda: win._loaded_once and not win.detail_loading, timeout=10_000)
        return win

    return open_


def from_thread(call: Callable[[], None]) -> None:
    thread = threading.Thread(target=call)
    thread.start()
    thread.join()


def test_mail_and_status_reach_the_tray_through_the_bridge_from_a_worker_thread(
    window: Callable[..., MainWindow], qtbot: Any, sqlite_db: Database
) -> None:
    contact = anna(sqlite_db)
    win = window()
    win.mail.route_tickets = True  # the ticket inbox runs on the worker too (no support box here)

    def deliver() -> None:
        win.mail._deliver(MailStatus("office", MailState.IDLE))
        win.mail._deliver(mail_event(contact))
        win.mail._deliver(mail_event(contact, popup=False, subject="backlog"))

    from_thread(deliver)
    qtbot.waitUntil(lambda: bool(win.tray.notified), timeout=2000)
    assert win.tray.notified == [("Mail from Anna Schäfer", "Angebot")]
    assert win.statusBar().currentMessage() == "Mail from Anna Schäfer: Angebot"  # no tray here
    qtbot.waitUntil(lambda: "office: idle" in win.telephony_label.text(), timeout=2000)
    assert "Mail: office: idle, waiting for new mail" in win.tray.tooltip()

    from_thread(
        lambda: win.mail._deliver(
            MailStatus(
                "office",
                MailState.RECONNECTING,
                "wrong user name or password for 'anna'",
                retry_in=30,
            )
        )
    )
    qtbot.waitUntil(lambda: "reconnecting" in win.telephony_label.text(), timeout=2000)
    assert (
        "office: reconnecting: wrong user name or password for 'anna'; next attempt in 30 s"
        in win.telephony_label.text()
    )
    assert win.tray.level == "failed"


def test_clicking_the_mail_notification_opens_the_record(
    window: Callable[..., MainWindow], qtbot: Any, sqlite_db: Database
) -> None:
    contact = anna(sqlite_db)
    win = window()
    win.show_page(win.MAIL)
    win.tray.notify_mail(mail_event(contact))
    with qtbot.waitSignal(win.tray.open_record) as opened:
        win.tray._message_clicked()
    assert opened.args == ["contact", contact]
    assert win.pages.currentIndex() == win.CONTACTS
    qtbot.waitUntil(lambda: win._shown_id == contact, timeout=5000)


def test_a_mail_without_popup_is_not_notified(window: Callable[..., MainWindow]) -> None:
    win = window()
    win.tray.notify_mail(mail_event(None))
    win.tray.notify_mail(mail_event(1, popup=False))
    assert win.tray.notified == []


def test_unassigned_mail_model_passes_qtmodeltester(
    qtmodeltester: Any, sqlite_db: Database
) -> None:
    ids = [
        add_unassigned(sqlite_db, f"x{i}@example.org", f"Mail {i}", minutes_ago=i) for i in range(5)
    ]

    def fetch(wanted: Any) -> Any:
        with sqlite_db.session() as s:
            return mail_store.unassigned_rows(s, wanted)

    model = UnassignedMailModel(fetch)
    with sqlite_db.session() as s:
        assert mail_store.unassigned_ids(s) == ids  # newest first
    model.set_ids(ids)
    qtmodeltester.check(model, force_py=True)
    assert model.index(0, UnassignedMailModel.SENDER).data() == "x0@example.org"
    assert model.index(0, UnassignedMailModel.SUBJECT).data() == "Mail 0"
    assert model.index(1, UnassignedMailModel.ACCOUNT).data() == "office / INBOX"
    assert model.fetches == 1  # one block for all five


def test_mail_page_lists_previews_dismisses_and_assigns(
    window: Callable[..., MainWindow], qtbot: Any, sqlite_db: Database, tmp_path: Path
) -> None:
    contact = anna(sqlite_db)
    add_unassigned(sqlite_db, "unknown@example.org", "Wer sind Sie?", minutes_ago=5)
    add_unassigned(
        sqlite_db, "new@kunde.de", "Anfrage Wartung", snippet="Bitte um ein Angebot für 2027."
    )
    win = window()
    page = win.mail_page
    assert isinstance(page, MailPage)
    qtbot.waitUntil(lambda: page.count == 2, timeout=5000)
    assert win.navigation.item(win.MAIL).text() == "Mail (2)"
    win.show_page(win.MAIL)
    qtbot.waitUntil(lambda: not page.loading, timeout=5000)
    page.table.selectRow(0)
    assert "Bitte um ein Angebot für 2027." in page.preview.toPlainText()
    assert "From: new@kunde.de" in page.preview.toPlainText()
    page.resize(900, 500)
    page.grab().save(str(tmp_path / "mail-page.png"))

    with qtbot.waitSignal(page.reloaded, timeout=5000):
        page.dismiss_current()
    assert page.count == 1
    assert win.navigation.item(win.MAIL).text() == "Mail (1)"

    page.table.selectRow(0)
    dialog = page.assign_current()
    assert dialog is not None
    dialog.search_edit.setText("Schäfer")
    dialog.run_search()
    qtbot.waitUntil(lambda: dialog.result_list.count() == 1, timeout=5000)
    dialog.result_list.setCurrentRow(0)
    with qtbot.waitSignal(page.reloaded, timeout=5000):
        dialog.accept()
    assert page.count == 0
    assert win.navigation.item(win.MAIL).text() == "Mail"
    with sqlite_db.session() as s:
        assert mail_store.count_unassigned(s) == 0
        rows = mail_store.list_unassigned(s, status=None)
    assert {r.subject: r.interaction_id is not None for r in rows} == {
        "Wer sind Sie?": True,
        "Anfrage Wartung": False,
    }
    assert contact


def test_watchers_start_after_the_window_and_stop_within_a_second(
    window: Callable[..., MainWindow], qtbot: Any
) -> None:
    win = window(
        [
            {
                "name": "office",
                "host": "127.0.0.1",
                "port": 9,  # discard: nothing listens
                "tls": "none",
                "user": "anna",
                "secret": "imap-office",
            }
        ]
    )
    assert win.mail.running
    qtbot.waitUntil(lambda: "office:" in win.telephony_label.text(), timeout=5000)
    started = time.monotonic()
    win.shutdown()
    assert time.monotonic() - started < 1.5
    assert not win.mail.running


def test_bad_imap_settings_are_reported_not_raised(window: Callable[..., MainWindow]) -> None:
    win = window([{"name": "office", "host": "", "user": "", "secret": ""}])
    assert not win.mail.running
    assert "host, user, secret must be set" in win.telephony_label.text()


def test_mail_states_in_words() -> None:
    assert mail_state_words(MailStatus("a", MailState.POLLING)) == "a: polling for new mail"
    assert (
        mail_state_words(MailStatus("a", MailState.SCANNING, folder="INBOX", done=3, total=10))
        == "a: reading INBOX (3 of 10)"
    )


def test_check_connection_says_why_it_failed() -> None:
    text = check_connection({"host": "127.0.0.1", "port": 9, "tls": "none", "user": "x"}, "pw")
    assert text.startswith("Failed: cannot reach 127.0.0.1:9")


def test_settings_dialog_edits_imap_accounts_and_stores_the_password_in_the_keyring(
    window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path, memory_keyring: Any
) -> None:
    from desktop_crm.settings import load_settings

    win = window()
    win.settings = Settings(path=tmp_path / "conf" / "s.toml")
    dialog = win.open_settings()
    editor = dialog.imap_editor
    assert not editor.fields.isEnabled()  # no account yet
    editor.add_account()
    editor.name_edit.setText("office")
    editor.host_edit.setText("imap.example.de")
    editor.user_edit.setText("anna")
    editor.password_edit.setText("imap-geheim")
    editor.secret_edit.setText("imap-office")
    editor.folders_edit.setText("INBOX, Gesendet")
    editor.verify_box.setChecked(False)
    editor.lookback_box.setValue(30)
    editor.add_account()  # a second one, removed again
    assert editor.account_box.count() == 2
    editor.remove_account()
    assert editor.account_box.count() == 1
    dialog.save()
    assert dialog.saved, dialog.error_label.text()
    path = tmp_path / "conf" / "s.toml"
    assert "imap-geheim" not in path.read_text(encoding="utf-8")
    entry = load_settings(path).entries("imap")[0]
    assert entry["name"] == "office" and entry["host"] == "imap.example.de"
    assert entry["folders"] == ["INBOX", "Gesendet"]
    assert entry["verify_certificate"] is False and entry["lookback_days"] == 30
    assert entry["secret"] == "imap-office"
    assert memory_keyring.store[("desktop_crm", "imap-office")] == "imap-geheim"


def test_settings_dialog_refuses_an_imap_account_without_server(
    window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    win = window()
    win.settings = Settings(path=tmp_path / "s.toml")
    dialog = win.open_settings()
    dialog.imap_editor.add_account()
    dialog.save()
    assert not dialog.saved
    assert "host, user must be set" in dialog.error_label.text()
    dialog.reject()


def test_imap_test_connection_answers_in_words_off_the_gui_thread(
    window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    win = window()
    win.settings = Settings(path=tmp_path / "s.toml")
    dialog = win.open_settings()
    editor = dialog.imap_editor
    editor.add_account()
    editor.host_edit.setText("127.0.0.1")
    editor.port_box.setValue(9)
    editor.tls_box.setCurrentIndex(editor.tls_box.findData("none"))
    editor.user_edit.setText("anna")
    editor.password_edit.setText("x")
    editor.test_connection()
    assert editor.test_result.text() == "Connecting…"
    qtbot.waitUntil(lambda: not editor.testing, timeout=10_000)
    assert editor.test_result.text().startswith("Failed: cannot reach 127.0.0.1:9")
    dialog.reject()


def test_mail_page_assigns_to_an_organization(
    window: Callable[..., MainWindow], qtbot: Any, sqlite_db: Database
) -> None:
    from desktop_crm.data.records import OrganizationInput

    with sqlite_db.session() as s:
        org = records.create_organization(
            s, OrganizationInput(name="Müller Anlagenbau GmbH", customer_number="K-1001")
        ).id
    entry = add_unassigned(sqlite_db, "einkauf@mueller.example", "Bestellung")
    win = window()
    page = win.mail_page
    assert isinstance(page, MailPage)
    qtbot.waitUntil(lambda: page.count == 1, timeout=5000)
    page.table.selectRow(0)
    dialog = page.assign_current(organization=True)
    assert dialog is not None
    dialog.search_edit.setText("Müller")
    dialog.run_search()
    qtbot.waitUntil(lambda: dialog.result_list.count() == 1, timeout=5000)
    assert dialog.result_list.item(0).text() == "Müller Anlagenbau GmbH · K-1001"
    dialog.result_list.setCurrentRow(0)
    with qtbot.waitSignal(page.reloaded, timeout=5000):
        dialog.accept()
    assert page.count == 0
    with sqlite_db.session() as s:
        (row,) = mail_store.unassigned_rows(s, [entry]).values()
    assert row.interaction_id is not None
    assert org


def test_the_mail_page_speaks_german(
    window: Callable[..., MainWindow], qtbot: Any, sqlite_db: Database, tmp_path: Path
) -> None:
    add_unassigned(sqlite_db, "new@kunde.de", "Anfrage Wartung", snippet="Bitte um ein Angebot.")
    win = window(lang="de")
    page = win.mail_page
    assert isinstance(page, MailPage)
    qtbot.waitUntil(lambda: page.count == 1, timeout=5000)
    assert win.navigation.item(win.MAIL).text() == "Mail (1)"
    assert page.title.text() == "1 nicht zugeordnete Mail"
    assert page.assign_button.text() == "Kontakt zuordnen …"
    assert page.model.headerData(1, Qt.Orientation.Horizontal) == "Betreff"
    page.table.selectRow(0)
    assert "Von: new@kunde.de" in page.preview.toPlainText()
    assert mail_state_words(MailStatus("büro", MailState.IDLE)) == (
        "büro: bereit, wartet auf neue Mails"
    )
    win.show_page(win.MAIL)
    win.resize(1200, 600)
    win.grab().save(str(tmp_path / "mail-page-de.png"))
