"""Editing contacts and organizations (back office): live validation, duplicates, conflicts.

* Numbers are read as they are typed with the one normaliser (:func:`normalize_phone`, the
  record's country else the ``[dialing]`` country as home region) and shown formatted beside the
  field; what was typed is what is stored (``raw``), the formatted form is derived.
* E-mail syntax is checked with the data layer's own rule (:func:`normalize_email`).
* Duplicates (same name, number, e-mail, address; for organizations name, customer number,
  number) are looked up in the background a moment after typing stops and shown as links.
* Saving sends the version the form was loaded with; a :class:`ConflictError` opens the
  :class:`ConflictDialog` with both versions side by side. Nothing is overwritten silently.
* Loading, duplicate checks, saving and deleting run on the window's :class:`TaskRunner`.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_crm.data import queries, records
from desktop_crm.data.db import Database
from desktop_crm.data.errors import ConflictError, PermissionDenied, ValidationError
from desktop_crm.data.models import PhoneKind
from desktop_crm.data.phone import format_international, normalize_phone
from desktop_crm.data.queries import Duplicate
from desktop_crm.data.records import (
    ContactInput,
    DeletionImpact,
    EmailInput,
    OrganizationInput,
    PhoneInput,
)

from . import labels
from .errors import describe_error
from .tasks import TaskContext, TaskRunner

log = logging.getLogger(__name__)

OK_COLOUR = "#2e7d32"
BAD_COLOUR = "#c62828"
DUPLICATE_DELAY_MS = 300


def _tr(text: str) -> str:
    return QCoreApplication.translate("RecordForm", text)


# --- one number, one address ---------------------------------------------------------------


class PhoneRow(QWidget):
    """Kind, the number as typed, and beside it how it is read (or why it cannot be)."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, region: Callable[[], str], raw: str = "", kind: str = "work") -> None:
        super().__init__()
        self._region = region
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.kind_box = QComboBox()
        self.kind_box.setObjectName("phoneKind")
        for value in PhoneKind:
            self.kind_box.addItem(labels.phone_kind(value), value)
        self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(PhoneKind(kind))))
        layout.addWidget(self.kind_box)
        self.edit = QLineEdit(raw)
        self.edit.setObjectName("phoneEdit")
        self.edit.setPlaceholderText(
            QCoreApplication.translate("RecordForm", "e.g. 089 2020447-25")
        )
        layout.addWidget(self.edit, 2)
        self.feedback = QLabel()
        self.feedback.setObjectName("phoneFeedback")
        self.feedback.setMinimumWidth(170)
        layout.addWidget(self.feedback, 2)
        remove = QToolButton()
        remove.setText("−")
        remove.setToolTip(QCoreApplication.translate("RecordForm", "Remove this number"))
        remove.clicked.connect(lambda: self.remove_requested.emit(self))
        layout.addWidget(remove)
        self.e164: str | None = None
        self.problem: str | None = None
        self.edit.textChanged.connect(self.check)
        self.kind_box.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.check()

    def check(self) -> None:
        raw = self.edit.text()
        self.e164, self.problem = None, None
        if not raw.strip():
            self.feedback.setText("")
        else:
            n = normalize_phone(raw, self._region())
            if n.e164:
                self.e164 = n.e164
                shown = format_international(n.base_e164 or n.e164)
                if n.extension:
                    shown += f"-{n.extension}" if n.base_e164 else ""
                mark = "✓" if n.valid else "?"
                self.feedback.setText(f"{mark} {shown}")
                self.feedback.setStyleSheet(f"color: {OK_COLOUR if n.valid else '#8a6d00'};")
                self.feedback.setToolTip(
                    ""
                    if n.valid
                    else QCoreApplication.translate(
                        "RecordForm", "Read like this, but no such number is known to exist."
                    )
                )
            else:
                self.problem = n.problem or QCoreApplication.translate(
                    "RecordForm", "not a phone number"
                )
                self.feedback.setText(f"✗ {self.problem}")
                self.feedback.setStyleSheet(f"color: {BAD_COLOUR};")
                self.feedback.setToolTip(
                    QCoreApplication.translate(
                        "RecordForm", "Stored as typed; caller identification cannot use it."
                    )
                )
        self.changed.emit()

    def value(self) -> PhoneInput | None:
        raw = self.edit.text()
        if not raw.strip():
            return None
        return PhoneInput(raw, PhoneKind(self.kind_box.currentData()))


