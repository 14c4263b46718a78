"""The one event bridge under load: many threads, 20,000 events, none lost, order kept per call."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import pytest

from desktop_crm.cti.calllog import ResolvedCall
from desktop_crm.cti.events import CallEvent, CallState
from desktop_crm.data.db import Database
from desktop_crm.identify.rules import DialingRules
from desktop_crm.ui.bridge import EventBridge
from desktop_crm.ui.calls import CallCentre, CallUpdate
from desktop_crm.ui.popup import CallerPopup
from desktop_crm.ui.tasks import TaskRunner


@pytest.fixture
def runner(qapp: Any) -> Any:
    r = TaskRunner()
    yield r
    r.shutdown()
    r.deleteLater()


def test_20000_events_from_8_threads_arrive_all_in_order_per_call_on_the_gui_thread(
    qtbot: Any, runner: TaskRunner
) -> None:
    bridge = EventBridge(runner, max_batch=500)
    received: list[tuple[int, int]] = []
    batches: list[int] = []
    wrong_thread: list[int] = []

    def batch(items: list[Any]) -> None:
        if threading.current_thread() is not threading.main_thread():
            wrong_thread.append(len(items))
        batches.append(len(items))
        received.extend(items)

    bridge.batch_ready.connect(batch)
    calls_per_thread, events_per_call, threads_n = 50, 50, 8  # 8 x 50 x 50 = 20,000

    def producer(thread_no: int) -> None:
        # interleave the calls of this thread, as a PBX does with parallel calls
        for seq in range(events_per_call):
            for call in range(calls_per_thread):
                bridge.submit((thread_no * 1000 + call, seq))

    threads = [threading.Thread(target=producer, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    # the GUI keeps running while the producers hammer the bridge
    qtbot.waitUntil(lambda: len(received) == 20_000, timeout=20_000)
    for t in threads:
        t.join()
    assert not wrong_thread
    assert len(set(received)) == 20_000  # none lost, none twice
    per_call: dict[int, list[int]] = defaultdict(list)
    for call, seq in received:
        per_call[call].append(seq)
    assert len(per_call) == threads_n * calls_per_thread
    assert all(seqs == list(range(events_per_call)) for seqs in per_call.values())
    assert max(batches) <= 500
    assert len(batches) < 20_000 / 10  # coalesced: far fewer batches than events
    assert bridge.delivered == 20_000


def _ringing(n: int, source: str = "flood") -> CallUpdate:
    event = CallEvent(call_id=f"c{n}", state=CallState.RINGING, source=source, remote_number="1")
    return CallUpdate(ResolvedCall(event, None))


def test_a_flood_of_500_invites_stacks_three_cards_and_counts_the_rest(
    qtbot: Any, runner: TaskRunner
) -> None:
    bridge = EventBridge(runner)
    popup = CallerPopup(max_cards=3)
    qtbot.addWidget(popup)
    bridge.batch_ready.connect(popup.apply)

    def producer(base: int) -> None:
        for i in range(100):
            bridge.submit(_ringing(base + i))

    threads = [threading.Thread(target=producer, args=(k * 1000,)) for k in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    qtbot.waitUntil(lambda: len(popup.calls) == 500, timeout=10_000)
    assert popup.isVisible()
    assert len(popup.visible_cards()) == 3
    assert popup.more_label.isVisible()
    assert popup.more_label.text() == "+ 497 more call(s)"
    assert popup.renders <= bridge.batches  # one render per batch, not per INVITE
    assert bridge.batches < 50


def test_a_held_burst_arrives_as_one_batch_on_flush_and_never_waits_long(
    qtbot: Any, runner: TaskRunner
) -> None:
    bridge = EventBridge(runner)
    batches: list[list[Any]] = []
    bridge.batch_ready.connect(batches.append)
    for n in range(10):  # the listener still has events queued: hold
        bridge.submit(n, hold=True)
    qtbot.wait(5)  # well under MAX_HOLD: nothing woke the GUI thread
    assert batches == []
    bridge.flush()  # the listener's queue ran dry
    qtbot.waitUntil(lambda: len(batches) == 1)
    assert batches == [list(range(10))]

    # a flood that never runs dry still gets through: held at most MAX_HOLD
    import time

    from desktop_crm.ui.bridge import MAX_HOLD

    started = time.monotonic()
    bridge.submit("first", hold=True)
    while len(batches) < 2 and time.monotonic() - started < 2:
        bridge.submit("more", hold=True)
        qtbot.wait(2)
    assert len(batches) >= 2 and batches[1][0] == "first"
    assert time.monotonic() - started < MAX_HOLD + 0.5


class _Burst:
    """A call source that rings ten times at once from its own thread (a PBX's burst)."""

    name = "burst"

    def __init__(self, count: int) -> None:
        self.count = count

    def start(self, sink: Any) -> None:
        events = [
            CallEvent(
                call_id=f"b{n}",
                state=CallState.RINGING,
                source=self.name,
                remote_number=f"+49301234{n:03d}",
            )
            for n in range(self.count)
        ]

        def run() -> None:
            for event in events:  # within microseconds, as datagrams of a burst arrive
                sink(event)

        threading.Thread(target=run, daemon=True).start()

    def stop(self) -> None:
        pass


def test_a_burst_through_the_listener_is_few_batches_and_every_caller_is_shown(
    qtbot: Any, runner: TaskRunner, sqlite_db: Database
) -> None:
    centre = CallCentre(sqlite_db, DialingRules(), runner)
    popup = CallerPopup(centre, max_cards=3, auto_close_seconds=0)
    qtbot.addWidget(popup)
    batches: list[int] = []
    centre.calls_arrived.connect(lambda updates: batches.append(len(updates)))
    centre.start_sources([_Burst(10)])
    try:
        qtbot.waitUntil(lambda: len(popup.calls) == 10, timeout=10_000)
    finally:
        centre.stop()
    assert sum(batches) == 10, batches
    # the listener held the burst back until its queue ran dry: the first caller at once, the
    # rest together (without holding back: four or more batches)
    assert len(batches) <= 2, batches
    assert len(popup.visible_cards()) == 3
    assert popup.more_label.text() == "+ 7 more call(s)"
