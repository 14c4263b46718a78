"""The Qt item models: qtmodeltester, lazy block fetching, and failures that do not crash."""

from __future__ import annotations

import bisect
import threading
from array import array
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from sqlalchemy.exc import OperationalError

from desktop_crm.data.db import Database
from desktop_crm.data.models import Direction, InteractionKind
from desktop_crm.data.queries import ContactRow, ListAnchors
from desktop_crm.ui.models import CONTACT_ID_ROLE, ContactTableModel, HistoryModel
from desktop_crm.ui.reader import CrmReader, HistoryEntry
from desktop_crm.ui.tasks import TaskRunner
from tests.ui.conftest import seed_small


class CountingFetcher:
    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, ids: Sequence[int]) -> Mapping[int, ContactRow]:
        self.calls.append(list(ids))
        return {
            i: ContactRow(i, f"Person {i}", "Firma", "030 1234", f"p{i}@example.de", "Berlin", 1)
            for i in ids
            if i % 97 != 0  # some ids were deleted meanwhile
        }


def test_contact_model_passes_qtmodeltester_on_a_real_database(
    qtmodeltester: Any, db: Database
) -> None:
    seed_small(db)
    reader = CrmReader(db)
    model = ContactTableModel(reader.contact_rows)
    model.set_ids(reader.search("").ids)
    assert model.rowCount() == 3
    qtmodeltester.check(model)
    model.set_ids([])
    qtmodeltester.check(model)


def test_contact_model_passes_qtmodeltester_with_many_rows(qtmodeltester: Any) -> None:
    model = ContactTableModel(CountingFetcher())
    model.set_ids(range(1, 1001))
    qtmodeltester.check(model)


def test_rows_are_fetched_lazily_in_blocks_and_cached(qapp: Any) -> None:
    fetch = CountingFetcher()
    model = ContactTableModel(fetch)
    model.set_ids(range(1, 100_001))
    assert model.rowCount() == 100_000
    assert fetch.calls == []  # counting rows and columns fetches nothing

    assert model.data(model.index(0, ContactTableModel.NAME)) == "Person 1"
    assert len(fetch.calls) == 1 and len(fetch.calls[0]) == ContactTableModel.BLOCK
    for row in range(ContactTableModel.BLOCK):
        for column in range(model.columnCount()):
            model.data(model.index(row, column))
    assert len(fetch.calls) == 1  # one block of ids, one fetch, however many cells

    assert model.data(model.index(50_000, ContactTableModel.EMAIL)) == "p50001@example.de"
    assert len(fetch.calls) == 2
    assert 50_001 in fetch.calls[1]
    assert model.data(model.index(50_000, 0), CONTACT_ID_ROLE) == 50_001

    model.set_ids([5, 6, 7])  # a new result forgets the cache
    model.data(model.index(0, 0))
    assert fetch.calls[-1] == [5, 6, 7]


def test_a_deleted_contact_shows_a_placeholder(qapp: Any) -> None:
    model = ContactTableModel(CountingFetcher())
    model.set_ids([96, 97, 98])
    assert model.data(model.index(1, ContactTableModel.NAME)) == "…"
    assert model.data(model.index(1, ContactTableModel.CITY)) is None
    assert model.data(model.index(2, ContactTableModel.NAME)) == "Person 98"


def test_a_contact_without_a_name_shows_what_it_has(qapp: Any) -> None:
    row = ContactRow(1, "", "", "0171 5558123", "", "", 1)
    model = ContactTableModel(lambda ids: {1: row})
    model.set_ids([1])
    assert model.data(model.index(0, ContactTableModel.NAME)) == "0171 5558123"


