"""Live refresh: what other clients changed, as frozen `Change` events for a sink (no Qt here).

PostgreSQL: triggers of migration 0005 send ``pg_notify('crm_changes', {table, id, op,
version})`` when a transaction commits. :class:`ChangeListener` keeps its own connection in its
own thread, LISTENs, waits with ``select()`` (so ``stop()`` returns within a second), and after
a lost connection reconnects with exponential backoff plus jitter and *catches up*: every row
of the watched tables whose ``updated_at`` is later than the last moment the feed was known to
be alive (minus a margin for clock skew, because ``updated_at`` is stamped by the clients) comes
as a ``Change`` with ``catch_up=True``, followed by one ``op="refresh"`` per table (rows may have
been deleted meanwhile: reload the lists).

SQLite: :class:`SqliteChangePoller` watches ``PRAGMA data_version``, which changes when another
connection (another process on the same file) commits, and then reads which rows have a newer
``updated_at``, so several processes on one file notice each other.

The UI bridge consumes these events (the sink is called on the listener's thread; it must only
queue them). Changes the client made itself arrive too: compare ``version`` with what is shown.
"""

from __future__ import annotations

import json
import logging
import random
import re
import select
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import psycopg
from psycopg import pq
from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

CHANNEL = "crm_changes"
#: The tables whose changes are announced (triggers of migration 0005).
WATCHED: tuple[str, ...] = ("contact", "organization", "interaction", "ticket")
_OPS = ("insert", "update", "delete", "refresh")


@dataclass(frozen=True)
class Change:
    """One changed row, or (``id`` None, ``op="refresh"``) "reload this table"."""

    table: str
    id: int | None
    op: str  # insert, update, delete, refresh
    version: int | None = None
    catch_up: bool = False  # found after a gap, not announced live
    since: datetime | None = None  # op="refresh": changes since then may be missing


@dataclass(frozen=True)
class FeedStatus:
    """The change feed's health, for the banner: connected, disconnected (retrying), stopped."""

    state: str
    detail: str = ""
    retry_in: float | None = None


ChangeSink = Callable[[Change], None]
StatusSink = Callable[[FeedStatus], None]


class ChangeFeed(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


def _tables(names: Sequence[str]) -> tuple[str, ...]:
    for name in names:  # they go into SQL text
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"not a table name: {name!r}")
    return tuple(names)


def parse_notification(payload: str) -> Change | None:
    """The Change in a ``crm_changes`` payload; None (and a warning) for anything else."""
    try:
        data = json.loads(payload)
        op = str(data["op"])
        if op not in _OPS:
            raise ValueError(op)
        row_id = data.get("id")
        version = data.get("version")
        return Change(
            table=str(data["table"]),
            id=None if row_id is None else int(row_id),
            op=op,
            version=None if version is None else int(version),
        )
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring a malformed change notification (%s)", exc)
        return None


def backoff_delays(
    initial: float, maximum: float, rng: random.Random | None = None
) -> Callable[[int], float]:
    """Exponential backoff with equal jitter: attempt n waits in [d/2, d], d = initial·2ⁿ."""
    rng = rng or random.Random()

    def delay(attempt: int) -> float:
        ceiling = min(maximum, initial * (2 ** min(attempt, 30)))
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))

    return delay


