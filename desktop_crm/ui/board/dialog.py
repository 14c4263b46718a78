"""One ticket: read and change it, reopen it, see who changed what (all database work off the
GUI thread)."""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_crm.data.db import Database
from desktop_crm.data.errors import ConflictError, DataError
from desktop_crm.data.models import TicketPriority, TicketStatus, utcnow
from desktop_crm.tickets import service
from desktop_crm.tickets.board import sla_state
from desktop_crm.tickets.service import TicketChanges, TicketDetail

from ..errors import describe_error
from ..labels import local_time
from ..tasks import TaskContext, TaskRunner
from .models import priority_label, sla_label, status_label


class TicketDialog(QDialog):
    """``TicketDialog(db, runner, ticket_id, current_user_id, parent)``; ``saved`` after a save."""

    saved = Signal(int)
    loaded = Signal()

    def __init__(
        self,
        db: Database,
        runner: TaskRunner,
        ticket_id: int,
        current_user_id: int | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.runner = runner
        self.ticket_id = ticket_id
        self.current_user_id = current_user_id
        self.detail: TicketDetail | None = None
        self.setWindowTitle(self.tr("Ticket"))

        self.subject = QLineEdit(self)
        self.description = QPlainTextEdit(self)
        self.queue = QComboBox(self)
        self.priority = QComboBox(self)
        for priority in TicketPriority:
            self.priority.addItem(priority_label(priority), priority.value)
        self.status_box = QComboBox(self)
        self.assignee = QComboBox(self)
        self.customer = QLabel(self)
        self.sla = QLabel(self)
        self.changes = QListWidget(self)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.reopen_button = QPushButton(self.tr("Reopen"), self)
        self.reopen_button.clicked.connect(self.reopen)

        form = QFormLayout()
        form.addRow(self.tr("Subject:"), self.subject)
        form.addRow(self.tr("Customer:"), self.customer)
        form.addRow(self.tr("Queue:"), self.queue)
        form.addRow(self.tr("Priority:"), self.priority)
        form.addRow(self.tr("Status:"), self.status_box)
        form.addRow(self.tr("Assignee:"), self.assignee)
        form.addRow(self.tr("SLA:"), self.sla)
        form.addRow(self.tr("Description:"), self.description)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close, self
        )
        self.buttons.addButton(self.reopen_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("Changes:"), self))
        layout.addWidget(self.changes)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._set_enabled(False)
        self.load()

    def _set_enabled(self, enabled: bool) -> None:
        closed = self.detail is not None and self.detail.status == TicketStatus.CLOSED
        for widget in (
            self.subject,
            self.description,
            self.queue,
            self.priority,
            self.status_box,
            self.assignee,
        ):
            widget.setEnabled(enabled and not closed)
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(enabled and not closed)
        done = self.detail is not None and self.detail.status in (
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        )
        self.reopen_button.setVisible(done)
        self.reopen_button.setEnabled(enabled)

    def _run(self, work: Any, done: Any) -> None:
        def failed(exc: BaseException) -> None:
            self._set_enabled(True)
            if isinstance(exc, ConflictError):
                self.message.setText(
                    self.tr(
                        "Someone else changed this ticket since you opened it; nothing was "
                        "overwritten. The current state is shown now."
                    )
                )
                self.load(keep_message=True)
            else:
                self.message.setText(
                    describe_error(exc) if isinstance(exc, DataError) else str(exc)
                )

        self._set_enabled(False)
        with contextlib.suppress(RuntimeError):
            self.runner.run(work, on_done=done, on_error=failed, name="ticket-dialog")

    # --- load ------------------------------------------------------------------------------

    def load(self, keep_message: bool = False) -> None:
        db, ticket_id = self.db, self.ticket_id

        def work(_context: TaskContext) -> TicketDetail:
            with db.session() as session:
                return service.ticket_detail(session, ticket_id)

        def done(detail: TicketDetail) -> None:
            self.show_detail(detail)
            if not keep_message:
                self.message.clear()
            self.loaded.emit()

        self._run(work, done)

    def show_detail(self, d: TicketDetail) -> None:
        self.detail = d
        self.setWindowTitle(f"{d.number} — {d.subject}")
        self.subject.setText(d.subject)
        self.description.setPlainText(d.description)
        self.customer.setText(d.customer or "–")
        self.queue.clear()
        self.queue.addItem(self.tr("(no queue)"), None)
        for qid, name in d.queues:
            self.queue.addItem(name, qid)
        self.queue.setCurrentIndex(max(0, self.queue.findData(d.queue_id)))
        self.priority.setCurrentIndex(self.priority.findData(d.priority.value))
        self.status_box.clear()
        for status in (d.status, *d.next_statuses):
            self.status_box.addItem(status_label(status), status.value)
        self.assignee.clear()
        self.assignee.addItem(self.tr("(nobody)"), None)
        for uid, name in d.agents:
            self.assignee.addItem(name, uid)
        self.assignee.setCurrentIndex(max(0, self.assignee.findData(d.assignee_id)))
        state = sla_state(d.status, d.sla_due, d.sla_warn_at, d.sla_paused, utcnow())
        due = f" · {local_time(d.sla_due)}" if d.sla_due else ""
        self.sla.setText(sla_label(state) + due)
        self.changes.clear()
        for line in d.changes:
            who = f" ({line.who})" if line.who else ""
            self.changes.addItem(f"{local_time(line.at)}{who}: {line.text}")
        self._set_enabled(True)

    # --- save and reopen -------------------------------------------------------------------

    def pending_changes(self) -> TicketChanges:
        d = self.detail
        assert d is not None
        values: dict[str, Any] = {}
        if self.subject.text().strip() != d.subject:
            values["subject"] = self.subject.text().strip()
        if self.description.toPlainText() != d.description:
            values["description"] = self.description.toPlainText()
        if self.queue.currentData() != d.queue_id:
            values["queue_id"] = self.queue.currentData()
        if self.priority.currentData() != d.priority.value:
            values["priority"] = TicketPriority(self.priority.currentData())
        if self.status_box.currentData() != d.status.value:
            values["status"] = TicketStatus(self.status_box.currentData())
        if self.assignee.currentData() != d.assignee_id:
            values["assignee_id"] = self.assignee.currentData()
        return TicketChanges(**values)

    def save(self) -> None:
        d = self.detail
        if d is None:
            return
        changes = self.pending_changes()
        if not changes.items():
            self.message.setText(self.tr("Nothing changed."))
            return
        db, user, version, ticket_id = self.db, self.current_user_id, d.version, d.id

        def work(_context: TaskContext) -> int:
            with db.session() as session:
                service.update_ticket(
                    session, ticket_id, changes, expected_version=version, user_id=user
                )
            return ticket_id

        def done(saved_id: int) -> None:
            self.saved.emit(saved_id)
            self.message.setText(self.tr("Saved."))
            self.load(keep_message=True)

        self._run(work, done)

    def reopen(self) -> None:
        d = self.detail
        if d is None:
            return
        db, user, version, ticket_id = self.db, self.current_user_id, d.version, d.id

        def work(_context: TaskContext) -> int:
            with db.session() as session:
                service.reopen_ticket(session, ticket_id, expected_version=version, user_id=user)
            return ticket_id

        def done(saved_id: int) -> None:
            self.saved.emit(saved_id)
            self.message.setText(self.tr("Reopened."))
            self.load(keep_message=True)

        self._run(work, done)
