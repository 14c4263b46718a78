"""The one event bridge: call events and source status from any thread to the GUI thread.

Listeners run in their own threads and must not make a single Qt call (PYSIDE-3124, see
docs/architecture.md). :meth:`EventBridge.submit` therefore only puts the item on a
:class:`queue.SimpleQueue` and, when no wake-up is in flight yet, asks the window's
:class:`~desktop_crm.ui.tasks.TaskRunner` to run the drain on the GUI thread (its socketpair and
``QSocketNotifier``: no Qt object is touched off the GUI thread, no polling delay).

The drain hands everything that arrived meanwhile to ``batch_ready`` as one list, in arrival
order, at most :attr:`EventBridge.max_batch` items at a time (the rest follows in the next turn
of the event loop, so a flood cannot freeze the window). A burst of 500 INVITEs therefore costs
the GUI a handful of batches, not 500 repaints; the pop-up coalesces them further.

A producer that knows more is coming (the call listener with events still queued) submits with
``hold=True``: the item waits, without waking the GUI thread, until the producer calls
:meth:`EventBridge.flush` (the listener does when its queue runs empty) or the oldest held item
is :data:`MAX_HOLD` seconds old. A burst of ten calls is then one batch and one repaint, and the
GUI thread does not take the interpreter from the worker that identifies the next caller.
"""

from __future__ import annotations

import threading
import time
from queue import Empty, SimpleQueue
from typing import Any

from PySide6.QtCore import QObject, Signal

from .tasks import TaskRunner

MAX_BATCH = 500
MAX_HOLD = 0.03  # seconds a held item may wait for the rest of its burst


class EventBridge(QObject):
    """Receives plain values from any thread; re-emits them in batches on the GUI thread."""

    #: a list of the items submitted since the last batch, oldest first (GUI thread)
    batch_ready = Signal(list)

    def __init__(
        self, runner: TaskRunner, parent: QObject | None = None, *, max_batch: int = MAX_BATCH
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._queue: SimpleQueue[Any] = SimpleQueue()
        self._lock = threading.Lock()
        self._wake_pending = False
        self._held_since: float | None = None  # monotonic time of the oldest held item
        self.max_batch = max_batch
        self.delivered = 0  # items handed to batch_ready so far
        self.batches = 0

    def submit(self, item: Any, *, hold: bool = False) -> None:
        """Safe from any thread and never blocks; touches no Qt object.

        With ``hold``, the item waits for :meth:`flush` (at most :data:`MAX_HOLD` seconds).
        """
        self._queue.put(item)
        with self._lock:
            if self._wake_pending:
                return
            if hold:
                now = time.monotonic()
                if self._held_since is None:
                    self._held_since = now
                if now - self._held_since < MAX_HOLD:
                    return
            self._held_since = None
            self._wake_pending = True
        self._runner.post(self._drain)

    def flush(self) -> None:
        """Deliver what is held (safe from any thread)."""
        with self._lock:
            if self._held_since is None or self._wake_pending:
                return
            self._held_since = None
            self._wake_pending = True
        self._runner.post(self._drain)

    def _drain(self) -> None:
        """GUI thread: one batch out; if more is waiting, another turn after other events."""
        with self._lock:
            self._wake_pending = False  # before reading: a later submit wakes us again
            self._held_since = None  # whatever was held goes out now
        items: list[Any] = []
        while len(items) < self.max_batch:
            try:
                items.append(self._queue.get_nowait())
            except Empty:
                break
        else:
            with self._lock:
                again = not self._wake_pending
                self._wake_pending = True
            if again:
                self._runner.post(self._drain)
        if items:
            self.delivered += len(items)
            self.batches += 1
            self.batch_ready.emit(items)
