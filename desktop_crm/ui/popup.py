"""The caller pop-up: a small always-on-top window in a screen corner that never takes focus.

It is made once when the client starts and reused (the first call after start is as fast as the
hundredth). It holds a few :class:`CallCard` slots; each call keeps its slot until it closes, so
a card the agent is typing into never changes its call under the cursor. Calls beyond the slots
are counted ("3 more calls"), so a flood of INVITEs never opens a window per call.

Focus: the window is a ``Qt.Tool`` with ``WindowDoesNotAcceptFocus`` and is shown with
``WA_ShowWithoutActivating``, so whatever the agent types keeps going where it went. Only when
the agent clicks into the note field does the window accept focus (the flag is lifted on the
native window, without re-creating it) and it gives it up again when it hides.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QHideEvent,
    QKeyEvent,
    QMouseEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_crm.cti.calllog import ResolvedCall
from desktop_crm.cti.events import CallDirection, CallState
from desktop_crm.data.models import Direction
from desktop_crm.data.queries import CallerCard
from desktop_crm.identify.resolve import Match, Reason, RecordKind
from desktop_crm.settings import Settings

from . import labels
from .calls import CallCentre, CallUpdate
from .errors import describe_error

log = logging.getLogger(__name__)

CORNERS = ("bottom-right", "top-right", "bottom-left", "top-left")
CARD_WIDTH = 420
STRIPE_WIDTH = 4  # the call state's colour on a card's left edge
MAX_TRACKED = 1000  # calls followed at once; in a flood beyond that the oldest are dropped
PICK_ROWS = 4


@dataclass
class CallInfo:
    """One call the pop-up follows (GUI thread only)."""

    key: tuple[str, str]
    call: ResolvedCall
    card: CallerCard | None
    state: CallState
    chosen: Match | None  # the candidate shown: the best match, or the agent's pick
    arrived: float = field(default_factory=time.monotonic)
    close_at: float | None = None  # monotonic time of the automatic close
    note_draft: str = ""
    note_saved: bool = False
    revision: int = 0  # bumped on every change the card must show

    @property
    def withheld(self) -> bool:
        call = self.call
        caller = call.resolution.caller if call.resolution is not None else None
        return call.event.withheld or (caller is not None and caller.withheld)

    display: str = ""  # the number as shown, formatted on the listener's worker thread

    @property
    def number_display(self) -> str:
        if self.display:
            return self.display
        resolution = self.call.resolution
        if resolution is not None:
            self.display = resolution.display  # formatting costs as much as the look-up
            return self.display
        return self.call.event.remote_number or ""


def popup_options(settings: Settings | None) -> dict[str, Any]:
    """The ``[popup]`` settings as keyword arguments of :class:`CallerPopup`."""
    if settings is None:
        return {}
    return {
        "corner": settings.get("popup.corner"),
        "auto_close_seconds": settings.get("popup.auto_close_seconds"),
        "always_on_top": settings.get("popup.always_on_top"),
        "max_cards": settings.get("popup.max_cards"),
    }


def state_text(state: CallState, direction: CallDirection = CallDirection.INBOUND) -> str:
    if state is CallState.RINGING:
        if direction is CallDirection.OUTBOUND:
            return QCoreApplication.translate("CallerPopup", "Outgoing call")
        return QCoreApplication.translate("CallerPopup", "Incoming call")
    return {
        CallState.ANSWERED: QCoreApplication.translate("CallerPopup", "Answered"),
        CallState.ANSWERED_ELSEWHERE: QCoreApplication.translate(
            "CallerPopup", "Answered elsewhere"
        ),
        CallState.MISSED: QCoreApplication.translate("CallerPopup", "Missed call"),
        CallState.ENDED: QCoreApplication.translate("CallerPopup", "Call ended"),
    }[state]


def reason_text(match: Match) -> str:
    if match.reason is Reason.EXACT:
        return QCoreApplication.translate("CallerPopup", "matched exactly")
    if match.reason is Reason.SWITCHBOARD:
        if match.extension:
            return QCoreApplication.translate(
                "CallerPopup", "switchboard, extension {extension}"
            ).format(extension=match.extension)
        return QCoreApplication.translate("CallerPopup", "switchboard")
    if match.reason is Reason.SUFFIX:
        return QCoreApplication.translate("CallerPopup", "only the last digits match")
    if match.reason is Reason.INTERNAL:
        return QCoreApplication.translate("CallerPopup", "colleague")
    return QCoreApplication.translate("CallerPopup", "matched by address")


_STATE_COLOURS = {
    CallState.RINGING: "#1d6fb8",
    CallState.ANSWERED: "#2e7d32",
    CallState.ANSWERED_ELSEWHERE: "#6d6d6d",
    CallState.MISSED: "#c62828",
    CallState.ENDED: "#6d6d6d",
}


class NoteEdit(QPlainTextEdit):
    """The note field: Ctrl+Enter saves; a click into it is what gives the pop-up the focus."""

    save_requested = Signal()
    clicked = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.save_requested.emit()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit()
        super().mousePressEvent(event)


class CallCard(QFrame):
    """One call on the pop-up; shows whatever :class:`CallInfo` it is given."""

    close_clicked = Signal(object)  # key
    open_record = Signal(str, int)  # "contact"/"organization", id
    new_ticket = Signal(object)  # CallInfo
    create_contact = Signal(str)  # the number, formatted
    add_number = Signal(str)  # the number, formatted
    save_note = Signal(object, str)  # CallInfo, text
    pick = Signal(object, object)  # CallInfo, Match
    note_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("callCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.info: CallInfo | None = None
        self._shown_revision = -1
        self._colour = ""  # the state's colour: the stripe on the left and the state line
        # what the team role allows (CallerPopup.allow_record_changes); a local file: all
        self.may_create_contact = True
        self.may_add_number = True
        self.setFixedWidth(CARD_WIDTH)

        # the call state's colour: a plain QFrame filled from its palette (a paintEvent written
        # in Python would take the interpreter's lock for every paint of the card)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.stripe = QFrame()
        self.stripe.setObjectName("callStateStripe")
        self.stripe.setFixedWidth(STRIPE_WIDTH)
        self.stripe.setAutoFillBackground(True)
        outer.addWidget(self.stripe)
        layout = QVBoxLayout()
        layout.setContentsMargins(12 - STRIPE_WIDTH, 8, 10, 10)
        layout.setSpacing(4)
        outer.addLayout(layout)

        top = QHBoxLayout()
        self.state_label = QLabel()
        self.state_label.setObjectName("callState")
        bold = QFont(self.state_label.font())
        bold.setBold(True)
        self.state_label.setFont(bold)
        top.addWidget(self.state_label, 1)
        self.close_button = QToolButton()
        self.close_button.setObjectName("closeCard")
        self.close_button.setText("×")
        self.close_button.setAutoRaise(True)
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button.setToolTip(self.tr("Close"))
        self.close_button.clicked.connect(self._close)
        top.addWidget(self.close_button)
        layout.addLayout(top)

        self.name_label = QLabel()
        self.name_label.setObjectName("callerName")
        big = QFont(self.name_label.font())
        big.setPointSizeF(big.pointSizeF() * 1.35)
        big.setBold(True)
        self.name_label.setFont(big)
        self.name_label.setWordWrap(True)
        layout.addWidget(self.name_label)

        self.organization_label = QLabel()
        self.organization_label.setObjectName("callerOrganization")
        self.organization_label.setWordWrap(True)
        layout.addWidget(self.organization_label)

        self.number_label = QLabel()
        self.number_label.setObjectName("callerNumber")
        self.number_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.number_label)

        self.important_label = QLabel()
        self.important_label.setObjectName("callerImportant")
        self.important_label.setWordWrap(True)
        self.important_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.important_label)

        self.pick_label = QLabel(self.tr("Several records fit. Who is calling?"))
        self.pick_label.setObjectName("pickHint")
        layout.addWidget(self.pick_label)
        self.pick_list = QListWidget()
        self.pick_list.setObjectName("pickList")
        self.pick_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pick_list.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.pick_list.itemClicked.connect(self._picked)
        layout.addWidget(self.pick_list)

        self.history_label = QLabel()
        self.history_label.setObjectName("callerHistory")
        self.history_label.setTextFormat(Qt.TextFormat.RichText)
        self.history_label.setWordWrap(False)  # lines are elided to the card's width
        layout.addWidget(self.history_label)

        self.tickets_label = QLabel()
        self.tickets_label.setObjectName("callerTickets")
        self.tickets_label.setTextFormat(Qt.TextFormat.RichText)
        self.tickets_label.setWordWrap(True)
        layout.addWidget(self.tickets_label)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.open_button = self._button("openRecord", self.tr("Open record"), self._open)
        self.ticket_button = self._button("newTicket", self.tr("New ticket…"), self._ticket)
        self.create_button = self._button(
            "createContact", self.tr("Create contact"), self._create_contact
        )
        self.add_number_button = self._button(
            "addNumber", self.tr("Add to existing…"), self._add_number
        )
        for button in (
            self.open_button,
            self.ticket_button,
            self.create_button,
            self.add_number_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.note_edit = NoteEdit()
        self.note_edit.setObjectName("callNote")
        self.note_edit.setPlaceholderText(
            self.tr("Take a note… (Ctrl+Enter saves it into this call's history entry)")
        )
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # never by activation or Tab
        line = self.note_edit.fontMetrics().lineSpacing()
        self.note_edit.setFixedHeight(line * 3 + 12)
        self.note_edit.textChanged.connect(self._note_changed)
        self.note_edit.save_requested.connect(self._save_note)
        self.note_edit.clicked.connect(self.note_clicked)
        layout.addWidget(self.note_edit)

        note_row = QHBoxLayout()
        self.note_status = QLabel()
        self.note_status.setObjectName("noteStatus")
        self.note_status.setEnabled(False)
        note_row.addWidget(self.note_status, 1)
        self.save_button = self._button("saveNote", self.tr("Save note"), self._save_note)
        note_row.addWidget(self.save_button)
        layout.addLayout(note_row)

    def _button(self, name: str, text: str, slot: object) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a click must not pull the focus here
        button.clicked.connect(slot)
        return button

    # --- showing a call --------------------------------------------------------------------

    def show_info(self, info: CallInfo) -> None:
        """Show ``info``; cheap when nothing changed since the last call."""
        same_call = self.info is not None and self.info.key == info.key
        if same_call and self._shown_revision == info.revision:
            return
        self.info = info
        self._shown_revision = info.revision
        if not same_call:
            self.note_edit.blockSignals(True)
            self.note_edit.setPlainText(info.note_draft)
            self.note_edit.blockSignals(False)
        self._fill(info)

    def allow_record_changes(self, *, create_contact: bool, add_number: bool) -> None:
        self.may_create_contact = create_contact
        self.may_add_number = add_number
        if self.info is not None:
            self._fill(self.info)  # the call shown gets the right buttons now

    def clear(self) -> None:
        self.info = None
        self._shown_revision = -1
        self.note_edit.blockSignals(True)
        self.note_edit.clear()
        self.note_edit.blockSignals(False)

    def _fill(self, info: CallInfo) -> None:
        event = info.call.event
        colour = _STATE_COLOURS[info.state]
        text = state_text(info.state, event.direction)
        if event.line:
            text += " · " + self.tr("line {line}").format(line=event.line)
        self.state_label.setText(text)
        if colour != self._colour:
            # palettes, not a style sheet: setting a style sheet re-polishes the card and
            # every child (about a millisecond each time)
            self._colour = colour
            palette = self.state_label.palette()
            palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
            self.state_label.setPalette(palette)
            palette = self.stripe.palette()
            palette.setColor(QPalette.ColorRole.Window, QColor(colour))
            self.stripe.setPalette(palette)

        match = info.chosen
        matches = info.call.matches
        number = info.number_display
        if info.withheld:
            self.name_label.setText(self.tr("Number withheld"))
            self.organization_label.setText(self.tr("The caller did not send a number."))
            self.number_label.setText("")
        elif match is None:
            self.name_label.setText(self.tr("Unknown caller"))
            if info.call.resolution is None:
                self.organization_label.setText(
                    self.tr("The database could not be asked who is calling.")
                )
            else:
                self.organization_label.setText(self.tr("This number is not in the CRM yet."))
            self.number_label.setText(number)
        else:
            record = match.record
            self.name_label.setText(record.name or number)
            org = record.organization if record.kind is RecordKind.CONTACT else ""
            if record.kind is RecordKind.ORGANIZATION:
                org = self.tr("Organization")
            self.organization_label.setText(org)
            self.number_label.setText(f"{number}  ·  {reason_text(match)}")
        if event.remote_display_name and (match is None or info.withheld):
            shown = self.organization_label.text()
            caller_id = self.tr("Caller ID name: {name}").format(name=event.remote_display_name)
            self.organization_label.setText(f"{shown}\n{caller_id}" if shown else caller_id)
        self.organization_label.setVisible(bool(self.organization_label.text()))
        self.number_label.setVisible(bool(self.number_label.text()))

        # several candidates: a short pick list
        several = len(matches) > 1 and not info.withheld
        self.pick_label.setVisible(several)
        self.pick_list.setVisible(several)
        if several:
            self.pick_list.clear()
            for candidate in matches[:PICK_ROWS]:
                parts = [candidate.record.name, candidate.record.organization]
                if candidate.record.kind is RecordKind.ORGANIZATION:
                    parts[1] = self.tr("Organization")
                label = " · ".join(p for p in parts if p) + f"  ({reason_text(candidate)})"
                item = QListWidgetItem(("✓ " if candidate == match else "    ") + label)
                item.setData(Qt.ItemDataRole.UserRole, candidate)
                self.pick_list.addItem(item)
            rows = min(len(matches), PICK_ROWS)
            self.pick_list.setFixedHeight(self.pick_list.sizeHintForRow(0) * rows + 6)

        card = info.card if match is not None else None
        self._fill_important(card)
        self._fill_history(card)
        self._fill_tickets(card)

        known = match is not None and match.record.kind is not RecordKind.USER
        self.open_button.setVisible(known)
        self.ticket_button.setVisible(known)
        unknown = match is None and not info.withheld and bool(number)
        self.create_button.setVisible(unknown and self.may_create_contact)
        self.add_number_button.setVisible(unknown and self.may_add_number)
        self._update_note_status(info)

    def _fill_important(self, card: CallerCard | None) -> None:
        parts = []
        if card is not None and card.important_tags:
            tags = " ".join(
                f'<span style="background:#fdecea;color:#b71c1c;"> {html.escape(t)} </span>'
                for t in card.important_tags
            )
            parts.append(tags)
        if card is not None and card.notes.strip():
            note = card.notes.strip().split("\n", 1)[0]
            if len(note) > 120:
                note = note[:120] + " …"
            parts.append(f"<i>{html.escape(note)}</i>")
        self.important_label.setText("<br>".join(parts))
        self.important_label.setVisible(bool(parts))

    def _fill_history(self, card: CallerCard | None) -> None:
        """One line per entry (date, kind and outcome, subject), elided to the card's width."""
        if card is None:
            self.history_label.setVisible(False)
            return
        heading = html.escape(self.tr("Last contacts"))
        if not card.history:
            empty = html.escape(self.tr("no entries yet"))
            self.history_label.setText(f"<b>{heading}</b>: {empty}")
            self.history_label.setVisible(True)
            return
        metrics = self.history_label.fontMetrics()
        width = CARD_WIDTH - 40
        lines = [f"<b>{heading}</b>"]
        for entry in card.history:
            what = [labels.interaction_kind(entry.kind)]
            if entry.direction is not Direction.NONE:
                what.append(labels.direction(entry.direction))
            if entry.outcome:
                what.append(labels.outcome(entry.outcome, entry.direction))
            when = labels.local_time(entry.occurred_at)
            plain = f"{when}   {' · '.join(what)}: {entry.text}" if entry.text else when
            elided = metrics.elidedText(plain, Qt.TextElideMode.ElideRight, width)
            rest = html.escape(elided[len(when) :]).replace("   ", "&nbsp;&nbsp;&nbsp;", 1)
            lines.append(f'<span style="color:#666666;">{html.escape(when)}</span>{rest}')
        self.history_label.setText("<br>".join(lines))
        self.history_label.setVisible(True)

    def _fill_tickets(self, card: CallerCard | None) -> None:
        if card is None or not card.tickets:
            self.tickets_label.setVisible(False)
            return
        items = ", ".join(f"{html.escape(t.number)} {html.escape(t.subject)}" for t in card.tickets)
        heading = html.escape(self.tr("Open tickets ({count})").format(count=len(card.tickets)))
        self.tickets_label.setText(f"<b>{heading}</b>: {items}")
        self.tickets_label.setVisible(True)

    def _update_note_status(self, info: CallInfo) -> None:
        if info.note_saved:
            self.note_status.setText(self.tr("Note saved to the call's history entry."))
        else:
            self.note_status.setText("")

    # --- actions ---------------------------------------------------------------------------

    def _close(self) -> None:
        if self.info is not None:
            self.close_clicked.emit(self.info.key)

    def _open(self) -> None:
        if self.info is not None and self.info.chosen is not None:
            record = self.info.chosen.record
            self.open_record.emit(record.kind.value, record.id)

    def _ticket(self) -> None:
        if self.info is not None:
            self.new_ticket.emit(self.info)

    def _create_contact(self) -> None:
        if self.info is not None:
            self.create_contact.emit(self.info.number_display)

    def _add_number(self) -> None:
        if self.info is not None:
            self.add_number.emit(self.info.number_display)

    def _note_changed(self) -> None:
        if self.info is not None:
            self.info.note_draft = self.note_edit.toPlainText()
            self.info.close_at = None  # the agent is typing: this card stays
            if self.info.note_saved:
                self.info.note_saved = False
                self.note_status.setText("")

    def _save_note(self) -> None:
        text = self.note_edit.toPlainText().strip()
        if self.info is not None and text:
            self.note_status.setText(self.tr("Saving…"))
            self.save_note.emit(self.info, text)

    def _picked(self, item: QListWidgetItem) -> None:
        match = item.data(Qt.ItemDataRole.UserRole)
        if self.info is not None and isinstance(match, Match):
            self.pick.emit(self.info, match)

    @property
    def typing(self) -> bool:
        """The agent is writing a note here (focus in the field, or unsaved text)."""
        return self.note_edit.hasFocus() or bool(self.note_edit.toPlainText().strip())


