"""The headless listener: call sources → bounded queues → workers that identify, one that logs.

Sources call their sink on their own threads and must never block, so the sink only puts the event
on a bounded queue, one per worker (a call's events always on the same one, so they stay in order;
different callers are identified side by side). A worker identifies the caller
(:meth:`CallLogger.prepare`, its own sessions) and hands every :class:`ResolvedCall` to
``on_result`` (``desktop-crm listen`` prints JSON lines; the desktop client's bridge shows the
pop-up); the history write goes to a thread of its own (:meth:`CallLogger.write`, in order), so a
slow write never holds up the next caller. The writer also lets the workers go first: while callers
wait to be identified (a burst of calls), a write waits until the workers have been idle for
:data:`WRITE_GRACE` seconds, at most :data:`MAX_WRITE_DELAY` (one Python process, one GIL: a write
running beside the look-ups makes each of them slower), unless somebody waits for the row
(:meth:`CallLogger.wait_for_entry`). A flood fills the queues and further events are dropped with a
warning instead of growing memory without bound. Source status changes (:class:`SourceStatus`)
travel the first worker's queue and go to ``on_status``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from desktop_crm.secrets import get_secret

from .calllog import CallLogger, CallWrite, ResolvedCall
from .events import CallEvent, CallSource, SourceStatus
from .simulator import Simulator
from .sip.agent import listener_from_settings
from .sip.register import RegistrarAccount

log = logging.getLogger(__name__)

MAX_QUEUED_EVENTS = 10_000
STOP_TIMEOUT = 1.0
WRITE_GRACE = 0.02  # the worker idle this long (its pop-up painted): writes may go
MAX_WRITE_DELAY = 0.5  # a write never waits longer for the worker to be idle
IDLE_NOTICE = 0.02  # during a flood, on_idle is still called this often
WORKERS = 4  # threads identifying callers (a call's events always go to the same one)
DEMO_SCENARIO = Path(__file__).with_name("scenarios") / "demo.toml"

ResultSink = Callable[[ResolvedCall], None]
StatusSink = Callable[[SourceStatus], None]


def log_status(status: SourceStatus) -> None:
    """The default for status changes: a log line (a warning when a source fails)."""
    level = logging.WARNING if status.problem else logging.INFO
    text = f"{status.source}: {status.state.value}"
    if status.detail:
        text += f": {status.detail}"
    if status.retry_in is not None:
        text += f" (next attempt in {status.retry_in:.0f} s)"
    log.log(level, "%s", text)


class Listener:
    """Runs ``sources`` and feeds their events through ``logger`` to ``on_result``.

    ``workers`` threads identify callers, each taking the events of the calls hashed to it, so
    the events of one call stay in order while different callers are looked up side by side:
    the look-ups of a burst wait on the disk (a big database is not all in memory) at the same
    time instead of one after the other. ``on_idle`` is called (on a worker thread) whenever no
    event is queued or being handled any more, and every :data:`IDLE_NOTICE` seconds of a
    flood: the end of a burst.
    """

    def __init__(
        self,
        sources: Sequence[CallSource],
        logger: CallLogger,
        on_result: ResultSink,
        *,
        on_status: StatusSink = log_status,
        on_idle: Callable[[], None] | None = None,
        max_queued: int = MAX_QUEUED_EVENTS,
        workers: int = WORKERS,
    ) -> None:
        self.sources = list(sources)
        self._on_idle = on_idle
        self._logger = logger
        self._on_result = on_result
        self._on_status = on_status
        shards = max(1, workers)
        self._queues: list[queue.Queue[CallEvent | SourceStatus | None]] = [
            queue.Queue(maxsize=max(1, max_queued // shards)) for _ in range(shards)
        ]
        # history writes: in order, on a thread of their own, so a slow write (a checkpoint, a
        # busy server) never delays the next caller's pop-up; bounded, so a database that
        # stops answering slows identification down instead of growing memory
        self._writes: queue.Queue[CallWrite | None] = queue.Queue(maxsize=max_queued)
        self._writer: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        self.dropped = 0
        self._last_drop_warning = 0.0
        # events queued or being handled, over all workers; 0: idle
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._noticed = time.monotonic()  # the last idle notice during a flood
        # monotonic time since when no event is queued or handled; None while there is one
        self._idle_since: float | None = time.monotonic()

    def start(self) -> None:
        if self._workers:
            raise RuntimeError("the listener is already running")
        self._writer = threading.Thread(target=self._write, name="cti-writer", daemon=True)
        self._writer.start()
        self._workers = [
            threading.Thread(target=self._work, args=(q,), name=f"cti-worker-{n}", daemon=True)
            for n, q in enumerate(self._queues)
        ]
        for worker in self._workers:
            worker.start()
        started: list[CallSource] = []
        try:
            for source in self.sources:
                source.start(self.enqueue)
                started.append(source)
        except Exception:
            for source in started:
                source.stop()
            self._finish()
            raise

    def enqueue(self, event: CallEvent | SourceStatus) -> None:
        """The sink every source gets: never blocks, drops (and says so) when full."""
        if isinstance(event, SourceStatus):
            shard = self._queues[0]  # in order among themselves
        else:
            shard = self._queues[hash((event.source, event.call_id)) % len(self._queues)]
        with self._pending_lock:
            self._pending += 1
            self._idle_since = None
        try:
            shard.put_nowait(event)
        except queue.Full:
            self._handled()
            self.dropped += 1
            now = time.monotonic()
            if now - self._last_drop_warning > 5:
                self._last_drop_warning = now
                log.warning(
                    "call events arrive faster than they can be logged; %d dropped so far",
                    self.dropped,
                )

    def stop(self) -> None:
        for source in self.sources:
            source.stop()
        self._finish()

    def _finish(self) -> None:
        if not self._workers:
            return
        for shard in self._queues:
            shard.put(None)  # after everything already queued: nothing is lost on stop
        for worker in self._workers:
            worker.join()
        self._workers = []
        self._idle()  # whatever a receiver holds back for the rest of a burst goes out
        writer = self._writer
        if writer is not None:
            self._writes.put(None)  # after the writes of every event handled
            writer.join()
            self._writer = None

    @property
    def backlog(self) -> int:
        """Events queued or being handled (approximate), the caller's own included: above one
        while the worker thread asking still has more of a burst to come."""
        return self._pending

    def _handled(self) -> bool:
        """One event less; True when that was the last one (the listener is idle now)."""
        with self._pending_lock:
            self._pending -= 1
            if self._pending > 0:
                return False
            self._idle_since = time.monotonic()
            return True

    def _idle(self) -> None:
        if self._on_idle is None:
            return
        try:
            self._on_idle()
        except Exception:
            log.warning("the listener's idle notice failed", exc_info=True)

    def _work(self, events: queue.Queue[CallEvent | SourceStatus | None]) -> None:
        while True:
            event = events.get()
            if event is None:
                return
            try:
                self._handle(event)
            finally:
                if self._handled():
                    self._idle()
                elif (now := time.monotonic()) - self._noticed >= IDLE_NOTICE:
                    self._noticed = now  # a flood: what is held back still goes out
                    self._idle()

    def _handle(self, event: CallEvent | SourceStatus) -> None:
        if isinstance(event, SourceStatus):
            try:
                self._on_status(event)
            except Exception:
                log.warning("a source status could not be handed on", exc_info=True)
            return
        try:
            # the result goes on as soon as the caller is known; the history row follows
            _result, job = self._logger.prepare(event, announce=self._on_result)
        except Exception:  # one bad event must not end the listener
            log.warning("call event %s could not be handled", event.call_id, exc_info=True)
            return
        if job is not None:
            self._writes.put(job)

    def _write(self) -> None:
        while True:
            job = self._writes.get()
            if job is None:
                return
            self._wait_for_idle_worker()
            try:
                self._logger.write(job)
            except Exception:
                log.warning("call %s could not be logged", job.call_id, exc_info=True)

    def _wait_for_idle_worker(self) -> None:
        """Identification first: wait (briefly) until no caller waits for a worker."""
        deadline = time.monotonic() + MAX_WRITE_DELAY
        while True:
            now = time.monotonic()
            idle_since = self._idle_since
            if idle_since is not None and now - idle_since >= WRITE_GRACE:
                return
            if now >= deadline or self._logger.someone_waits:
                return
            time.sleep(max(0.001, min(0.005, deadline - now)))  # a look every 5 ms


def parse_bind(text: str, where: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"{where}.bind: expected address:port such as 127.0.0.1:5062, got {text!r}"
        )
    return host.strip("[]"), int(port)


def sip_sources_from_settings(entries: Sequence[dict[str, Any]]) -> list[CallSource]:
    """The ``[[sip]]`` tables of the settings as SIP user agents.

    In register mode the password is read from the keyring at each registration attempt (so
    one stored after the start is used at the next retry); a missing one is reported by the
    source as a failure with the command that stores it.
    """
    out: list[CallSource] = []
    for number, entry in enumerate(entries, start=1):
        where = f"[[sip]] #{number}"
        host, port = parse_bind(str(entry["bind"]), where)
        mode = entry["mode"]
        account: RegistrarAccount | None = None
        password: Callable[[], str] | None = None
        if mode == "register":
            account, password = _registrar_account(entry, where)
        out.append(
            listener_from_settings(
                {
                    "name": entry["name"],
                    "mode": mode,
                    "host": host,
                    "port": port,
                    "transports": [entry["transport"]],
                    "identity_headers": list(entry["identity_headers"]),
                    "max_calls": entry["max_calls"],
                },
                where,
                account=account,
                password=password,
            )
        )
    return out


def _registrar_account(
    entry: dict[str, Any], where: str
) -> tuple[RegistrarAccount, Callable[[], str]]:
    missing = [key for key in ("registrar", "user", "secret") if not str(entry[key]).strip()]
    if missing:
        raise ValueError(
            f"{where}: register mode needs {', '.join(missing)} (desktop-crm config keys)"
        )
    text = str(entry["registrar"]).strip()
    host, sep, port = text.rpartition(":")
    if not sep or "]" in port:  # no port, or an IPv6 address without one
        host, port = text, "5060"
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"{where}.registrar: expected host or host:port such as 192.168.1.10:5060, got {text!r}"
        )
    expires, keepalive = entry["expires"], entry["keepalive"]
    if not 10 <= expires <= 86_400:
        raise ValueError(f"{where}.expires: expected 10 to 86400 seconds, got {expires}")
    if keepalive < 0:
        raise ValueError(f"{where}.keepalive: expected 0 or more seconds, got {keepalive}")
    account = RegistrarAccount(
        registrar_host=host.strip("[]"),
        registrar_port=int(port),
        user=str(entry["user"]).strip(),
        auth_user=str(entry["auth_user"]).strip(),
        domain=str(entry["domain"]).strip(),
        transport=str(entry["transport"]),
        expires=expires,
        keepalive=float(keepalive),
        dialog_state=bool(entry["dialog_state"]),
    )
    secret = str(entry["secret"]).strip()
    return account, lambda: get_secret(secret)


def sources_from_settings(entries: Sequence[dict[str, Any]]) -> list[CallSource]:
    """The ``[[simulator]]`` tables of the settings as sources."""
    out: list[CallSource] = []
    for entry in entries:
        scenario = entry.get("scenario") or DEMO_SCENARIO
        out.append(
            Simulator.from_file(
                scenario,
                name=str(entry.get("name") or "simulator"),
                speed=float(entry.get("speed", 1.0)),
                loop=bool(entry.get("loop", False)),
            )
        )
    return out
