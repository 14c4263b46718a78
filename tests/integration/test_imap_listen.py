"""``desktop-crm listen`` with an ``[[imap]]`` account against a private Dovecot: JSON lines
``mail.status`` and ``mail.received`` (message_id, from, subject, matches as ``lookup --json``)."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from imapclient import IMAPClient

from desktop_crm import cli
from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.records import ContactInput, EmailInput
from desktop_crm.secrets import set_secret
from desktop_crm.tickets.service import QueueSetup, save_queue
from tests.helpers.dovecot import DovecotServer

pytestmark = pytest.mark.integration

ANNA = "anna.schaefer@mueller-anlagenbau.de"


class Output(io.StringIO):
    """stdout that another thread may read while the command writes."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            return super().write(text)

    def text(self) -> str:
        with self.lock:
            return self.getvalue()


def config(tmp_path: Path, dovecot: DovecotServer) -> Path:
    path = tmp_path / "crm.toml"
    path.write_text(
        f"""
[[imap]]
name = "office"
host = "{dovecot.host}"
port = {dovecot.port}
tls = "starttls"
ca_file = "{dovecot.cert_path}"
user = "anna"
secret = "imap-anna"
poll_seconds = 5
""",
        encoding="utf-8",
    )
    return path


def test_listen_prints_mail_status_and_received_json_lines(
    tmp_path: Path, dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    db = Database(url)
    db.upgrade()
    with db.session() as s:
        anna = records.create_contact(
            s, ContactInput(first_name="Anna", last_name="Schäfer", emails=[EmailInput(ANNA)])
        ).id
        save_queue(s, QueueSetup(name="Support", email="anna@crm.test"))  # the watched mailbox
    db.dispose()
    set_secret("imap-anna", dovecot.user("anna").password)
    out = Output()
    monkeypatch.setattr("sys.stdout", out)
    errors: list[str] = []

    def drive() -> None:
        try:
            deadline = time.monotonic() + 20
            while '"state": "idle"' not in out.text() and time.monotonic() < deadline:
                time.sleep(0.05)
            client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=5)
            client.login("anna", dovecot.user("anna").password)
            client.append(
                "INBOX",
                (
                    f"From: =?utf-8?q?Anna_Sch=C3=A4fer?= <{ANNA}>\r\nTo: anna@crm.test\r\n"
                    "Subject: =?utf-8?q?R=C3=BCckruf?=\r\nMessage-ID: <listen-1@x>\r\n\r\nHallo\r\n"
                ).encode(),
            )
            client.logout()
            while '"mail.received"' not in out.text() and time.monotonic() < deadline:
                time.sleep(0.05)
        except Exception as exc:  # reported by the test below
            errors.append(repr(exc))
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # cmd_listen's handler stops it

    driver = threading.Thread(target=drive)
    driver.start()
    code = cli.main(
        ["--database", url, "--config", str(config(tmp_path, dovecot)), "listen", "--json"]
    )
    driver.join()
    assert errors == []
    assert code == 0
    lines = [json.loads(line) for line in out.text().splitlines()]
    received = [line for line in lines if line["event"] == "mail.received"]
    assert len(received) == 1
    mail = received[0]
    assert (mail["message_id"], mail["from"], mail["subject"]) == ("listen-1@x", ANNA, "Rückruf")
    assert [m["contact_id"] for m in mail["matches"]] == [anna]
    assert mail["ticket"] == {"number": "T-000001", "created": True}  # to the support mailbox
    assert set(mail["matches"][0]) >= {
        "contact_id",
        "organization_id",
        "name",
        "matched",
        "reason",
        "score",
    }
    states = [line["state"] for line in lines if line["event"] == "mail.status"]
    assert states[0] == "connecting" and "idle" in states and states[-1] == "stopped"
    assert dovecot.user("anna").password not in out.text()


def test_listen_without_the_keyring_entry_says_how_to_store_it(
    tmp_path: Path, dovecot: DovecotServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    code = cli.main(["--database", url, "--config", str(config(tmp_path, dovecot)), "listen"])
    err = capsys.readouterr().err
    assert code == 1
    assert "[[imap]] 'office' cannot log in" in err
    assert "desktop-crm secret set imap-anna" in err
