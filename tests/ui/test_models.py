"""The Qt item models: qtmodeltester, lazy block fetching, and failures that do not crash."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy.exc import OperationalError

from desktop_crm.data.db import Database
from desktop_crm.data.models import Direction, InteractionKind
from desktop_crm.data.queries import ContactRow
from desktop_crm.ui.models import CONTACT_ID_ROLE, ContactTableModel, HistoryModel
from desktop_crm.ui.reader import CrmReader, HistoryEntry
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
