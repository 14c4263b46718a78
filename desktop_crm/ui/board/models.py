"""Qt models of the ticket board: figures per queue and agent, and a lazy ticket list.

Nothing here touches the database. :class:`TicketListModel` holds the ordered ids of a list
and asks for missing display rows through a callback (the widget runs it on a worker thread via
:class:`~desktop_crm.ui.tasks.TaskRunner`); until they arrive a row shows "…". A refresh that
brings the same ids only replaces rows (``dataChanged``), so views keep selection and scroll
position; a refresh with other ids resets the model and the widget restores both by ticket id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from desktop_crm.data.models import TicketPriority, TicketStatus
from desktop_crm.tickets.board import AgentFigures, QueueFigures, TicketRow, sla_state

from ..labels import local_time

AnyIndex = QModelIndex | QPersistentModelIndex

TICKET_ID_ROLE = Qt.ItemDataRole.UserRole + 11
FIGURE_ROLE = Qt.ItemDataRole.UserRole + 12  # (figure name, queue id or agent id)
SLA_STATE_ROLE = Qt.ItemDataRole.UserRole + 13
TICKET_MIME = "application/x-desktop-crm-tickets"

_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_BACKGROUND = Qt.ItemDataRole.BackgroundRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole

_CONTEXT = "TicketLabels"
_STATUS = {
    TicketStatus.NEW: QT_TRANSLATE_NOOP("TicketLabels", "new"),
    TicketStatus.OPEN: QT_TRANSLATE_NOOP("TicketLabels", "open"),
    TicketStatus.WAITING_CUSTOMER: QT_TRANSLATE_NOOP("TicketLabels", "waiting for customer"),
    TicketStatus.WAITING_THIRD_PARTY: QT_TRANSLATE_NOOP("TicketLabels", "waiting for third party"),
    TicketStatus.RESOLVED: QT_TRANSLATE_NOOP("TicketLabels", "resolved"),
    TicketStatus.CLOSED: QT_TRANSLATE_NOOP("TicketLabels", "closed"),
}
_PRIORITY = {
    TicketPriority.LOW: QT_TRANSLATE_NOOP("TicketLabels", "low"),
    TicketPriority.NORMAL: QT_TRANSLATE_NOOP("TicketLabels", "normal"),
    TicketPriority.HIGH: QT_TRANSLATE_NOOP("TicketLabels", "high"),
    TicketPriority.URGENT: QT_TRANSLATE_NOOP("TicketLabels", "urgent"),
}
_SLA = {
    "breached": QT_TRANSLATE_NOOP("TicketLabels", "breached"),
    "at_risk": QT_TRANSLATE_NOOP("TicketLabels", "at risk"),
    "paused": QT_TRANSLATE_NOOP("TicketLabels", "paused"),
    "ok": QT_TRANSLATE_NOOP("TicketLabels", "in time"),
    "met": QT_TRANSLATE_NOOP("TicketLabels", "done"),
    "none": QT_TRANSLATE_NOOP("TicketLabels", "no SLA"),
}
# SLA colouring shared by the board and "My tickets": a light background, readable text
SLA_COLOURS = {
    "breached": QColor("#f4c7c3"),
    "at_risk": QColor("#fce8b2"),
}
PAUSED_TEXT = QColor("#6b6b6b")


def _tr(text: object) -> str:
    return QCoreApplication.translate(_CONTEXT, str(text))


def status_label(status: TicketStatus) -> str:
    return _tr(_STATUS.get(status, status.value))


def priority_label(priority: TicketPriority) -> str:
    return _tr(_PRIORITY.get(priority, priority.value))


def sla_label(state: str) -> str:
    return _tr(_SLA.get(state, state))


def _sla_brush(state: str) -> QBrush | None:
    colour = SLA_COLOURS.get(state)
    return QBrush(colour) if colour is not None else None


class _Table(QAbstractTableModel):
    """Read-only rows with translated titles."""

    def titles(self) -> tuple[str, ...]:
        return ()

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.titles())

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if role != _DISPLAY or orientation != Qt.Orientation.Horizontal:
            return None
        titles = self.titles()
        return titles[section] if 0 <= section < len(titles) else None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


class _FigureTable(_Table):
    """A few rows of figures, replaced as a whole on every refresh."""

    _rows: list[Any]

    def _replace_rows(self, new: list[Any], key: Callable[[Any], object]) -> None:
        """Store ``new`` as ``self._rows``: the same keys in the same order change in place
        (selection and scroll stay), anything else resets the model."""
        if [key(r) for r in new] == [key(r) for r in self._rows]:
            self._rows = new
            if new:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(new) - 1, self.columnCount() - 1)
                )
            return
        self.beginResetModel()
        self._rows = new
        self.endResetModel()


class QueueFiguresModel(_FigureTable):
    """One row per queue; every count is a cell one can click to see its tickets."""

    FIGURES = ("new", "open", "waiting", "unassigned", "at_risk", "breached", "oldest_waiting")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[QueueFigures] = []
        self.now: datetime | None = None

    def titles(self) -> tuple[str, ...]:
        return (
            self.tr("Queue"),
            self.tr("New"),
            self.tr("Open"),
            self.tr("Waiting"),
            self.tr("Unassigned"),
            self.tr("At risk"),
            self.tr("Breached"),
            self.tr("Oldest waiting"),
        )

    @property
    def rows(self) -> list[QueueFigures]:
        return list(self._rows)

    def set_rows(self, rows: Sequence[QueueFigures], now: datetime | None = None) -> None:
        """Same queues: values change in place (selection stays); other queues: reset."""
        self.now = now
        self._replace_rows(list(rows), lambda r: r.queue_id)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def figure_at(self, index: AnyIndex) -> tuple[str, int | None] | None:
        if not index.isValid() or index.row() >= len(self._rows) or index.column() == 0:
            return None
        return self.FIGURES[index.column() - 1], self._rows[index.row()].queue_id

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == FIGURE_ROLE:
            return self.figure_at(index)
        if column == 0:
            if role == _DISPLAY:
                return row.name or self.tr("(no queue)")
            return None
        figure = self.FIGURES[column - 1]
        value = row.figure(figure)
        if role == _DISPLAY:
            if figure == "oldest_waiting":
                return local_time(value) if value else "–"
            return value
        if role == _ALIGN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == _BACKGROUND and value:
            if figure == "breached":
                return _sla_brush("breached")
            if figure == "at_risk":
                return _sla_brush("at_risk")
        if role == _TOOLTIP:
            return self.tr("Click to list these tickets")
        return None


class AgentFiguresModel(_FigureTable):
    """One row per agent; tickets dropped on a row are reassigned to that agent."""

    FIGURES = ("assigned", "in_progress", "resolved_today")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[AgentFigures] = []
        # called with (agent id, [(ticket id, version), ...]) when tickets are dropped on a row
        self.on_drop: Callable[[int, list[tuple[int, int]]], None] | None = None

    def titles(self) -> tuple[str, ...]:
        return (
            self.tr("Agent"),
            self.tr("Present"),
            self.tr("Assigned"),
            self.tr("In progress"),
            self.tr("Resolved today"),
        )

    @property
    def rows(self) -> list[AgentFigures]:
        return list(self._rows)

    def set_rows(self, rows: Sequence[AgentFigures]) -> None:
        self._replace_rows(list(rows), lambda r: r.user_id)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def agent_id(self, row: int) -> int | None:
        return self._rows[row].user_id if 0 <= row < len(self._rows) else None

    def figure_at(self, index: AnyIndex) -> tuple[str, int] | None:
        if not index.isValid() or index.row() >= len(self._rows) or index.column() < 2:
            return None
        return self.FIGURES[index.column() - 2], self._rows[index.row()].user_id

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == FIGURE_ROLE:
            return self.figure_at(index)
        if role == _DISPLAY:
            if column == 0:
                return row.name
            if column == 1:
                return self.tr("yes") if row.present else self.tr("no")
            return row.figure(self.FIGURES[column - 2])
        if role == _FOREGROUND and not row.present:
            return QBrush(PAUSED_TEXT)
        if role == _ALIGN and column >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == _TOOLTIP:
            return self.tr("Drop tickets here to assign them to {name}").format(name=row.name)
        return None

    # --- drop target for reassignment ------------------------------------------------------

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDropEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return [TICKET_MIME]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def canDropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: AnyIndex,
    ) -> bool:
        return data.hasFormat(TICKET_MIME) and parent.isValid()

    def dropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: AnyIndex,
    ) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        agent = self.agent_id(parent.row())
        tickets = decode_tickets(data)
        if agent is None or not tickets:
            return False
        if self.on_drop is not None:
            self.on_drop(agent, tickets)
        return False  # nothing to remove from the source: the board refreshes itself


def encode_tickets(tickets: Iterable[tuple[int, int]]) -> QMimeData:
    mime = QMimeData()
    mime.setData(TICKET_MIME, json.dumps([list(t) for t in tickets]).encode())
    return mime


def decode_tickets(mime: QMimeData) -> list[tuple[int, int]]:
    try:
        raw = json.loads(bytes(mime.data(TICKET_MIME).data()).decode() or "[]")
        return [(int(a), int(b)) for a, b in raw]
    except (ValueError, TypeError):
        return []


class TicketListModel(_Table):
    """Tickets by id with SLA colouring; rows arrive through ``request_rows`` (asynchronous)."""

    NUMBER, SUBJECT, CUSTOMER, QUEUE, PRIORITY, STATUS, SLA, DUE, ASSIGNEE = range(9)
    BLOCK = 200

    def __init__(
        self,
        request_rows: Callable[[list[int]], None] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.request_rows = request_rows
        self._ids: list[int] = []
        self._rows: dict[int, TicketRow] = {}
        self._pending: set[int] = set()
        self.now: datetime = datetime.now().astimezone()

    def titles(self) -> tuple[str, ...]:
        return (
            self.tr("Number"),
            self.tr("Subject"),
            self.tr("Customer"),
            self.tr("Queue"),
            self.tr("Priority"),
            self.tr("Status"),
            self.tr("SLA"),
            self.tr("Due"),
            self.tr("Assignee"),
        )

    # --- content ---------------------------------------------------------------------------

    @property
    def ids(self) -> list[int]:
        return list(self._ids)

    def cached_ids(self) -> list[int]:
        return [i for i in self._ids if i in self._rows]

    def set_ids(
        self,
        ids: Sequence[int],
        rows: Mapping[int, TicketRow] | None = None,
        now: datetime | None = None,
    ) -> bool:
        """New content. Returns True when the model was reset (the ids changed)."""
        ids = list(ids)
        if now is not None:
            self.now = now
        if ids == self._ids:
            self.add_rows(rows or {})
            return False
        self.beginResetModel()
        self._ids = ids
        self._rows = {i: r for i, r in (rows or {}).items() if i in set(ids)}
        self._pending.clear()
        self.endResetModel()
        return True

    def add_rows(self, rows: Mapping[int, TicketRow]) -> None:
        """Rows fetched for some ids: shown where they are, nothing else moves."""
        positions: list[int] = []
        index_of = {tid: n for n, tid in enumerate(self._ids)}
        for tid, row in rows.items():
            self._pending.discard(tid)
            if tid in index_of:
                self._rows[tid] = row
                positions.append(index_of[tid])
        if positions:
            self.dataChanged.emit(
                self.index(min(positions), 0), self.index(max(positions), self.columnCount() - 1)
            )

    def forget_missing(self, ids: Iterable[int]) -> None:
        """Ids asked for but not found (deleted meanwhile): stop asking."""
        self._pending.difference_update(ids)

    def ticket_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, ticket_id: int) -> int | None:
        try:
            return self._ids.index(ticket_id)
        except ValueError:
            return None

    def ticket(self, row: int) -> TicketRow | None:
        tid = self.ticket_id(row)
        return self._rows.get(tid) if tid is not None else None

    def _row(self, row: int) -> TicketRow | None:
        tid = self._ids[row]
        found = self._rows.get(tid)
        if found is None and tid not in self._pending and self.request_rows is not None:
            start = max(0, row - self.BLOCK // 4)
            wanted = [
                i
                for i in self._ids[start : start + self.BLOCK]
                if i not in self._rows and i not in self._pending
            ]
            self._pending.update(wanted)
            self.request_rows(wanted)
        return found

    def state(self, row: TicketRow) -> str:
        return sla_state(row.status, row.sla_due, row.sla_warn_at, row.sla_paused, self.now)

    # --- QAbstractItemModel ----------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid() or index.row() >= len(self._ids):
            return None
        if role == TICKET_ID_ROLE:
            return self._ids[index.row()]
        if role not in (_DISPLAY, _TOOLTIP, _BACKGROUND, _FOREGROUND, SLA_STATE_ROLE):
            return None
        row = self._row(index.row())
        if row is None:
            return "…" if role == _DISPLAY and index.column() == self.SUBJECT else None
        state = self.state(row)
        if role == SLA_STATE_ROLE:
            return state
        if role == _BACKGROUND:
            return _sla_brush(state)
        if role == _FOREGROUND:
            return QBrush(PAUSED_TEXT) if state == "paused" else None
        column = index.column()
        if role == _TOOLTIP:
            if column == self.SUBJECT:
                return row.subject
            return sla_label(state) if column in (self.SLA, self.DUE) else None
        values = {
            self.NUMBER: row.number,
            self.SUBJECT: row.subject,
            self.CUSTOMER: row.customer,
            self.QUEUE: row.queue,
            self.PRIORITY: priority_label(row.priority),
            self.STATUS: status_label(row.status),
            self.SLA: sla_label(state),
            self.DUE: local_time(row.sla_due) if row.sla_due else "",
            self.ASSIGNEE: row.assignee,
        }
        return values.get(column)

    # --- drag source -----------------------------------------------------------------------

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return [TICKET_MIME]

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        picked: dict[int, int] = {}
        for index in indexes:
            row = self.ticket(index.row()) if index.isValid() else None
            if row is not None:
                picked[row.id] = row.version
        return encode_tickets(picked.items())