@pytest.mark.allow_logged_errors
def test_a_failing_fetch_reports_once_and_does_not_raise(qapp: Any) -> None:
    calls: list[Sequence[int]] = []
    messages: list[str] = []

    def broken(ids: Sequence[int]) -> Mapping[int, ContactRow]:
        calls.append(ids)
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    model = ContactTableModel(broken)
    model.error_handler = messages.append
    model.set_ids(range(1, 11))
    for row in range(10):
        assert model.data(model.index(row, ContactTableModel.NAME)) == "…"
        assert model.data(model.index(row, ContactTableModel.PHONE)) is None
    assert len(calls) == 1  # painting does not hammer a failing database
    assert len(messages) == 1 and "database is locked" in messages[0]


def _entries() -> list[HistoryEntry]:
    return [
        HistoryEntry(
            2,
            InteractionKind.CALL,
            datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
            Direction.INBOUND,
            "answered",
            185,
            "Rückruf",
            "Text",
            "+49891234",
        ),
        HistoryEntry(
            1,
            InteractionKind.NOTE,
            datetime(2026, 2, 1, 9, 30, tzinfo=UTC),
            Direction.NONE,
            "",
            None,
            "",
            "Nur Text",
            "",
        ),
    ]


def test_history_model_passes_qtmodeltester(qtmodeltester: Any) -> None:
    model = HistoryModel()
    model.set_entries(_entries())
    qtmodeltester.check(model)
    model.set_entries([])
    qtmodeltester.check(model)


def test_history_model_texts(qapp: Any) -> None:
    model = HistoryModel()
    model.set_entries(_entries())
    assert model.data(model.index(0, HistoryModel.KIND)) == "Call"
    assert model.data(model.index(0, HistoryModel.DIRECTION)) == "incoming · answered · 3:05"
    assert model.data(model.index(0, HistoryModel.SUBJECT)) == "Rückruf"
    assert model.data(model.index(0, HistoryModel.SUBJECT), Qt.ItemDataRole.ToolTipRole) == "Text"
    assert model.data(model.index(1, HistoryModel.DIRECTION)) == ""
    assert model.data(model.index(1, HistoryModel.SUBJECT)) == "Nur Text"  # a note's first line
    local = datetime(2026, 3, 2, 10, 0, tzinfo=UTC).astimezone()
    assert model.data(model.index(0, HistoryModel.TIME)) == local.strftime("%d.%m.%Y %H:%M")


# --- the whole list held as anchors -----------------------------------------------------------


class SortedContacts:
    """A stand-in for the contact table in name order: what the model reads by anchor, by
    id and by position, with counters."""

    def __init__(self, n: int) -> None:
        self.rows = {i: f"name {i:07d}" for i in range(1, n + 1)}
        self.range_calls: list[tuple[str, int, int]] = []
        self.id_calls: list[list[int]] = []

    def order(self) -> list[tuple[str, int]]:
        return sorted((name, i) for i, name in self.rows.items())

    def anchors(self, every: int, head: int = 0) -> ListAnchors:
        order = self.order()
        return ListAnchors(
            len(order),
            every,
            tuple(k for k, _ in order[::every]),
            array("q", (i for _, i in order[::every])),
            tuple(i for _, i in order[:head]),
        )

    def row(self, contact_id: int) -> ContactRow:
        return ContactRow(contact_id, self.rows[contact_id], "", "", "", "", 1)

    def fetch_range(self, key: str, contact_id: int, limit: int) -> list[ContactRow]:
        self.range_calls.append((key, contact_id, limit))
        order = self.order()
        start = bisect.bisect_left(order, (key, contact_id))
        return [self.row(i) for _, i in order[start : start + limit]]

    def fetch_rows(self, ids: Sequence[int]) -> Mapping[int, ContactRow]:
        self.id_calls.append(list(ids))
        return {i: self.row(i) for i in ids if i in self.rows}

    def locate(self, contact_id: int, anchors: ListAnchors) -> int | None:
        for k in range(len(anchors.keys)):
            block = self.fetch_range(*anchors.anchor(k), anchors.every)
            ids = [r.id for r in block][: anchors.count - k * anchors.every]
            if contact_id in ids:
                return k * anchors.every + ids.index(contact_id)
        return None


