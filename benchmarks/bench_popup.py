"""Ring to pop-up: from the INVITE datagram to the pop-up painted with the caller's history.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_popup.py [--calls 1000]

On the 1,000,000-contact database of bench_lookup.py plus ``--history`` entries per contact
(10 by default: 10,000,000 history rows), built once and cached in benchmarks/out/, then copied.
The desktop client's own parts run as they do in the client: a real ``SipListener`` on
127.0.0.1, the ``Listener`` with its ``CallLogger``, the ``CallCentre`` (which reads the caller's
card: important tags, the last five history entries, open tickets) and the one ``EventBridge``
into the GUI thread, where the ``CallerPopup`` (made once, before the first call) renders the
batch; the clock stops after a synchronous repaint of the pop-up. Each call's card is closed
after it was measured, as an agent would.

Three runs: single calls 50 ms apart; ten calls a second for a minute arriving at random
(Poisson); and bursts of 10 calls at once every second for a minute.
Beside them, in the same process, the floor: an indexed query on a fresh session plus a bare
label set and repainted, so the ratio is on record.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench_lookup import OUT, build, probes  # noqa: E402
from bench_ring import RULES, invite, pct  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402
from sqlalchemy import select  # noqa: E402

from desktop_crm.data.db import Database  # noqa: E402
from desktop_crm.data.models import AppMeta, PhoneNumber  # noqa: E402


def with_history(contacts: int, seed: int, per_contact: int) -> Path:
    """The lookup database plus ``per_contact`` history rows for every contact (cached)."""
    source = OUT / f"lookup-{contacts}-{seed}.db"
    db = Database(f"sqlite:///{source}")
    db.upgrade()
    with db.session() as s:
        if s.scalar(select(AppMeta.value).where(AppMeta.key == "bench_lookup")) is None:
            build(db, contacts, seed)
    db.dispose()
    target = OUT / f"popup-{contacts}-{seed}-{per_contact}.db"
    if target.exists():
        cached = Database(f"sqlite:///{target}")
        cached.upgrade()  # a database built by an older version gets the newer indexes
        cached.dispose()
        return target
    print(f"building {target} ({contacts * per_contact:,} history rows) …", file=sys.stderr)
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial = target.with_name(target.name + ".part")
    shutil.copy(source, partial)
    conn = sqlite3.connect(partial)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    # random times into three indexes are random B-tree inserts: drop them, insert, rebuild
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'interaction'"
        " AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in indexes:
        conn.execute(f"DROP INDEX {name}")
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    kinds = ["call", "email", "note", "call", "email"]
    rows: list[tuple[object, ...]] = []
    started = time.perf_counter()
    for cid in range(1, contacts + 1):
        for k in range(per_contact):
            at = now - timedelta(days=rng.randrange(730), minutes=rng.randrange(1440))
            kind = kinds[k % len(kinds)]
            rows.append(
                (
                    kind,
                    "inbound" if k % 2 else "outbound",
                    at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "answered" if kind == "call" else "",
                    f"Vorgang {k} zu Kunde {cid}",
                    "",
                    cid,
                    "",
                    "",
                    now.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    now.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    1,
                )
            )
        if len(rows) >= 200_000:
            conn.executemany(
                "INSERT INTO interaction (kind, direction, occurred_at, outcome, subject, body,"
                " contact_id, remote, source, created_at, updated_at, version)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            rows.clear()
            done = cid * per_contact
            rate = done / (time.perf_counter() - started)
            print(f"  {done:,} history rows ({rate:,.0f}/s)", file=sys.stderr)
    if rows:
        conn.executemany(
            "INSERT INTO interaction (kind, direction, occurred_at, outcome, subject, body,"
            " contact_id, remote, source, created_at, updated_at, version)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    conn.commit()
    for _name, sql in indexes:
        conn.execute(sql)
    conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    partial.rename(target)
    return target


class PaintCounter(QObject):
    """Counts paint events of the pop-up's cards during the warm-up: the way the benchmark
    paints must really paint. Removed before the measured runs (an event filter written in
    Python takes the interpreter's lock for every event of the cards)."""

    def __init__(self, widgets: Sequence[QWidget]) -> None:
        super().__init__()
        self.count = 0
        self.widgets = list(widgets)
        for widget in self.widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False

    def remove(self) -> None:
        for widget in self.widgets:
            widget.removeEventFilter(self)
        self.widgets = []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=10, help="history rows per contact")
    parser.add_argument("--calls", type=int, default=1000, help="single calls measured")
    parser.add_argument("--burst-seconds", type=int, default=60)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    cached = with_history(args.contacts, args.seed, args.history)

    from PySide6.QtWidgets import QApplication, QLabel

    from desktop_crm.cti.sip.agent import SipListener
    from desktop_crm.ui.calls import CallCentre, CallUpdate
    from desktop_crm.ui.popup import CallerPopup
    from desktop_crm.ui.tasks import TaskRunner

    app = QApplication([])
    with tempfile.TemporaryDirectory(prefix="crm-popup-", dir=OUT) as tmp:
        path = Path(tmp) / "popup.db"
        shutil.copy(cached, path)
        db = Database(f"sqlite:///{path}")
        callers = probes(db, args.calls + 100 + 25 * args.burst_seconds, args.seed + 900)
        runner = TaskRunner()
        centre = CallCentre(db, RULES, runner)
        popup = CallerPopup(centre, max_cards=3, auto_close_seconds=0)  # made once, at start
        sent: dict[str, float] = {}
        painted: dict[str, float] = {}
        history_shown: dict[str, int] = {}

        paints = PaintCounter(popup.cards)
        dismiss_each = True  # single calls: the agent closes each card before the next call
        # the GUI thread waits in a real event loop, as the client does (a polling loop here
        # would take the interpreter from the listener's threads every half millisecond)
        waiting: set[str] = set()  # calls the running loop waits for
        loops: list[QEventLoop] = []

        def measured(updates: list[CallUpdate]) -> None:
            # connected after the pop-up: it has rendered this batch; now paint it. A window
            # just shown is painted by Qt when it becomes exposed, which happens when the
            # window-system events are handled: that is done here, without the socket
            # notifiers (the bridge's next batch waits).
            before = paints.count
            handle = popup.windowHandle()
            painted_on_exposure = False
            if popup.isVisible() and handle is not None and not handle.isExposed():
                app.processEvents(
                    QEventLoop.ProcessEventsFlag.ExcludeSocketNotifiers
                    | QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents
                )
                painted_on_exposure = handle.isExposed()
            if not painted_on_exposure:
                if handle is not None and handle.isExposed():
                    popup.repaint()
                else:
                    popup.grab()  # not exposed yet: paint every visible card into a pixmap
            now = time.perf_counter()
            if paints.widgets and popup.visible_cards() and paints.count == before:
                raise RuntimeError("the pop-up was not painted")
            for update in updates:
                call_id = update.call.event.call_id
                if call_id not in painted:
                    painted[call_id] = now
                    history_shown[call_id] = len(update.card.history) if update.card else -1
            if dismiss_each:
                for update in updates:
                    popup.dismiss(update.key)  # the agent closes the card
            waiting.difference_update(painted.keys() & waiting)
            if not waiting and loops:
                loops[-1].quit()

        centre.calls_arrived.connect(measured)
        sip = SipListener(name="sip:bench", host="127.0.0.1", port=0, transports=("udp",))
        centre.start_sources([sip])
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.bind(("127.0.0.1", 0))
        local_port = sender.getsockname()[1]

        def send(n: int) -> str:
            call_id = f"sip:bench-{n}@127.0.0.1"  # the agent's call id, as bench_ring.py has it
            sent[call_id] = time.perf_counter()
            sender.sendto(
                invite(n, callers[n].caller_id, sip.port, local_port), ("127.0.0.1", sip.port)
            )
            return call_id

        def run_loop(seconds: float) -> None:
            loop = QEventLoop()
            timer = QTimer()
            timer.setSingleShot(True)
            timer.setTimerType(Qt.TimerType.PreciseTimer)
            timer.timeout.connect(loop.quit)
            timer.start(max(0, round(seconds * 1000)))
            loops.append(loop)
            loop.exec()
            loops.pop()
            timer.stop()

        def wait_for(call_ids: list[str], timeout: float = 5.0) -> None:
            waiting.clear()
            waiting.update(c for c in call_ids if c not in painted)
            if waiting:
                run_loop(timeout)

        def drain() -> None:
            sender.setblocking(False)
            try:
                while True:
                    sender.recv(4096)
            except BlockingIOError:
                pass

        # warm-up, then single calls
        n = 0
        singles: list[float] = []
        for i in range(args.calls + 100):
            call_id = send(n)
            n += 1
            wait_for([call_id])
            drain()
            if i == 99:
                paints.remove()  # the warm-up showed that every batch was painted
            if i >= 100 and call_id in painted:
                singles.append((painted[call_id] - sent[call_id]) * 1000)
            run_loop(0.05)
        # bursts: 10 calls at once, every second; the cards stack (three shown, "+ 7 more")
        # and the agent closes them after the burst, not one millisecond after each
        dismiss_each = False
        bursts: list[float] = []
        burst_ids: list[str] = []
        for _second in range(args.burst_seconds):
            started = time.perf_counter()
            ids = [send(n + k) for k in range(10)]
            n += 10
            burst_ids += ids
            wait_for(ids)
            drain()
            popup.dismiss_all()
            bursts += [(painted[c] - sent[c]) * 1000 for c in ids if c in painted]
            run_loop(started + 1.0 - time.perf_counter())
        popup.dismiss_all()
        # ten calls a second arriving at random (exponential gaps, mean 100 ms), as calls from
        # many customers do; each card is closed a second after it was painted
        rng = random.Random(args.seed)
        arrival_ids: list[str] = []
        gaps: list[float] = []
        total = 0.0
        while (total := total + rng.expovariate(10.0)) < args.burst_seconds:
            gaps.append(total)
        clock = time.perf_counter()

        timers: list[QTimer] = []

        def later(seconds: float, slot: Any) -> None:
            timer = QTimer()
            timer.setSingleShot(True)
            timer.setTimerType(Qt.TimerType.PreciseTimer)
            timer.timeout.connect(slot)
            timer.start(max(0, round(seconds * 1000)))
            timers.append(timer)

        def arrive() -> None:
            nonlocal n
            arrival_ids.append(send(n))
            n += 1
            waiting.add(arrival_ids[-1])
            if len(arrival_ids) < len(gaps):
                later(clock + gaps[len(arrival_ids)] - time.perf_counter(), arrive)

        def close_old() -> None:
            now = time.perf_counter()
            for key in list(popup.calls):
                if key[1] in painted and painted[key[1]] < now - 1.0:
                    popup.dismiss(key)
            drain()

        closer = QTimer()
        closer.timeout.connect(close_old)
        closer.start(100)
        later(clock + gaps[0] - time.perf_counter(), arrive)
        while len(arrival_ids) < len(gaps) or waiting:
            if time.perf_counter() > clock + args.burst_seconds + 5:
                break
            run_loop(0.5)
        closer.stop()
        drain()
        popup.dismiss_all()
        arrivals = [(painted[c] - sent[c]) * 1000 for c in arrival_ids if c in painted]
        lost_arrivals = len(arrival_ids) - len(arrivals)
        lost_singles = args.calls - len(singles)
        lost_bursts = len(burst_ids) - len(bursts)
        with_history_n = sum(1 for v in history_shown.values() if v > 0)

        # the floor: an indexed query on a fresh session and a bare label painted
        label = QLabel("…")
        label.show()
        app.processEvents()
        floor: list[float] = []
        numbers = [p.caller_id for p in callers[:1000] if p.caller_id]
        with db.session() as s:
            stored = list(s.scalars(select(PhoneNumber.e164).limit(2000)))
        for e164 in stored[:1000]:
            t0 = time.perf_counter()
            with db.session() as s:
                owner = s.scalar(select(PhoneNumber.contact_id).where(PhoneNumber.e164 == e164))
            label.setText(f"{owner}")
            label.repaint()
            floor.append((time.perf_counter() - t0) * 1000)
        assert numbers
        centre.stop()
        runner.shutdown()
        sender.close()
        popup.close()
        db.dispose()

    print(
        f"{args.contacts:,} contacts, {args.contacts * args.history:,} history rows; "
        f"SQLite {sqlite3.sqlite_version}, Python {platform.python_version()}, "
        f"{platform.machine()}, offscreen; cards painted with history: {with_history_n:,}\n"
    )
    print("| run | calls | p50 ms | p95 ms | p99 ms | max ms | lost |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, values, lost in (
        ("single calls, 50 ms apart", singles, lost_singles),
        (
            f"10 calls a second at random (Poisson), {args.burst_seconds} s",
            arrivals,
            lost_arrivals,
        ),
        (f"bursts of 10 calls at once every second, {args.burst_seconds} s", bursts, lost_bursts),
        ("floor: indexed query + bare label painted", floor, 0),
    ):
        print(
            f"| {name} | {len(values):,} | {pct(values, 0.5):.2f} | {pct(values, 0.95):.2f} | "
            f"{pct(values, 0.99):.2f} | {max(values):.2f} | {lost} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
