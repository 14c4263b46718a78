"""Qt item models over plain values from :mod:`desktop_crm.ui.reader`.

:class:`ContactTableModel` follows Anki's browser ``DataModel``: the model knows the order of the
whole result (its ids, or for the whole contact list only anchors every ``BLOCK`` rows) and
fetches display rows a block at a time, one query (one session) per block, and caches them.
``data()`` never runs a query per cell and never sees an ORM object, so a list of 1,000,000
contacts opens as fast as one of 100, in the same memory.
"""

from __future__ import annotations

import logging
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from sqlalchemy.exc import SQLAlchemyError

from desktop_crm.data.errors import DataError
from desktop_crm.data.models import Direction
from desktop_crm.data.queries import LIST_BLOCK, CallRow, ContactRow, ListAnchors

from . import labels
from .errors import describe_error
from .reader import HistoryEntry

if TYPE_CHECKING:
    from .tasks import TaskRunner

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
    """Records in a fixed order; rows are fetched lazily in blocks and cached.

    The order is held in one of two ways. A list *by id* (search results, organizations, calls,
    the first screen of the contact list) keeps every id, 8 bytes a row. A list *by anchors*
    (the whole contact list) keeps only the row count and, every ``BLOCK`` rows, where that
    block starts (:class:`~desktop_crm.data.queries.ListAnchors`): block ``k`` is read from its
    anchor with one keyset query, so memory no longer grows with the row count.

    Block ``k`` is always rows ``k * BLOCK`` to ``(k + 1) * BLOCK - 1``. A block the view needs
    and nobody has read is read at once (one query, ~2 ms); with a ``runner`` the blocks before
    and after the one shown are read ahead in a worker (own session), so scrolling page by page
    finds them in the cache and the GUI thread only paints.
    """

    _FIELDS: tuple[str, ...] = ()
    BLOCK = LIST_BLOCK  # rows fetched at once: a few screens
    CACHE_LIMIT = 5000  # rows kept; beyond that the least recently used block is dropped
    MAX_AHEAD = 4  # blocks being read ahead at once
    WHAT = "rows"  # for the log

    def __init__(
        self,
        fetch_rows: Callable[[Sequence[int]], Mapping[int, Any]],
        parent: Any = None,
        *,
        fetch_range: Callable[[str, int, int], Sequence[Any]] | None = None,
        locate: Callable[[int, ListAnchors], int | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._fetch_rows = fetch_rows
        # lists by anchors: rows from an anchor on, and the row of a record
        self._fetch_range = fetch_range
        self._locate = locate
        # 8 bytes a row: a million ids take 8 MB (a list of ints would take 36 MB)
        self._ids: array[int] = array("q")
        self._anchors: ListAnchors | None = None
        self._count = 0
        # block number -> its rows (None: deleted or not loadable), least recently used first
        self._blocks: OrderedDict[int, list[Any]] = OrderedDict()
        self._generation = 0  # changes whenever cached rows may be stale
        self._ahead: set[int] = set()  # blocks being read ahead
        self._ahead_wanted: set[int] = set()  # blocks shown whose neighbours should be
        self._ahead_timer = QTimer(self)
        self._ahead_timer.setSingleShot(True)
        self._ahead_timer.setInterval(0)
        self._ahead_timer.timeout.connect(self._start_reading_ahead)
        # by anchors: blocks whose records are known and are read by id (after forget)
        self._pinned: dict[int, list[int | None]] = {}
        self._last_block = -1
        self.runner: TaskRunner | None = None  # read ahead in workers when set
        self.error_handler: Callable[[str], None] | None = None
        self.fetches = 0  # blocks read on the GUI thread, for tests and benchmarks
        self.read_ahead = 0  # blocks read ahead in a worker

    # --- content ---------------------------------------------------------------------------

    @property
    def by_anchors(self) -> bool:
        """True while the list is held as anchors (the whole contact list), not as ids."""
        return self._anchors is not None

    @property
    def anchors(self) -> ListAnchors | None:
        return self._anchors

    @property
    def ids(self) -> list[int]:
        """Every id of a list held by id. A list held by anchors has none to give: ask
        :meth:`record_id` / :meth:`row_of` instead."""
        if self._anchors is not None:
            raise TypeError("a list held by anchors does not keep its ids")
        return list(self._ids)

    def set_ids(self, ids: Sequence[int]) -> None:
        self.beginResetModel()
        self._ids = array("q", ids)
        self._anchors = None
        self._count = len(self._ids)
        self._drop_cache()
        self.endResetModel()

    def set_anchors(self, anchors: ListAnchors) -> None:
        """Show a whole list held by anchors (a reset)."""
        self._require_range(anchors)
        self.beginResetModel()
        self._ids = array("q")
        self._anchors = anchors
        self._count = anchors.count
        self._drop_cache()
        self.endResetModel()

    def extend_ids(self, more: Sequence[int]) -> None:
        """Append ids (the rest of a list whose first screen is shown): no reset, so the
        selection and the scroll position stay."""
        if not more:
            return
        if self._anchors is not None:
            raise TypeError("a list held by anchors cannot be extended by ids")
        first = self._count
        self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
        self._ids.extend(more)
        self._count = len(self._ids)
        self._drop_partial_block(first)
        self.endInsertRows()

    def extend_with_anchors(self, anchors: ListAnchors) -> bool:
        """The rest of a list whose first screen is shown by id, now held by anchors: rows
        are appended (no reset: selection and scroll position stay) when the ids shown are
        still the start of the list (``anchors.head``); otherwise the list is reset to what
        is there now. True when appended."""
        self._require_range(anchors)
        shown = list(self._ids)
        if self._anchors is not None or shown != list(anchors.head[: len(shown)]):
            self.set_anchors(anchors)
            return False
        if anchors.count < len(shown):
            self.set_anchors(anchors)
            return False
        first = len(shown)
        if anchors.count > first:
            self.beginInsertRows(QModelIndex(), first, anchors.count - 1)
        self._ids = array("q")
        self._anchors = anchors
        self._count = anchors.count
        self._drop_partial_block(first)
        if anchors.count > first:
            self.endInsertRows()
        return True

    def replace_ids(self, ids: Sequence[int]) -> None:
        """A new id list (records added or deleted elsewhere) without a reset: the selection
        and the current row follow their records (a layout change), the scroll position stays.
        A deleted record's indexes become invalid."""
        new_ids = array("q", ids)
        if self._anchors is None and new_ids == self._ids:
            return
        rows: dict[int, int | None] = {}

        def new_row(record_id: int) -> int | None:
            if record_id not in rows:
                try:
                    rows[record_id] = new_ids.index(record_id)
                except ValueError:
                    rows[record_id] = None
            return rows[record_id]

        def swap() -> None:
            self._ids = new_ids
            self._anchors = None
            self._count = len(new_ids)

        self._relayout(swap, new_row)

    def replace_anchors(self, anchors: ListAnchors) -> None:
        """:meth:`replace_ids` for a list held by anchors (the whole contact list after
        records were added, deleted or renamed elsewhere): selection and current row follow
        their records, each found with one or two indexed reads."""
        self._require_range(anchors)
        if self._anchors is not None and self._anchors.same_as(anchors):
            return
        locate = self._locate
        assert locate is not None
        rows: dict[int, int | None] = {}

        def new_row(record_id: int) -> int | None:
            if record_id not in rows:
                try:
                    rows[record_id] = locate(record_id, anchors)
                except (DataError, SQLAlchemyError) as exc:
                    log.warning("finding a row in the new %s failed: %s", self.WHAT, exc)
                    rows[record_id] = None
            return rows[record_id]

        def swap() -> None:
            self._ids = array("q")
            self._anchors = anchors
            self._count = anchors.count

        self._relayout(swap, new_row)

    def _relayout(self, swap: Callable[[], None], new_row: Callable[[int], int | None]) -> None:
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_ids = [self.record_id(index.row()) for index in old]
        swap()
        self._drop_cache()
        moved = []
        for index, record_id in zip(old, old_ids, strict=True):
            row = None if record_id is None else new_row(record_id)
            if row is None or row >= self._count:
                moved.append(QModelIndex())
            else:
                moved.append(self.createIndex(row, index.column()))
        self.changePersistentIndexList(old, moved)
        self.layoutChanged.emit()

    def forget(self, record_ids: Iterable[int]) -> bool:
        """Records changed elsewhere: drop the cached blocks holding them; shown ones are
        read again."""
        wanted = set(record_ids)
        if self._anchors is None:
            stale = [n for n in self._blocks if not wanted.isdisjoint(self._block_ids(n))]
        else:
            stale = []
            for number, rows in self._blocks.items():
                ids = [None if row is None else row.id for row in rows]
                if not wanted.isdisjoint(ids):
                    # read again by id, not from the anchor: until the new anchors are
                    # swapped in (replace_anchors), every row keeps its record
                    self._pinned[number] = ids
                    stale.append(number)
        if not stale:
            return False
        for number in stale:
            del self._blocks[number]
        self._generation += 1  # what is being read ahead may predate the change
        self._ahead.clear()
        self.dataChanged.emit(
            self.index(0, 0), self.index(self._count - 1, max(0, len(self._FIELDS) - 1))
        )
        return True

    def record_id(self, row: int) -> int | None:
        if not 0 <= row < self._count:
            return None
        if self._anchors is None:
            return self._ids[row]
        found = self.row_data(row)
        return None if found is None else found.id

    def row_of(self, record_id: int) -> int | None:
        if self._anchors is None:
            try:
                return self._ids.index(record_id)  # a C loop: ~1 ms per million ids
            except ValueError:
                return None
        for number, rows in self._blocks.items():
            for offset, row in enumerate(rows):
                if row is not None and row.id == record_id:
                    return number * self.BLOCK + offset
        assert self._locate is not None
        try:
            return self._locate(record_id, self._anchors)
        except (DataError, SQLAlchemyError) as exc:
            log.warning("finding a row in the %s failed: %s", self.WHAT, exc)
            return None

    def row_data(self, row: int) -> Any:
        if not 0 <= row < self._count:
            return None
        number, offset = divmod(row, self.BLOCK)
        rows = self._block(number)
        return rows[offset] if offset < len(rows) else None

    # --- blocks ----------------------------------------------------------------------------

    def _require_range(self, anchors: ListAnchors) -> None:
        if self._fetch_range is None or self._locate is None:
            raise TypeError(f"{type(self).__name__} was made without fetch_range/locate")
        if anchors.every != self.BLOCK:
            raise ValueError(f"anchors every {anchors.every} rows for blocks of {self.BLOCK}")

    def _drop_cache(self) -> None:
        self._blocks.clear()
        self._pinned.clear()
        self._ahead_wanted.clear()
        self._generation += 1
        self._ahead.clear()
        self._last_block = -1

    def _drop_partial_block(self, old_count: int) -> None:
        """Rows were appended after ``old_count``: a cached block that ended early is stale."""
        if old_count % self.BLOCK:
            self._blocks.pop(old_count // self.BLOCK, None)
        self._generation += 1
        self._ahead.clear()

    def _block_ids(self, number: int) -> array[int]:
        return self._ids[number * self.BLOCK : (number + 1) * self.BLOCK]

    def _block(self, number: int) -> list[Any]:
        rows = self._blocks.get(number)
        if rows is None:
            rows = self._fetch_now(number)
        elif number != self._last_block:
            self._blocks.move_to_end(number)
        if number != self._last_block:
            self._last_block = number
            if self.runner is not None:
                # read ahead once this paint is over: a worker started now would compete
                # with the paint for the interpreter (the GIL) while the user waits
                self._ahead_wanted.add(number)
                self._ahead_timer.start()
        return rows

    def _reader(self, number: int) -> Callable[[], list[Any]]:
        """How to read block ``number``, as a function of plain values only, so it can run in
        a worker while the model changes (its answer is then dropped by generation)."""
        size = min(self.BLOCK, self._count - number * self.BLOCK)
        pinned = self._pinned.get(number)
        if pinned is not None:
            fetch_pinned = self._fetch_rows

            def by_pinned_id() -> list[Any]:
                fetched = fetch_pinned([i for i in pinned if i is not None])
                return [None if i is None else fetched.get(i) for i in pinned]

            return by_pinned_id
        if self._anchors is not None:
            key, first_id = self._anchors.anchor(number)
            fetch_range = self._fetch_range
            assert fetch_range is not None
            block = self.BLOCK

            def by_anchor() -> list[Any]:
                rows: list[Any] = list(fetch_range(key, first_id, block))[:size]
                return rows + [None] * (size - len(rows))  # deleted meanwhile: "…"

            return by_anchor
        ids = list(self._block_ids(number))
        fetch_rows = self._fetch_rows

        def by_id() -> list[Any]:
            fetched = fetch_rows(ids)
            return [fetched.get(i) for i in ids]

        return by_id

    def _fetch_now(self, number: int) -> list[Any]:
        self.fetches += 1
        size = min(self.BLOCK, self._count - number * self.BLOCK)
        try:
            rows = self._reader(number)()
        except (DataError, SQLAlchemyError) as exc:
            # remember the failure for these rows until the next reset, so painting does not
            # retry the database for every cell; "Reload" (F5) tries again
            log.error("loading %s failed: %s", self.WHAT, exc)
            rows = [None] * size
            if self.error_handler is not None:
                self.error_handler(describe_error(exc))
        self._store(number, rows)
        return rows

    def _store(self, number: int, rows: list[Any]) -> None:
        self._blocks[number] = rows
        self._blocks.move_to_end(number)
        if len(self._blocks) * self.BLOCK <= self.CACHE_LIMIT:
            return
        # the least recently used blocks go, but not those holding the selection or the
        # current row: which record they are must be known when new anchors arrive
        kept = {index.row() // self.BLOCK for index in self.persistentIndexList()}
        for old in list(self._blocks):
            if len(self._blocks) * self.BLOCK <= self.CACHE_LIMIT:
                break
            if old != number and old not in kept:
                del self._blocks[old]

    def _start_reading_ahead(self) -> None:
        wanted, self._ahead_wanted = self._ahead_wanted, set()
        for number in sorted(wanted):
            self._read_ahead(number)

    def _read_ahead(self, number: int) -> None:
        runner = self.runner
        if runner is None:
            return
        last = (self._count - 1) // self.BLOCK
        for neighbour in (number + 1, number - 1):
            if not 0 <= neighbour <= last:
                continue
            if neighbour in self._blocks or neighbour in self._ahead:
                continue
            if len(self._ahead) >= self.MAX_AHEAD:
                return  # dragging the scroll bar through many blocks: no pile of workers
            read = self._reader(neighbour)
            generation = self._generation
            try:
                runner.run(
                    partial(_in_worker, read),
                    on_done=partial(self._arrived, generation, neighbour),
                    on_error=partial(self._ahead_failed, generation, neighbour),
                    name="rows-ahead",
                )
            except RuntimeError:  # the runner is shut down: the window is closing
                return
            self._ahead.add(neighbour)

    def _arrived(self, generation: int, number: int, rows: list[Any]) -> None:
        if generation != self._generation:
            return  # the list changed meanwhile
        self._ahead.discard(number)
        self.read_ahead += 1
        if number not in self._blocks:
            # never shown (a shown block is read at once), so no view needs to repaint
            self._store(number, rows)

    def _ahead_failed(self, generation: int, number: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._ahead.discard(number)
        # the view reads the block itself when it gets there and reports a failure then
        log.warning("reading %s ahead failed: %s", self.WHAT, exc)

    # --- QAbstractItemModel ----------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._FIELDS)

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        # the delegate asks seven roles per cell while painting and six are not ours: the
        # role is compared first, before any call into Qt (a page is ~1,000 calls)
        if role != _DISPLAY and role != _TOOLTIP and role != CONTACT_ID_ROLE:
            return None
        if not index.isValid():
            return None
        row_number = index.row()
        if row_number >= self._count:
            return None
        if role == CONTACT_ID_ROLE:
            return self.record_id(row_number)
        row = self.row_data(row_number)
        if row is None:
            return "…" if index.column() == 0 and role == _DISPLAY else None
        return self.cell(row, index.column())

    def cell(self, row: Any, column: int) -> Any:
        return getattr(row, self._FIELDS[column])


def _in_worker(read: Callable[[], list[Any]], _context: Any) -> list[Any]:
    return read()


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
