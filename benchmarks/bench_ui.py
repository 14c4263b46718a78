"""The desktop client on a million contacts: list, scrolling, search as you type, cold start.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_ui.py [--contacts 1000000]

Uses the database of bench_lookup.py (built there on first use, cached in benchmarks/out/) and
measures, on the offscreen platform:

- opening the contact list: the id list of all contacts in name order (the window's background
  search), then the first paint of the table (which fetches the visible block of rows);
- a page repaint while scrolling: one page down and a synchronous repaint, 200 times;
- resident memory before and after the list holds every id;
- search as you type: what the window runs a moment after each key (names, numbers in the forms
  people type them, e-mail addresses, customer numbers), p50/p95/max;
- cold start to a usable window: a fresh process from ``import`` to the list shown.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

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
window.loaded.connect(lambda: (window.contact_table.viewport().repaint(), app.quit()))
app.exec()
print(f"{(time.time() - started) * 1000:.0f} {window.contact_model.rowCount()}")
window.shutdown()
"""


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--searches", type=int, default=400)
    args = parser.parse_args()
    path = OUT / f"lookup-{args.contacts}-{args.seed}.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.session() as s:
        if s.scalar(select(AppMeta.value).where(AppMeta.key == "bench_lookup")) is None:
            build(db, args.contacts, args.seed)

    from PySide6.QtWidgets import QApplication

    from desktop_crm.ui.models import ContactTableModel
    from desktop_crm.ui.pages import list_view
    from desktop_crm.ui.reader import CrmReader

    app = QApplication([])
    reader = CrmReader(db)
    rows: list[tuple[str, str]] = []

    # --- the list -------------------------------------------------------------------------
    reader.all_ids()  # warm the page cache once, as a second start would find it
    firsts, wholes = [], []
    rss_before = rss_mb()
    view = None
    for _ in range(5):
        model = ContactTableModel(reader.contact_rows)
        view = list_view(model, "contactTable")
        view.resize(900, 700)
        view.show()
        app.processEvents()
        # as the window opens: the first screen of ids, painted; then the rest appended
        t0 = time.perf_counter()
        first = reader.first_page(400)
        model.set_ids(first.ids)
        view.viewport().repaint()
        t1 = time.perf_counter()
        rest = reader.all_ids()
        model.extend_ids(rest[len(first.ids) :])
        view.viewport().repaint()
        t2 = time.perf_counter()
        firsts.append((t1 - t0) * 1000)
        wholes.append((t2 - t0) * 1000)
        view.close()
    assert view is not None
    rss_after = rss_mb()
    view.show()
    app.processEvents()
    bar = view.verticalScrollBar()
    page = bar.pageStep()
    scrolls = []
    for _ in range(200):
        t0 = time.perf_counter()
        bar.setValue(bar.value() + page)
        view.viewport().repaint()
        scrolls.append((time.perf_counter() - t0) * 1000)
    far = []
    for target in (args.contacts // 2, args.contacts - 100, 10):
        t0 = time.perf_counter()
        bar.setValue(target)
        view.viewport().repaint()
        far.append((time.perf_counter() - t0) * 1000)
    rows.append(
        (
            "open the list: first screen painted (400 ids, the visible rows fetched)",
            f"{statistics.median(firsts):.1f}",
        )
    )
    rows.append(
        (
            f"open the list: all {args.contacts:,} ids in name order, appended",
            f"{statistics.median(wholes):.0f}",
        )
    )
    rows.append(
        (
            "page repaint while scrolling, p50 / p95 / max",
            f"{pct(scrolls, 0.5):.1f} / {pct(scrolls, 0.95):.1f} / {max(scrolls):.1f}",
        )
    )
    rows.append(("jump to the middle, the end, the top", " / ".join(f"{v:.1f}" for v in far)))
    rows.append(
        (
            f"resident memory: before {rss_before:.0f} MB, with {args.contacts:,} ids",
            f"{rss_after:.0f} MB",
        )
    )

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
