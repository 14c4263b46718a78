"""Work off the GUI thread: results, errors, progress and cancelling come back on the GUI thread."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from desktop_crm.ui.tasks import Progress, TaskContext, TaskRunner


@pytest.fixture
def runner(qapp: Any) -> Any:
    r = TaskRunner()
    yield r
    r.shutdown()
    r.deleteLater()


def test_result_arrives_on_the_gui_thread(qtbot: Any, runner: TaskRunner) -> None:
    seen: dict[str, Any] = {}

    def work(_context: TaskContext) -> int:
        seen["worker"] = threading.current_thread()
        return 42

    def done(result: int) -> None:
        seen["result"] = result
        seen["callback"] = threading.current_thread()

    runner.run(work, on_done=done, name="answer")
    qtbot.waitUntil(lambda: "result" in seen)
    assert seen["result"] == 42
    assert seen["callback"] is threading.main_thread()
    assert seen["worker"] is not threading.main_thread()
    assert runner.running == []


def test_error_goes_to_on_error(qtbot: Any, runner: TaskRunner) -> None:
    errors: list[BaseException] = []

    def work(_context: TaskContext) -> None:
        raise ValueError("kaputt")

    runner.run(work, on_done=lambda _r: None, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ValueError)


def test_progress_is_coalesced_and_the_last_value_arrives(qtbot: Any, runner: TaskRunner) -> None:
    reports: list[Progress] = []
    finished: list[int] = []
    release = threading.Event()

    def work(context: TaskContext) -> int:
        for i in range(1, 20_001):
            context.report_progress(i, 20_000)
        release.wait(5)  # keep the task alive until the GUI has seen the last report
        return 1

    runner.run(work, on_done=finished.append, on_progress=reports.append)
    qtbot.waitUntil(lambda: bool(reports) and reports[-1].done == 20_000)
    release.set()
    qtbot.waitUntil(lambda: bool(finished))
    assert len(reports) < 20_000
    assert [p.done for p in reports] == sorted(p.done for p in reports)


def test_cancel_reaches_the_worker(qtbot: Any, runner: TaskRunner) -> None:
    started = threading.Event()
    cancelled: list[bool] = []

    def work(context: TaskContext) -> None:
        started.set()
        while True:
            context.raise_if_cancelled()
            time.sleep(0.005)

    task = runner.run(work, on_done=lambda _r: None, on_cancelled=lambda: cancelled.append(True))
    assert started.wait(5)
    task.cancel()
    qtbot.waitUntil(lambda: bool(cancelled))


def test_many_threads_posting_at_once(qtbot: Any, runner: TaskRunner) -> None:
    """The bridge path under load: 8 threads x 2,500 callbacks, none lost, all on the GUI thread."""
    ran: list[int] = []
    wrong_thread: list[int] = []

    def make(n: int) -> Any:
        def callback() -> None:
            if threading.current_thread() is not threading.main_thread():
                wrong_thread.append(n)
            ran.append(n)

        return callback

    def producer(base: int) -> None:
        for i in range(2500):
            runner.post(make(base + i))

    threads = [threading.Thread(target=producer, args=(k * 10_000,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    qtbot.waitUntil(lambda: len(ran) == 20_000, timeout=10_000)
    assert not wrong_thread
    assert len(set(ran)) == 20_000


def test_shutdown_cancels_and_waits(qtbot: Any, qapp: Any) -> None:
    runner = TaskRunner()
    results: list[Any] = []

    def work(context: TaskContext) -> None:
        while True:
            context.raise_if_cancelled()
            time.sleep(0.005)

    runner.run(work, on_done=results.append, on_cancelled=lambda: results.append("cancelled"))
    assert runner.shutdown(timeout=2.0)
    assert runner.shutdown()  # again: nothing to do
    runner.post(lambda: results.append("late"))  # after shutdown: dropped, no error
    qapp.processEvents()
    assert results == []  # callbacks of a closed runner are dropped
    with pytest.raises(RuntimeError):
        runner.run(work, on_done=results.append)
    runner.deleteLater()
