"""Change events without a server: payloads, backoff, and SQLite processes noticing each other."""

from __future__ import annotations

import contextlib
import queue
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from desktop_crm.data import records
from desktop_crm.data.changes import (
    Change,
    SqliteChangePoller,
    backoff_delays,
    parse_notification,
    watch_changes,
)
from desktop_crm.data.db import Database


def test_notification_payloads() -> None:
    assert parse_notification('{"table": "contact", "id": 7, "op": "update", "version": 3}') == (
        Change("contact", 7, "update", 3)
    )
    assert parse_notification('{"table": "ticket", "id": 1, "op": "delete", "version": null}') == (
        Change("ticket", 1, "delete", None)
    )


@pytest.mark.parametrize("payload", ["", "{}", '{"table": "x", "op": "drop"}', "[1]"])
def test_malformed_payloads_are_ignored(payload: str, caplog: pytest.LogCaptureFixture) -> None:
    assert parse_notification(payload) is None
    assert "malformed" in caplog.text


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    delay = backoff_delays(0.5, 30.0, random.Random(1))
    samples = [delay(n) for n in range(12)]
    for n, value in enumerate(samples):
        ceiling = min(30.0, 0.5 * 2**n)
        assert ceiling / 2 <= value <= ceiling
    assert max(samples) <= 30.0
    assert len({round(delay(3), 6) for _ in range(20)}) > 1  # jitter: clients do not stampede


def _poller(db: Database, inbox: queue.SimpleQueue[Change]) -> SqliteChangePoller:
    feed = watch_changes(db.url, inbox.put, interval=0.05)
    assert isinstance(feed, SqliteChangePoller)
    feed.start()
    return feed


def _next(inbox: queue.SimpleQueue[Change], table: str, timeout: float = 3.0) -> Change:
    deadline = time.monotonic() + timeout
    while True:
        change = inbox.get(timeout=max(0.01, deadline - time.monotonic()))
        if change.table == table:
            return change


def test_sqlite_processes_on_one_file_notice_each_other(sqlite_db: Database) -> None:
    inbox: queue.SimpleQueue[Change] = queue.SimpleQueue()
    with sqlite_db.session() as s:
        existing = records.create_contact(s, records.ContactInput(last_name="Alt"))
        doomed = records.create_contact(s, records.ContactInput(last_name="Weg"))
    feed = _poller(sqlite_db, inbox)
    try:
        writer = textwrap.dedent(
            f"""
            from desktop_crm.data import records
            from desktop_crm.data.db import Database
            db = Database({str(sqlite_db.url)!r})
            with db.session() as s:
                c = records.create_contact(s, records.ContactInput(last_name="Neu"))
            with db.session() as s:
                records.update_contact(s, {existing.id}, 1, records.ContactInput(last_name="Alt 2"))
            with db.session() as s:
                records.delete_contact(s, {doomed.id}, 1)
            print(c.id)
            """
        )
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", writer], capture_output=True, text=True, timeout=60, check=True
        )
        new_id = int(done.stdout.strip())
        seen: list[Change] = []
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not any(c.op == "refresh" for c in seen):
            with contextlib.suppress(queue.Empty):
                seen.append(_next(inbox, "contact", 0.5))
        assert time.perf_counter() - t0 < 60
        assert Change("contact", existing.id, "update", 2) in seen
        assert Change("contact", new_id, "insert", 1) in seen
        assert any(c.op == "refresh" and c.id is None for c in seen)  # the deleted one
    finally:
        feed.stop()


def test_sqlite_poller_reports_each_version_once(sqlite_db: Database) -> None:
    inbox: queue.SimpleQueue[Change] = queue.SimpleQueue()
    other = Database(sqlite_db.url)  # another connection, as another process would have
    feed = _poller(sqlite_db, inbox)
    try:
        with other.session() as s:
            contact = records.create_contact(s, records.ContactInput(last_name="Eins"))
        assert _next(inbox, "contact") == Change("contact", contact.id, "insert", 1)
        with other.session() as s:
            records.update_contact(s, contact.id, 1, records.ContactInput(last_name="Zwei"))
        assert _next(inbox, "contact") == Change("contact", contact.id, "update", 2)
        time.sleep(0.3)
        assert inbox.empty()  # the look-back window does not repeat what was reported
    finally:
        feed.stop()
        other.dispose()


def test_stop_returns_within_a_second(tmp_path: Path, sqlite_db: Database) -> None:
    feed = _poller(sqlite_db, queue.SimpleQueue())
    t0 = time.monotonic()
    feed.stop()
    assert time.monotonic() - t0 < 1.0


def test_the_sqlite_poller_reads_changes_by_index_not_every_row(sqlite_db: Database) -> None:
    """On 10,000,000 history rows a full read took 4.7 s after every write (issue 6)."""
    import sqlite3

    from desktop_crm.data.changes import WATCHED

    path = sqlite_db.url.database
    assert path
    with sqlite_db.session() as s:
        for n in range(300):
            records.create_contact(s, records.ContactInput(last_name=f"Alt{n}"))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE contact SET updated_at = '2020-01-01 00:00:00.000000'")
        for table in WATCHED:  # the poller's question is answered from the index
            plan = " ".join(
                str(row[-1])
                for row in conn.execute(
                    f"EXPLAIN QUERY PLAN SELECT id FROM {table} WHERE updated_at >= datetime(?, ?)",
                    ("2026-01-01", "-5 seconds"),
                )
            )
            assert f"ix_{table}_updated_at" in plan, plan
    with sqlite_db.session() as s:
        recent = records.create_contact(s, records.ContactInput(last_name="Neu"))
    inbox: queue.SimpleQueue[Change] = queue.SimpleQueue()
    feed = _poller(sqlite_db, inbox)
    try:
        # the first look remembers the rows changed just before the newest change, not all
        assert len(feed._seen) < 10
        assert ("contact", recent.id) in feed._seen
    finally:
        feed.stop()
