"""The team database under load: notification latency, and 20 clients editing at once.

    .venv/bin/python benchmarks/bench_team.py [--changes 300] [--clients 20] [--seconds 60]
        [--database postgresql://owner@host/empty_db]

Without ``--database`` a private PostgreSQL server is started in a temporary folder (as the
tests do; Debian's postgresql-15 binaries). The database gets the schema and the team roles
(``db init``); every client connects as its own login role, as at the office.

1. Latency: a back-office client saves a contact ``--changes`` times (20 ms apart); an agent's
   ``ChangeListener`` receives each notification. Clock: from just before the save's COMMIT
   (the UPDATE is flushed) to the ``Change`` reaching the sink, so the commit itself counts.
2. Stress: ``--clients`` clients for ``--seconds``: each in a loop opens one of a few shared
   contacts, thinks for a moment, saves it (version-checked: a ConflictError is counted, the
   client reloads), or logs a call; every call is logged by two clients (as when a PBX rings two
   agents), so the history must still hold it once. At the end: every successful save is in the
   database (final version = 1 + saves, the last winner's text is what is stored, the audit log
   holds one update per save) — zero lost updates — and no call is in the history twice.
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import random
import secrets
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import URL, make_url  # noqa: E402

from desktop_crm.data import records  # noqa: E402
from desktop_crm.data.changes import Change, ChangeListener  # noqa: E402
from desktop_crm.data.db import Database, parse_url  # noqa: E402
from desktop_crm.data.errors import ConflictError  # noqa: E402
from desktop_crm.data.history import InteractionInput, log_interaction  # noqa: E402
from desktop_crm.data.models import AuditLog, Contact, Interaction, InteractionKind, Role  # noqa: E402
from desktop_crm.data.team import add_user, apply_team_setup  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def login_url(url: URL, login: str, password: str) -> URL:
    host = url.query.get("host")
    if isinstance(host, str) and host.startswith("/"):
        url = url.difference_update_query(["host"]).set(host="127.0.0.1", port=url.port or 5432)
    return url.set(username=login, password=password)


class Team:
    def __init__(self, url: URL) -> None:
        self.url = url
        self.owner = Database(url)
        self.owner.upgrade()
        with self.owner.engine.begin() as conn:
            apply_team_setup(conn)
        self.logins: list[str] = []

    def login(self, role: Role) -> Database:
        login = f"bench_{os.getpid()}_{len(self.logins)}_{role.value}"
        password = secrets.token_urlsafe(18)
        with self.owner.session() as s:
            s.execute(text(f'DROP ROLE IF EXISTS "{login}"'))
            add_user(s, login, role, password, name=login)
        self.logins.append(login)
        return Database(login_url(self.url, login, password))

    def close(self) -> None:
        self.owner.dispose()


def latency(team: Team, changes: int) -> list[float]:
    agent, backoffice = team.login(Role.AGENT), team.login(Role.BACKOFFICE)
    inbox: queue.SimpleQueue[tuple[float, Change]] = queue.SimpleQueue()
    with backoffice.session() as s:
        contact = records.create_contact(s, records.ContactInput(last_name="Latenz"))
    listener = ChangeListener(agent.url, lambda c: inbox.put((time.perf_counter(), c)))
    listener.start()
    if not listener.connected.wait(10):
        raise SystemExit("the change listener did not connect")
    samples: list[float] = []
    try:
        for version in range(1, changes + 1):
            with backoffice.session() as s:
                records.update_contact(
                    s, contact.id, version, records.ContactInput(last_name=f"Latenz {version}")
                )
                committed = time.perf_counter()  # flushed; the commit follows on leaving
            while True:
                at, change = inbox.get(timeout=5)
                if change.table == "contact" and change.version == version + 1:
                    samples.append((at - committed) * 1000)
                    break
            time.sleep(0.02)
    finally:
        listener.stop()
        agent.dispose()
        backoffice.dispose()
    return samples


@dataclass
class Tally:
    saves: list[tuple[int, int, str]] = field(default_factory=list)  # contact, new version, text
    conflicts: int = 0
    calls: int = 0
    call_repeats: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def stress(team: Team, clients: int, seconds: float, contacts: int) -> dict[str, object]:
    with team.owner.session() as s:
        ids = [
            records.create_contact(s, records.ContactInput(last_name=f"Stress {i}")).id
            for i in range(contacts)
        ]
    roles = [Role.BACKOFFICE if i % 2 == 0 else Role.AGENT for i in range(clients)]
    dbs = [team.login(role) for role in roles]
    watcher = team.login(Role.AGENT)
    announced: dict[int, set[int]] = defaultdict(set)
    arrived: dict[tuple[int, int], float] = {}
    committing: dict[tuple[int, int], float] = {}
    lock = threading.Lock()

    def seen(change: Change) -> None:
        if change.table == "contact" and change.id is not None and change.version is not None:
            now = time.perf_counter()
            with lock:
                announced[change.id].add(change.version)
                arrived.setdefault((change.id, change.version), now)

    listener = ChangeListener(watcher.url, seen)
    listener.start()
    listener.connected.wait(10)
    tally = Tally()
    stop = threading.Event()
    calls = iter(range(10**9))
    call_lock = threading.Lock()
    pending: list[str] = []  # calls one client logged that a second one will log again

    def client(index: int, db: Database) -> None:
        rng = random.Random(index)
        editor = roles[index] is Role.BACKOFFICE
        while not stop.is_set():
            try:
                if editor and rng.random() < 0.6:
                    cid = rng.choice(ids)
                    with db.session() as s:
                        version = s.scalar(select(Contact.version).where(Contact.id == cid))
                    time.sleep(rng.uniform(0, 0.02))  # the user types
                    token = f"client {index} {secrets.token_hex(4)}"
                    try:
                        with db.session() as s:
                            saved = records.update_contact(
                                s, cid, int(version or 0), records.ContactInput(last_name=token)
                            )
                            new_version = saved.version
                            committing[(cid, new_version)] = time.perf_counter()
                        with tally.lock:
                            tally.saves.append((cid, new_version, token))
                    except ConflictError:
                        with tally.lock:
                            tally.conflicts += 1
                else:
                    with call_lock:
                        if pending and rng.random() < 0.9:
                            call_id, repeat = pending.pop(), True
                        else:
                            call_id, repeat = f"call-{next(calls)}", False
                            pending.append(call_id)
                    with db.session() as s:
                        log_interaction(
                            s,
                            InteractionInput(
                                kind=InteractionKind.CALL,
                                contact_id=rng.choice(ids),
                                source="sip:bench",
                                external_id=call_id,
                                outcome="missed",
                            ),
                        )
                    with tally.lock:
                        tally.calls += 1
                        tally.call_repeats += repeat
            except Exception as exc:  # counted and shown, the run goes on
                with tally.lock:
                    tally.errors.append(f"{type(exc).__name__}: {exc}"[:200])

    threads = [
        threading.Thread(target=client, args=(i, db), name=f"client-{i}")
        for i, db in enumerate(dbs)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    elapsed = time.monotonic() - started
    time.sleep(1.0)  # the last notifications
    listener.stop()

    by_contact: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for cid, version, token in tally.saves:
        by_contact[cid].append((version, token))
    lost = 0
    with team.owner.session() as s:
        for cid in ids:
            row = s.get(Contact, cid)
            assert row is not None
            saves = sorted(by_contact[cid])
            expected_version = 1 + len(saves)
            expected_text = saves[-1][1] if saves else f"Stress {ids.index(cid)}"
            audited = s.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(
                    AuditLog.table_name == "contact",
                    AuditLog.row_id == cid,
                    AuditLog.operation == "update",
                )
            )
            versions = [v for v, _ in saves]
            if (
                row.version != expected_version
                or row.last_name != expected_text
                or audited != len(saves)
                or versions != list(range(2, expected_version + 1))
            ):
                lost += 1
        duplicates = s.scalar(
            select(func.count()).select_from(
                select(Interaction.external_id)
                .where(Interaction.source == "sip:bench")
                .group_by(Interaction.external_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
        stored_calls = s.scalar(
            select(func.count()).select_from(Interaction).where(Interaction.source == "sip:bench")
        )
    unannounced = sum(
        1 for cid, version, _ in tally.saves if version not in announced.get(cid, set())
    )
    under_load = [(arrived[key] - t0) * 1000 for key, t0 in committing.items() if key in arrived]
    for db in [*dbs, watcher]:
        db.dispose()
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "saves": len(tally.saves),
        "conflicts": tally.conflicts,
        "calls logged": tally.calls,
        "of them repeats": tally.call_repeats,
        "calls stored": stored_calls,
        "lost updates": lost,
        "duplicate calls": duplicates,
        "saves not announced": unannounced,
        "notify p50/p99 ms under load": (
            f"{pct(under_load, 50):.1f} / {pct(under_load, 99):.1f}" if under_load else "-"
        ),
        "errors": len(tally.errors),
        "first errors": Counter(tally.errors).most_common(3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="owner URL of an EMPTY PostgreSQL database")
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--contacts", type=int, default=10, help="shared contacts (contention)")
    parser.add_argument(
        "--fast", action="store_true", help="private server without fsync (as the tests run it)"
    )
    args = parser.parse_args()

    with ExitStack() as stack:
        if args.database:
            url = parse_url(args.database)
        else:
            from tests.helpers.postgres import postgres_server

            server = stack.enter_context(postgres_server(private=True))
            if isinstance(server, str):
                raise SystemExit(server)
            url = server.url_for(server.new_database())
        if not args.database and not args.fast:
            # the test helper starts the server with synchronous_commit off (and fsync off, which
            # its command line fixes); an office server waits for the WAL write on commit
            engine = Database(url).engine.execution_options(isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{url.database}" SET synchronous_commit = on'))
            engine.dispose()
        team = Team(make_url(url) if isinstance(url, str) else url)
        stack.callback(team.close)
        with team.owner.engine.connect() as conn:
            server_version = conn.scalar(text("SHOW server_version"))
            fsync = conn.scalar(text("SHOW fsync"))
            sync_commit = conn.scalar(text("SHOW synchronous_commit"))

        print(
            f"# PostgreSQL {server_version} (fsync {fsync}, synchronous_commit {sync_commit}), "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}"
        )
        samples = latency(team, args.changes)
        print("\n## Notification latency (save's commit starts -> other client's sink)\n")
        print("| changes | p50 ms | p95 ms | p99 ms | max ms | mean ms |")
        print("|---:|---:|---:|---:|---:|---:|")
        print(
            f"| {len(samples)} | {pct(samples, 50):.2f} | {pct(samples, 95):.2f} | "
            f"{pct(samples, 99):.2f} | {max(samples):.2f} | {statistics.fmean(samples):.2f} |"
        )
        result = stress(team, args.clients, args.seconds, args.contacts)
        print(f"\n## Stress: {args.clients} clients for {args.seconds:g} s\n")
        print("| " + " | ".join(k for k in result if k != "first errors") + " |")
        print("|" + "---:|" * (len(result) - 1))
        print("| " + " | ".join(str(v) for k, v in result.items() if k != "first errors") + " |")
        if result["errors"]:
            print(f"\nfirst errors: {result['first errors']}")
        with team.owner.session() as s:
            for login in team.logins:
                s.execute(text(f'DROP OWNED BY "{login}"'))
                s.execute(text(f'DROP ROLE IF EXISTS "{login}"'))
        ok = not result["lost updates"] and not result["duplicate calls"] and not result["errors"]
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
