"""Queue settings for supervisors: the command line's ``tickets queue add`` as a dialog.

The list of queues, and the selected (or a new) queue's name, mailbox, time zone, holiday
region, business hours (the command line's text, checked by its parser while typing), SLA
targets per priority, at-risk share, assignment mode, members and supervisor. Reading and saving
run off the GUI thread (:class:`~desktop_crm.ui.tasks.TaskRunner`), one session each; saving goes
through :func:`~desktop_crm.tickets.service.save_queue` and
:func:`~desktop_crm.tickets.assignment.set_members` in one transaction. A refusal (a typo, the
server's "your role may not …") is a sentence in the dialog and every field keeps what was typed.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import holidays
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from desktop_crm.data.db import Database
from desktop_crm.data.errors import ConflictError, DataError, ValidationError
from desktop_crm.data.models import AssignmentMode, Queue, TicketPriority
from desktop_crm.tickets import service
from desktop_crm.tickets.calendar import parse_duration, parse_hours
from desktop_crm.tickets.service import QueueSettings, QueueSetup, QueueUser

from ..errors import describe_error
from ..tasks import TaskContext, TaskRunner
from .models import priority_label

# the zones a German-speaking call centre works in first; every other IANA zone follows
FIRST_ZONES = ("Europe/Berlin", "Europe/Vienna", "Europe/Zurich")
DEFAULT_HOURS = "mo-fr 08:00-17:00"

_Index = QModelIndex | QPersistentModelIndex


def holiday_regions() -> list[str]:
    """DE, AT, CH and their states and cantons (``DE-BY``), as the ``holidays`` package knows
    them; another country can still be typed."""
    regions: list[str] = []
    for country in ("DE", "AT", "CH"):
        regions.append(country)
        subdivisions = holidays.country_holidays(country).subdivisions
        regions.extend(f"{country}-{s}" for s in subdivisions if len(s) <= 3)
    return regions


# --- members: a checkable list ------------------------------------------------------------------


class MemberListModel(QAbstractListModel):
    """People to tick as the queue's members: active users, and inactive ones who are members
    (so saving does not drop them unseen)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.users: list[QueueUser] = []
        self.checked: set[int] = set()

    def set_users(self, users: Sequence[QueueUser], checked: Sequence[int]) -> None:
        self.beginResetModel()
        members = set(checked)
        self.users = [u for u in users if u.active or u.id in members]
        self.checked = members & {u.id for u in self.users}
        self.endResetModel()

    def member_ids(self) -> list[int]:
        return sorted(self.checked)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.users)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.users):
            return None
        user = self.users[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            if user.active:
                return user.name
            return self.tr("{name} (inactive)").format(name=user.name)
        if role == Qt.ItemDataRole.CheckStateRole:
            return (
                Qt.CheckState.Checked if user.id in self.checked else Qt.CheckState.Unchecked
            ).value
        if role == Qt.ItemDataRole.UserRole:
            return user.id
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        if not 0 <= index.row() < len(self.users):
            return False
        uid = self.users[index.row()].id
        state = value.value if isinstance(value, Qt.CheckState) else int(value)
        if state == Qt.CheckState.Checked.value:
            self.checked.add(uid)
        else:
            self.checked.discard(uid)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        return True


def _stacked(top: QWidget | QGridLayout, note: QLabel) -> QWidget:
    """A field with its explanation (or complaint) under it, wrapped to the field's width."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    if isinstance(top, QWidget):
        layout.addWidget(top)
    else:
        layout.addLayout(top)
    note.setMinimumWidth(360)
    layout.addWidget(note)
    return box


@dataclass(frozen=True)
class _Loaded:
    queues: list[tuple[int, str]]
    users: list[QueueUser]
    settings: QueueSettings | None


# --- the dialog ---------------------------------------------------------------------------------


class QueueDialog(QDialog):
    """``QueueDialog(db, runner, parent)``: the queues and the selected one's settings.

    ``saved`` (the queue id) after every successful save; ``loaded`` after every read (tests).
    """

    saved = Signal(int)
    loaded = Signal()

    PRIORITIES = (
        TicketPriority.URGENT,
        TicketPriority.HIGH,
        TicketPriority.NORMAL,
        TicketPriority.LOW,
    )

    def __init__(self, db: Database, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queueDialog")
        self.db = db
        self.runner = runner
        self.queue_id: int | None = None  # the queue shown; None: a new one
        self.version: int | None = None
        self.closed_days: tuple[Any, ...] = ()
        self.users: list[QueueUser] = []
        self.busy = False
        self.dirty = False
        self._filling = False
        self.setWindowTitle(self.tr("Queues"))

        # left: the queues
        self.queue_list = QListWidget(self)
        self.queue_list.setObjectName("queueList")
        self.queue_list.setMinimumWidth(170)
        self.queue_list.currentItemChanged.connect(self._queue_picked)
        self.new_button = QPushButton(self.tr("New queue"), self)
        self.new_button.clicked.connect(self.new_queue)
        left = QVBoxLayout()
        left.addWidget(QLabel(self.tr("Queues:"), self))
        left.addWidget(self.queue_list, 1)
        left.addWidget(self.new_button)

        # right: the settings
        self.name = QLineEdit(self)
        self.name.setMaxLength(120)
        self.description = QPlainTextEdit(self)
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.email = QLineEdit(self)
        self.email.setMaxLength(320)
        self.email.setPlaceholderText(self.tr("e.g. support@example.com"))
        self.time_zone = QComboBox(self)
        self.time_zone.setEditable(True)
        self.time_zone.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        zones = sorted(zoneinfo.available_timezones() - set(FIRST_ZONES))
        self.time_zone.addItems([*FIRST_ZONES, *zones])
        self.time_zone.setMinimumContentsLength(20)
        self.holidays = QComboBox(self)
        self.holidays.setEditable(True)
        self.holidays.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.holidays.addItems(holiday_regions())
        self.holidays.setMinimumContentsLength(10)
        self.holidays.setToolTip(
            self.tr(
                "Public holidays of a country and, optionally, a state or canton: DE, DE-BY, "
                "AT, CH-ZH"
            )
        )
        self.hours = QLineEdit(self)
        self.hours.setObjectName("hours")
        self.hours.setPlaceholderText(DEFAULT_HOURS)
        self.hours.setToolTip(
            self.tr(
                "Weekdays and local opening times, e.g. "
                "mo-fr 08:00-12:00,13:00-17:00; sa 09:00-12:00"
            )
        )
        self.hours_note = QLabel(self)
        self.hours_note.setObjectName("hoursNote")
        self.hours_note.setWordWrap(True)

        self.first_response: dict[TicketPriority, QLineEdit] = {}
        self.resolution: dict[TicketPriority, QLineEdit] = {}
        targets = QGridLayout()
        targets.setContentsMargins(0, 0, 0, 0)
        targets.addWidget(QLabel(self.tr("First response"), self), 0, 1)
        targets.addWidget(QLabel(self.tr("Resolution"), self), 0, 2)
        for row, priority in enumerate(self.PRIORITIES, start=1):
            targets.addWidget(QLabel(priority_label(priority), self), row, 0)
            for column, edits in ((1, self.first_response), (2, self.resolution)):
                edit = QLineEdit(self)
                edit.setObjectName(f"{'first' if column == 1 else 'resolution'}_{priority.value}")
                edit.setPlaceholderText(self.tr("no target"))
                edit.setMaximumWidth(110)
                edit.textChanged.connect(self._check)
                edits[priority] = edit
                targets.addWidget(edit, row, column)
        targets.setColumnStretch(3, 1)
        self.targets_note = QLabel(
            self.tr("Business time, e.g. 1h, 4h 30m, 2d; empty: no target."), self
        )
        self.targets_note.setObjectName("targetsNote")
        self.targets_note.setWordWrap(True)

        self.at_risk = QSpinBox(self)
        self.at_risk.setRange(1, 100)
        self.at_risk.setSuffix(" %")
        self.at_risk.setValue(75)
        self.at_risk.setToolTip(
            self.tr("A ticket is at risk once this share of its target time is used up.")
        )
        self.assignment = QComboBox(self)
        for mode, label in (
            (AssignmentMode.MANUAL, self.tr("Manual")),
            (AssignmentMode.ROUND_ROBIN, self.tr("Round robin")),
            (AssignmentMode.LEAST_BUSY, self.tr("Least busy")),
        ):
            self.assignment.addItem(label, mode.value)
        self.members_model = MemberListModel(self)
        self.members = QListView(self)
        self.members.setObjectName("members")
        self.members.setModel(self.members_model)
        self.members.setFixedHeight(self.fontMetrics().lineSpacing() * 6 + 12)
        self.supervisor = QComboBox(self)
        self.supervisor.setMinimumContentsLength(20)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow(self.tr("Name:"), self.name)
        form.addRow(self.tr("Description:"), self.description)
        form.addRow(self.tr("Support mailbox:"), self.email)
        form.addRow(self.tr("Time zone:"), self.time_zone)
        form.addRow(self.tr("Holidays:"), self.holidays)
        form.addRow(self.tr("Business hours:"), _stacked(self.hours, self.hours_note))
        form.addRow(self.tr("SLA targets:"), _stacked(targets, self.targets_note))
        form.addRow(self.tr("At risk after:"), self.at_risk)
        form.addRow(self.tr("Assignment:"), self.assignment)
        form.addRow(self.tr("Members:"), self.members)
        form.addRow(self.tr("Supervisor:"), self.supervisor)
        self.form = QWidget(self)
        self.form.setLayout(form)

        self.message = QLabel(self)
        self.message.setObjectName("queueMessage")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close, self
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        columns = QHBoxLayout()
        columns.addLayout(left)
        right = QVBoxLayout()
        right.addWidget(self.form)
        right.addStretch(1)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        for line in (self.name, self.email, self.hours):
            line.textChanged.connect(self._edited)
        self.hours.textChanged.connect(self._check)
        self.description.textChanged.connect(self._edited)
        for combo in (self.time_zone, self.holidays):
            combo.currentTextChanged.connect(self._edited)
        for combo in (self.assignment, self.supervisor):
            combo.currentIndexChanged.connect(self._edited)
        self.at_risk.valueChanged.connect(self._edited)
        self.members_model.dataChanged.connect(self._edited)
        for edits in (self.first_response, self.resolution):
            for edit in edits.values():
                edit.textChanged.connect(self._edited)

        self.resize(820, 640)
        self._set_busy(True)
        self.load()

    # --- reading ---------------------------------------------------------------------------

    def load(self, queue_id: int | None = None, *, keep_message: bool = False) -> None:
        """Read the queue list and the users, and ``queue_id``'s settings (the first queue's
        when None; a new queue when there is none)."""
        db = self.db

        def work(_context: TaskContext) -> _Loaded:
            with db.session() as session:
                queues = [
                    (q.id, q.name) for q in session.scalars(select(Queue).order_by(Queue.name))
                ]
                wanted = queue_id if queue_id is not None else (queues[0][0] if queues else None)
                settings = service.queue_settings(session, wanted) if wanted is not None else None
                return _Loaded(queues, service.queue_users(session), settings)

        def done(loaded: _Loaded) -> None:
            self.users = loaded.users
            self._fill_list(loaded.queues, loaded.settings.id if loaded.settings else None)
            self.show_settings(loaded.settings)
            if not keep_message:
                self.message.clear()
            self.loaded.emit()

        self._run(work, done, "queue-dialog-load")

    def _read_queue(self, queue_id: int) -> None:
        db = self.db

        def work(_context: TaskContext) -> tuple[QueueSettings, list[QueueUser]]:
            with db.session() as session:
                return service.queue_settings(session, queue_id), service.queue_users(session)

        def done(result: tuple[QueueSettings, list[QueueUser]]) -> None:
            settings, self.users = result
            self.show_settings(settings)
            self.message.clear()
            self.loaded.emit()

        self._run(work, done, "queue-dialog-read")

    def _fill_list(self, queues: Sequence[tuple[int, str]], current: int | None) -> None:
        self.queue_list.blockSignals(True)
        self.queue_list.clear()
        for qid, name in queues:
            item = QListWidgetItem(name, self.queue_list)
            item.setData(Qt.ItemDataRole.UserRole, qid)
            if qid == current:
                self.queue_list.setCurrentItem(item)
        self.queue_list.blockSignals(False)

    def show_settings(self, settings: QueueSettings | None) -> None:
        """Fill the form from a stored queue, or with a new queue's defaults (None)."""
        self._filling = True
        try:
            self.queue_id = settings.id if settings else None
            self.version = settings.version if settings else None
            self.closed_days = settings.closed_days if settings else ()
            self.name.setText(settings.name if settings else "")
            self.description.setPlainText(settings.description if settings else "")
            self.email.setText((settings.email or "") if settings else "")
            self.time_zone.setCurrentText(settings.time_zone if settings else FIRST_ZONES[0])
            self.holidays.setCurrentText(settings.holidays if settings else "DE")
            self.hours.setText(service.hours_text(settings.hours) if settings else DEFAULT_HOURS)
            targets = settings.targets if settings else service.DEFAULT_TARGETS
            for priority in self.PRIORITIES:
                first, resolution = targets.get(priority, (None, None))
                self.first_response[priority].setText(service.duration_text(first))
                self.resolution[priority].setText(service.duration_text(resolution))
            self.at_risk.setValue(settings.at_risk_percent if settings else 75)
            mode = settings.assignment_mode if settings else AssignmentMode.MANUAL
            self.assignment.setCurrentIndex(max(0, self.assignment.findData(mode.value)))
            members = settings.member_ids if settings else ()
            self.members_model.set_users(self.users, members)
            supervisor = settings.supervisor_id if settings else None
            self.supervisor.clear()
            self.supervisor.addItem(self.tr("(nobody)"), None)
            for user in self.users:
                if user.active or user.id == supervisor:
                    label = (
                        user.name
                        if user.active
                        else self.tr("{name} (inactive)").format(name=user.name)
                    )
                    self.supervisor.addItem(label, user.id)
            self.supervisor.setCurrentIndex(max(0, self.supervisor.findData(supervisor)))
        finally:
            self._filling = False
        self.dirty = False
        self._check()
        self._set_busy(False)
        if settings is None:
            self.queue_list.clearSelection()
            self.name.setFocus()

    # --- switching queues ------------------------------------------------------------------

    def _may_leave(self) -> bool:
        """Unsaved changes are only dropped when the user says so."""
        return not self.dirty or self.confirm_discard()

    def confirm_discard(self) -> bool:
        """Ask whether unsaved changes may go (tests replace this)."""
        answer = QMessageBox.question(
            self,
            self.tr("Unsaved changes"),
            self.tr("The changes to this queue are not saved. Discard them?"),
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    def _queue_picked(self, item: QListWidgetItem | None, previous: QListWidgetItem | None) -> None:
        if item is None or self.busy:
            return
        qid = int(item.data(Qt.ItemDataRole.UserRole))
        if qid == self.queue_id:
            return
        if not self._may_leave():
            self.queue_list.blockSignals(True)
            if previous is None:
                self.queue_list.setCurrentRow(-1)
            else:
                self.queue_list.setCurrentItem(previous)
            self.queue_list.blockSignals(False)
            return
        self._read_queue(qid)

    def new_queue(self) -> None:
        """An empty form with a new queue's defaults; the list keeps the stored queues."""
        if self.busy or not self._may_leave():
            return
        self.queue_list.blockSignals(True)
        self.queue_list.setCurrentRow(-1)
        self.queue_list.blockSignals(False)
        self.show_settings(None)
        self.message.setText(self.tr("New queue: enter a name and its settings, then save."))

    # --- checking what is typed ------------------------------------------------------------

    def _edited(self, *_args: Any) -> None:
        if not self._filling:
            self.dirty = True

    def _check(self, *_args: Any) -> bool:
        """Check hours and targets as they are typed; the parser's complaint in words."""
        ok = True
        try:
            weekly = parse_hours(self.hours.text() or DEFAULT_HOURS)
        except ValidationError as exc:
            self.hours_note.setText(self.tr("Not understood: {error}").format(error=exc))
            self.hours_note.setStyleSheet("color: #b00020;")
            ok = False
        else:
            minutes = sum(end - start for spans in weekly.values() for start, end in spans)
            self.hours_note.setText(
                self.tr("Open {hours} hours a week.").format(hours=f"{minutes / 60:g}")
            )
            self.hours_note.setStyleSheet("color: palette(placeholder-text);")
        problems: list[str] = []
        for priority in self.PRIORITIES:
            for edit in (self.first_response[priority], self.resolution[priority]):
                text = edit.text().strip()
                bad = False
                if text:
                    try:
                        parse_duration(text)
                    except ValidationError as exc:
                        bad = True
                        problems.append(f"{priority_label(priority)}: {exc}")
                edit.setStyleSheet("QLineEdit { border: 1px solid #b00020; }" if bad else "")
        if problems:
            self.targets_note.setText(
                self.tr("Not understood: {error}").format(error="; ".join(problems))
            )
            self.targets_note.setStyleSheet("color: #b00020;")
            ok = False
        else:
            self.targets_note.setText(
                self.tr("Business time, e.g. 1h, 4h 30m, 2d; empty: no target.")
            )
            self.targets_note.setStyleSheet("color: palette(placeholder-text);")
        return ok

    def setup(self) -> tuple[QueueSetup, list[int]]:
        """What the form says, as ``save_queue`` takes it; a ValidationError for what the
        parsers refuse (the fields keep their text)."""
        targets: dict[TicketPriority, tuple[int | None, int | None]] = {}
        for priority in self.PRIORITIES:
            first = self.first_response[priority].text().strip()
            resolution = self.resolution[priority].text().strip()
            targets[priority] = (
                parse_duration(first) if first else None,
                parse_duration(resolution) if resolution else None,
            )
        setup = QueueSetup(
            name=self.name.text().strip(),
            time_zone=self.time_zone.currentText().strip(),
            holidays=self.holidays.currentText().strip(),
            hours=parse_hours(self.hours.text() or DEFAULT_HOURS),
            closed_days=self.closed_days,
            targets=targets,
            at_risk_percent=self.at_risk.value(),
            assignment_mode=AssignmentMode(self.assignment.currentData()),
            supervisor_id=self.supervisor.currentData(),
            email=self.email.text().strip() or None,
            description=self.description.toPlainText(),
        )
        return setup, self.members_model.member_ids()

    # --- saving ----------------------------------------------------------------------------

    def save(self) -> None:
        if self.busy:
            return
        if not self.name.text().strip():
            self.message.setText(self.tr("A queue needs a name."))
            self.name.setFocus()
            return
        email = self.email.text().strip()
        if email and ("@" not in email or " " in email):
            self.message.setText(
                self.tr("{address} is not an e-mail address.").format(address=email)
            )
            self.email.setFocus()
            return
        try:
            setup, members = self.setup()
        except ValidationError as exc:
            self._check()
            self.message.setText(self.tr("Not saved: {error}").format(error=exc))
            return
        db, queue_id, version = self.db, self.queue_id, self.version

        def work(_context: TaskContext) -> int:
            with db.session() as session:
                return service.edit_queue(session, queue_id, version, setup, members)

        def done(saved_id: int) -> None:
            self.dirty = False
            self.saved.emit(saved_id)
            self.message.setText(self.tr("Saved."))
            self.load(saved_id, keep_message=True)

        self._run(work, done, "queue-dialog-save", saving=True)

    def _run(self, work: Any, done: Any, name: str, *, saving: bool = False) -> None:
        def failed(exc: BaseException) -> None:
            self._set_busy(False)
            self.message.setText(self._describe(exc, saving))

        self._set_busy(True)
        try:
            self.runner.run(work, on_done=done, on_error=failed, name=name)
        except RuntimeError:  # the runner is shut down: the window closes
            self._set_busy(False)

    def _describe(self, exc: BaseException, saving: bool) -> str:
        if isinstance(exc, ConflictError):
            self.version = exc.current.get("version", self.version)
            return self.tr(
                "Someone else changed this queue since you opened it; nothing was saved. Save "
                "again to replace their settings with yours, or pick the queue in the list to "
                "see theirs."
            )
        if isinstance(exc, DataError) and saving:
            return self.tr("Not saved: {error}").format(error=describe_error(exc))
        return describe_error(exc)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.form.setEnabled(not busy)
        self.save_button.setEnabled(not busy)
        self.new_button.setEnabled(not busy)
        self.queue_list.setEnabled(not busy)

    def reject(self) -> None:
        if self.busy or self._may_leave():
            super().reject()
