"""The desktop client on a million contacts: list, scrolling, search as you type, cold start.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_ui.py [--contacts 1000000]

Uses the database of bench_lookup.py (built there on first use, cached in benchmarks/out/) and
measures, on the offscreen platform:

- opening the contact list: its first screen (400 ids) painted, then the rest of the list read
  as anchors every 200 rows (the window's background read) and appended;
- a page repaint while scrolling, 200 pages down: back to back (page down and a synchronous
  repaint, no event loop in between, so blocks read ahead cannot land), and as a user scrolls
  (PageDown 30 times a second, the event loop running between pages: the time counted for a
  page is all GUI-thread work until the next one, measured from the event dispatcher's
  awake/aboutToBlock, so read-ahead answers landing meanwhile are in it);
- jumps to the middle, the end and the top;
- resident memory of the same flow (list opened, 200 pages scrolled, the jumps) in fresh
  processes, on 10,000 and on 1,000,000 contacts, with the list held as anchors (the client's
  way) and, for comparison, as every id;
- search as you type: what the window runs a moment after each key (names, numbers in the forms
  people type them, e-mail addresses, customer numbers), p50/p95/max;
- cold start to a usable window: a fresh process from ``import`` to the list shown.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench_lookup import OUT, build, probes  # noqa: E402
from sqlalchemy import select  # noqa: E402

from desktop_crm.data.db import Database  # noqa: E402
from desktop_crm.data.models import AppMeta  # noqa: E402

COLD_START = """
import sys, time
started = float(sys.argv[2])
from PySide6.QtWidgets import QApplication
from desktop_crm.data.db import Database
from desktop_crm.settings import Settings
from desktop_crm.ui.startup import open_main_window
app = QApplication([])
db = Database(sys.argv[1])
window = open_main_window(app, db, Settings(path=__import__("pathlib").Path("/nonexistent.toml")),
                          is_default_database=False, confirm=lambda _w: False)
shown = []
# the clock stops when the list is painted; quitting closes the window (Qt 6), which is not
# part of a start
window.loaded.connect(
    lambda: (window.contact_table.viewport().repaint(), shown.append(time.time()), app.quit())
)
app.exec()
print(f"{(shown[0] - started) * 1000:.0f} {window.contact_model.rowCount()}")
"""


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def spread(values: list[float]) -> str:
    return f"{pct(values, 0.5):.1f} / {pct(values, 0.95):.1f} / {max(values):.1f}"


def database(contacts: int, seed: int) -> tuple[Path, Database]:
    path = OUT / f"lookup-{contacts}-{seed}.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.session() as s:
        if s.scalar(select(AppMeta.value).where(AppMeta.key == "bench_lookup")) is None:
            build(db, contacts, seed)
    return path, db


class GuiClock:
    """GUI-thread busy time while the event loop runs: from each wake-up of the event
    dispatcher to the moment it is about to wait again, as wall time and as the thread's CPU
    time (which other processes on the machine do not inflate)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QAbstractEventDispatcher

        self.busy = 0.0
        self.cpu = 0.0
        self._since: tuple[float, float] | None = None
        dispatcher = QAbstractEventDispatcher.instance()
        dispatcher.awake.connect(self._awake)
        dispatcher.aboutToBlock.connect(self._blocking)

    def _awake(self) -> None:
        self._since = (time.perf_counter(), time.thread_time())

    def _blocking(self) -> None:
        if self._since is not None:
            self.busy += time.perf_counter() - self._since[0]
            self.cpu += time.thread_time() - self._since[1]
            self._since = None

    def run_until(self, deadline: float) -> tuple[float, float]:
        """Run the event loop until ``deadline`` (perf_counter): busy ms, CPU ms meanwhile."""
        from PySide6.QtCore import QEventLoop, QTimer

        self.busy = self.cpu = 0.0
        self._awake()  # from here the GUI thread works until it waits
        left = deadline - time.perf_counter()
        if left > 0:
            loop = QEventLoop()
            QTimer.singleShot(max(1, round(left * 1000)), loop.quit)
            loop.exec()
        self._blocking()
        return self.busy * 1000, self.cpu * 1000


