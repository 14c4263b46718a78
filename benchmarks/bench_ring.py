"""Ring to resolved event: from an INVITE datagram reaching the listener to the event leaving it.

    .venv/bin/python benchmarks/bench_ring.py [--calls 3000]

Uses the 1,000,000-contact database of bench_lookup.py (built there on first use, cached in
benchmarks/out/), copied so the cache stays as it was. A real ``SipListener`` on 127.0.0.1 and the
``Listener`` with its ``CallLogger`` run as in ``desktop-crm listen``: parse, answer 100/180,
identify the caller, write the history row, hand the ``ResolvedCall`` on. The clock starts when
the datagram is sent and stops when the result reaches the result callback (the point where
``listen`` prints its JSON line). Calls are sent one at a time, 20 ms apart, as single calls.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_lookup import OUT, build, probes  # noqa: E402
from sqlalchemy import select  # noqa: E402

from desktop_crm.cti.calllog import CallLogger, ResolvedCall  # noqa: E402
from desktop_crm.cti.listener import Listener  # noqa: E402
from desktop_crm.cti.sip.agent import SipListener  # noqa: E402
from desktop_crm.data.db import Database  # noqa: E402
from desktop_crm.data.models import AppMeta  # noqa: E402
from desktop_crm.identify import DialingRules  # noqa: E402

# as in bench_lookup.py: the caller IDs it makes include the PBX's outside-line 0 and local calls
RULES = DialingRules(country="DE", area_code="89", outside_line_prefix="0")


def invite(n: int, caller_id: str, port: int, local_port: int) -> bytes:
    if caller_id.lower() in ("", "anonymous", "unknown", "restricted"):
        from_uri, extra = "sip:anonymous@anonymous.invalid", "Privacy: id\r\n"
    elif caller_id.startswith(("tel:", "sip:")):
        from_uri = "sip:pbx@127.0.0.1"
        extra = f"P-Asserted-Identity: <{caller_id}>\r\n"
    else:
        from_uri, extra = f"sip:{caller_id}@127.0.0.1", ""
    return (
        f"INVITE sip:201@127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bKbench{n}\r\n"
        "Max-Forwards: 70\r\n"
        f'From: "Bench" <{from_uri}>;tag=b{n}\r\n'
        f"To: <sip:201@127.0.0.1:{port}>\r\n"
        f"Call-ID: bench-{n}@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        f"Contact: <sip:pbx@127.0.0.1:{local_port}>\r\n"
        f"{extra}"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    cached = OUT / f"lookup-{args.contacts}-{args.seed}.db"
    db = Database(f"sqlite:///{cached}")
    db.upgrade()
    with db.session() as s:
        if s.scalar(select(AppMeta.value).where(AppMeta.key == "bench_lookup")) is None:
            print(f"building {cached} …", file=sys.stderr)
            build(db, args.contacts, args.seed)
    db.dispose()
    with tempfile.TemporaryDirectory(prefix="crm-ring-", dir=OUT) as tmp:
        path = Path(tmp) / "ring.db"
        with sqlite3.connect(cached) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy(cached, path)
        db = Database(f"sqlite:///{path}")
        callers = probes(db, args.calls + 200, args.seed + 500)
        arrived: dict[str, float] = {}
        done = threading.Condition()

        def on_result(result: ResolvedCall) -> None:
            with done:
                arrived[result.event.call_id] = time.perf_counter()
                done.notify_all()

        sip = SipListener(name="sip:bench", host="127.0.0.1", port=0, transports=("udp",))
        listener = Listener([sip], CallLogger(db, RULES), on_result)
        listener.start()
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.bind(("127.0.0.1", 0))
        sender.setblocking(False)
        local_port = sender.getsockname()[1]
        latencies: list[float] = []
        try:
            for n, probe in enumerate(callers):
                call_id = f"sip:bench-{n}@127.0.0.1"
                sent = time.perf_counter()
                sender.sendto(
                    invite(n, probe.caller_id, sip.port, local_port), ("127.0.0.1", sip.port)
                )
                with done:
                    done.wait_for(lambda call_id=call_id: call_id in arrived, timeout=5)
                if call_id in arrived and n >= 200:  # the first 200 warm caches
                    latencies.append((arrived[call_id] - sent) * 1000)
                try:
                    while True:
                        sender.recv(4096)  # 100 Trying and 180 Ringing
                except BlockingIOError:
                    pass
                time.sleep(0.02)
        finally:
            listener.stop()
            sender.close()
            db.dispose()
    lost = args.calls - len(latencies)
    print(
        f"{args.contacts:,} contacts; SQLite {sqlite3.sqlite_version}, Python "
        f"{platform.python_version()}, {platform.machine()}\n"
    )
    print("| calls | p50 ms | p95 ms | p99 ms | max ms | lost |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(latencies):,} | {pct(latencies, 0.5):.2f} | {pct(latencies, 0.95):.2f} | "
        f"{pct(latencies, 0.99):.2f} | {max(latencies):.2f} | {lost} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