def conninfo(url: URL) -> str:
    """A libpq connection string for ``url`` (password included: never log it)."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    params.setdefault("application_name", "desktop_crm changes")
    params.setdefault("keepalives", 1)
    params.setdefault("keepalives_idle", 10)
    params.setdefault("keepalives_interval", 5)
    params.setdefault("keepalives_count", 3)
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})


class _Lost(Exception):
    """The connection is gone (or never came up); the message says why."""


class _StopRequested(Exception):
    pass


class ChangeListener:
    """LISTEN on the shared PostgreSQL database in a thread of its own.

    Everything on the connection is non-blocking (libpq's connect_start/poll, send + select),
    so ``stop()`` returns within a second even while the server is unreachable.
    """

    def __init__(
        self,
        url: URL,
        sink: ChangeSink,
        *,
        on_status: StatusSink | None = None,
        tables: Sequence[str] = WATCHED,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
        heartbeat: float = 5.0,
        catch_up_margin: timedelta = timedelta(minutes=5),
        catch_up_limit: int = 2000,
        tick: float = 0.2,
        timeout: float = 10.0,
    ) -> None:
        self._conninfo = conninfo(url).encode()
        self._sink = sink
        self._on_status = on_status
        self.tables = _tables(tables)
        self._delay = backoff_delays(initial_backoff, max_backoff)
        self._heartbeat = heartbeat
        self._margin = catch_up_margin
        self._limit = catch_up_limit
        self._tick = tick
        self._timeout = timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pgconn: Any = None
        #: server time when the feed was last known to be alive (catch-up starts here)
        self.last_alive: datetime | None = None
        self.connected = threading.Event()
        self.reconnects = 0

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the change listener runs already")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="crm-changes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None

    def __enter__(self) -> ChangeListener:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _status(self, state: str, detail: str = "", retry_in: float | None = None) -> None:
        if self._on_status is not None:
            try:
                self._on_status(FeedStatus(state, detail, retry_in))
            except Exception:
                log.exception("the change feed's status sink failed")

    def _deliver(self, change: Change) -> None:
        try:
            self._sink(change)
        except Exception:
            log.exception("the change sink failed on %s", change)

    def _run(self) -> None:
        attempt = 0
        try:
            while not self._stop.is_set():
                try:
                    self._connect()
                    self._listen_and_catch_up()
                    attempt = 0
                    self.connected.set()
                    self._status("connected")
                    self._serve()
                except _Lost as exc:
                    was_connected = self.connected.is_set()
                    self.connected.clear()
                    self._close()
                    delay = self._delay(attempt)
                    attempt += 1
                    if was_connected:
                        self.reconnects += 1
                        log.warning("change feed lost its connection: %s", exc)
                    self._status("disconnected", str(exc), retry_in=delay)
                    self._stop.wait(delay)
        except _StopRequested:
            pass
        finally:
            self.connected.clear()
            self._close()
            self._status("stopped")

    # -- the connection, without ever blocking -------------------------------------------

    def _close(self) -> None:
        if self._pgconn is not None:
            self._pgconn.finish()
            self._pgconn = None

    def _wait(self, fd: int, *, write: bool, deadline: float) -> bool:
        """Wait for the socket up to one tick; raise when stopping or past the deadline."""
        if self._stop.is_set():
            raise _StopRequested
        if time.monotonic() > deadline:
            raise _Lost("the database server does not answer")
        readers, writers = ([], [fd]) if write else ([fd], [])
        ready = select.select(readers, writers, [], self._tick)
        return bool(ready[0] or ready[1])

    def _connect(self) -> None:
        conn = pq.PGconn.connect_start(self._conninfo)
        self._pgconn = conn
        deadline = time.monotonic() + self._timeout
        while True:
            status = conn.connect_poll()
            if status == pq.PollingStatus.OK:
                return
            if status == pq.PollingStatus.FAILED:
                raise _Lost(_first_line(conn.get_error_message()))
            while not self._wait(
                conn.socket, write=status == pq.PollingStatus.WRITING, deadline=deadline
            ):
                pass

    def _query(self, sql: str, params: Sequence[str | None] = ()) -> list[tuple[str | None, ...]]:
        """Run one statement; notifications that arrive meanwhile are delivered too."""
        conn = self._pgconn
        encoded = [None if p is None else p.encode() for p in params]
        try:
            conn.send_query_params(sql.encode(), encoded)
        except psycopg.Error as exc:
            raise _Lost(_first_line(conn.get_error_message())) from exc
        deadline = time.monotonic() + self._timeout
        rows: list[tuple[str | None, ...]] = []
        error: str | None = None
        while True:
            while conn.is_busy():
                self._wait(conn.socket, write=False, deadline=deadline)
                self._consume()
            result = conn.get_result()
            if result is None:
                break
            if result.status == pq.ExecStatus.TUPLES_OK:
                for r in range(result.ntuples):
                    rows.append(
                        tuple(
                            None if (v := result.get_value(r, c)) is None else v.decode()
                            for c in range(result.nfields)
                        )
                    )
            elif result.status != pq.ExecStatus.COMMAND_OK:
                error = _first_line(result.get_error_message())
        self._drain()
        if error is not None:
            raise _Lost(error)
        return rows

    def _consume(self) -> None:
        try:
            self._pgconn.consume_input()
        except psycopg.Error as exc:
            raise _Lost(_first_line(str(exc))) from exc

    def _drain(self) -> None:
        while (n := self._pgconn.notifies()) is not None:
            if n.relname.decode() == CHANNEL and (change := parse_notification(n.extra.decode())):
                self._deliver(change)

    def _server_now(self) -> datetime:
        rows = self._query("SELECT now()::text")
        return _parse_time(rows[0][0] or "")

    def _listen_and_catch_up(self) -> None:
        self._query(f"LISTEN {CHANNEL}")
        now = self._server_now()
        if self.last_alive is not None:
            self._catch_up(self.last_alive - self._margin)
        self.last_alive = now

    def _catch_up(self, since: datetime) -> None:
        stamp = since.isoformat()
        for table in self.tables:
            rows = self._query(
                f"SELECT id, version, created_at >= $1::timestamptz FROM {table} "
                "WHERE updated_at >= $1::timestamptz ORDER BY updated_at LIMIT $2::int",
                (stamp, str(self._limit)),
            )
            for row_id, version, created in rows:
                self._deliver(
                    Change(
                        table=table,
                        id=int(row_id or 0),
                        op="insert" if created == "t" else "update",
                        version=None if version is None else int(version),
                        catch_up=True,
                    )
                )
            self._deliver(Change(table=table, id=None, op="refresh", catch_up=True, since=since))

    def _serve(self) -> None:
        next_beat = time.monotonic() + self._heartbeat
        while True:
            if self._stop.is_set():
                raise _StopRequested
            ready = select.select([self._pgconn.socket], [], [], self._tick)
            if ready[0]:
                self._consume()
                self._drain()
                if self._pgconn.status != pq.ConnStatus.OK:
                    raise _Lost("the database server closed the connection")
            if time.monotonic() >= next_beat:
                self.last_alive = self._server_now()
                next_beat = time.monotonic() + self._heartbeat


def _first_line(message: Any) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "connection failed"


def _parse_time(value: str) -> datetime:
    # PostgreSQL text: "2026-11-22 13:00:00.123456+00" -> ISO the stdlib reads
    text = value.strip().replace(" ", "T", 1)
    if len(text) >= 3 and text[-3] in "+-" and ":" not in text[-3:]:
        text += ":00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class SqliteChangePoller:
    """Notice commits of other processes on the same SQLite file (``PRAGMA data_version``)."""

    def __init__(
        self,
        path: str,
        sink: ChangeSink,
        *,
        tables: Sequence[str] = WATCHED,
        interval: float = 0.1,
        lookback: float = 5.0,
    ) -> None:
        self.path = path
        self._sink = sink
        self.tables = _tables(tables)
        self._interval = interval
        self._lookback = lookback
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._seen: dict[tuple[str, int], tuple[int | None, str]] = {}
        self._watermark: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the change poller runs already")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="crm-changes-sqlite", daemon=True)
        self._thread.start()
        self._ready.wait(2.0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None

    def __enter__(self) -> SqliteChangePoller:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=5)
        try:
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            self._scan(conn, announce=False)
            self._ready.set()
            while not self._stop.wait(self._interval):
                now = conn.execute("PRAGMA data_version").fetchone()[0]
                if now != version:
                    version = now
                    self._scan(conn, announce=True)
        except sqlite3.Error:
            log.exception("the SQLite change poller stopped")
        finally:
            self._ready.set()
            conn.close()

    def _scan(self, conn: sqlite3.Connection, *, announce: bool) -> None:
        for table in self.tables:
            mark = self._watermark.get(table, "")
            if not mark:
                # the first look: only the rows changed shortly before the newest change are
                # remembered (index ix_<table>_updated_at), not every row of the table
                newest = conn.execute(f"SELECT max(updated_at) FROM {table}").fetchone()[0]
                mark = str(newest) if newest else ""
            window = (mark or "0001-01-01", f"-{self._lookback} seconds")
            rows = conn.execute(
                f"SELECT id, version, updated_at, created_at >= datetime(?, ?) FROM {table} "
                "WHERE updated_at >= datetime(?, ?) ORDER BY updated_at",
                (*window, *window),
            ).fetchall()
            inserted = 0
            for row_id, version, updated_at, new in rows:
                key = (table, row_id)
                previous = self._seen.get(key)
                if previous is not None and previous[0] == version:
                    continue
                self._seen[key] = (version, updated_at)
                mark = max(mark, updated_at)
                op = "insert" if previous is None and new else "update"
                inserted += op == "insert"
                if announce:
                    self._sink_safe(Change(table=table, id=row_id, op=op, version=version))
            count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if announce and table in self._counts and count < self._counts[table] + inserted:
                self._sink_safe(Change(table=table, id=None, op="refresh"))
            self._counts[table] = count
            self._watermark[table] = mark
        self._prune()

    def _prune(self) -> None:
        if len(self._seen) < 10_000:
            return
        oldest = min(self._watermark.values(), default="")
        self._seen = {k: v for k, v in self._seen.items() if v[1] >= oldest[:19]}

    def _sink_safe(self, change: Change) -> None:
        try:
            self._sink(change)
        except Exception:
            log.exception("the change sink failed on %s", change)


def watch_changes(
    url: URL, sink: ChangeSink, *, on_status: StatusSink | None = None, **options: Any
) -> ChangeListener | SqliteChangePoller:
    """The right change feed for a database: LISTEN on PostgreSQL, a poller on SQLite."""
    if url.get_backend_name() == "sqlite":
        if on_status is not None:
            on_status(FeedStatus("connected", "watching the SQLite file"))
        return SqliteChangePoller(url.database or "", sink, **options)
    return ChangeListener(url, sink, on_status=on_status, **options)
