"""The Tickets page of the main window: "My tickets" and the supervisor's board as tabs.

The widgets are the ticket board's (ui/board); this page only puts them side by side once the
person at this client is known (``data.team.current_user``, read in the background), starts
their polls when shown and stops them with the window.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from desktop_crm.data.db import Database
from desktop_crm.data.team import current_user

from .board import MyTickets, TicketBoard
from .tasks import TaskContext, TaskRunner


class TicketsPage(QWidget):
    """Tabs "My tickets" and "Board"; built when the current user is known."""

    ticket_activated = Signal(int)

    def __init__(self, db: Database, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ticketsPage")
        self._db = db
        self._runner = runner
        self.user_id: int | None = None
        self.my_tickets: MyTickets | None = None
        self.board: TicketBoard | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.message = QLabel(self.tr("Loading tickets…"))
        self._layout.addWidget(self.message)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("ticketTabs")
        self.tabs.hide()
        self._layout.addWidget(self.tabs)

    def load(self) -> None:
        """Find out who is working here (off the GUI thread), then build the tabs."""
        if self.user_id is not None:
            return
        db = self._db

        def work(_context: TaskContext) -> int:
            with db.session() as session:
                return current_user(session).id

        self._runner.run(work, on_done=self._build, on_error=self._failed, name="tickets-user")

    def _failed(self, error: BaseException) -> None:
        self.message.setText(self.tr("Tickets cannot be shown: {error}").format(error=error))

    def _build(self, user_id: int) -> None:
        self.user_id = user_id
        self.my_tickets = MyTickets(self._db, self._runner, user_id)
        self.board = TicketBoard(self._db, self._runner, user_id)
        self.tabs.addTab(self.my_tickets, self.tr("My tickets"))
        self.tabs.addTab(self.board, self.tr("Board"))
        self.message.hide()
        self.tabs.show()
        self.my_tickets.start()
        self.board.start()

    def refresh(self) -> None:
        for widget in (self.my_tickets, self.board):
            if widget is not None:
                widget.refresh()

    def stop(self) -> None:
        for widget in (self.my_tickets, self.board):
            if widget is not None:
                widget.stop()
