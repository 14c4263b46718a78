"""Run plain Python work off the GUI thread and get its result back on the GUI thread.

PySide6 6.12.0 aborts the interpreter when a Python thread makes any Qt call, even
``Signal.emit`` (PYSIDE-3124, docs/architecture.md). So a worker here never touches Qt: it puts a
callback on a :class:`queue.SimpleQueue` and writes one byte to a :func:`socket.socketpair`; a
:class:`QSocketNotifier` on the GUI thread wakes up, drains the queue and runs the callbacks
there. Like Anki's ``TaskManager.run_in_background``, but without a Qt signal from the worker.

Progress reports are coalesced: the worker only stores the latest value, and at most one wake-up
per task is in flight, so a loop that reports 100,000 times costs the GUI a handful of repaints.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from queue import Empty, SimpleQueue
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QSocketNotifier

log = logging.getLogger(__name__)

T = TypeVar("T")


class TaskCancelled(Exception):
    """Raised inside a worker (by :meth:`TaskContext.raise_if_cancelled`) to stop early."""


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    label: str = ""


class TaskContext:
    """What the worker function sees: progress reporting and the cancel flag. No Qt inside."""

    def __init__(self, runner: TaskRunner, task: Task[Any]) -> None:
        self._runner = runner
        self._task = task

    @property
    def cancelled(self) -> bool:
        return self._task.cancel_requested.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise TaskCancelled

    def report_progress(self, done: int, total: int, label: str = "") -> None:
        """Safe from the worker thread; the GUI sees the latest value, not every one."""
        task = self._task
        with task.lock:
            task.latest_progress = Progress(done, total, label)
            if task.progress_pending:
                return
            task.progress_pending = True
        self._runner.post(task.deliver_progress)


class Task(Generic[T]):
    """A running unit of work. ``cancel()`` asks it to stop; it decides where it can."""

    def __init__(
        self,
        name: str,
        on_done: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None,
        on_progress: Callable[[Progress], None] | None,
        on_cancelled: Callable[[], None] | None,
    ) -> None:
        self.name = name
        self.on_done = on_done
        self.on_error = on_error
        self.on_progress = on_progress
        self.on_cancelled = on_cancelled
        self.cancel_requested = threading.Event()
        self.lock = threading.Lock()
        self.latest_progress: Progress | None = None
        self.progress_pending = False
        self.finished = False
        self.thread: threading.Thread | None = None

    def cancel(self) -> None:
        self.cancel_requested.set()

    def deliver_progress(self) -> None:
        """Runs on the GUI thread."""
        with self.lock:
            progress = self.latest_progress
            self.progress_pending = False
        if progress is not None and self.on_progress is not None and not self.finished:
            self.on_progress(progress)


class TaskRunner(QObject):
    """Starts workers and runs their callbacks on the GUI thread (the thread that made it)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: SimpleQueue[Callable[[], None]] = SimpleQueue()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._notifier = QSocketNotifier(self._wake_read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._tasks: list[Task[Any]] = []
        self._closed = False

    @property
    def running(self) -> list[Task[Any]]:
        return [t for t in self._tasks if not t.finished]

    def run(
        self,
        work: Callable[[TaskContext], T],
        *,
        on_done: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        name: str = "task",
    ) -> Task[T]:
        """Call ``work(context)`` in a new thread; then ``on_done(result)`` on the GUI thread.

        An exception in ``work`` goes to ``on_error`` (logged when there is none);
        :class:`TaskCancelled` goes to ``on_cancelled``. ``work`` must not touch Qt objects or
        share an SQLAlchemy session with the GUI thread.
        """
        if self._closed:
            raise RuntimeError("the task runner has been shut down")
        task: Task[T] = Task(name, on_done, on_error, on_progress, on_cancelled)
        context = TaskContext(self, task)

        def target() -> None:
            outcome: Callable[[], None]
            try:
                result = work(context)
            except TaskCancelled:
                outcome = partial(_call, task.on_cancelled)
            except BaseException as exc:
                outcome = partial(self._failed, task, exc)
            else:
                outcome = partial(task.on_done, result)
            self.post(partial(self._finish, task, outcome))

        task.thread = threading.Thread(target=target, name=f"desktop_crm-{name}", daemon=True)
        self._tasks.append(task)
        task.thread.start()
        return task

    def post(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the GUI thread soon. Safe from any thread; touches no Qt object."""
        self._queue.put(callback)
        try:
            self._wake_write.send(b"\0")
        except BlockingIOError:
            pass  # the socket buffer is full of wake-ups already; the drain sees this one too
        except OSError:
            pass  # shut down; nobody is left to run it

    def _drain(self) -> None:
        try:
            while self._wake_read.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while True:
            try:
                callback = self._queue.get_nowait()
            except Empty:
                return
            try:
                callback()
            except Exception:
                log.exception("a background task's callback failed")

    def _finish(self, task: Task[Any], then: Callable[[], None]) -> None:
        task.finished = True
        if task.thread is not None:
            # the worker posted this as its last act, so it ends at once
            task.thread.join(timeout=1.0)
        self._tasks.remove(task)
        then()

    def _failed(self, task: Task[Any], exc: BaseException) -> None:
        if task.on_error is None:
            log.error("background task %s failed", task.name, exc_info=exc)
        else:
            task.on_error(exc)

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until every worker has ended (for shutdown); True when all did in time."""
        deadline = time.monotonic() + timeout
        for task in list(self._tasks):
            if task.thread is not None:
                task.thread.join(max(0.0, deadline - time.monotonic()))
        return all(t.thread is None or not t.thread.is_alive() for t in self._tasks)

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Cancel every task, wait up to ``timeout`` for them, stop listening. Idempotent.

        Callbacks of tasks that end now are dropped: the window they would update is closing.
        Returns False when a worker was still busy (it is a daemon thread and dies with the
        process; its own transaction is rolled back by the database).
        """
        if self._closed:
            return True
        self._closed = True
        for task in self._tasks:
            task.cancel()
        ended = self.wait(timeout)
        if not ended:
            names = [t.name for t in self._tasks if t.thread and t.thread.is_alive()]
            log.warning("background tasks still running at shutdown: %s", names)
        self._notifier.setEnabled(False)
        self._wake_write.close()
        self._wake_read.close()
        return ended


def _call(callback: Callable[[], None] | None) -> None:
    if callback is not None:
        callback()
