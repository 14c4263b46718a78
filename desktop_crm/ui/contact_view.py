"""The detail pane: one contact's master data and its history, newest first."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QItemSelection, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_crm.data.models import Direction, InteractionKind
from desktop_crm.data.phone import normalize_phone

from . import labels
from .models import HistoryModel
from .reader import HISTORY_LIMIT, ContactDetail, HistoryEntry

_SELECTABLE = Qt.TextInteractionFlag.TextSelectableByMouse


def _tel(raw: str) -> str:
    """``tel:`` URI of a number as typed (RFC 3966 visual separators dropped)."""
    normalized = normalize_phone(raw)
    if normalized.e164:
        return f"tel:{normalized.base_e164 or normalized.e164}"
    return "tel:" + "".join(ch for ch in raw if ch.isdigit() or ch == "+")


class ContactView(QStackedWidget):
    """Page 0: a hint (or an error) while no contact is shown; page 1: the contact."""

    #: contact id, the text, the kind (a note or a logged call)
    note_requested = Signal(int, str, object)
    edit_requested = Signal(int)
    open_record = Signal(str, int)  # a link to the organization or a colleague

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.contact_id: int | None = None
        self._entries: list[HistoryEntry] = []

        self.hint = QLabel(self.tr("Select a contact to see its details and history."))
        self.hint.setObjectName("contactHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setEnabled(False)
        self.addWidget(self.hint)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(12, 10, 12, 6)

        title_row = QHBoxLayout()
        self.name_label = QLabel()
        self.name_label.setObjectName("contactName")
        font = QFont(self.name_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setBold(True)
        self.name_label.setFont(font)
        self.name_label.setTextInteractionFlags(_SELECTABLE)
        self.name_label.setWordWrap(True)
        title_row.addWidget(self.name_label, 1)
        self.edit_button = QPushButton(self.tr("Edit…"))
        self.edit_button.setObjectName("editContact")
        self.edit_button.clicked.connect(self._edit)
        title_row.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(title_row)

        self.subtitle_label = QLabel()
        self.subtitle_label.setObjectName("contactSubtitle")
        self.subtitle_label.setTextInteractionFlags(_SELECTABLE)
        self.subtitle_label.setWordWrap(True)
        layout.addWidget(self.subtitle_label)

        self.form = QFormLayout()
        self.form.setContentsMargins(0, 8, 0, 8)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setHorizontalSpacing(18)
        layout.addLayout(self.form)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)

        self.history_label = QLabel()
        self.history_label.setObjectName("historyHeading")
        heading_font = QFont(self.history_label.font())
        heading_font.setBold(True)
        self.history_label.setFont(heading_font)
        history_row = QHBoxLayout()
        history_row.addWidget(self.history_label, 1)
        self.kind_filter = QComboBox()
        self.kind_filter.setObjectName("historyFilter")
        self.kind_filter.addItem(self.tr("All entries"), None)
        for kind in (
            InteractionKind.CALL,
            InteractionKind.EMAIL,
            InteractionKind.NOTE,
            InteractionKind.TICKET_EVENT,
            InteractionKind.MEETING,
        ):
            self.kind_filter.addItem(labels.interaction_kind(kind), kind)
        self.kind_filter.currentIndexChanged.connect(lambda _i: self._apply_filter())
        history_row.addWidget(self.kind_filter)
        layout.addLayout(history_row)

        note_row = QHBoxLayout()
        self.note_edit = QLineEdit()
        self.note_edit.setObjectName("noteEdit")
        self.note_edit.setPlaceholderText(self.tr("Write a note or what the call was about…"))
        self.note_edit.returnPressed.connect(lambda: self._note(InteractionKind.NOTE))
        note_row.addWidget(self.note_edit, 1)
        self.add_note_button = QPushButton(self.tr("Add note"))
        self.add_note_button.setObjectName("addNote")
        self.add_note_button.clicked.connect(lambda: self._note(InteractionKind.NOTE))
        note_row.addWidget(self.add_note_button)
        self.log_call_button = QPushButton(self.tr("Log call"))
        self.log_call_button.setObjectName("logCall")
        self.log_call_button.clicked.connect(lambda: self._note(InteractionKind.CALL))
        note_row.addWidget(self.log_call_button)
        layout.addLayout(note_row)

        self.history_model = HistoryModel(self)
        self.history_view = QTableView()
        self.history_view.setObjectName("historyView")
        self.history_view.setModel(self.history_model)
        self.history_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.history_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_view.setAlternatingRowColors(True)
        self.history_view.setShowGrid(False)
        self.history_view.setWordWrap(False)
        self.history_view.verticalHeader().hide()
        rows = self.history_view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.history_view.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(True)
        # widths from the texts they hold, in the language in use
        fm, pad = self.fontMetrics(), 20
        kind_width = max(fm.horizontalAdvance(labels.interaction_kind(k)) for k in InteractionKind)
        sample_direction = " · ".join(
            (labels.direction(Direction.OUTBOUND), labels.outcome("answered"), "88:88")
        )
        for column, width in (
            (HistoryModel.KIND, kind_width),
            (HistoryModel.TIME, fm.horizontalAdvance("28.08.2088 18:88")),
            (HistoryModel.DIRECTION, fm.horizontalAdvance(sample_direction)),
        ):
            self.history_view.setColumnWidth(column, width + pad)
        self.history_view.selectionModel().selectionChanged.connect(self._history_selected)

        self.body_view = QPlainTextEdit()
        self.body_view.setObjectName("historyBody")
        self.body_view.setReadOnly(True)
        self.body_view.setPlaceholderText(self.tr("Select an entry to read it here."))

        self.history_splitter = QSplitter(Qt.Orientation.Vertical)
        self.history_splitter.setChildrenCollapsible(False)
        self.history_splitter.addWidget(self.history_view)
        self.history_splitter.addWidget(self.body_view)
        self.history_splitter.setStretchFactor(0, 3)
        self.history_splitter.setStretchFactor(1, 1)
        layout.addWidget(self.history_splitter, 1)

        self.addWidget(page)
        self.page = page

    # --- content ---------------------------------------------------------------------------

    def show_hint(self, text: str | None = None) -> None:
        """No contact selected; ``text`` replaces the hint (an error, for instance)."""
        self.contact_id = None
        self.hint.setText(text or self.tr("Select a contact to see its details and history."))
        self.history_model.set_entries([])
        self.body_view.clear()
        self.setCurrentWidget(self.hint)

    def show_contact(self, detail: ContactDetail, history: Sequence[HistoryEntry]) -> None:
        self.contact_id = detail.id
        self.name_label.setText(self._title(detail))
        self.subtitle_label.setText(
            " · ".join(p for p in (detail.position, detail.organization) if p)
        )
        self.subtitle_label.setVisible(bool(detail.position or detail.organization))
        self._fill_form(detail)

        if not history:
            self.history_label.setText(self.tr("History: no entries yet"))
        elif len(history) >= HISTORY_LIMIT:
            self.history_label.setText(
                self.tr("History (latest {count} entries)").format(count=len(history))
            )
        else:
            self.history_label.setText(self.tr("History ({count})").format(count=len(history)))
        self._entries = list(history)
        self._apply_filter()
        self.setCurrentWidget(self.page)

    def _apply_filter(self) -> None:
        kind = self.kind_filter.currentData()
        shown = [e for e in self._entries if kind is None or e.kind == kind]
        self.history_model.set_entries(shown)
        self.body_view.clear()
        if shown:
            self.history_view.selectRow(0)

    def start_note(self) -> None:
        self.note_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def note_saved(self) -> None:
        self.note_edit.clear()
        self.note_edit.setEnabled(True)

    def _note(self, kind: InteractionKind) -> None:
        text = self.note_edit.text().strip()
        if self.contact_id is None or not text:
            return
        self.note_requested.emit(self.contact_id, text, kind)

    def _edit(self) -> None:
        if self.contact_id is not None:
            self.edit_requested.emit(self.contact_id)

    def _title(self, detail: ContactDetail) -> str:
        if detail.name:
            return detail.name
        fallback = (
            detail.organization
            or next((p.raw for p in detail.phones), "")
            or next((e.address for e in detail.emails), "")
        )
        return fallback or self.tr("(no name)")

    def _fill_form(self, detail: ContactDetail) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        if detail.organization_id is not None and detail.organization:
            link = f"organization:{detail.organization_id}"
            self._add_row(self.tr("Organization"), detail.organization, link=link)
        if detail.colleagues:
            self._add_rich_row(
                self.tr("Colleagues"),
                ", ".join(
                    f'<a href="contact:{cid}">{html.escape(name or "#" + str(cid))}</a>'
                    for cid, name in detail.colleagues
                ),
            )
        if detail.tickets:
            self._add_rich_row(
                self.tr("Open tickets"),
                "<br>".join(
                    f"{html.escape(t.number)} · {html.escape(t.subject)} "
                    f"({html.escape(labels.ticket_status(t.status))})"
                    for t in detail.tickets
                ),
            )
        for phone in detail.phones:
            self._add_row(labels.phone_kind(phone.kind), phone.raw, link=_tel(phone.raw))
        for mail in detail.emails:
            self._add_row(self.tr("E-mail"), mail.address, link=f"mailto:{mail.address}")
        place = " ".join(p for p in (detail.postal_code, detail.city) if p)
        country = labels.country(detail.country) if detail.country else ""
        address = "\n".join(p for p in (detail.street, place, country) if p)
        if address:
            self._add_row(self.tr("Address"), address)
        if detail.tags:
            self._add_row(self.tr("Tags"), ", ".join(detail.tags))
        if detail.notes:
            notes = detail.notes if len(detail.notes) <= 400 else detail.notes[:400] + " …"
            self._add_row(self.tr("Notes"), notes)
        if not self.form.rowCount():
            self._add_row("", self.tr("No phone numbers, e-mail addresses or address stored."))

    def _add_row(self, caption: str, value: str, *, link: str = "") -> None:
        label = QLabel(caption)
        label.setObjectName("fieldCaption")
        label.setEnabled(False)  # the palette's muted text colour, in every style
        field = QLabel(value)
        field.setObjectName("fieldValue")
        field.setTextInteractionFlags(_SELECTABLE)
        if link:
            field.setTextFormat(Qt.TextFormat.RichText)
            field.setText(f'<a href="{html.escape(link)}">{html.escape(value)}</a>')
            field.setTextInteractionFlags(
                _SELECTABLE | Qt.TextInteractionFlag.LinksAccessibleByMouse
            )
            field.linkActivated.connect(self._link)
        field.setWordWrap(True)
        self.form.addRow(label, field)

    def _add_rich_row(self, caption: str, rich: str) -> None:
        self._add_row(caption, "")
        item = self.form.itemAt(self.form.rowCount() - 1, QFormLayout.ItemRole.FieldRole)
        field = item.widget() if item is not None else None
        assert isinstance(field, QLabel)
        field.setTextFormat(Qt.TextFormat.RichText)
        field.setText(rich)
        field.setTextInteractionFlags(_SELECTABLE | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        field.linkActivated.connect(self._link)

    def _link(self, href: str) -> None:
        """Records open here; tel: and mailto: go to the system (softphone, mail program)."""
        scheme, _, rest = href.partition(":")
        if scheme in ("contact", "organization") and rest.isdigit():
            self.open_record.emit(scheme, int(rest))
        else:
            QDesktopServices.openUrl(QUrl(href))

    def _history_selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        entry = self.history_model.entry(indexes[0].row()) if indexes else None
        if entry is None:
            self.body_view.clear()
            return
        text = "\n\n".join(p for p in (entry.subject, entry.body.strip()) if p)
        self.body_view.setPlainText(text or entry.remote)
