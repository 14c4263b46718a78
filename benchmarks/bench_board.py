"""The supervisor's board on 100,000 open tickets in 20 queues, on SQLite and on PostgreSQL.

Builds a database with N open tickets (default 100,000) spread over 20 queues and 60 agents, plus
N/2 resolved and closed ones (a year of history the board must skip), with due and at-risk times
stored as the ticket services store them: some breached, some at risk, waiting tickets paused.
Then it times what the board's refresh does every few seconds: every figure of every queue
(new, open, waiting, unassigned, at risk, breached, oldest waiting) and of every agent (assigned,
in progress, resolved today) — ``desktop_crm.tickets.board.board()`` in a fresh session, as the
board's worker thread runs it — and, separately, a click on a figure (the ids behind "breached"
of one queue and the first 200 display rows).

PostgreSQL is ``DESKTOP_CRM_TEST_POSTGRES_URL`` when set, otherwise a private server started the
way the tests start one (Debian's postgresql-15 binaries, a temp folder, 127.0.0.1 only). The
tables are ANALYZEd (PostgreSQL: VACUUM ANALYZE) after loading, as autovacuum keeps a live
server.

    .venv/bin/python benchmarks/bench_board.py                  # 100,000 open tickets, both DBs
    .venv/bin/python benchmarks/bench_board.py --tickets 20000 --runs 30 --only sqlite
"""

from __future__ import annotations

import argparse
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_crm.data.db import Database  # noqa: E402
from desktop_crm.data.models import (  # noqa: E402
    AgentPresence,
    Queue,
    QueueMember,
    Ticket,
    TicketPriority,
    TicketStatus,
    User,
)
from desktop_crm.tickets import board  # noqa: E402

QUEUES = 20
AGENTS = 60
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday morning
OPEN_MIX = (
    (TicketStatus.NEW, 0.25),
    (TicketStatus.OPEN, 0.40),
    (TicketStatus.WAITING_CUSTOMER, 0.25),
    (TicketStatus.WAITING_THIRD_PARTY, 0.10),
)
PRIORITIES = (
    (TicketPriority.LOW, 0.15),
    (TicketPriority.NORMAL, 0.55),
    (TicketPriority.HIGH, 0.22),
    (TicketPriority.URGENT, 0.08),
)


def pick(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]