class ListSession:
    """The contact list as the window builds it: a view, a model with read-ahead, a runner."""

    def __init__(self, db: Database) -> None:
        from desktop_crm.ui.models import ContactTableModel
        from desktop_crm.ui.pages import list_view
        from desktop_crm.ui.reader import CrmReader
        from desktop_crm.ui.tasks import TaskRunner

        self.reader = CrmReader(db)
        self.runner = TaskRunner()
        self.model = ContactTableModel(
            self.reader.contact_rows,
            fetch_range=self.reader.contact_range,
            locate=self.reader.contact_position,
        )
        self.model.runner = self.runner
        self.view = list_view(self.model, "contactTable")
        self.view.resize(900, 700)

    def open(self, app: Any, *, by_ids: bool = False) -> tuple[float, float, float]:
        """First screen painted (ms); the rest read (ms, a worker in the window) and appended
        with a repaint (ms, GUI thread)."""
        self.view.show()
        app.processEvents()
        t0 = time.perf_counter()
        first = self.reader.first_page(FIRST_PAGE)
        self.model.set_ids(first.ids)
        self.view.viewport().repaint()
        t1 = time.perf_counter()
        if by_ids:
            rest: Any = self.reader.all_ids()
        else:
            rest = self.reader.contact_list(head=len(first.ids))
        t2 = time.perf_counter()
        if by_ids:
            self.model.extend_ids(rest[len(first.ids) :])
        else:
            self.model.extend_with_anchors(rest)
        self.view.viewport().repaint()
        t3 = time.perf_counter()
        return (t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000

    def page_back_to_back(self) -> tuple[float, float]:
        bar = self.view.verticalScrollBar()
        t0, c0 = time.perf_counter(), time.thread_time()
        bar.setValue(bar.value() + bar.pageStep())
        self.view.viewport().repaint()
        return (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000

    def page_as_a_user(self, clock: GuiClock, interval: float) -> tuple[float, float]:
        """PageDown, painted at once; then the event loop until the next key: all GUI work
        of the page, wall and CPU ms."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        t0, c0 = time.perf_counter(), time.thread_time()
        QTest.keyClick(self.view, Qt.Key.Key_PageDown)
        self.view.viewport().repaint()
        wall, cpu = (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000
        busy, busy_cpu = clock.run_until(t0 + interval)
        return wall + busy, cpu + busy_cpu

    def jump(self, row: int) -> float:
        t0 = time.perf_counter()
        self.view.verticalScrollBar().setValue(row)
        self.view.viewport().repaint()
        return (time.perf_counter() - t0) * 1000

    def close(self) -> None:
        self.view.close()
        self.runner.shutdown()


FIRST_PAGE = 400
PAGES = 200
KEY_REPEAT = 1 / 30  # PageDown held: about 30 pages a second


def sqlite_mb() -> float:
    """Memory SQLite itself holds (page caches of every connection), process-wide."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("sqlite3")
    if name is None:
        return float("nan")
    used = ctypes.CDLL(name).sqlite3_memory_used
    used.restype = ctypes.c_int64
    return float(used()) / 2**20


def memory_probe(contacts: int, seed: int, how: str) -> int:
    """In a fresh process: resident memory before and after the list flow."""
    from PySide6.QtWidgets import QApplication

    _path, db = database(contacts, seed)
    app = QApplication([])
    clock = GuiClock()
    # everything imported and one view shown on an empty list first: "before" is the client
    # without a list
    warm = ListSession(db)
    warm.view.show()
    app.processEvents()
    gc.collect()
    before, sqlite_before = rss_mb(), sqlite_mb()
    session = warm
    session.open(app, by_ids=how == "ids")
    app.processEvents()
    for _ in range(PAGES):
        session.page_as_a_user(clock, KEY_REPEAT)
    for target in (contacts // 2, contacts - 100, 10):
        session.jump(target)
    clock.run_until(time.perf_counter() + 0.2)
    gc.collect()
    after, sqlite_after = rss_mb(), sqlite_mb()
    assert session.model.rowCount() == contacts
    print(f"{before:.1f} {after:.1f} {sqlite_after - sqlite_before:.1f}")
    session.close()
    db.dispose()
    return 0


def probe(contacts: int, seed: int, how: str) -> tuple[float, float, float]:
    argv = [sys.executable, __file__, "--memory-probe", how]
    argv += ["--contacts", str(contacts), "--seed", str(seed)]
    out = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    before, after, in_sqlite = out.stdout.split()[-3:]
    return float(before), float(after), float(in_sqlite)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--searches", type=int, default=400)
    parser.add_argument(
        "--small",
        type=int,
        nargs="*",
        default=[10_000],
        help="contacts of the smaller databases memory is compared with",
    )
    parser.add_argument(
        "--list-only", action="store_true", help="the list only: no search, no cold start"
    )
    parser.add_argument("--memory-probe", choices=("anchors", "ids"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        return memory_probe(args.contacts, args.seed, args.memory_probe)
    path, db = database(args.contacts, args.seed)
    for n in args.small:
        database(n, args.seed)[1].dispose()  # built now, before anything is timed

    from PySide6.QtWidgets import QApplication

    from desktop_crm.ui.reader import CrmReader

    app = QApplication([])
    clock = GuiClock()
    reader = CrmReader(db)
    rows: list[tuple[str, str]] = []

    # --- the list -------------------------------------------------------------------------
    reader.contact_list()  # warm the page cache once, as a second start would find it
    gc.freeze()  # as the client does once its window is shown (ui/startup.py)
    firsts, reads, appends = [], [], []
    for _ in range(5):
        session = ListSession(db)
        first, read, append = session.open(app)
        firsts.append(first)
        reads.append(read)
        appends.append(append)
        session.close()
    session = ListSession(db)
    session.open(app)
    app.processEvents()
    pages = [session.page_back_to_back() for _ in range(PAGES)]
    back_to_back, back_to_back_cpu = [w for w, _c in pages], [c for _w, c in pages]
    fetched_b2b = session.model.fetches
    clock.run_until(time.perf_counter() + 0.5)  # the read-ahead answers of that run land
    session.jump(args.contacts // 3)
    clock.run_until(time.perf_counter() + 0.2)
    fetches, ahead = session.model.fetches, session.model.read_ahead
    pages = [session.page_as_a_user(clock, KEY_REPEAT) for _ in range(PAGES)]
    as_a_user, as_a_user_cpu = [w for w, _c in pages], [c for _w, c in pages]
    fetches, ahead = session.model.fetches - fetches, session.model.read_ahead - ahead
    far = [session.jump(t) for t in (args.contacts // 2, args.contacts - 100, 10)]
    session.close()
    # the same scrolling with read-ahead off: every block is read on the GUI thread
    session = ListSession(db)
    session.model.runner = None
    session.open(app)
    session.jump(args.contacts // 3 + 50_000)
    clock.run_until(time.perf_counter() + 0.2)
    fetches_off = session.model.fetches
    pages = [session.page_as_a_user(clock, KEY_REPEAT) for _ in range(PAGES)]
    fetches_off = session.model.fetches - fetches_off
    no_read_ahead = [w for w, _c in pages]
    session.close()

    rows.append(
        (
            f"open the list: first screen painted ({FIRST_PAGE} ids, the visible rows fetched)",
            f"{statistics.median(firsts):.1f}",
        )
    )
    rows.append(
        (
            f"open the list: the other {args.contacts - FIRST_PAGE:,} rows as anchors every "
            "200 rows (worker) / appended and repainted (GUI thread)",
            f"{statistics.median(reads):.0f} / {statistics.median(appends):.1f}",
        )
    )
    rows.append(
        (
            f"page repaint, back to back, {PAGES} pages, p50 / p95 / max "
            f"({fetched_b2b} blocks read on the GUI thread)",
            spread(back_to_back),
        )
    )
    rows.append(
        (
            "the same, GUI-thread CPU time (not inflated by other processes), p50 / p95 / max",
            spread(back_to_back_cpu),
        )
    )
    rows.append(
        (
            f"page repaint as a user scrolls (PageDown 30/s, all GUI work of a page), {PAGES} "
            f"pages, p50 / p95 / max ({fetches} blocks read on the GUI thread, {ahead} ahead)",
            spread(as_a_user),
        )
    )
    rows.append(
        (
            "the same, GUI-thread CPU time (not inflated by other processes), p50 / p95 / max",
            spread(as_a_user_cpu),
        )
    )
    rows.append(
        (
            f"the same without read-ahead ({fetches_off} blocks read on the GUI thread), "
            "p50 / p95 / max",
            spread(no_read_ahead),
        )
    )
    rows.append(("jump to the middle, the end, the top", " / ".join(f"{v:.1f}" for v in far)))
    sizes = [*args.small, args.contacts]
    for how, label in (("anchors", "as anchors"), ("ids", "as every id (before)")):
        probes_ = [probe(n, args.seed, how) for n in sizes]
        rows.append(
            (
                f"resident memory, list {label}, fresh process, after the list flow minus "
                f"before: {' / '.join(f'{n:,}' for n in sizes)} contacts (MB; before "
                f"{' / '.join(f'{p[0]:.0f}' for p in probes_)}; of the growth, SQLite's page "
                f"caches {' / '.join(f'{p[2]:.1f}' for p in probes_)})",
                " / ".join(f"{p[1] - p[0]:+.1f}" for p in probes_),
            )
        )

    if args.list_only:
        return report(args, rows)

    # --- search as you type -----------------------------------------------------------------
    rng = random.Random(args.seed)
    typed: list[str] = []
    callers = [p.caller_id for p in probes(db, args.searches, args.seed + 77) if p.caller_id]
    for n in range(args.searches):
        cid = rng.randrange(1, args.contacts)
        kind = n % 4
        if kind == 0:
            name = f"Nachname{cid}"
            typed += [name[:k] for k in (3, 5, 8, len(name))]
        elif kind == 1:
            number = callers[n % len(callers)]
            typed += [number[:k] for k in (4, 7, len(number))]
        elif kind == 2:
            typed.append(f"firma {rng.randrange(1, args.contacts // 10)}")
        else:
            with db.session() as s:
                from desktop_crm.data.models import EmailAddress

                mail = s.scalar(select(EmailAddress.raw).where(EmailAddress.contact_id == cid))
            if mail:
                typed += [mail[:k] for k in (4, mail.index("@") + 1, len(mail))]
    for text in typed[:50]:
        reader.search(text)  # warm-up
    times = []
    for text in typed:
        t0 = time.perf_counter()
        reader.search(text)
        times.append((time.perf_counter() - t0) * 1000)
    rows.append(
        (
            f"search as you type ({len(times):,} searches), p50 / p95 / max",
            f"{pct(times, 0.5):.1f} / {pct(times, 0.95):.1f} / {max(times):.1f}",
        )
    )
    db.dispose()

    # --- cold start ---------------------------------------------------------------------------
    starts = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", COLD_START, f"sqlite:///{path}", str(time.time())],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        starts.append(float(out.stdout.split()[0]))
    rows.append(
        (
            "cold start to the list shown (new process), median of 3",
            f"{statistics.median(starts):.0f}",
        )
    )

    return report(args, rows)


def report(args: argparse.Namespace, rows: list[tuple[str, str]]) -> int:
    print(
        f"{args.contacts:,} contacts; SQLite {sqlite3.sqlite_version}, Python "
        f"{platform.python_version()}, {platform.machine()}, offscreen\n"
    )
    print("| measured | ms |")
    print("|---|---:|")
    for what, value in rows:
        print(f"| {what} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
