"""A mailbox backlog: the first start of the IMAP watcher on a folder with N messages.

    .venv/bin/python benchmarks/bench_mail_backlog.py [--messages 10000]

Starts a private Dovecot (tests/helpers/dovecot.py, Debian's dovecot-imapd) on 127.0.0.1, puts N
messages into the INBOX maildir (a third from 300 known contacts, a third from the domains of 100
known companies, a third from unknown senders; every 20th with a 200 KB PDF attached, every 10th
HTML only), and times an :class:`ImapWatcher` (tls = none, lookback 90 days) from ``start()`` to
the IDLE status after the scan, on a fresh SQLite database. Progress comes as ``scanning``
status events (done/total per batch of 200). Also counts the bytes fetched, to show that no
message body is downloaded whole.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import imapclient  # noqa: E402

from desktop_crm.data import records  # noqa: E402
from desktop_crm.data.db import Database  # noqa: E402
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput  # noqa: E402
from desktop_crm.mail.events import MailEvent, MailOutcome, MailState, MailStatus  # noqa: E402
from desktop_crm.mail.watcher import ImapAccount, ImapWatcher  # noqa: E402
from tests.helpers.dovecot import dovecot_server  # noqa: E402

PDF = b"JVBERi0xLjQK" * 22_000  # about 260 KB of base64


def message(n: int, when: datetime) -> bytes:
    if n % 3 == 0:
        sender = f"Kontakt {n % 300} <kontakt{n % 300}@kunde{n % 300}.de>"
    elif n % 3 == 1:
        sender = f"Mitarbeiter {n} <person{n}@firma{n % 100}.de>"
    else:
        sender = f"Unbekannt {n} <wer{n}@example.org>"
    head = (
        f"From: {sender}\r\nTo: support@crm.test\r\n"
        f"Subject: =?utf-8?q?Anfrage_Nr=2E_{n}_=C3=BC?=\r\n"
        f"Message-ID: <bench-{n}@crm.test>\r\nDate: {format_datetime(when)}\r\n"
        "MIME-Version: 1.0\r\n"
    )
    text = f"Sehr geehrte Damen und Herren,\r\nzu Auftrag {n} habe ich eine Frage.\r\n" * 5
    if n % 20 == 0:
        return (
            (
                head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
                "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "--b\r\n"
                "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
                f'Content-Disposition: attachment; filename="Auftrag-{n}.pdf"\r\n\r\n'
            ).encode()
            + PDF
            + b"\r\n--b--\r\n"
        )
    if n % 10 == 5:
        html = f"<html><body><p>Sehr geehrte Damen und Herren,</p><p>Auftrag {n}</p></body></html>"
        return (head + "Content-Type: text/html; charset=utf-8\r\n\r\n" + html).encode()
    return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text).encode()


class Counter:
    """Counts the bytes imapclient hands back for FETCH commands."""

    def __init__(self) -> None:
        self.bytes = 0
        original = imapclient.IMAPClient.fetch
        counter = self

        def fetch(client, messages, data, modifiers=None):  # type: ignore[no-untyped-def]
            result = original(client, messages, data, modifiers)
            for item in result.values():
                for value in item.values():
                    if isinstance(value, bytes):
                        counter.bytes += len(value)
            return result

        imapclient.IMAPClient.fetch = fetch  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    with dovecot_server() as server, tempfile.TemporaryDirectory() as folder:
        if isinstance(server, str):
            print(server)
            return 1
        now = datetime.now(UTC)
        mailbox_bytes = 0
        for n in range(args.messages):
            raw = message(n, now - timedelta(minutes=args.messages - n))
            mailbox_bytes += len(raw)
            server.deliver("anna", raw)
        db = Database(f"sqlite:///{folder}/crm.db")
        db.upgrade()
        with db.session() as s:
            for k in range(100):
                records.create_organization(
                    s, OrganizationInput(name=f"Firma {k}", domains=[f"firma{k}.de"])
                )
            for k in range(300):
                records.create_contact(
                    s,
                    ContactInput(
                        first_name=f"Kontakt {k}", emails=[EmailInput(f"kontakt{k}@kunde{k}.de")]
                    ),
                )
        counter = Counter()
        done = threading.Event()
        outcomes: dict[str, int] = {}
        progress: list[tuple[float, int, int]] = []
        started = time.perf_counter()

        def sink(item: MailEvent | MailStatus) -> None:
            if isinstance(item, MailEvent):
                outcomes[str(item.outcome)] = outcomes.get(str(item.outcome), 0) + 1
            elif item.state is MailState.SCANNING:
                progress.append((time.perf_counter() - started, item.done, item.total))
            elif item.state is MailState.IDLE:
                done.set()
            elif item.state is MailState.RECONNECTING:
                print("reconnecting:", item.reason)

        account = ImapAccount(
            name="bench",
            host=server.host,
            port=server.port,
            tls="none",
            user="anna",
            secret="x",
            folders=("INBOX",),
            timeout=60,
        )
        watcher = ImapWatcher(account, db, lambda: server.user("anna").password)
        watcher.start(sink)
        done.wait(3600)
        elapsed = time.perf_counter() - started
        watcher.stop()
        db.dispose()
        first = next((t for t, d, _ in progress if d > 0), elapsed)
        print(f"{platform.machine()} {platform.python_version()} SQLite {sqlite3.sqlite_version}")
        print(f"messages: {args.messages:,}, mailbox {mailbox_bytes / 1e6:.1f} MB")
        print(f"first progress event after {first:.2f} s; progress events: {len(progress)}")
        print(f"scan to IDLE: {elapsed:.1f} s ({args.messages / elapsed:,.0f} messages/s)")
        share = 100 * counter.bytes / mailbox_bytes
        print(f"fetched: {counter.bytes / 1e6:.1f} MB ({share:.1f} % of the mailbox)")
        print(f"outcomes: {dict(sorted(outcomes.items()))}")
        expected = {str(MailOutcome.LOGGED), str(MailOutcome.UNASSIGNED)}
        return 0 if set(outcomes) <= expected and sum(outcomes.values()) == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