class EmailRow(QWidget):
    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, raw: str = "") -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(raw)
        self.edit.setObjectName("emailEdit")
        self.edit.setPlaceholderText(QCoreApplication.translate("RecordForm", "name@example.de"))
        layout.addWidget(self.edit, 2)
        self.feedback = QLabel()
        self.feedback.setObjectName("emailFeedback")
        self.feedback.setMinimumWidth(170)
        layout.addWidget(self.feedback, 2)
        remove = QToolButton()
        remove.setText("−")
        remove.setToolTip(QCoreApplication.translate("RecordForm", "Remove this address"))
        remove.clicked.connect(lambda: self.remove_requested.emit(self))
        layout.addWidget(remove)
        self.normalized: str | None = None
        self.problem: str | None = None
        self.edit.textChanged.connect(self.check)
        self.check()

    def check(self) -> None:
        raw = self.edit.text()
        self.normalized, self.problem = None, None
        if not raw.strip():
            self.feedback.setText("")
        else:
            try:
                self.normalized, _domain = records.normalize_email(raw)
            except ValidationError:
                self.problem = QCoreApplication.translate("RecordForm", "not an e-mail address")
                self.feedback.setText(f"✗ {self.problem}")
                self.feedback.setStyleSheet(f"color: {BAD_COLOUR};")
            else:
                self.feedback.setText("✓")
                self.feedback.setStyleSheet(f"color: {OK_COLOUR};")
        self.changed.emit()

    def value(self) -> EmailInput | None:
        raw = self.edit.text()
        return EmailInput(raw) if raw.strip() else None


# --- both versions side by side --------------------------------------------------------------


_FIELD_NAMES = {
    "salutation": QT_TRANSLATE_NOOP("RecordForm", "Salutation"),
    "title": QT_TRANSLATE_NOOP("RecordForm", "Title"),
    "first_name": QT_TRANSLATE_NOOP("RecordForm", "First name"),
    "last_name": QT_TRANSLATE_NOOP("RecordForm", "Last name"),
    "name": QT_TRANSLATE_NOOP("RecordForm", "Name"),
    "customer_number": QT_TRANSLATE_NOOP("RecordForm", "Customer no."),
    "organization_id": QT_TRANSLATE_NOOP("RecordForm", "Organization"),
    "position": QT_TRANSLATE_NOOP("RecordForm", "Position"),
    "street": QT_TRANSLATE_NOOP("RecordForm", "Street"),
    "postal_code": QT_TRANSLATE_NOOP("RecordForm", "Postal code"),
    "city": QT_TRANSLATE_NOOP("RecordForm", "City"),
    "country": QT_TRANSLATE_NOOP("RecordForm", "Country"),
    "phones": QT_TRANSLATE_NOOP("RecordForm", "Phone numbers"),
    "emails": QT_TRANSLATE_NOOP("RecordForm", "E-mail addresses"),
    "domains": QT_TRANSLATE_NOOP("RecordForm", "Mail domains"),
    "tags": QT_TRANSLATE_NOOP("RecordForm", "Tags"),
    "notes": QT_TRANSLATE_NOOP("RecordForm", "Notes"),
}


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict):
                parts.append(str(item.get("raw", "")))
            elif hasattr(item, "raw"):
                parts.append(str(item.raw))
            else:
                parts.append(str(item))
        return ", ".join(p for p in parts if p)
    return str(value)


