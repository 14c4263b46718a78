"""The supervisor's ticket board and the agent's "My tickets", live by a short poll.

Every database call runs on a worker thread through :class:`~desktop_crm.ui.tasks.TaskRunner`
with its own session and returns plain values; the GUI thread only applies them. A poll
(``QTimer``, a few seconds) refreshes figures and the open list; a refresh that finds the same
tickets changes cells in place, one that finds others resets the list and puts the selection
and the scroll position back by ticket id. The poll also runs the escalation (idempotent across
clients, see :mod:`desktop_crm.tickets.escalation`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_crm.data.db import Database
from desktop_crm.data.errors import ConflictError, DataError
from desktop_crm.data.models import AgentPresence, TicketPriority, utcnow
from desktop_crm.tickets import board as ticket_board
from desktop_crm.tickets.assignment import set_presence
from desktop_crm.tickets.board import ALL_OPEN, Board, BoardFilter, TicketRow
from desktop_crm.tickets.escalation import notifications, run_escalation
from desktop_crm.tickets.service import TicketChanges, update_ticket

from ..errors import describe_error
from ..tasks import TaskContext, TaskRunner
from .dialog import TicketDialog
from .models import (
    AgentFiguresModel,
    QueueFiguresModel,
    TicketListModel,
    priority_label,
)
from .queue_dialog import QueueDialog

log = logging.getLogger(__name__)

POLL_MS = 5000
ROWS_PER_REFRESH = 400  # rows re-read on a refresh: what the list has shown so far, at most


@dataclass(frozen=True)
class ListQuery:
    """Which tickets the list shows: a figure of a queue or an agent."""

    figure: str = ALL_OPEN
    queue_id: int | None = None
    agent_id: int | None = None


@dataclass(frozen=True)
class Snapshot:
    """What one refresh read, as plain values."""

    at: datetime
    board: Board | None
    ids: list[int]
    rows: Mapping[int, TicketRow]
    new_escalations: int
    unread_escalations: list[str]
    present: bool | None = None  # the current user's presence (My tickets)


class TicketListView(QTableView):
    """Tickets, many selectable, draggable onto an agent."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setAlternatingRowColors(False)  # the SLA colours are the row backgrounds
        self.verticalHeader().setVisible(False)
        # fixed sizes: never resize to contents on a big list
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setStretchLastSection(True)
        self.setWordWrap(False)

    def setModel(self, model: Any) -> None:
        super().setModel(model)
        for column, width in enumerate((85, 240, 180, 110, 70, 150, 75, 120)):
            self.setColumnWidth(column, width)


