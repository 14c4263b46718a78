"""The main window's other pages: organizations (list and 360° view), calls, placeholders.

Lists are the lazy id models of :mod:`desktop_crm.ui.models`; the id lists and the detail of
the selected record are read on the window's :class:`TaskRunner`, so the GUI thread only paints.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_crm.data.models import Direction, InteractionKind
from desktop_crm.data.queries import CardTicket

from . import labels
from .errors import describe_error
from .models import CallTableModel, HistoryModel, OrganizationTableModel, _LazyTable
from .reader import CrmReader, HistoryEntry, OrganizationDetail, SearchResult
from .tasks import TaskContext, TaskRunner


def list_view(model: _LazyTable, name: str) -> QTableView:
    """A table over a lazy model: fixed row heights, never sized to its contents."""
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setTabKeyNavigation(False)
    rows = view.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(view.fontMetrics().height() + 8)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setStretchLastSection(True)
    return view


def tickets_html(tickets: Sequence[CardTicket]) -> str:
    return "<br>".join(
        f"{html.escape(t.number)} · {html.escape(t.subject)} "
        f"({html.escape(labels.ticket_status(t.status))})"
        for t in tickets
    )


class OrganizationsPage(QWidget):
    """Search and list organizations; the selected one with its people, tickets and history."""

    open_record = Signal(str, int)
    edit_requested = Signal(int)

    def __init__(self, reader: CrmReader, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("organizationsPage")
        self.reader = reader
        self.runner = runner
        self.current_id: int | None = None
        self._generation = 0
        self._detail_generation = 0
        self.loaded_once = False

        self.search_box = QLineEdit()
        self.search_box.setObjectName("organizationSearch")
        self.search_box.setPlaceholderText(self.tr("Search organization name or customer no."))
        self.search_box.setClearButtonEnabled(True)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(150)
        self.timer.timeout.connect(self.search)
        self.search_box.textEdited.connect(lambda _t: self.timer.start())

        self.model = OrganizationTableModel(reader.organization_rows, self)
        self.table = list_view(self.model, "organizationTable")
        fm = self.fontMetrics()
        self.table.setColumnWidth(0, fm.horizontalAdvance("Müller Anlagenbau GmbH") + 16)
        self.table.setColumnWidth(1, fm.horizontalAdvance("K-100000") + 16)
        self.table.setColumnWidth(2, fm.horizontalAdvance("+49 (0)761 23974-0") + 16)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.count_label = QLabel()
        self.count_label.setObjectName("organizationCount")
        self.count_label.setEnabled(False)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 0)
        left_layout.addWidget(self.search_box)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.count_label)

        right = QWidget()
        layout = QVBoxLayout(right)
        layout.setContentsMargins(12, 10, 12, 6)
        title_row = QHBoxLayout()
        self.name_label = QLabel(self.tr("Select an organization."))
        self.name_label.setObjectName("organizationName")
        font = QFont(self.name_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setBold(True)
        self.name_label.setFont(font)
        self.name_label.setWordWrap(True)
        title_row.addWidget(self.name_label, 1)
        self.edit_button = QPushButton(self.tr("Edit…"))
        self.edit_button.setObjectName("editOrganization")
        self.edit_button.clicked.connect(self._edit)
        self.edit_button.setEnabled(False)
        title_row.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(title_row)
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(18)
        layout.addLayout(self.form)
        heading = QLabel(self.tr("History"))
        bold = QFont(heading.font())
        bold.setBold(True)
        heading.setFont(bold)
        layout.addWidget(heading)
        self.history_model = HistoryModel(self)
        self.history_view = QTableView()
        self.history_view.setObjectName("organizationHistory")
        self.history_view.setModel(self.history_model)
        self.history_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_view.setAlternatingRowColors(True)
        self.history_view.setShowGrid(False)
        self.history_view.setWordWrap(False)
        rows = self.history_view.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(fm.height() + 8)
        header = self.history_view.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(True)
        sample = " · ".join(
            (labels.direction(Direction.OUTBOUND), labels.outcome("missed", Direction.OUTBOUND))
        )
        for column, text in (
            (HistoryModel.KIND, labels.interaction_kind(InteractionKind.MEETING)),
            (HistoryModel.TIME, "28.08.2088 18:88"),
            (HistoryModel.DIRECTION, sample + " · 88:88"),
        ):
            self.history_view.setColumnWidth(column, fm.horizontalAdvance(text) + 20)
        layout.addWidget(self.history_view, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([560, 640])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(splitter)

    def search(self) -> None:
        self.timer.stop()
        text = self.search_box.text()
        self._generation += 1
        generation = self._generation
        reader = self.reader

        def work(_context: TaskContext) -> SearchResult:
            return reader.organization_ids(text)

        def done(result: SearchResult) -> None:
            if generation != self._generation:
                return
            self.loaded_once = True
            self.model.set_ids(result.ids)
            self.count_label.setText(
                self.tr("{shown} of {total} organizations shown").format(
                    shown=len(result.ids), total=result.total
                )
            )
            if result.ids:
                self.table.selectRow(0)

        self.runner.run(work, on_done=done, on_error=self._failed, name="organizations")

    def refresh(self, changed: Iterable[int], *, list_changed: bool, reload_current: bool) -> None:
        """Changes made elsewhere (live refresh): rows re-read, the list swapped in without a
        reset (the selection stays), the organization shown read again."""
        self.model.forget(changed)
        if reload_current and self.current_id is not None:
            self._load(self.current_id)
        if not list_changed:
            return
        generation = self._generation
        text, reader = self.search_box.text(), self.reader

        def work(_context: TaskContext) -> SearchResult:
            return reader.organization_ids(text)

        def done(result: SearchResult) -> None:
            if generation == self._generation:
                self.model.replace_ids(result.ids)
                self.count_label.setText(
                    self.tr("{shown} of {total} organizations shown").format(
                        shown=len(result.ids), total=result.total
                    )
                )

        self.runner.run(work, on_done=done, on_error=self._failed, name="organizations-live")

    def show_organization(self, organization_id: int) -> None:
        row = self.model.row_of(organization_id)
        if row is not None:
            self.table.selectRow(row)
        else:
            self._load(organization_id)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        org_id = self.model.record_id(current.row()) if current.isValid() else None
        if org_id is not None and org_id != self.current_id:
            self._load(org_id)

    def _load(self, organization_id: int) -> None:
        self.current_id = organization_id
        self._detail_generation += 1
        generation = self._detail_generation
        reader = self.reader

        def work(_context: TaskContext) -> tuple[OrganizationDetail, list[HistoryEntry]]:
            return reader.organization(organization_id), reader.organization_history(
                organization_id
            )

        def done(result: tuple[OrganizationDetail, list[HistoryEntry]]) -> None:
            if generation == self._detail_generation:
                self._show(*result)

        self.runner.run(work, on_done=done, on_error=self._failed, name="organization")

    def _show(self, detail: OrganizationDetail, history: list[HistoryEntry]) -> None:
        self.name_label.setText(detail.name or self.tr("(no name)"))
        self.edit_button.setEnabled(True)
        while self.form.rowCount():
            self.form.removeRow(0)
        if detail.customer_number:
            self._row(self.tr("Customer no."), html.escape(detail.customer_number))
        for phone in detail.phones:
            link = html.escape(phone.raw)
            self._row(labels.phone_kind(phone.kind), f'<a href="tel:{link}">{link}</a>')
        for mail in detail.emails:
            link = html.escape(mail.address)
            self._row(self.tr("E-mail"), f'<a href="mailto:{link}">{link}</a>')
        place = " ".join(p for p in (detail.postal_code, detail.city) if p)
        address = "<br>".join(html.escape(p) for p in (detail.street, place) if p)
        if address:
            self._row(self.tr("Address"), address)
        if detail.people:
            people = ", ".join(
                f'<a href="contact:{cid}">{html.escape(name or "#" + str(cid))}</a>'
                for cid, name in detail.people
            )
            self._row(self.tr("People"), people)
        if detail.tickets:
            self._row(self.tr("Open tickets"), tickets_html(detail.tickets))
        self.history_model.set_entries(history)

    def _row(self, caption: str, rich: str) -> None:
        label = QLabel(caption)
        label.setEnabled(False)
        value = QLabel(rich)
        value.setObjectName("organizationField")
        value.setTextFormat(Qt.TextFormat.RichText)
        value.setWordWrap(True)
        value.linkActivated.connect(self._link)
        self.form.addRow(label, value)

    def _link(self, href: str) -> None:
        if href.startswith("contact:"):
            self.open_record.emit("contact", int(href.split(":", 1)[1]))
        else:
            from PySide6.QtCore import QUrl
            from PySide6.QtGui import QDesktopServices

            QDesktopServices.openUrl(QUrl(href))

    def _edit(self) -> None:
        if self.current_id is not None:
            self.edit_requested.emit(self.current_id)

    def _failed(self, exc: BaseException) -> None:
        self.name_label.setText(describe_error(exc))


class CallsPage(QWidget):
    """The latest calls, newest first; missed ones on their own with one tick."""

    open_record = Signal(str, int)

    def __init__(self, reader: CrmReader, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("callsPage")
        self.reader = reader
        self.runner = runner
        self._generation = 0
        self.loaded_once = False
        self.missed_only = QCheckBox(self.tr("Missed calls only"))
        self.missed_only.setObjectName("missedOnly")
        self.missed_only.toggled.connect(lambda _on: self.reload())
        self.reload_button = QPushButton(self.tr("Refresh"))
        self.reload_button.clicked.connect(self.reload)
        self.count_label = QLabel()
        self.count_label.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(self.missed_only)
        top.addStretch(1)
        top.addWidget(self.count_label)
        top.addWidget(self.reload_button)
        self.model = CallTableModel(reader.call_rows, self)
        self.table = list_view(self.model, "callTable")
        fm = self.fontMetrics()
        self.table.setColumnWidth(0, fm.horizontalAdvance("28.08.2088 18:88") + 20)
        self.table.setColumnWidth(1, fm.horizontalAdvance("Dr. Stefanie Baumgartner") + 20)
        self.table.setColumnWidth(2, fm.horizontalAdvance("+49 (0)761 23974-00") + 20)
        self.table.doubleClicked.connect(self._open)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def reload(self) -> None:
        self._generation += 1
        generation = self._generation
        reader, missed = self.reader, self.missed_only.isChecked()

        def work(_context: TaskContext) -> list[int]:
            return reader.call_ids(missed_only=missed)

        def done(ids: list[int]) -> None:
            if generation == self._generation:
                self.loaded_once = True
                self.model.set_ids(ids)
                self.count_label.setText(self.tr("%n call(s)", "", len(ids)))

        self.runner.run(work, on_done=done, name="calls")

    def refresh(self) -> None:
        """History changed elsewhere (live refresh): new calls in, rows re-read; the selection
        stays."""
        generation = self._generation
        reader, missed = self.reader, self.missed_only.isChecked()

        def work(_context: TaskContext) -> list[int]:
            return reader.call_ids(missed_only=missed)

        def done(ids: list[int]) -> None:
            if generation == self._generation:
                self.model.forget(self.model.ids)
                self.model.replace_ids(ids)
                self.count_label.setText(self.tr("%n call(s)", "", len(ids)))

        self.runner.run(work, on_done=done, name="calls-live")

    def _open(self, index: QModelIndex) -> None:
        row = self.model.row_data(index.row())
        if row is None:
            return
        if row.contact_id is not None:
            self.open_record.emit("contact", row.contact_id)
        elif row.organization_id is not None:
            self.open_record.emit("organization", row.organization_id)


class PlaceholderPage(QWidget):
    """A page another part of the program fills in (mail: issue 5, tickets: issue 7)."""

    def __init__(self, name: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        layout = QVBoxLayout(self)
        self.label = QLabel(text)
        self.label.setObjectName("placeholderText")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setEnabled(False)
        layout.addWidget(self.label)
