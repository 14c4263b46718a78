"""Qt item models over plain values from :mod:`desktop_crm.ui.reader`.

:class:`ContactTableModel` follows Anki's browser ``DataModel``: the model holds the ordered ids
of the whole result and fetches display rows for a block of ids around the row a view asks for,
one query batch (one session) per block, and caches them. ``data()`` never runs a query per cell
and never sees an ORM object, so a list of 100,000 contacts opens as fast as one of 100.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from sqlalchemy.exc import SQLAlchemyError

from desktop_crm.data.errors import DataError
from desktop_crm.data.models import Direction
from desktop_crm.data.queries import CallRow, ContactRow

from . import labels
from .errors import describe_error
from .reader import HistoryEntry

log = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex

CONTACT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
HISTORY_ENTRY_ROLE = Qt.ItemDataRole.UserRole + 2

_ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole


class _ReadOnlyTable(QAbstractTableModel):
    """What both tables share: read-only rows, translated column titles, row numbers."""

    def titles(self) -> tuple[str, ...]:
        """The column titles, translated; each table names its own."""
        return ()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if role != _DISPLAY:
            return None
        if orientation == Qt.Orientation.Vertical:
            return section + 1
        titles = self.titles()
        return titles[section] if 0 <= section < len(titles) else None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS


class _LazyTable(_ReadOnlyTable):
    """Records by id; rows are fetched lazily in blocks and cached until the next reset."""

    _FIELDS: tuple[str, ...] = ()
    BLOCK = 200  # rows fetched at once: a few screens around the requested row
    CACHE_LIMIT = 5000  # rows kept; beyond that the cache starts over
    WHAT = "rows"  # for the log

    def __init__(
        self,
        fetch_rows: Callable[[Sequence[int]], Mapping[int, Any]],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._fetch_rows = fetch_rows
        # 8 bytes a row: a million ids take 8 MB (a list of ints would take 36 MB)
        self._ids: array[int] = array("q")
        self._rows: dict[int, Any] = {}  # None: deleted or not loadable
        self.error_handler: Callable[[str], None] | None = None
        self.fetches = 0  # number of block fetches, for tests and benchmarks

    # --- content ---------------------------------------------------------------------------

    @property
    def ids(self) -> list[int]:
        return list(self._ids)

    def set_ids(self, ids: Sequence[int]) -> None:
        self.beginResetModel()
        self._ids = array("q", ids)
        self._rows.clear()
        self.endResetModel()

    def extend_ids(self, more: Sequence[int]) -> None:
        """Append ids (the rest of a list whose first screen is shown): no reset, so the
        selection and the scroll position stay."""
        if not more:
            return
        first = len(self._ids)
        self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
        self._ids.extend(more)
        self.endInsertRows()

    def replace_ids(self, ids: Sequence[int]) -> None:
        """A new id list (records added or deleted elsewhere) without a reset: the selection
        and the current row follow their records (a layout change), the scroll position stays.
        A deleted record's indexes become invalid."""
        new_ids = array("q", ids)
        if new_ids == self._ids:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        rows: dict[int, int | None] = {}
        moved = []
        for index in old:
            record_id = self.record_id(index.row())
            if record_id is None:
                moved.append(QModelIndex())
                continue
            if record_id not in rows:
                try:
                    rows[record_id] = new_ids.index(record_id)
                except ValueError:
                    rows[record_id] = None
            row = rows[record_id]
            moved.append(QModelIndex() if row is None else self.createIndex(row, index.column()))
        self._ids = new_ids
        self.changePersistentIndexList(old, moved)
        self.layoutChanged.emit()

    def forget(self, record_ids: Iterable[int]) -> bool:
        """Records changed elsewhere: drop their cached rows; shown ones are read again."""
        dropped = False
        for record_id in record_ids:
            if self._rows.pop(record_id, False) is not False:
                dropped = True
        if dropped and self._ids:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._ids) - 1, max(0, len(self._FIELDS) - 1))
            )
        return dropped

    def record_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, record_id: int) -> int | None:
        try:
            return self._ids.index(record_id)  # a C loop: ~1 ms per million ids
        except ValueError:
            return None

    def row_data(self, row: int) -> Any:
        if not 0 <= row < len(self._ids):
            return None
        record_id = self._ids[row]
        if record_id not in self._rows:
            self._fetch_block(row)
        return self._rows.get(record_id)

    def _fetch_block(self, row: int) -> None:
        if len(self._rows) >= self.CACHE_LIMIT:
            self._rows.clear()
        start = max(0, row - self.BLOCK // 4)  # views mostly scroll down
        wanted = [i for i in self._ids[start : start + self.BLOCK] if i not in self._rows]
        self.fetches += 1
        try:
            fetched = self._fetch_rows(wanted)
        except (DataError, SQLAlchemyError) as exc:
            # remember the failure for these ids until the next reset, so painting does not
            # retry the database for every cell; "Reload" (F5) tries again
            log.error("loading %s failed: %s", self.WHAT, exc)
            for record_id in wanted:
                self._rows[record_id] = None
            if self.error_handler is not None:
                self.error_handler(describe_error(exc))
            return
        for record_id in wanted:
            self._rows[record_id] = fetched.get(record_id)

    # --- QAbstractItemModel ----------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._FIELDS)

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid() or index.row() >= len(self._ids):
            return None
        if role == CONTACT_ID_ROLE:
            return self._ids[index.row()]
        if role not in (_DISPLAY, _TOOLTIP):
            return None
        row = self.row_data(index.row())
        if row is None:
            return "…" if index.column() == 0 and role == _DISPLAY else None
        return self.cell(row, index.column())

    def cell(self, row: Any, column: int) -> Any:
        return getattr(row, self._FIELDS[column])


class ContactTableModel(_LazyTable):
    """Contacts by id (Anki's browser ``DataModel``): the list of 1,000,000 opens at once."""

    NAME, ORGANIZATION, PHONE, EMAIL, CITY = range(5)
    _FIELDS = ("name", "organization", "phone", "email", "city")
    WHAT = "contact rows"

    def contact_id(self, row: int) -> int | None:
        return self.record_id(row)

    def cell(self, row: ContactRow, column: int) -> Any:
        value = getattr(row, self._FIELDS[column])
        if column == self.NAME and not value:
            # "Dirty CRM": a contact may be only a number or an address
            value = row.organization or row.phone or row.email
        return value

    def titles(self) -> tuple[str, ...]:
        return (
            self.tr("Name"),
            self.tr("Organization"),
            self.tr("Phone"),
            self.tr("E-mail"),
            self.tr("City"),
        )


class OrganizationTableModel(_LazyTable):
    NAME, CUSTOMER_NUMBER, PHONE, CITY = range(4)
    _FIELDS = ("name", "customer_number", "phone", "city")
    WHAT = "organization rows"

    def titles(self) -> tuple[str, ...]:
        return (self.tr("Name"), self.tr("Customer no."), self.tr("Phone"), self.tr("City"))


class CallTableModel(_LazyTable):
    """The latest calls, newest first."""

    TIME, WHO, NUMBER, OUTCOME = range(4)
    _FIELDS = ("occurred_at", "who", "remote", "outcome")
    WHAT = "call rows"

    def cell(self, row: CallRow, column: int) -> Any:
        if column == self.TIME:
            return labels.local_time(row.occurred_at)
        if column == self.OUTCOME:
            parts = [
                labels.direction(row.direction) if row.direction != Direction.NONE else "",
                labels.outcome(row.outcome, row.direction),
                labels.duration(row.duration_seconds),
            ]
            return " · ".join(p for p in parts if p)
        if column == self.WHO:
            return row.who or self.tr("(unknown caller)")
        return row.remote

    def titles(self) -> tuple[str, ...]:
        return (self.tr("Time"), self.tr("Caller"), self.tr("Number"), self.tr("Outcome"))


class HistoryModel(_ReadOnlyTable):
    """One contact's history, newest first (a page of entries, held completely)."""

    KIND, TIME, DIRECTION, SUBJECT = range(4)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._entries: list[HistoryEntry] = []

    def set_entries(self, entries: Sequence[HistoryEntry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def entry(self, row: int) -> HistoryEntry | None:
        return self._entries[row] if 0 <= row < len(self._entries) else None

    @staticmethod
    def direction_text(entry: HistoryEntry) -> str:
        parts = [
            labels.direction(entry.direction) if entry.direction != Direction.NONE else "",
            labels.outcome(entry.outcome, entry.direction),
            labels.duration(entry.duration_seconds),
        ]
        return " · ".join(p for p in parts if p)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 4

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid() or index.row() >= len(self._entries):
            return None
        entry = self._entries[index.row()]
        if role == HISTORY_ENTRY_ROLE:
            return entry.id
        column = index.column()
        if role == _DISPLAY:
            if column == self.KIND:
                return labels.interaction_kind(entry.kind)
            if column == self.TIME:
                return labels.local_time(entry.occurred_at)
            if column == self.DIRECTION:
                return self.direction_text(entry)
            if column == self.SUBJECT:
                # notes have no subject: their first line stands in; calls show the number
                first_line = entry.body.strip().split("\n", 1)[0]
                return entry.subject or first_line or entry.remote
        if role == _TOOLTIP and column == self.SUBJECT and entry.body:
            return entry.body[:500]
        return None

    def titles(self) -> tuple[str, ...]:
        return (
            self.tr("Type"),
            self.tr("Time"),
            self.tr("Direction / outcome"),
            self.tr("Subject"),
        )