class TicketListPane(QWidget):
    """A ticket list that fetches its rows off the GUI thread and survives refreshes."""

    activated = Signal(int)  # a ticket id, on double click

    def __init__(self, db: Database, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.runner = runner
        self.model = TicketListModel(self._request_rows, self)
        self.view = TicketListView(self)
        self.view.setModel(self.model)
        self.view.doubleClicked.connect(self._double_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

    # --- rows off the GUI thread -----------------------------------------------------------

    def _request_rows(self, ids: list[int]) -> None:
        if not ids:
            return
        db = self.db

        def work(_context: TaskContext) -> tuple[list[int], Mapping[int, TicketRow]]:
            with db.session() as session:
                return ids, ticket_board.ticket_rows(session, ids)

        def done(result: tuple[list[int], Mapping[int, TicketRow]]) -> None:
            asked, rows = result
            self.model.add_rows(rows)
            self.model.forget_missing(set(asked) - set(rows))

        def failed(exc: BaseException) -> None:
            log.warning("loading ticket rows failed: %s", exc)
            self.model.forget_missing(ids)

        with contextlib.suppress(RuntimeError):  # the runner is shut down: the window closes
            self.runner.run(work, on_done=done, on_error=failed, name="ticket-rows")

    # --- content that keeps selection and scroll position ----------------------------------

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [tid for r in rows if (tid := self.model.ticket_id(r)) is not None]

    def selected_tickets(self) -> list[tuple[int, int]]:
        """(id, version) of the selected tickets whose rows are loaded."""
        out = []
        for row in sorted({i.row() for i in self.view.selectionModel().selectedRows()}):
            ticket = self.model.ticket(row)
            if ticket is not None:
                out.append((ticket.id, ticket.version))
        return out

    def show_ids(self, ids: Sequence[int], rows: Mapping[int, TicketRow], now: datetime) -> None:
        selected = self.selected_ids()
        current = self.model.ticket_id(self.view.currentIndex().row())
        scroll = self.view.verticalScrollBar().value()
        if not self.model.set_ids(ids, rows, now):
            # same tickets: cells changed in place; the view kept everything itself
            self.view.viewport().update()
            return
        selection = QItemSelection()
        for tid in selected:
            row = self.model.row_of(tid)
            if row is not None:
                selection.select(
                    self.model.index(row, 0), self.model.index(row, self.model.columnCount() - 1)
                )
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.view.selectionModel().select(selection, flags)
        if current is not None and (row := self.model.row_of(current)) is not None:
            self.view.selectionModel().setCurrentIndex(
                self.model.index(row, 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )
        self.view.verticalScrollBar().setValue(scroll)

    def _double_clicked(self, index: QModelIndex) -> None:
        tid = self.model.ticket_id(index.row())
        if tid is not None:
            self.activated.emit(tid)


class _Polling(QWidget):
    """A widget refreshed by a poll, one refresh at a time."""

    refreshed = Signal()  # after every applied refresh (tests wait for it)

    def __init__(
        self,
        db: Database,
        runner: TaskRunner,
        current_user_id: int | None,
        parent: QWidget | None,
        poll_interval_ms: int,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.runner = runner
        self.current_user_id = current_user_id
        self._inflight = False
        self._again = False
        self._stopped = False
        self.timer = QTimer(self)
        self.timer.setInterval(poll_interval_ms)
        self.timer.timeout.connect(self.refresh)
        self.status = QLabel(self)
        self.status.setObjectName("ticketStatus")

    def start(self) -> None:
        """Refresh now and then every poll interval."""
        self._stopped = False
        self.refresh()
        self.timer.start()

    def stop(self) -> None:
        """Stop polling (the window closes); callbacks still under way are ignored."""
        self._stopped = True
        self.timer.stop()

    def refresh(self) -> None:
        if self._stopped:
            return
        if self._inflight:
            self._again = True
            return
        self._inflight = True
        try:
            self.runner.run(
                self._reader(), on_done=self._apply_done, on_error=self._failed, name="ticket-board"
            )
        except RuntimeError:
            self._inflight = False

    def _reader(self) -> Callable[[TaskContext], Snapshot]:
        """On the GUI thread: take what the refresh needs; the returned function does the
        reading on the worker thread and touches no Qt object."""
        raise NotImplementedError

    def _apply(self, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def _apply_done(self, snapshot: Snapshot) -> None:
        self._inflight = False
        if self._stopped:
            return
        self._apply(snapshot)
        self.refreshed.emit()
        if self._again:
            self._again = False
            self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self._inflight = False
        if self._stopped:
            return
        log.warning("refreshing tickets failed: %s", exc)
        self.status.setText(describe_error(exc))

    def open_ticket(self, ticket_id: int) -> TicketDialog:
        """The ticket's detail dialog (not modal); a save refreshes the list at once."""
        dialog = TicketDialog(self.db, self.runner, ticket_id, self.current_user_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda _tid: self.refresh())
        dialog.show()
        return dialog

    def closeEvent(self, event: Any) -> None:
        self.stop()
        super().closeEvent(event)


class TicketBoard(_Polling):
    """The supervisor's board: figures per queue and agent, the tickets behind each, reassign.

    ``TicketBoard(db, runner, current_user_id)``; call :meth:`start` once shown (the main
    window's runner owns the worker threads; :meth:`stop` before shutting it down).
    """

    ticket_activated = Signal(int)

    AGES = (
        None,
        timedelta(hours=1),
        timedelta(hours=4),
        timedelta(days=1),
        timedelta(days=3),
        timedelta(days=7),
    )

    def __init__(
        self,
        db: Database,
        runner: TaskRunner,
        current_user_id: int | None,
        parent: QWidget | None = None,
        *,
        poll_interval_ms: int = POLL_MS,
        escalate: bool = True,
        time_zone: str = "Europe/Berlin",
    ) -> None:
        super().__init__(db, runner, current_user_id, parent, poll_interval_ms)
        self.escalate = escalate
        self.time_zone = time_zone
        self.query = ListQuery()
        self.filters = BoardFilter()
        self.notice = ""

        self.priority_filter = QComboBox(self)
        self.priority_filter.addItem(self.tr("All priorities"), None)
        for priority in reversed(TicketPriority):
            self.priority_filter.addItem(priority_label(priority), priority.value)
        self.organization_filter = QComboBox(self)
        self.organization_filter.addItem(self.tr("All organizations"), None)
        self.age_filter = QComboBox(self)
        labels = (
            self.tr("any age"),
            self.tr("older than 1 hour"),
            self.tr("older than 4 hours"),
            self.tr("older than 1 day"),
            self.tr("older than 3 days"),
            self.tr("older than 1 week"),
        )
        for age, label in zip(self.AGES, labels, strict=True):
            self.age_filter.addItem(label, age.total_seconds() if age else None)
        for combo in (self.priority_filter, self.organization_filter, self.age_filter):
            combo.currentIndexChanged.connect(self._filters_changed)

        self.queue_model = QueueFiguresModel(self)
        self.queue_view = QTableView(self)
        self.queue_view.setObjectName("queueFigures")
        self.queue_view.setModel(self.queue_model)
        self.queue_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.queue_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.queue_view.verticalHeader().setVisible(False)
        self.queue_view.clicked.connect(self._queue_clicked)

        self.agent_model = AgentFiguresModel(self)
        self.agent_model.on_drop = self.reassign
        self.agent_view = QTableView(self)
        self.agent_view.setObjectName("agentFigures")
        self.agent_view.setModel(self.agent_model)
        self.agent_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.agent_view.verticalHeader().setVisible(False)
        self.agent_view.setAcceptDrops(True)
        self.agent_view.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.agent_view.setDropIndicatorShown(True)
        self.agent_view.clicked.connect(self._agent_clicked)

        self.tickets = TicketListPane(db, runner, self)
        self.tickets.activated.connect(self.ticket_activated)
        self.tickets.activated.connect(self.open_ticket)
        self.list_title = QLabel(self)
        self.show_all_button = QPushButton(self.tr("All open tickets"), self)
        self.show_all_button.clicked.connect(lambda: self.show_figure(ALL_OPEN))
        self.assign_to = QComboBox(self)
        self.assign_button = QPushButton(self.tr("Assign selected"), self)
        self.assign_button.clicked.connect(self._assign_clicked)
        self.queues_button = QPushButton(self.tr("Queues…"), self)
        self.queues_button.setObjectName("queuesButton")
        self.queues_button.clicked.connect(self.open_queues)
        self.queue_dialog: QueueDialog | None = None

        filters = QHBoxLayout()
        for label, combo in (
            (self.tr("Priority:"), self.priority_filter),
            (self.tr("Organization:"), self.organization_filter),
            (self.tr("Age:"), self.age_filter),
        ):
            filters.addWidget(QLabel(label, self))
            filters.addWidget(combo)
        filters.addStretch(1)
        filters.addWidget(self.queues_button)
        list_bar = QHBoxLayout()
        list_bar.addWidget(self.list_title, 1)
        list_bar.addWidget(self.show_all_button)
        list_bar.addWidget(QLabel(self.tr("Assign to:"), self))
        list_bar.addWidget(self.assign_to)
        list_bar.addWidget(self.assign_button)
        for view in (self.queue_view, self.agent_view):
            view.horizontalHeader().setDefaultSectionSize(76)
            view.setColumnWidth(0, 130)
        self.queue_view.setColumnWidth(len(QueueFiguresModel.FIGURES), 120)
        self.agent_view.horizontalHeader().setStretchLastSection(True)
        self.assign_to.setMinimumContentsLength(16)
        figures = QSplitter(Qt.Orientation.Horizontal, self)
        figures.addWidget(self.queue_view)
        figures.addWidget(self.agent_view)
        figures.setStretchFactor(0, 3)
        figures.setStretchFactor(1, 2)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(list_bar)
        lower_layout.addWidget(self.tickets)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(figures)
        split.addWidget(lower)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self._update_title()
        self._load_choices()
        self._role_watched = False
        self.allow_queue_changes()

    # --- queue settings (supervisors) ------------------------------------------------------

    def allow_queue_changes(self, *_args: Any) -> None:
        """Show "Queues…" to roles that may change queues: the main window's
        ``mayChangeQueues`` property, set by ``LiveRefresh.apply_role``; until the role is
        known, on a local SQLite file (everything allowed) only."""
        allowed = self.window().property("mayChangeQueues")
        self.queues_button.setVisible(self.db.is_sqlite if allowed is None else bool(allowed))

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        live: Any = getattr(self.window(), "live", None)
        if not self._role_watched and hasattr(live, "role_known"):
            live.role_known.connect(self.allow_queue_changes)  # the role may come later
            self._role_watched = True
        self.allow_queue_changes()

    def open_queues(self) -> QueueDialog:
        """The queue settings (one dialog, reused); a save refreshes the board."""
        if self.queue_dialog is None:
            self.queue_dialog = QueueDialog(self.db, self.runner, self)
            self.queue_dialog.saved.connect(lambda _qid: self.refresh())
        elif not self.queue_dialog.isVisible() and not self.queue_dialog.busy:
            self.queue_dialog.load(self.queue_dialog.queue_id)
        self.queue_dialog.show()
        self.queue_dialog.raise_()
        self.queue_dialog.activateWindow()
        return self.queue_dialog

    # --- choices for the filters and the assign box ----------------------------------------

    def _load_choices(self) -> None:
        db = self.db

        def work(_context: TaskContext) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
            with db.session() as session:
                return (
                    ticket_board.agents(session),
                    ticket_board.organizations_with_open_tickets(session),
                )

        def done(result: tuple[list[tuple[int, str]], list[tuple[int, str]]]) -> None:
            if self._stopped:
                return
            agents, organizations = result
            self.assign_to.clear()
            for uid, name in agents:
                self.assign_to.addItem(name, uid)
            self.organization_filter.blockSignals(True)
            for oid, name in organizations:
                self.organization_filter.addItem(name, oid)
            self.organization_filter.blockSignals(False)

        with contextlib.suppress(RuntimeError):
            self.runner.run(work, on_done=done, on_error=self._failed, name="ticket-choices")

    # --- what the list shows ---------------------------------------------------------------

    def _filters_changed(self) -> None:
        priority = self.priority_filter.currentData()
        seconds = self.age_filter.currentData()
        self.filters = BoardFilter(
            priority=TicketPriority(priority) if priority else None,
            organization_id=self.organization_filter.currentData(),
            min_age=timedelta(seconds=seconds) if seconds else None,
        )
        self.refresh()

    def show_figure(
        self, figure: str, *, queue_id: int | None = None, agent_id: int | None = None
    ) -> None:
        """List the tickets behind a figure (what a click on it does)."""
        self.query = ListQuery(figure, queue_id, agent_id)
        self.notice = ""
        self._update_title()
        self.refresh()

    def _queue_clicked(self, index: QModelIndex) -> None:
        picked = self.queue_model.figure_at(index)
        if picked is not None:
            self.show_figure(picked[0], queue_id=picked[1])

    def _agent_clicked(self, index: QModelIndex) -> None:
        picked = self.agent_model.figure_at(index)
        if picked is not None:
            self.show_figure(picked[0], agent_id=picked[1])

    def _update_title(self) -> None:
        names = {
            ALL_OPEN: self.tr("All open tickets"),
            "new": self.tr("New"),
            "open": self.tr("Open"),
            "waiting": self.tr("Waiting"),
            "unassigned": self.tr("Unassigned"),
            "at_risk": self.tr("At risk"),
            "breached": self.tr("Breached"),
            "oldest_waiting": self.tr("Oldest waiting"),
            "assigned": self.tr("Assigned"),
            "in_progress": self.tr("In progress"),
            "resolved_today": self.tr("Resolved today"),
        }
        where = ""
        if self.query.queue_id is not None:
            for row in self.queue_model.rows:
                if row.queue_id == self.query.queue_id:
                    where = row.name
        elif self.query.agent_id is not None:
            for agent in self.agent_model.rows:
                if agent.user_id == self.query.agent_id:
                    where = agent.name
        title = names.get(self.query.figure, self.query.figure)
        self.list_title.setText(f"{title} — {where}" if where else title)

    # --- refresh (worker thread, then GUI thread) ------------------------------------------

    def _reader(self) -> Callable[[TaskContext], Snapshot]:
        db, query, filters = self.db, self.query, self.filters
        wanted = self.tickets.model.cached_ids()
        escalate, user, zone = self.escalate, self.current_user_id, self.time_zone

        def read(_context: TaskContext) -> Snapshot:
            now = utcnow()
            new_escalations = 0
            unread: list[str] = []
            if escalate:
                with db.session() as session:
                    new_escalations = len(run_escalation(session, now=now))
                if user is not None:
                    with db.session() as session:
                        unread = [
                            f"{n.level.replace('_', ' ')} #{n.ticket_id}"
                            for n in notifications(session, user, limit=20)
                        ]
            with db.session() as session:
                figures = ticket_board.board(session, now=now, filters=filters, time_zone=zone)
                ids = ticket_board.ticket_ids(
                    session,
                    query.figure,
                    queue_id=query.queue_id,
                    agent_id=query.agent_id,
                    filters=filters,
                    now=now,
                    time_zone=zone,
                )
                keep = set(ids)
                reread = [i for i in wanted if i in keep][:ROWS_PER_REFRESH]
                rows = ticket_board.ticket_rows(session, reread or ids[:60])
            return Snapshot(now, figures, ids, rows, new_escalations, unread)

        return read

    def _apply(self, snapshot: Snapshot) -> None:
        assert snapshot.board is not None
        self.queue_model.set_rows(snapshot.board.queues, snapshot.at)
        self.agent_model.set_rows(snapshot.board.agents)
        self.tickets.show_ids(snapshot.ids, snapshot.rows, snapshot.at)
        self._update_title()
        text = self.tr("Updated {time}; {count} tickets listed").format(
            time=snapshot.at.astimezone().strftime("%H:%M:%S"), count=len(snapshot.ids)
        )
        if snapshot.unread_escalations:
            text += " · " + self.tr("{count} escalations").format(
                count=len(snapshot.unread_escalations)
            )
            self.status.setToolTip("\n".join(snapshot.unread_escalations))
        if self.notice:
            text = f"{self.notice} · {text}"
        self.status.setText(text)

    # --- reassignment ----------------------------------------------------------------------

    def _assign_clicked(self) -> None:
        agent = self.assign_to.currentData()
        tickets = self.tickets.selected_tickets()
        if agent is not None and tickets:
            self.reassign(int(agent), tickets)

    def reassign(self, agent_id: int, tickets: Sequence[tuple[int, int]]) -> None:
        """Assign tickets (id, version as shown) to an agent; a ticket changed meanwhile is
        left as it is and reported."""
        db, user = self.db, self.current_user_id

        def work(_context: TaskContext) -> tuple[int, int]:
            done = conflicts = 0
            for ticket_id, version in tickets:
                try:
                    with db.session() as session:
                        update_ticket(
                            session,
                            ticket_id,
                            TicketChanges(assignee_id=agent_id),
                            expected_version=version,
                            user_id=user,
                        )
                    done += 1
                except ConflictError:
                    conflicts += 1
            return done, conflicts

        def finished(result: tuple[int, int]) -> None:
            done, conflicts = result
            if self._stopped:
                return
            text = self.tr("{done} tickets assigned").format(done=done)
            if conflicts:
                text += " · " + self.tr(
                    "{count} changed by someone else meanwhile; not changed"
                ).format(count=conflicts)
            self.notice = text  # stays on the status line until the next action
            self.status.setText(text)
            self.refresh()

        def failed(exc: BaseException) -> None:
            if not self._stopped:
                message = describe_error(exc) if isinstance(exc, DataError) else str(exc)
                self.status.setText(message)

        with contextlib.suppress(RuntimeError):
            self.runner.run(work, on_done=finished, on_error=failed, name="ticket-assign")


class MyTickets(_Polling):
    """An agent's open tickets, with the board's SLA colouring.

    ``MyTickets(db, runner, current_user_id)``; :meth:`start` once shown, :meth:`stop` on close.
    """

    ticket_activated = Signal(int)

    def __init__(
        self,
        db: Database,
        runner: TaskRunner,
        current_user_id: int,
        parent: QWidget | None = None,
        *,
        poll_interval_ms: int = POLL_MS,
    ) -> None:
        super().__init__(db, runner, current_user_id, parent, poll_interval_ms)
        self.title = QLabel(self.tr("My tickets"), self)
        self.present = QCheckBox(self.tr("Present (new tickets may be assigned to me)"), self)
        self.present.setEnabled(False)  # until the stored state is read
        self.present.toggled.connect(self._presence_toggled)
        self.tickets = TicketListPane(db, runner, self)
        self.tickets.activated.connect(self.ticket_activated)
        self.tickets.activated.connect(self.open_ticket)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.present)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.tickets, 1)
        layout.addWidget(self.status)

    def _presence_toggled(self, present: bool) -> None:
        db, user = self.db, self.current_user_id
        assert user is not None

        def work(_context: TaskContext) -> bool:
            with db.session() as session:
                set_presence(session, user, present)
            return present

        def done(value: bool) -> None:
            if not self._stopped:
                self.status.setText(
                    self.tr("You are present.") if value else self.tr("You are away.")
                )

        with contextlib.suppress(RuntimeError):
            self.runner.run(work, on_done=done, on_error=self._failed, name="presence")

    def _reader(self) -> Callable[[TaskContext], Snapshot]:
        db, wanted, user = self.db, self.tickets.model.cached_ids(), self.current_user_id

        def read(_context: TaskContext) -> Snapshot:
            now = utcnow()
            with db.session() as session:
                ids = ticket_board.ticket_ids(session, ALL_OPEN, agent_id=user, now=now)
                keep = set(ids)
                reread = [i for i in wanted if i in keep][:ROWS_PER_REFRESH]
                rows = ticket_board.ticket_rows(session, reread or ids[:60])
                presence = session.get(AgentPresence, user)
            return Snapshot(
                now, None, ids, rows, 0, [], present=bool(presence and presence.present)
            )

        return read

    def _apply(self, snapshot: Snapshot) -> None:
        if not self.present.isEnabled():  # the first refresh: show the stored state
            self.present.blockSignals(True)
            self.present.setChecked(bool(snapshot.present))
            self.present.blockSignals(False)
            self.present.setEnabled(True)
        self.tickets.show_ids(snapshot.ids, snapshot.rows, snapshot.at)
        self.title.setText(self.tr("My tickets ({count})").format(count=len(snapshot.ids)))