class ConflictDialog(QDialog):
    """Someone saved the record meanwhile: their version and yours, differences marked."""

    OVERWRITE = 10  # save mine over theirs (knowingly)
    TAKE_THEIRS = 11  # discard my changes, load theirs

    def __init__(self, error: ConflictError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictDialog")
        self.setWindowTitle(self.tr("Changed by someone else"))
        self.error = error
        layout = QVBoxLayout(self)
        version = error.current.get("version", "?")
        intro = QLabel(
            self.tr(
                "While you were editing, someone else saved this record (now version "
                "{current}; you started from version {mine}). Nothing has been overwritten. "
                "Differences are marked."
            ).format(current=version, mine=error.expected_version)
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("conflictTable")
        self.table.setHorizontalHeaderLabels(
            [self.tr("Field"), self.tr("Saved by the other person"), self.tr("Yours")]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.differences: list[str] = []
        bold = QFont(self.font())
        bold.setBold(True)
        for key, title in _FIELD_NAMES.items():
            if key not in error.attempted and key not in error.current:
                continue
            theirs, mine = _plain(error.current.get(key)), _plain(error.attempted.get(key))
            if not theirs and not mine:
                continue
            row = self.table.rowCount()
            self.table.insertRow(row)
            cells = [
                QTableWidgetItem(_tr(str(title))),
                QTableWidgetItem(theirs),
                QTableWidgetItem(mine),
            ]
            if theirs != mine:
                self.differences.append(key)
                for cell in cells:
                    cell.setFont(bold)
                    cell.setBackground(Qt.GlobalColor.yellow)
                    cell.setForeground(Qt.GlobalColor.black)
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox()
        self.overwrite_button = buttons.addButton(
            self.tr("Save mine anyway"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.overwrite_button.setObjectName("overwriteButton")
        self.theirs_button = buttons.addButton(
            self.tr("Discard mine, show theirs"), QDialogButtonBox.ButtonRole.ResetRole
        )
        self.theirs_button.setObjectName("theirsButton")
        self.back_button = buttons.addButton(
            self.tr("Keep editing"), QDialogButtonBox.ButtonRole.RejectRole
        )
        self.back_button.setObjectName("keepEditingButton")
        self.overwrite_button.clicked.connect(lambda: self.done(self.OVERWRITE))
        self.theirs_button.clicked.connect(lambda: self.done(self.TAKE_THEIRS))
        self.back_button.clicked.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 420)


# --- the forms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    snapshot: dict[str, Any]
    organization: str


def _why(duplicate: Duplicate) -> str:
    return {
        "name": QCoreApplication.translate("RecordForm", "same name"),
        "number": QCoreApplication.translate("RecordForm", "same number"),
        "email": QCoreApplication.translate("RecordForm", "same e-mail address"),
        "address": QCoreApplication.translate("RecordForm", "same address"),
        "customer_number": QCoreApplication.translate("RecordForm", "same customer number"),
    }.get(duplicate.why, duplicate.why)


class _RecordDialog(QDialog):
    """What the contact and the organization form share."""

    saved = Signal(str, int)  # kind, id
    loaded = Signal()
    deleted = Signal(str, int)
    open_record = Signal(str, int)  # a duplicate's link

    # made by each form's layout; fill_shared() fills them the same way for both
    street_edit: QLineEdit
    postal_code_edit: QLineEdit
    city_edit: QLineEdit
    country_edit: QLineEdit
    tags_edit: QLineEdit
    notes_edit: QPlainTextEdit

    KIND = ""

    def __init__(
        self,
        db: Database,
        runner: TaskRunner,
        home_region: str,
        record_id: int | None,
        parent: QWidget | None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.runner = runner
        self.home_region = home_region
        self.record_id = record_id
        self.version: int | None = None
        self.loading = record_id is not None
        self.saving = False
        self.conflict_dialog: ConflictDialog | None = None
        self.changed_elsewhere = False  # live refresh: someone else saved it meanwhile
        self.message_box: QMessageBox | None = None
        self.duplicates: list[Duplicate] = []
        self._dup_generation = 0
        self.phone_rows: list[PhoneRow] = []
        self.email_rows: list[EmailRow] = []

        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.layout_.addLayout(self.form)

        self.phones_box = QVBoxLayout()
        self.emails_box = QVBoxLayout()

        self.duplicate_label = QLabel()
        self.duplicate_label.setObjectName("duplicateHint")
        self.duplicate_label.setWordWrap(True)
        self.duplicate_label.setTextFormat(Qt.TextFormat.RichText)
        self.duplicate_label.setOpenExternalLinks(False)
        self.duplicate_label.linkActivated.connect(self._duplicate_link)
        self.duplicate_label.hide()

        self.error_label = QLabel()
        self.error_label.setObjectName("formError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {BAD_COLOUR};")
        self.error_label.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("saveButton")
        self.delete_button = QPushButton(self.tr("Delete…"))
        self.delete_button.setObjectName("deleteButton")
        self.buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.delete_button.setVisible(record_id is not None)
        self.delete_button.clicked.connect(self.ask_delete)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        self.dup_timer = QTimer(self)
        self.dup_timer.setSingleShot(True)
        self.dup_timer.setInterval(DUPLICATE_DELAY_MS)
        self.dup_timer.timeout.connect(self.check_duplicates)

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.duplicate_label)
        self.layout_.addWidget(self.error_label)
        self.layout_.addWidget(self.buttons)
        if self.record_id is not None:
            self.save_button.setEnabled(False)
            self.load()

    def region(self) -> str:
        return self.home_region

    # --- rows ----------------------------------------------------------------------------

    def _list_field(self, box: QVBoxLayout, add_text: str, add: Callable[[], Any]) -> QWidget:
        holder = QWidget()
        outer = QVBoxLayout(holder)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(box)
        button = QPushButton(add_text)
        button.clicked.connect(add)
        row = QHBoxLayout()
        row.addWidget(button)
        row.addStretch(1)
        outer.addLayout(row)
        return holder

    def add_phone(self, raw: str = "", kind: str = "work") -> PhoneRow:
        row = PhoneRow(self.region, raw, kind)
        row.changed.connect(self.changed)
        row.remove_requested.connect(self._remove_phone)
        self.phone_rows.append(row)
        self.phones_box.addWidget(row)
        return row

    def _remove_phone(self, row: PhoneRow) -> None:
        self.phone_rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.changed()

    def add_email(self, raw: str = "") -> EmailRow:
        row = EmailRow(raw)
        row.changed.connect(self.changed)
        row.remove_requested.connect(self._remove_email)
        self.email_rows.append(row)
        self.emails_box.addWidget(row)
        return row

    def _remove_email(self, row: EmailRow) -> None:
        self.email_rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.changed()

    def prefill_phone(self, number: str) -> PhoneRow:
        """The caller's number, formatted (the pop-up's "create contact")."""
        empty = next((r for r in self.phone_rows if not r.edit.text().strip()), None)
        row = empty or self.add_phone()
        row.edit.setText(number)
        return row

    def changed(self) -> None:
        """Any edit: re-check the form at once, duplicates a moment later."""
        problems = [r.problem for r in self.email_rows if r.problem]
        self.save_button.setEnabled(not self.loading and not self.saving and not problems)
        if problems:
            self.save_button.setToolTip(self.tr("Correct the e-mail address first."))
        else:
            self.save_button.setToolTip("")
        if not self.loading:
            self.dup_timer.start()

    # --- duplicates ----------------------------------------------------------------------

    def duplicate_query(self) -> Callable[[Any], list[Duplicate]]:
        raise NotImplementedError

    def check_duplicates(self) -> None:
        query = self.duplicate_query()
        self._dup_generation += 1
        generation = self._dup_generation
        db = self.db

        def work(_context: TaskContext) -> list[Duplicate]:
            with db.session() as session:
                return query(session)

        def done(found: list[Duplicate]) -> None:
            if generation == self._dup_generation:
                self.show_duplicates(found)

        self.runner.run(work, on_done=done, on_error=self._background_failed, name="duplicates")

    def show_duplicates(self, found: Sequence[Duplicate]) -> None:
        self.duplicates = list(found)
        if not found:
            self.duplicate_label.hide()
            return
        links = ", ".join(
            f'<a href="{d.kind}:{d.id}">{html.escape(d.name or "#" + str(d.id))}</a> ({_why(d)})'
            for d in found
        )
        self.duplicate_label.setText(
            "⚠ " + self.tr("Possibly already in the CRM: {links}").format(links=links)
        )
        self.duplicate_label.show()

    def _duplicate_link(self, href: str) -> None:
        kind, _, number = href.partition(":")
        self.open_record.emit(kind, int(number))

    # --- loading -------------------------------------------------------------------------

    def read(self, session: Any, record_id: int) -> Loaded:
        raise NotImplementedError

    def fill(self, loaded: Loaded) -> None:
        raise NotImplementedError

    def load(self) -> None:
        record_id, db = self.record_id, self.db
        assert record_id is not None
        self.loading = True

        def work(_context: TaskContext) -> Loaded:
            with db.session() as session:
                return self.read(session, record_id)

        def done(loaded: Loaded) -> None:
            self.loading = False
            self.version = loaded.snapshot["version"]
            self.fill(loaded)
            self.changed()
            self.dup_timer.stop()
            self.loaded.emit()

        def failed(exc: BaseException) -> None:
            self.loading = False
            self._show_error(describe_error(exc))

        self.runner.run(work, on_done=done, on_error=failed, name="load-record")

    # --- saving --------------------------------------------------------------------------

    def data(self) -> Any:
        raise NotImplementedError

    def write(self, session: Any, data: Any, version: int | None) -> tuple[int, int]:
        raise NotImplementedError

    def save(self, *, version: int | None = None) -> None:
        """Save in the background; ``version`` overrides the loaded one (after a conflict)."""
        if self.saving or self.loading:
            return
        try:
            data = self.data()
        except ValidationError as exc:
            self._show_error(str(exc))
            return
        expected = version if version is not None else self.version
        self.saving = True
        self.save_button.setEnabled(False)
        db = self.db

        def work(_context: TaskContext) -> tuple[int, int]:
            with db.session() as session:
                return self.write(session, data, expected)

        self.runner.run(work, on_done=self._saved, on_error=self._save_failed, name="save")

    def _saved(self, result: tuple[int, int]) -> None:
        self.saving = False
        self.record_id, self.version = result
        self.saved.emit(self.KIND, self.record_id)
        self.accept()

    def _save_failed(self, exc: BaseException) -> None:
        self.saving = False
        self.changed()
        if isinstance(exc, ConflictError):
            self.show_conflict(exc)
            return
        if not isinstance(exc, ValidationError):
            log.warning("saving a record failed: %s", exc)
        self._show_error(describe_error(exc))
        if isinstance(exc, PermissionDenied):
            # the server refused: a sentence in a message box; the form stays open as it was
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                self.windowTitle(),
                describe_error(exc),
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setObjectName("permissionDenied")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.finished.connect(lambda _r: setattr(self, "message_box", None))
            self.message_box = box
            box.open()

    def mark_changed_elsewhere(self) -> None:
        """Someone else saved this record while it is open here (live refresh): say so, and
        keep what was typed; saving then goes through the conflict dialog."""
        self.changed_elsewhere = True
        self._show_error(
            self.tr(
                "This record was changed by someone else. What you typed is kept; when you "
                "save, both versions are shown side by side."
            )
        )

    def show_conflict(self, exc: ConflictError) -> ConflictDialog:
        dialog = ConflictDialog(exc, self)
        self.conflict_dialog = dialog
        current_version = exc.current.get("version")

        def finished(result: int) -> None:
            self.conflict_dialog = None
            if result == ConflictDialog.OVERWRITE and current_version is not None:
                self.save(version=int(current_version))
            elif result == ConflictDialog.TAKE_THEIRS:
                self.load()

        dialog.finished.connect(finished)
        dialog.open()
        return dialog

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _background_failed(self, exc: BaseException) -> None:
        log.warning("a background check failed: %s", exc)

    def fill_shared(self, s: dict[str, Any]) -> None:
        """What contacts and organizations both have: address, tags, notes, numbers, mails."""
        self.street_edit.setText(s["street"])
        self.postal_code_edit.setText(s["postal_code"])
        self.city_edit.setText(s["city"])
        self.country_edit.setText(s["country"] or "")
        self.tags_edit.setText(", ".join(s["tags"]))
        self.notes_edit.setPlainText(s["notes"])
        for row in list(self.phone_rows):
            self._remove_phone(row)
        for email_row in list(self.email_rows):
            self._remove_email(email_row)
        for phone in s["phones"]:
            self.add_phone(phone["raw"], phone["kind"])
        for email in s["emails"]:
            self.add_email(email["raw"])
        if not self.phone_rows:
            self.add_phone()
        if not self.email_rows:
            self.add_email()

    # --- deleting ------------------------------------------------------------------------

    def impact(self, session: Any, record_id: int) -> Any:
        raise NotImplementedError

    def impact_text(self, impact: Any) -> str:
        raise NotImplementedError

    def remove(self, session: Any, record_id: int, version: int) -> None:
        raise NotImplementedError

    def ask_delete(self) -> None:
        record_id, db = self.record_id, self.db
        if record_id is None:
            return

        def work(_context: TaskContext) -> Any:
            with db.session() as session:
                return self.impact(session, record_id)

        self.runner.run(
            work, on_done=self._confirm_delete, on_error=self._save_failed, name="impact"
        )

    def _confirm_delete(self, impact: Any) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Delete"),
            self.delete_question(),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("deleteConfirmation")
        box.setInformativeText(self.impact_text(impact))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText(self.tr("Delete"))
        self.message_box = box

        def finished(result: int) -> None:
            self.message_box = None
            if result == QMessageBox.StandardButton.Yes:
                self.delete_now()

        box.finished.connect(finished)
        box.open()

    def delete_question(self) -> str:
        raise NotImplementedError

    def delete_now(self) -> None:
        record_id, version, db = self.record_id, self.version, self.db
        assert record_id is not None and version is not None

        def work(_context: TaskContext) -> int:
            with db.session() as session:
                self.remove(session, record_id, version)
            return record_id

        def done(deleted_id: int) -> None:
            self.deleted.emit(self.KIND, deleted_id)
            self.accept()

        self.runner.run(work, on_done=done, on_error=self._save_failed, name="delete")


class ContactDialog(_RecordDialog):
    """New contact, or edit one (``contact_id``)."""

    KIND = "contact"

    def __init__(
        self,
        db: Database,
        runner: TaskRunner,
        *,
        home_region: str = "DE",
        contact_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(db, runner, home_region, contact_id, parent)
        self.setObjectName("contactDialog")
        self.setWindowTitle(self.tr("New contact") if contact_id is None else self.tr("Contact"))
        self.organization_id: int | None = None
        f = self.form
        self.salutation_edit = QLineEdit()
        self.title_edit = QLineEdit()
        self.first_name_edit = QLineEdit()
        self.first_name_edit.setObjectName("firstName")
        self.last_name_edit = QLineEdit()
        self.last_name_edit.setObjectName("lastName")
        names = QHBoxLayout()
        for edit, hint, stretch in (
            (self.salutation_edit, self.tr("Salutation"), 1),
            (self.title_edit, self.tr("Title"), 1),
            (self.first_name_edit, self.tr("First name"), 2),
            (self.last_name_edit, self.tr("Last name"), 2),
        ):
            edit.setPlaceholderText(hint)
            names.addWidget(edit, stretch)
        f.addRow(self.tr("Name:"), names)
        self.organization_box = QComboBox()
        self.organization_box.setObjectName("organizationBox")
        self.organization_box.setEditable(True)
        self.organization_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.organization_box.lineEdit()
        assert line is not None
        line.setPlaceholderText(self.tr("Type to search organizations"))
        line.textEdited.connect(self._organization_typed)
        self.organization_box.activated.connect(self._organization_chosen)
        f.addRow(self.tr("Organization:"), self.organization_box)
        self.position_edit = QLineEdit()
        f.addRow(self.tr("Position:"), self.position_edit)
        f.addRow(
            self.tr("Phone:"),
            self._list_field(self.phones_box, self.tr("Add number"), lambda: self.add_phone()),
        )
        f.addRow(
            self.tr("E-mail:"),
            self._list_field(self.emails_box, self.tr("Add address"), lambda: self.add_email()),
        )
        self.street_edit = QLineEdit()
        f.addRow(self.tr("Street:"), self.street_edit)
        place = QHBoxLayout()
        self.postal_code_edit = QLineEdit()
        self.postal_code_edit.setPlaceholderText(self.tr("Postal code"))
        self.city_edit = QLineEdit()
        self.city_edit.setPlaceholderText(self.tr("City"))
        self.country_edit = QLineEdit()
        self.country_edit.setPlaceholderText(self.tr("Country (DE)"))
        self.country_edit.setMaxLength(2)
        place.addWidget(self.postal_code_edit, 1)
        place.addWidget(self.city_edit, 3)
        place.addWidget(self.country_edit, 1)
        f.addRow(self.tr("Place:"), place)
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText(self.tr("comma-separated, e.g. VIP, Wartungsvertrag"))
        f.addRow(self.tr("Tags:"), self.tags_edit)
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        f.addRow(self.tr("Notes:"), self.notes_edit)
        self.add_phone()
        self.add_email()
        for edit in (
            self.first_name_edit,
            self.last_name_edit,
            self.street_edit,
            self.postal_code_edit,
        ):
            edit.textChanged.connect(lambda _t: self.changed())
        self.country_edit.textChanged.connect(self._country_changed)
        self.org_timer = QTimer(self)
        self.org_timer.setSingleShot(True)
        self.org_timer.setInterval(150)
        self.org_timer.timeout.connect(self._search_organizations)
        self.finish_layout()
        self.resize(720, 560)
        self.changed()

    def region(self) -> str:
        country = self.country_edit.text().strip().upper()
        return country if len(country) == 2 else self.home_region

    def _country_changed(self, _text: str) -> None:
        for row in self.phone_rows:
            row.check()

    # --- organization picker -------------------------------------------------------------

    def _organization_typed(self, _text: str) -> None:
        self.organization_id = None
        self.org_timer.start()

    def _search_organizations(self) -> None:
        text, db = self.organization_box.currentText(), self.db

        def work(_context: TaskContext) -> list[tuple[int, str]]:
            with db.session() as session:
                return queries.organization_choices(session, text)

        def done(found: list[tuple[int, str]]) -> None:
            typed = self.organization_box.currentText()
            self.organization_box.blockSignals(True)
            self.organization_box.clear()
            for org_id, name in found:
                self.organization_box.addItem(name, org_id)
            self.organization_box.setCurrentIndex(-1)
            self.organization_box.setEditText(typed)
            self.organization_box.blockSignals(False)
            exact = [oid for oid, name in found if name.casefold() == typed.strip().casefold()]
            if len(exact) == 1:
                self.organization_id = exact[0]

        self.runner.run(work, on_done=done, on_error=self._background_failed, name="orgs")

    def _organization_chosen(self, index: int) -> None:
        data = self.organization_box.itemData(index)
        self.organization_id = int(data) if data is not None else None

    # --- the record ------------------------------------------------------------------------

    def data(self) -> ContactInput:
        if self.organization_box.currentText().strip() and self.organization_id is None:
            raise ValidationError(
                self.tr("Choose the organization from the list (type its first letters).")
            )
        return ContactInput(
            salutation=self.salutation_edit.text().strip(),
            title=self.title_edit.text().strip(),
            first_name=self.first_name_edit.text().strip(),
            last_name=self.last_name_edit.text().strip(),
            organization_id=self.organization_id,
            position=self.position_edit.text().strip(),
            street=self.street_edit.text().strip(),
            postal_code=self.postal_code_edit.text().strip(),
            city=self.city_edit.text().strip(),
            country=self.country_edit.text().strip() or None,
            tags=[t.strip() for t in self.tags_edit.text().split(",") if t.strip()],
            notes=self.notes_edit.toPlainText(),
            phones=[p for r in self.phone_rows if (p := r.value()) is not None],
            emails=[e for r in self.email_rows if (e := r.value()) is not None],
        )

    def duplicate_query(self) -> Callable[[Any], list[Duplicate]]:
        first, last = self.first_name_edit.text(), self.last_name_edit.text()
        e164s = [r.e164 for r in self.phone_rows if r.e164]
        emails = [r.normalized for r in self.email_rows if r.normalized]
        street, postal_code = self.street_edit.text(), self.postal_code_edit.text()
        exclude = self.record_id
        return lambda session: queries.contact_duplicates(
            session,
            first_name=first,
            last_name=last,
            e164s=e164s,
            emails=emails,
            street=street,
            postal_code=postal_code,
            exclude_id=exclude,
        )

    def read(self, session: Any, record_id: int) -> Loaded:
        contact = records.get_contact(session, record_id)
        org = contact.organization.name if contact.organization else ""
        return Loaded(records.contact_snapshot(contact), org)

    def fill(self, loaded: Loaded) -> None:
        s = loaded.snapshot
        self.salutation_edit.setText(s["salutation"])
        self.title_edit.setText(s["title"])
        self.first_name_edit.setText(s["first_name"])
        self.last_name_edit.setText(s["last_name"])
        self.organization_id = s["organization_id"]
        self.organization_box.clear()
        if s["organization_id"] is not None:
            self.organization_box.addItem(loaded.organization, s["organization_id"])
            self.organization_box.setCurrentIndex(0)
        self.position_edit.setText(s["position"])
        self.fill_shared(s)

    def write(self, session: Any, data: ContactInput, version: int | None) -> tuple[int, int]:
        if self.record_id is None:
            contact = records.create_contact(session, data, home_region=self.home_region)
        else:
            assert version is not None
            contact = records.update_contact(
                session, self.record_id, version, data, home_region=self.home_region
            )
        return contact.id, contact.version

    def impact(self, session: Any, record_id: int) -> DeletionImpact:
        return records.contact_deletion_impact(session, record_id)

    def delete_question(self) -> str:
        name = " ".join(
            p for p in (self.first_name_edit.text(), self.last_name_edit.text()) if p.strip()
        )
        return self.tr("Delete the contact {name}?").format(name=name or f"#{self.record_id}")

    def impact_text(self, impact: DeletionImpact) -> str:
        return self.tr(
            "Deleted with it: {phones} phone number(s) and {emails} e-mail address(es).\n"
            "Kept: {entries} history entries (they stay with the organization) and {tickets} "
            "ticket(s)."
        ).format(
            phones=impact.phones,
            emails=impact.emails,
            entries=impact.interactions,
            tickets=impact.tickets,
        )

    def remove(self, session: Any, record_id: int, version: int) -> None:
        records.delete_contact(session, record_id, version)


class OrganizationDialog(_RecordDialog):
    """New organization, or edit one."""

    KIND = "organization"

    def __init__(
        self,
        db: Database,
        runner: TaskRunner,
        *,
        home_region: str = "DE",
        organization_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(db, runner, home_region, organization_id, parent)
        self.setObjectName("organizationDialog")
        self.setWindowTitle(
            self.tr("New organization") if organization_id is None else self.tr("Organization")
        )
        f = self.form
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("organizationName")
        f.addRow(self.tr("Name:"), self.name_edit)
        self.customer_number_edit = QLineEdit()
        self.customer_number_edit.setObjectName("customerNumber")
        f.addRow(self.tr("Customer no.:"), self.customer_number_edit)
        f.addRow(
            self.tr("Phone:"),
            self._list_field(self.phones_box, self.tr("Add number"), lambda: self.add_phone()),
        )
        f.addRow(
            self.tr("E-mail:"),
            self._list_field(self.emails_box, self.tr("Add address"), lambda: self.add_email()),
        )
        self.domains_edit = QLineEdit()
        self.domains_edit.setPlaceholderText(self.tr("comma-separated, e.g. mueller-anlagenbau.de"))
        f.addRow(self.tr("Mail domains:"), self.domains_edit)
        self.street_edit = QLineEdit()
        f.addRow(self.tr("Street:"), self.street_edit)
        place = QHBoxLayout()
        self.postal_code_edit = QLineEdit()
        self.postal_code_edit.setPlaceholderText(self.tr("Postal code"))
        self.city_edit = QLineEdit()
        self.city_edit.setPlaceholderText(self.tr("City"))
        self.country_edit = QLineEdit()
        self.country_edit.setPlaceholderText(self.tr("Country (DE)"))
        self.country_edit.setMaxLength(2)
        place.addWidget(self.postal_code_edit, 1)
        place.addWidget(self.city_edit, 3)
        place.addWidget(self.country_edit, 1)
        f.addRow(self.tr("Place:"), place)
        self.tags_edit = QLineEdit()
        f.addRow(self.tr("Tags:"), self.tags_edit)
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        f.addRow(self.tr("Notes:"), self.notes_edit)
        self.add_phone()
        self.add_email()
        for edit in (self.name_edit, self.customer_number_edit):
            edit.textChanged.connect(lambda _t: self.changed())
        self.country_edit.textChanged.connect(self._country_changed)
        self.finish_layout()
        self.resize(680, 520)
        self.changed()

    def region(self) -> str:
        country = self.country_edit.text().strip().upper()
        return country if len(country) == 2 else self.home_region

    def _country_changed(self, _text: str) -> None:
        for row in self.phone_rows:
            row.check()

    def data(self) -> OrganizationInput:
        return OrganizationInput(
            name=self.name_edit.text().strip(),
            customer_number=self.customer_number_edit.text().strip() or None,
            street=self.street_edit.text().strip(),
            postal_code=self.postal_code_edit.text().strip(),
            city=self.city_edit.text().strip(),
            country=self.country_edit.text().strip() or None,
            domains=[d.strip() for d in self.domains_edit.text().split(",") if d.strip()],
            tags=[t.strip() for t in self.tags_edit.text().split(",") if t.strip()],
            notes=self.notes_edit.toPlainText(),
            phones=[p for r in self.phone_rows if (p := r.value()) is not None],
            emails=[e for r in self.email_rows if (e := r.value()) is not None],
        )

    def duplicate_query(self) -> Callable[[Any], list[Duplicate]]:
        name, number = self.name_edit.text(), self.customer_number_edit.text()
        e164s = [r.e164 for r in self.phone_rows if r.e164]
        exclude = self.record_id
        return lambda session: queries.organization_duplicates(
            session, name=name, customer_number=number, e164s=e164s, exclude_id=exclude
        )

    def read(self, session: Any, record_id: int) -> Loaded:
        org = records.get_organization(session, record_id)
        return Loaded(records.organization_snapshot(org), org.name)

    def fill(self, loaded: Loaded) -> None:
        s = loaded.snapshot
        self.name_edit.setText(s["name"])
        self.customer_number_edit.setText(s["customer_number"] or "")
        self.domains_edit.setText(", ".join(s["domains"]))
        self.fill_shared(s)

    def write(self, session: Any, data: OrganizationInput, version: int | None) -> tuple[int, int]:
        if self.record_id is None:
            org = records.create_organization(session, data, home_region=self.home_region)
        else:
            assert version is not None
            org = records.update_organization(
                session, self.record_id, version, data, home_region=self.home_region
            )
        return org.id, org.version

    def impact(self, session: Any, record_id: int) -> int:
        return len(queries.organization_contact_ids(session, record_id, limit=100_000))

    def delete_question(self) -> str:
        name = self.name_edit.text().strip() or f"#{self.record_id}"
        return self.tr("Delete the organization {name}?").format(name=name)

    def impact_text(self, impact: int) -> str:
        return self.tr(
            "Its phone numbers, e-mail addresses and mail domains are deleted with it. Its "
            "{count} contact(s) stay, without an organization; the history stays too."
        ).format(count=impact)

    def remove(self, session: Any, record_id: int, version: int) -> None:
        records.delete_organization(session, record_id, version)