class SmallBlocks(ContactTableModel):
    BLOCK = 10
    CACHE_LIMIT = 50


def _anchored(table: SortedContacts, cls: type[ContactTableModel] = SmallBlocks) -> Any:
    return cls(table.fetch_rows, fetch_range=table.fetch_range, locate=table.locate)


def _shown_ids(model: Any) -> list[int | None]:
    return [model.record_id(row) for row in range(model.rowCount())]


def test_a_list_held_by_anchors_passes_qtmodeltester_on_a_real_database(
    qtmodeltester: Any, db: Database
) -> None:
    from desktop_crm.data import queries
    from tests.unit.test_list_anchors import _seed

    ids = _seed(db, copies=2)
    reader = CrmReader(db)

    class Fives(ContactTableModel):
        BLOCK = 5

    model = Fives(
        reader.contact_rows, fetch_range=reader.contact_range, locate=reader.contact_position
    )
    with db.session() as s:
        model.set_anchors(queries.contact_anchors(s, every=5))
    assert model.by_anchors and model.rowCount() == len(ids)
    assert _shown_ids(model) == ids
    assert [model.row_of(i) for i in ids] == list(range(len(ids)))
    qtmodeltester.check(model)


def test_a_list_held_by_anchors_keeps_no_ids_and_reads_a_block_from_its_anchor(qapp: Any) -> None:
    table = SortedContacts(100_000)
    model = _anchored(table, ContactTableModel)
    anchors = table.anchors(ContactTableModel.BLOCK)
    model.set_anchors(anchors)
    assert model.rowCount() == 100_000
    assert len(anchors.ids) == 100_000 // ContactTableModel.BLOCK  # 500 anchors, not 100,000 ids
    with pytest.raises(TypeError):
        _ = model.ids
    assert table.range_calls == []
    assert model.data(model.index(54_321, ContactTableModel.NAME)) == "name 0054322"
    assert table.range_calls == [(anchors.keys[271], anchors.ids[271], ContactTableModel.BLOCK)]
    for row in range(54_200, 54_400):
        model.data(model.index(row, ContactTableModel.NAME))
    assert len(table.range_calls) == 1 and model.fetches == 1  # one block, however many cells
    assert model.data(model.index(54_321, 0), CONTACT_ID_ROLE) == 54_322
    with pytest.raises(ValueError):
        model.set_anchors(table.anchors(7))  # anchors must fall on block starts