class CallerPopup(QWidget):
    """The pop-up window (one per client, made at start, reused for every call)."""

    open_record = Signal(str, int)
    new_ticket = Signal(object)
    create_contact = Signal(str)
    add_number = Signal(str)
    missed_call = Signal(object)  # CallUpdate of an inbound call that was missed

    def __init__(
        self,
        centre: CallCentre | None = None,
        *,
        corner: str = "bottom-right",
        auto_close_seconds: int = 10,
        always_on_top: bool = True,
        max_cards: int = 3,
    ) -> None:
        super().__init__(None)
        self.focus_allowed = False  # set when the agent clicks into a note
        self._return_to: QWidget | None = None  # the window that was active before we showed
        self.setObjectName("callerPopup")
        flags = (
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowDoesNotAcceptFocus
        )
        if always_on_top:
            flags |= Qt.WindowType.WindowStaysOnTopHint
        self.setWindowFlags(flags)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setWindowTitle(self.tr("Incoming call"))
        self.centre = centre
        self.corner = corner if corner in CORNERS else "bottom-right"
        self.auto_close_seconds = max(0, auto_close_seconds)
        self.calls: dict[tuple[str, str], CallInfo] = {}  # insertion order: arrival order
        self.slots: list[tuple[str, str] | None] = [None] * max(1, min(6, max_cards))
        self.renders = 0  # for tests and benchmarks

        self.setStyleSheet(
            "QWidget#callerPopup { background: palette(window); border: 1px solid #9a9a9a; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        self.cards: list[CallCard] = []
        for _ in self.slots:
            card = CallCard(self)
            card.hide()
            card.close_clicked.connect(self.dismiss)
            card.open_record.connect(self.open_record)
            card.new_ticket.connect(self.new_ticket)
            card.create_contact.connect(self.create_contact)
            card.add_number.connect(self.add_number)
            card.save_note.connect(self._save_note)
            card.pick.connect(self._pick)
            card.note_clicked.connect(self.take_focus)
            self.cards.append(card)
            layout.addWidget(card)
        self.more_label = QLabel()
        self.more_label.setObjectName("moreCalls")
        self.more_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.more_label.hide()
        layout.addWidget(self.more_label)

        self.close_timer = QTimer(self)
        self.close_timer.setInterval(500)
        self.close_timer.timeout.connect(self._close_due)

        if centre is not None:
            centre.calls_arrived.connect(self.apply)

    # --- calls in ----------------------------------------------------------------------------

    def apply(self, updates: Sequence[CallUpdate]) -> None:
        """A batch of call updates from the bridge: one render for all of them.

        The listener identifies different callers side by side, so a batch is put back into
        the order the phone system sent the events (a call's own events are in order already;
        the sort is stable): calls ringing together stack in the order they rang.
        """
        for update in sorted(updates, key=lambda u: u.call.event.occurred_at):
            self._apply_one(update)
        self._render()

    def _apply_one(self, update: CallUpdate) -> None:
        key = update.key
        event = update.call.event
        info = self.calls.get(key)
        if info is None:
            if event.is_final and event.state is not CallState.MISSED:
                return  # a call we never saw ringing ended: nothing to show
            info = CallInfo(
                key, update.call, update.card, event.state, update.call.best, display=update.display
            )
            self.calls[key] = info
            self._forget_old()
        else:
            info.call = ResolvedCall(
                event,
                update.call.resolution or info.call.resolution,
                update.call.interaction_id or info.call.interaction_id,
            )
            info.state = event.state
            if update.card is not None and info.card is None:
                info.card = update.card
        info.revision += 1
        if event.state is CallState.MISSED and event.direction is CallDirection.INBOUND:
            self.missed_call.emit(update)
        if event.is_final and event.state is not CallState.ENDED:
            if self.auto_close_seconds:
                info.close_at = time.monotonic() + self.auto_close_seconds
        elif event.state is CallState.ENDED and self.auto_close_seconds:
            # after a conversation the agent may want to write: a longer grace
            info.close_at = time.monotonic() + 3 * self.auto_close_seconds

    def _forget_old(self) -> None:
        """A flood: keep at most MAX_TRACKED calls, dropping finished ones first, then oldest."""
        if len(self.calls) <= MAX_TRACKED:
            return
        shown = {k for k in self.slots if k is not None}
        for key, info in list(self.calls.items()):
            if len(self.calls) <= MAX_TRACKED:
                return
            if key not in shown and info.state is not CallState.RINGING:
                del self.calls[key]
        for key in list(self.calls):
            if len(self.calls) <= MAX_TRACKED:
                return
            if key not in shown:
                del self.calls[key]

    def allow_record_changes(self, *, create_contact: bool, add_number: bool) -> None:
        """What the agent's role may do with an unknown caller (an agent only reads records:
        the server would refuse, so the pop-up does not offer it)."""
        for card in self.cards:
            card.allow_record_changes(create_contact=create_contact, add_number=add_number)

    def dismiss(self, key: tuple[str, str]) -> None:
        """Close one call's card (the × button, or its automatic close)."""
        self.calls.pop(key, None)
        self._render()

    def dismiss_all(self) -> None:
        self.calls.clear()
        self._render()

    # --- showing ------------------------------------------------------------------------------

    def _render(self) -> None:
        self.renders += 1
        # free the slots of calls that are gone; fill free slots with the oldest waiting calls
        for i, key in enumerate(self.slots):
            if key is not None and key not in self.calls:
                self.slots[i] = None
                self.cards[i].clear()
        waiting = (k for k in self.calls if k not in self.slots)
        for i, key in enumerate(self.slots):
            if key is None:
                nxt = next(waiting, None)
                if nxt is None:
                    break
                self.slots[i] = nxt
        for card, key in zip(self.cards, self.slots, strict=True):
            if key is None:
                card.hide()
            else:
                card.show_info(self.calls[key])
                card.show()
        hidden = len(self.calls) - sum(1 for k in self.slots if k is not None)
        if hidden > 0:
            self.more_label.setText(self.tr("+ %n more call(s)", "", hidden))
            self.more_label.show()
        else:
            self.more_label.hide()
        if any(info.close_at is not None for info in self.calls.values()):
            if not self.close_timer.isActive():
                self.close_timer.start()
        else:
            self.close_timer.stop()
        if self.calls:
            self.adjustSize()
            self._place()
            if not self.isVisible():
                self._return_to = QApplication.activeWindow()
                self.show()  # WA_ShowWithoutActivating: the focus stays where it is
        elif self.isVisible():
            self.hide()

    def _place(self) -> None:
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        size = self.sizeHint().expandedTo(self.size())
        margin = 12
        x = area.right() - size.width() - margin
        y = area.bottom() - size.height() - margin
        if self.corner.endswith("left"):
            x = area.left() + margin
        if self.corner.startswith("top"):
            y = area.top() + margin
        self.move(QPoint(x, y))

    def _close_due(self) -> None:
        now = time.monotonic()
        due = []
        for key, info in self.calls.items():
            if info.close_at is None or info.close_at > now:
                continue
            card = self._card_of(key)
            if card is not None and card.typing:
                info.close_at = None  # the agent is writing: it stays until closed by hand
                continue
            if info.note_draft.strip() and not info.note_saved:
                info.close_at = None
                continue
            due.append(key)
        for key in due:
            self.calls.pop(key, None)
        if due or not any(i.close_at is not None for i in self.calls.values()):
            self._render()

    def _card_of(self, key: tuple[str, str]) -> CallCard | None:
        for card, slot in zip(self.cards, self.slots, strict=True):
            if slot == key:
                return card
        return None

    def visible_cards(self) -> list[CallCard]:
        return [c for c in self.cards if c.isVisible()]

    # --- focus ---------------------------------------------------------------------------------

    def take_focus(self) -> None:
        """The agent clicked into a note: now (and only now) the pop-up may have the keyboard."""
        self.focus_allowed = True
        handle = self.windowHandle()
        if handle is not None:
            handle.setFlag(Qt.WindowType.WindowDoesNotAcceptFocus, False)
        self.activateWindow()

    def changeEvent(self, event: QEvent) -> None:
        """A platform or window manager that activates us anyway (some X11 window managers, the
        offscreen platform) gets the activation handed straight back to the window the agent
        was working in; no widget here takes focus by activation (NoFocus/ClickFocus only)."""
        super().changeEvent(event)
        if (
            event.type() == QEvent.Type.ActivationChange
            and self.isActiveWindow()
            and not self.focus_allowed
            and self._return_to is not None
            and self._return_to.isVisible()
        ):
            self._return_to.activateWindow()

    def hideEvent(self, event: QHideEvent) -> None:
        self.focus_allowed = False
        handle = self.windowHandle()
        if handle is not None:
            handle.setFlag(Qt.WindowType.WindowDoesNotAcceptFocus, True)
        super().hideEvent(event)

    # --- actions that write -------------------------------------------------------------------

    def _save_note(self, info: CallInfo, text: str) -> None:
        if self.centre is None:
            return

        def done(_entry_id: int) -> None:
            info.note_saved = True
            info.revision += 1
            card = self._card_of(info.key)
            if card is not None:
                card.note_edit.blockSignals(True)
                card.note_edit.clear()
                card.note_edit.blockSignals(False)
                info.note_draft = ""
            self._render()

        def failed(exc: BaseException) -> None:
            log.warning("saving a call note failed: %s", exc)
            card = self._card_of(info.key)
            if card is not None:
                card.note_status.setText(
                    self.tr("Not saved: {reason}").format(reason=describe_error(exc))
                )

        self.centre.save_note(info.call, text, done, failed)

    def _pick(self, info: CallInfo, match: Match) -> None:
        info.chosen = match
        info.card = None
        info.revision += 1
        self._render()
        if self.centre is None:
            return

        def done(card: CallerCard | None) -> None:
            if info.chosen == match:
                info.card = card
                info.revision += 1
                self._render()

        def failed(exc: BaseException) -> None:
            log.warning("remembering the pick failed: %s", exc)

        self.centre.pick(info.call, match, done, failed)
