"""Big files are read into contacts by worker processes: the same result as in one process.

``import_file(..., workers=N)`` forces the pool also for small files, and a small
``CHUNK_ROWS`` makes even the shared example files span several chunks, so ordering across
chunks, problems found while reading versus while preparing, and cancelling are all exercised.
The reference is always the one-process path (``workers=0``) on a fresh SQLite database.
"""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from desktop_crm.data.db import Database
from desktop_crm.data.exporting import export_contacts
from desktop_crm.data.importing import ImportReport, import_file, parallel
from desktop_crm.data.importing.layout import OWN_CSV_COLUMNS
from tests.unit.test_import import contacts, shared

VOLATILE = {"id", "created_at", "updated_at", "organization_id"}


def comparable(db: Database) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k not in VOLATILE} for c in contacts(db)]


def outcome(report: ImportReport) -> tuple[Any, ...]:
    return (
        report.format,
        report.encoding,
        report.created,
        report.updated,
        report.unchanged,
        report.skipped,
        report.organizations_created,
        report.cancelled,
        [(p.line, p.reason, p.raw) for p in report.problems],
    )


@pytest.fixture
def reference(tmp_path: Path) -> Any:
    made: list[Database] = []

    def fresh() -> Database:
        db = Database(f"sqlite:///{tmp_path / f'reference-{len(made)}.db'}")
        db.upgrade()
        made.append(db)
        return db

    yield fresh
    for db in made:
        db.dispose()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK_ROWS", 3)