def test_the_rest_of_the_list_is_appended_without_a_reset(qapp: Any, qtbot: Any) -> None:
    table = SortedContacts(95)
    model = _anchored(table)
    model.set_ids([i for _, i in table.order()[:12]])  # the first screen, at once
    selection = QItemSelectionModel(model)
    selection.setCurrentIndex(model.index(11, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        assert model.extend_with_anchors(table.anchors(10, head=12))
    assert inserted.args[1:] == [12, 94]
    assert resets == [] and selection.currentIndex().row() == 11
    assert model.by_anchors and _shown_ids(model) == [i for _, i in table.order()]

    # the first screen is no longer the start of the list: what is there now, with a reset
    model.set_ids([5, 4, 3])
    assert not model.extend_with_anchors(table.anchors(10, head=3))
    assert resets == [True, True] and _shown_ids(model) == [i for _, i in table.order()]


def test_new_anchors_keep_the_selection_on_its_record(qapp: Any) -> None:
    table = SortedContacts(95)
    model = _anchored(table)
    model.set_anchors(table.anchors(10))
    selection = QItemSelectionModel(model)
    selection.setCurrentIndex(model.index(50, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    chosen = model.record_id(50)

    for n in range(3):  # added elsewhere, sorting first
        table.rows[1000 + n] = f"aaa {n}"
    del table.rows[20]  # and one deleted before the selection
    model.replace_anchors(table.anchors(10))
    assert model.rowCount() == 97
    assert selection.currentIndex().row() == 52
    assert model.record_id(52) == chosen
    assert _shown_ids(model) == [i for _, i in table.order()]

    del table.rows[chosen]  # the selected record deleted elsewhere
    model.replace_anchors(table.anchors(10))
    assert not selection.currentIndex().isValid()


def test_rows_changed_elsewhere_are_read_again_by_id_until_the_new_anchors(qapp: Any) -> None:
    table = SortedContacts(40)
    model = _anchored(table)
    model.set_anchors(table.anchors(10))
    before = _shown_ids(model)
    table.rows[13] = "name 0000013 renamed"
    del table.rows[12]
    assert model.forget([12, 13])
    # the rows keep their places (a deleted one shows "…") until the anchors are read again
    assert _shown_ids(model) == [None if i == 12 else i for i in before]
    assert model.data(model.index(11, ContactTableModel.NAME)) == "…"
    assert model.data(model.index(12, ContactTableModel.NAME)) == "name 0000013 renamed"
    assert table.id_calls[-1] == list(range(11, 21))  # the block's records, by id
    assert not model.forget([999])  # nothing shown changed: nothing to repaint


def test_blocks_next_to_the_one_shown_are_read_ahead_in_a_worker(qapp: Any, qtbot: Any) -> None:
    table = SortedContacts(1000)
    model = _anchored(table)
    runner = TaskRunner()
    try:
        model.runner = runner
        model.set_anchors(table.anchors(10))
        model.data(model.index(505, 0))  # block 50, read at once
        assert model.fetches == 1
        qtbot.waitUntil(lambda: model.read_ahead == 2)  # blocks 49 and 51, after the paint
        for row in (495, 515):
            model.data(model.index(row, 0))
        assert model.fetches == 1  # found in the cache

        # an answer for a list that has changed meanwhile is dropped
        model.data(model.index(535, 0))  # block 53: 52 and 54 are read ahead
        model.set_ids(list(range(2000, 1000, -1)))
        qtbot.waitUntil(lambda: not runner.running)
        assert model.data(model.index(525, 0), CONTACT_ID_ROLE) == 1475
        assert model.data(model.index(525, 0)) == "…"  # not a row of the old list
    finally:
        runner.shutdown()


def test_the_block_of_the_selection_stays_cached_while_scrolling_far(qapp: Any) -> None:
    table = SortedContacts(1000)
    model = _anchored(table)
    model.set_anchors(table.anchors(10))
    selection = QItemSelectionModel(model)
    selection.setCurrentIndex(model.index(3, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    for row in range(0, 1000, 10):  # 100 blocks through a cache of 5
        model.data(model.index(row, 0))
    fetches = model.fetches
    assert model.data(model.index(3, 0), CONTACT_ID_ROLE) == model.record_id(3) == 4
    assert model.fetches == fetches  # still cached: its record is known without a read
    model.data(model.index(15, 0))  # an unselected block was dropped
    assert model.fetches == fetches + 1


def test_at_most_a_few_blocks_are_read_ahead_at_once(qapp: Any, qtbot: Any) -> None:
    table = SortedContacts(1000)
    model = _anchored(table)
    gate = threading.Event()
    fetch_range = table.fetch_range

    def slow(key: str, contact_id: int, limit: int) -> list[ContactRow]:
        if threading.current_thread() is not threading.main_thread():
            gate.wait(5)
        return fetch_range(key, contact_id, limit)

    model._fetch_range = slow
    runner = TaskRunner()
    try:
        model.runner = runner
        model.set_anchors(table.anchors(10))
        for row in range(0, 1000, 100):  # dragging the scroll bar: ten blocks in a row
            model.data(model.index(row, 0))
            qapp.processEvents()
        assert len(runner.running) == SmallBlocks.MAX_AHEAD
        gate.set()
        qtbot.waitUntil(lambda: not runner.running)
    finally:
        gate.set()
        runner.shutdown()