def build(db: Database, tickets: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with db.engine.begin() as conn:
        user_ids = []
        for i in range(AGENTS):
            user_ids.append(
                conn.scalar(
                    insert(User)
                    .values(login=f"agent{i:02d}", name=f"Agent {i:02d}", active=True)
                    .returning(User.id)
                )
            )
        conn.execute(
            insert(AgentPresence),
            [{"user_id": u, "present": rng.random() < 0.7, "changed_at": NOW} for u in user_ids],
        )
        queue_ids = [
            conn.scalar(insert(Queue).values(name=f"Queue {q:02d}").returning(Queue.id))
            for q in range(QUEUES)
        ]
        conn.execute(
            insert(QueueMember),
            [
                {"queue_id": q, "user_id": u}
                for n, q in enumerate(queue_ids)
                for u in user_ids[(n * 3) % AGENTS : (n * 3) % AGENTS + 6]
            ],
        )
        rows = []
        total = tickets + tickets // 2
        for n in range(1, total + 1):
            is_open = n <= tickets
            created = NOW - timedelta(seconds=rng.randrange(14 * 86400))
            # due times as the services store them: about one in ten open tickets breached,
            # one in twenty at risk, the rest due within the next days
            roll = rng.random()
            status = (
                pick(rng, OPEN_MIX)
                if is_open
                else rng.choice((TicketStatus.RESOLVED, TicketStatus.CLOSED))
            )
            target = timedelta(hours=rng.choice((4, 8, 16, 45, 90)))
            if roll < 0.10:
                due = NOW - timedelta(seconds=rng.randrange(1, 5 * 86400))
            elif roll < 0.15:
                due = NOW + target * 0.25 * rng.random()
            else:
                due = NOW + target * 0.25 + timedelta(seconds=rng.randrange(1, 6 * 86400))
            warn = due - target * 0.25
            waiting = status in (TicketStatus.WAITING_CUSTOMER, TicketStatus.WAITING_THIRD_PARTY)
            live = is_open and (not waiting or due <= NOW)
            resolved = None
            if not is_open:
                resolved = created + (NOW - created) * rng.random()
            rows.append(
                {
                    "number": f"T-{n:07d}",
                    "subject": f"Anfrage {n}",
                    "description": "",
                    "queue_id": rng.choice(queue_ids),
                    "priority": pick(rng, PRIORITIES),
                    "status": status,
                    "channel": "email",
                    "assignee_id": None if rng.random() < 0.2 else rng.choice(user_ids),
                    "organization_id": None,
                    "contact_id": None,
                    "first_response_due": due,
                    "resolution_due": due,
                    "first_responded_at": None if status == TicketStatus.NEW else created,
                    "resolved_at": resolved,
                    "closed_at": resolved if status == TicketStatus.CLOSED else None,
                    "first_response_warn_at": None,
                    "resolution_warn_at": warn if live else None,
                    "sla_due": due if live else None,
                    "sla_warn_at": warn if live else None,
                    "sla_paused": waiting,
                    "created_at": created,
                    "updated_at": created,
                    "version": 1,
                }
            )
            if len(rows) == 10_000:
                conn.execute(insert(Ticket), rows)
                rows.clear()
        if rows:
            conn.execute(insert(Ticket), rows)
    # statistics (and on PostgreSQL the visibility map index-only scans rely on), as a live
    # server's autovacuum keeps them
    if db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        return
    # right after the load a VACUUM may not yet mark the pages all-visible (measured: 0 of 3,081
    # pages, index-only scans then read the heap); repeat until it has, as autovacuum would
    for _ in range(5):
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE ticket"))
            pages, visible = conn.execute(
                text("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'ticket'")
            ).one()
        if visible >= pages:
            break
        time.sleep(1)


def timings(func: Callable[[], Any], runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        func()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1000)
    return out


def measure(db: Database, runs: int) -> dict[str, list[float]]:
    def refresh() -> board.Board:
        with db.session() as s:
            return board.board(s, now=NOW)

    result = refresh()
    assert len(result.queues) == QUEUES and len(result.agents) == AGENTS
    opened = sum(q.new + q.open + q.waiting for q in result.queues)
    breached = sum(q.breached for q in result.queues)
    at_risk = sum(q.at_risk for q in result.queues)
    print(f"  {opened:,} open, {breached:,} breached, {at_risk:,} at risk", file=sys.stderr)
    queue_id = result.queues[0].queue_id

    def drill() -> None:
        with db.session() as s:
            ids = board.ticket_ids(s, "breached", queue_id=queue_id, now=NOW)
            board.ticket_rows(s, ids[:200])

    def filtered() -> None:
        with db.session() as s:
            board.board(s, now=NOW, filters=board.BoardFilter(priority=TicketPriority.URGENT))

    return {
        "board refresh (all queues + agents)": timings(refresh, runs),
        "drill-down: breached of one queue + 200 rows": timings(drill, runs),
        "board refresh, filtered by priority": timings(filtered, runs),
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="open tickets")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results: list[tuple[str, str, list[float]]] = []
    versions: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-board-") as tmp:
        if args.only in (None, "sqlite"):
            db = Database(f"sqlite:///{Path(tmp) / 'board.db'}")
            db.upgrade()
            print(f"SQLite: loading {args.tickets:,} open tickets …", file=sys.stderr)
            build(db, args.tickets)
            versions["SQLite"] = sqlite3.sqlite_version
            for name, values in measure(db, args.runs).items():
                results.append(("SQLite", name, values))
            db.dispose()
        if args.only in (None, "postgresql"):
            from tests.helpers.postgres import postgres_server

            with postgres_server() as server:
                if isinstance(server, str):
                    print(f"PostgreSQL skipped: {server}", file=sys.stderr)
                else:
                    name = server.new_database()
                    db = Database(server.url_for(name))
                    db.upgrade()
                    print(f"PostgreSQL: loading {args.tickets:,} open tickets …", file=sys.stderr)
                    build(db, args.tickets)
                    with db.engine.connect() as conn:
                        versions["PostgreSQL"] = str(conn.scalar(text("SHOW server_version")))
                    for label, values in measure(db, args.runs).items():
                        results.append(("PostgreSQL", label, values))
                    db.dispose()
                    server.drop_database(name)
    print(
        f"\nMeasured on {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, Python "
        f"{platform.python_version()}, "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + f"; {args.tickets:,} open tickets (+{args.tickets // 2:,} done), {QUEUES} queues, "
        f"{AGENTS} agents, {args.runs} runs after 3 warm-up runs:\n"
    )
    print("| database | what | p50 ms | p95 ms | max ms |")
    print("|---|---|---:|---:|---:|")
    for db_name, label, values in results:
        print(
            f"| {db_name} | {label} | {statistics.median(values):.1f} | {pct(values, 0.95):.1f} "
            f"| {max(values):.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