def messy_csv(path: Path, rows: int) -> None:
    """Our own layout with every kind of trouble, a few of each per chunk."""
    lines = [",".join(OWN_CSV_COLUMNS)]
    empty = [""] * len(OWN_CSV_COLUMNS)

    def row(**values: str) -> str:
        cells = list(empty)
        for key, value in values.items():
            cells[OWN_CSV_COLUMNS.index(key)] = value
        out: list[str] = []
        w = csv.writer(_Lines(out), lineterminator="")
        w.writerow(cells)
        return out[0]

    for i in range(rows):
        kind = i % 11
        if kind == 0:
            lines.append(row(first_name="Anna", last_name=f"Maier{i}", phone_work="keine Nummer"))
        elif kind == 1:
            lines.append(row(first_name="Bernd", last_name=f"Bauer{i}", email="bernd(at)acme.de"))
        elif kind == 2:
            lines.append(",".join(empty))  # an empty row: nothing, not even counted
        elif kind == 3:
            lines.append(row(organization=f"Nur Firma {i % 4} GmbH", city="Köln"))
        elif kind == 4:  # the same person twice in the file (the second merges)
            lines.append(
                row(
                    first_name="Clara",
                    last_name="Doppelt",
                    email="clara@example.de",
                    phone_mobile=f"+49 160 {1_000_000 + i % 50}",
                )
            )
        elif kind == 5:
            lines.append(row(first_name="Dora", last_name=f"Zelle{i}") + ",zu,viele")
        elif kind == 6:
            lines.append(row(street="Nur eine Straße 1"))  # nothing to import: skipped
        elif kind == 7:
            lines.append(f'Eva,"Ende{i},offen')  # a quotation mark never closed
        elif kind == 8:
            note = f'"Zeile eins\nZeile zwei {i}"'
            lines.append(row(first_name="Franz", last_name=f"Mehrzeilig{i}") + note)
        elif kind == 9:
            lines.append(
                row(
                    first_name="Gerd",
                    last_name=f"Lang{i}",
                    position="x" * 130,
                    phone_work=f"089/2020447-{i % 90 + 10}",
                    phone_mobile=f"+49 171 {5_000_000 + i}",
                    country="Österreich",
                    tags="VIP;Messe",
                )
            )
        else:
            lines.append(
                row(
                    first_name="Hans",
                    last_name=f"Normal{i}",
                    organization=f"Firma {i % 5} AG",
                    phone_work=f"+41 44 268 12-{i % 90 + 10:02d}",
                    email=f"hans.{i}@example.ch",
                    country="CH",
                )
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class _Lines:
    def __init__(self, out: list[str]) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.append(text)


def test_messy_csv_same_as_in_one_process(
    db: Database, reference: Any, tmp_path: Path, small_chunks: None
) -> None:
    path = tmp_path / "messy.csv"
    messy_csv(path, 120)
    expected_db = reference()
    expected = import_file(expected_db, path, workers=0)
    got = import_file(db, path, workers=2)

    assert outcome(got) == outcome(expected)
    assert comparable(db) == comparable(expected_db)
    # the checks above must have had something to compare
    reasons = " ".join(p.reason for p in expected.problems)
    for words in (
        "never closed",
        "could not be read",
        "not a usable e-mail",
        "nothing to import",
        "cells but the header only",
        "longer than 120 characters",
    ):
        assert words in reasons
    assert any("Zeile eins\nZeile zwei" in c["notes"] for c in comparable(db))
    assert expected.created > 50 and expected.updated > 0 and expected.skipped > 10

    again = import_file(db, path, workers=2)  # a re-import creates nothing
    assert again.created == 0 and again.organizations_created == 0
    assert comparable(db) == comparable(expected_db)


def test_shared_exports_same_as_in_one_process(
    db: Database, reference: Any, small_chunks: None
) -> None:
    folder = shared("")
    files = sorted(folder.glob("*.vcf")) + sorted(folder.glob("*.csv"))
    assert len(files) == 10
    expected_db = reference()
    for path in files:
        expected = import_file(expected_db, path, workers=0)
        got = import_file(db, path, workers=2)
        assert outcome(got) == outcome(expected), path.name
    assert comparable(db) == comparable(expected_db)


def test_own_json_export_same_as_in_one_process(
    reference: Any, tmp_path: Path, small_chunks: None
) -> None:
    source = reference()
    messy = tmp_path / "messy.csv"
    messy_csv(messy, 60)
    import_file(source, messy, workers=0)
    exported = tmp_path / "all.json"
    with exported.open("w", encoding="utf-8", newline="") as out:
        export_contacts(source, "json", out)
    one, pooled = reference(), reference()
    assert outcome(import_file(pooled, exported, workers=2)) == outcome(
        import_file(one, exported, workers=0)
    )
    assert comparable(pooled) == comparable(one)
    assert len(comparable(pooled)) == len(comparable(source)) > 30


def test_cancel_stops_promptly_keeps_what_was_saved_and_continues(
    sqlite_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    messy_csv(path, 12_000)
    seen: list[tuple[int, int]] = []
    asked_at: list[float] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))

    def cancel() -> bool:
        if seen and seen[-1][0] >= 2000:
            asked_at.append(time.perf_counter())
            return True
        return False

    before = set(threading.enumerate())
    first = import_file(sqlite_db, path, workers=2, progress=progress, cancel=cancel)
    stopped = time.perf_counter()
    assert first.cancelled
    assert stopped - asked_at[0] < 2.0  # running chunks finish, waiting ones are dropped
    assert 0 < first.created < 20_000
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)
    assert not [t for t in threading.enumerate() if t not in before and t.is_alive()]
    saved = len(contacts(sqlite_db))
    assert saved == first.created

    rest = import_file(sqlite_db, path, workers=2, progress=progress)
    assert not rest.cancelled
    assert seen[-1][0] == seen[-1][1]  # progress ends at the total
    everything = import_file(tmp_path_db(tmp_path), path, workers=0)
    assert len(contacts(sqlite_db)) == everything.created


def tmp_path_db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'everything.db'}")
    db.upgrade()
    return db


def test_import_from_a_worker_thread(sqlite_db: Database, tmp_path: Path) -> None:
    """The desktop client imports from a worker thread; the pool must not mind."""
    path = tmp_path / "messy.csv"
    messy_csv(path, 3000)
    reports: list[ImportReport] = []
    thread = threading.Thread(
        target=lambda: reports.append(import_file(sqlite_db, path, workers=2)), name="import"
    )
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert reports and reports[0].created > 1000


