"""Small dialogs around calls: simulate a call, a new ticket for a caller, pick a contact."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_crm.cti.events import CallState
from desktop_crm.cti.simulator import ScriptedCall
from desktop_crm.data.queries import ContactRow

from .reader import SearchResult
from .tasks import TaskContext, TaskRunner


class SimulateCallDialog(QDialog):
    """Type a number and a name; the call rings through the real listener and the pop-up."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("simulateCallDialog")
        self.setWindowTitle(self.tr("Simulate incoming call"))
        self.play_demo = False
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "The call goes through the same listener, caller identification and pop-up as "
                "a call from the phone system, and is logged in the history."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.number_edit = QLineEdit("0421 70331-66")
        self.number_edit.setObjectName("simNumber")
        self.number_edit.setPlaceholderText(self.tr("empty: number withheld"))
        form.addRow(self.tr("Caller's number:"), self.number_edit)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("simName")
        self.name_edit.setPlaceholderText(self.tr("as the phone system sends it (optional)"))
        form.addRow(self.tr("Caller ID name:"), self.name_edit)
        self.outcome_box = QComboBox()
        self.outcome_box.setObjectName("simOutcome")
        for text, state in (
            (self.tr("answered"), CallState.ANSWERED),
            (self.tr("missed"), CallState.MISSED),
            (self.tr("answered elsewhere"), CallState.ANSWERED_ELSEWHERE),
        ):
            self.outcome_box.addItem(text, state)
        form.addRow(self.tr("Outcome:"), self.outcome_box)
        self.ring_box = QSpinBox()
        self.ring_box.setObjectName("simRing")
        self.ring_box.setRange(1, 120)
        self.ring_box.setValue(8)
        self.ring_box.setSuffix(self.tr(" s"))
        form.addRow(self.tr("Rings for:"), self.ring_box)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.call_button = buttons.addButton(
            self.tr("Ring"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.call_button.setObjectName("simRingButton")
        self.demo_button = QPushButton(self.tr("Play demo scenario"))
        self.demo_button.setObjectName("simDemoButton")
        buttons.addButton(self.demo_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.demo_button.clicked.connect(self._demo)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _demo(self) -> None:
        self.play_demo = True
        self.accept()

    def scripted_call(self) -> ScriptedCall:
        number = self.number_edit.text().strip() or None
        outcome = self.outcome_box.currentData()
        return ScriptedCall(
            number=number,
            name=self.name_edit.text().strip(),
            ring_seconds=float(self.ring_box.value()),
            outcome=outcome,
            talk_seconds=60.0 if outcome is CallState.ANSWERED else 30.0,
            gap_seconds=0.0,
        )


class NewTicketDialog(QDialog):
    """Subject and description of a ticket for the caller."""

    def __init__(self, who: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newTicketDialog")
        self.setWindowTitle(self.tr("New ticket"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("For: {who}").format(who=who)))
        form = QFormLayout()
        self.subject_edit = QLineEdit()
        self.subject_edit.setObjectName("ticketSubject")
        form.addRow(self.tr("Subject:"), self.subject_edit)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setObjectName("ticketDescription")
        form.addRow(self.tr("Description:"), self.description_edit)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Create ticket"))
        ok.setEnabled(False)
        self.subject_edit.textChanged.connect(lambda text: ok.setEnabled(bool(text.strip())))


class FindContactDialog(QDialog):
    """Search a contact by name (as you type, in the background) and pick one."""

    def __init__(
        self,
        runner: TaskRunner,
        search: Callable[[str], SearchResult],
        rows: Callable[[Sequence[int]], Mapping[int, ContactRow]],
        title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("findContactDialog")
        self.setWindowTitle(title)
        self.runner = runner
        self._search = search
        self._rows = rows
        self._generation = 0
        layout = QVBoxLayout(self)
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("findContactSearch")
        self.search_edit.setPlaceholderText(self.tr("Name, number or e-mail"))
        layout.addWidget(self.search_edit)
        self.result_list = QListWidget()
        self.result_list.setObjectName("findContactResults")
        layout.addWidget(self.result_list)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setEnabled(False)
        self.result_list.currentItemChanged.connect(
            lambda current, _prev: self.ok_button.setEnabled(current is not None)
        )
        self.result_list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(150)
        self.timer.timeout.connect(self.run_search)
        self.search_edit.textEdited.connect(lambda _t: self.timer.start())
        self.resize(420, 360)

    def run_search(self) -> None:
        text = self.search_edit.text().strip()
        self._generation += 1
        generation = self._generation
        search, rows = self._search, self._rows

        def work(_context: TaskContext) -> list[ContactRow]:
            ids = search(text).ids[:50] if text else []
            found = rows(ids)
            return [found[i] for i in ids if i in found]

        def done(found: list[ContactRow]) -> None:
            if generation != self._generation:
                return  # an older search; a newer one is on its way
            self.result_list.clear()
            for row in found:
                parts = [row.name or row.phone or row.email, row.organization, row.city]
                item = QListWidgetItem(" · ".join(p for p in parts if p))
                item.setData(Qt.ItemDataRole.UserRole, row.id)
                self.result_list.addItem(item)

        self.runner.run(work, on_done=done, name="find-contact")

    def contact_id(self) -> int | None:
        item = self.result_list.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))