def test_small_files_are_read_here_and_big_ones_in_the_pool(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[int] = []
    real = parallel.prepared_in_pool

    def spy(*args: Any) -> Any:
        used.append(args[-1])
        return real(*args)

    monkeypatch.setattr("desktop_crm.data.importing.prepared_in_pool", spy)
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    messy_csv(small, 300)
    messy_csv(big, parallel.POOL_MIN_LINES + 10)
    import_file(sqlite_db, small)
    assert used == []
    import_file(sqlite_db, big)
    assert used == [parallel.default_workers()]
    assert parallel.start_method() in ("forkserver", "spawn")  # never fork


def test_sqlite_settings_raised_per_batch_and_put_back(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch writes with a big page cache and rare checkpoints; afterwards the defaults."""
    from sqlalchemy import text

    from desktop_crm.data.importing import writer

    during: list[tuple[int, int]] = []
    real = writer.Writer._write

    def spy(self: Any, session: Any, *args: Any) -> Any:
        during.append(
            (
                session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one(),
                session.execute(text("PRAGMA cache_size")).scalar_one(),
            )
        )
        return real(self, session, *args)

    monkeypatch.setattr(writer.Writer, "_write", spy)
    path = tmp_path / "messy.csv"
    messy_csv(path, 1200)
    import_file(sqlite_db, path, workers=0)
    assert during and set(during) == {(writer.WAL_AUTOCHECKPOINT_PAGES, -writer.CACHE_KIB)}
    with sqlite_db.engine.connect() as connection:  # the pool hands back the same connection
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar_one() == -2000


def test_prepared_rows_travel_unchanged(tmp_path: Path) -> None:
    """What a worker packs, the writer unpacks equal, every field (also new ones)."""
    from dataclasses import fields

    from desktop_crm.data.importing.draft import Prepared
    from desktop_crm.data.importing.textfile import TextFile
    from desktop_crm.data.records import ContactInput

    assert {f.name for f in fields(Prepared)} == set(parallel._PACKED_PREPARED)
    assert {f.name for f in fields(ContactInput)} == set(parallel._PACKED_INPUT)
    path = tmp_path / "messy.csv"
    messy_csv(path, 200)
    report = ImportReport("", "", 0, 0, 0, 0, [])
    from desktop_crm.data.importing import _csv_source

    items = [item for _where, item in _csv_source(TextFile.open(path), report)]
    outcomes = parallel.prepare_chunk("DE", items)
    rows = [o for o, _p in outcomes if isinstance(o, Prepared)]
    assert len(rows) > 100 and any(r.numbers and r.data.birthday is None for r in rows)
    assert [parallel.unpack(parallel.pack(r)) for r in rows] == rows
    assert parallel._unpacked(parallel.prepare_chunk_packed("DE", items)) == outcomes


def test_workers_end_when_the_importing_process_is_killed(tmp_path: Path) -> None:
    """The desktop client killed mid-import must not leave worker processes behind."""
    import os
    import signal
    import subprocess
    import sys

    path = tmp_path / "big.csv"
    messy_csv(path, 40_000)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from desktop_crm.data.db import Database\n"
        "from desktop_crm.data.importing import import_file\n"
        "if __name__ == '__main__':\n"
        f"    db = Database('sqlite:///{tmp_path / 'killed.db'}'); db.upgrade()\n"
        "    def progress(done, total):\n"
        "        if done >= 3000: print('importing', flush=True)\n"
        f"    import_file(db, Path({str(path)!r}), workers=2, progress=progress)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "importing"
        mine = {
            int(pid)
            for pid in os.listdir("/proc")
            if pid.isdigit() and _ancestor(int(pid), child.pid)
        }
        assert mine  # the fork server and its workers
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_running(p) for p in mine):
            time.sleep(0.1)
        assert not [p for p in mine if _running(p)]
    finally:
        child.kill()
        if child.stdout is not None:
            child.stdout.close()


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _ancestor(pid: int, ancestor: int) -> bool:
    seen = 0
    while pid > 1 and seen < 50:
        pid = _parent(pid)
        if pid == ancestor:
            return True
        seen += 1
    return False


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_addresses_stored_as_the_services_normalise_them(db: Database, tmp_path: Path) -> None:
    """The writer reuses the address prepare() normalised; it must equal normalize_email()."""
    from sqlalchemy import select

    from desktop_crm.data.models import EmailAddress
    from desktop_crm.data.records import normalize_email

    raws = ["Jürgen.Müller@Bücher.DE", " <MAILTO:Anna@Example.COM> ", "x.y+z@sub.Example.org"]
    path = tmp_path / "mails.csv"
    lines = ["first_name,last_name,email,email_other"]
    for i, raw in enumerate(raws):
        lines.append(f'P{i},Q{i},"{raw}","second.{i}@ÄÖÜ.example"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_file(db, path, workers=0)
    assert report.created == 3
    with db.session() as s:
        stored = s.execute(select(EmailAddress.raw, EmailAddress.normalized, EmailAddress.domain))
        rows = sorted(stored)
    assert len(rows) == 6
    for raw, normalized, domain in rows:
        assert (normalized, domain) == normalize_email(raw)
