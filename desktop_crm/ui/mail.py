"""The client's mail: the IMAP watchers on their threads, and the unassigned-mail page.

:class:`MailCentre` runs one :class:`~desktop_crm.mail.ImapWatcher` per ``[[imap]]`` table. On
the watcher's thread (never the GUI thread) each new mail is also routed to the ticket inbox
(:func:`~desktop_crm.tickets.inbox.ticket_from_mail`, as ``desktop-crm listen`` does), then the
mail and every status change reach the GUI thread through the window's one
:class:`~desktop_crm.ui.bridge.EventBridge` (the call centre's: it ignores what is not a call).

:class:`MailPage` lists the unassigned mail (a lazy table over ids) with a preview; "Assign to
contact…" and "Dismiss" write in the background and the list is read again afterwards.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_crm.data import mail_store
from desktop_crm.data.db import Database
from desktop_crm.data.mail_store import UnassignedRow
from desktop_crm.mail import ImapWatcher, MailEvent, MailState, MailStatus, watchers_from_settings
from desktop_crm.mail.watcher import describe_error as describe_mail_error

from .bridge import EventBridge
from .call_dialogs import FindContactDialog
from .errors import describe_error
from .models import _LazyTable
from .reader import CrmReader
from .tasks import TaskContext, TaskRunner

log = logging.getLogger(__name__)

SETTINGS_SOURCE = "settings"


@dataclass(frozen=True)
class MailArrival:
    """A new mail and, when it went to a support mailbox, the ticket it opened or joined."""

    event: MailEvent
    ticket_number: str | None = None
    ticket_created: bool = False


def route_to_ticket(db: Database, event: MailEvent) -> tuple[str, bool] | None:
    """Worker thread: a mail to a support mailbox opens a ticket or joins the one it answers.

    Own session; a failure is logged and never stops the watcher (as in ``desktop-crm listen``).
    """
    from desktop_crm.tickets.inbox import ticket_from_mail

    try:
        with db.session() as session:
            result = ticket_from_mail(session, event)
            if result is None:
                return None
            return str(result[0].number), bool(result[1])
    except Exception:
        log.warning("mail %s could not be added to a ticket", event.message_id, exc_info=True)
        return None


def mail_state_words(status: MailStatus) -> str:
    """``office: waiting for new mail`` / ``office: reconnecting (wrong user name …)``."""
    state = status.state
    if state is MailState.CONNECTING:
        text = QCoreApplication.translate("Mail", "connecting")
    elif state is MailState.SCANNING:
        if status.total:
            text = QCoreApplication.translate(
                "Mail", "reading {folder} ({done} of {total})"
            ).format(folder=status.folder, done=status.done, total=status.total)
        else:
            text = QCoreApplication.translate("Mail", "reading {folder}").format(
                folder=status.folder
            )
    elif state is MailState.IDLE:
        text = QCoreApplication.translate("Mail", "idle, waiting for new mail")
    elif state is MailState.POLLING:
        text = QCoreApplication.translate("Mail", "polling for new mail")
    elif state is MailState.RECONNECTING:
        text = QCoreApplication.translate("Mail", "reconnecting")
    else:
        text = QCoreApplication.translate("Mail", "stopped")
    if status.reason:
        text += ": " + status.reason
    if status.retry_in is not None and state is MailState.RECONNECTING:
        text += "; " + QCoreApplication.translate("Mail", "next attempt in {seconds} s").format(
            seconds=round(status.retry_in)
        )
    return f"{status.account}: {text}"


def mail_failing(status: MailStatus) -> bool:
    return status.state is MailState.RECONNECTING or (
        status.state is MailState.STOPPED and bool(status.reason)
    )


class MailCentre(QObject):
    """Owns the IMAP watchers; delivers new mail and account states on the GUI thread."""

    #: a list of :class:`MailArrival`, oldest first
    mail_arrived = Signal(list)
    #: a :class:`MailStatus`
    status_changed = Signal(object)

    def __init__(self, db: Database, bridge: EventBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.bridge = bridge
        bridge.batch_ready.connect(self._batch)
        self.watchers: list[ImapWatcher] = []
        self.statuses: dict[str, MailStatus] = {}
        self.route_tickets = True

    def start(
        self,
        entries: Sequence[dict[str, Any]],
        password_for: Callable[[str], str] | None = None,
    ) -> None:
        """Start a watcher per ``[[imap]]`` table; bad settings are reported as a status."""
        if self.watchers or not entries:
            return
        if password_for is None:
            from desktop_crm.secrets import get_secret

            password_for = get_secret
        try:
            watchers = watchers_from_settings(list(entries), self.db, password_for)
        except ValueError as exc:
            self._report(MailStatus(SETTINGS_SOURCE, MailState.STOPPED, str(exc)))
            return
        for watcher in watchers:
            watcher.start(self._deliver)
        self.watchers = watchers

    def stop(self) -> None:
        """Stop every watcher at once (each returns within a second). Idempotent."""
        watchers, self.watchers = self.watchers, []
        threads = [
            threading.Thread(target=w.stop, name=f"stop-{w.name}", daemon=True) for w in watchers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(2.0)

    @property
    def running(self) -> bool:
        return any(w.running for w in self.watchers)

    # --- watcher threads ---------------------------------------------------------------------

    def _deliver(self, item: MailEvent | MailStatus) -> None:
        """Called on a watcher's thread: route to the ticket inbox, hand on through the bridge."""
        if isinstance(item, MailEvent):
            ticket = route_to_ticket(self.db, item) if self.route_tickets else None
            if ticket is None:
                self.bridge.submit(MailArrival(item))
            else:
                self.bridge.submit(MailArrival(item, ticket[0], ticket[1]))
        else:
            self.bridge.submit(item)

    # --- GUI thread ----------------------------------------------------------------------------

    def _report(self, status: MailStatus) -> None:
        self.statuses[status.account] = status
        self.status_changed.emit(status)

    def _batch(self, items: list[Any]) -> None:
        arrivals: list[MailArrival] = []
        for item in items:
            if isinstance(item, MailArrival):
                arrivals.append(item)
            elif isinstance(item, MailStatus):
                self._report(item)
        if arrivals:
            self.mail_arrived.emit(arrivals)


def check_connection(entry: dict[str, Any], password: str) -> str:
    """Log in once with the watcher's own connect code (same TLS rules); the result in words.

    Blocking: run it off the GUI thread.
    """
    from desktop_crm.mail.watcher import ImapAccount

    account = ImapAccount.from_settings({"secret": "-", **entry})
    watcher = ImapWatcher(account, None, lambda: password)  # type: ignore[arg-type]
    try:
        client = watcher._connect()
    except Exception as exc:
        return QCoreApplication.translate("Mail", "Failed: {reason}").format(
            reason=describe_mail_error(exc, account)
        )
    try:
        folders = len(client.list_folders())
    except Exception:
        folders = 0
    finally:
        watcher._close()
    return QCoreApplication.translate(
        "Mail", "Connected and logged in as {user} ({folders} folders)."
    ).format(user=account.user, folders=folders)


# --- the unassigned-mail page ---------------------------------------------------------------


@dataclass(frozen=True)
class _OrganizationChoice:
    """An organization as the find dialog shows a row (it reads these fields)."""

    id: int
    name: str
    phone: str
    city: str
    organization: str = ""  # the customer number, shown where a contact's company would be
    email: str = ""


def _sender(row: UnassignedRow) -> str:
    if row.sender_name and row.sender:
        return f"{row.sender_name} <{row.sender}>"
    return row.sender_name or row.sender


class UnassignedMailModel(_LazyTable):
    """Open unassigned mail by id, newest first; rows fetched lazily in blocks."""

    SENDER, SUBJECT, DATE, ACCOUNT = range(4)
    _FIELDS = ("sender", "subject", "sent_at", "account")
    WHAT = "unassigned mail rows"

    def cell(self, row: UnassignedRow, column: int) -> Any:
        if column == self.SENDER:
            return _sender(row)
        if column == self.SUBJECT:
            return row.subject or self.tr("(no subject)")
        if column == self.DATE:
            return row.sent_at.astimezone().strftime("%Y-%m-%d %H:%M")
        return f"{row.account} / {row.folder}"

    def titles(self) -> tuple[str, ...]:
        return (self.tr("From"), self.tr("Subject"), self.tr("Date"), self.tr("Mailbox"))


class MailPage(QWidget):
    """Mail nobody known sent or received: assign it to a contact, or dismiss it."""

    #: the number of open unassigned mails, after every reload
    count_changed = Signal(int)
    #: a reload finished (tests wait for it)
    reloaded = Signal()

    def __init__(
        self,
        db: Database,
        runner: TaskRunner,
        reader: CrmReader,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mailPage")
        self.db = db
        self.runner = runner
        self.reader = reader
        self.loading = False
        self.count = 0
        self.dialog: FindContactDialog | None = None

        self.model = UnassignedMailModel(self._fetch_rows, self)
        self.model.error_handler = self._failed_message
        self.table = QTableView()
        self.table.setObjectName("unassignedMailTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        rows = self.table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(True)
        fm = self.fontMetrics()
        for column, sample in (
            (UnassignedMailModel.SENDER, "Stefanie Baumgart <s.baumgart@example.de>"),
            (UnassignedMailModel.SUBJECT, "Anfrage: Angebot für die Wartung 2026"),
            (UnassignedMailModel.DATE, "2026-11-22 14:30"),
        ):
            self.table.setColumnWidth(column, fm.horizontalAdvance(sample) + 12)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.doubleClicked.connect(lambda _index: self.assign_current())

        self.title = QLabel()
        self.title.setObjectName("mailPageTitle")
        self.reload_button = QPushButton(self.tr("Reload"))
        self.reload_button.clicked.connect(self.reload)
        self.assign_button = QPushButton(self.tr("Assign to contact…"))
        self.assign_button.setObjectName("assignMailButton")
        self.assign_button.clicked.connect(self.assign_current)
        self.assign_org_button = QPushButton(self.tr("Assign to organization…"))
        self.assign_org_button.setObjectName("assignMailOrganizationButton")
        self.assign_org_button.clicked.connect(lambda: self.assign_current(organization=True))
        self.dismiss_button = QPushButton(self.tr("Dismiss"))
        self.dismiss_button.setObjectName("dismissMailButton")
        self.dismiss_button.clicked.connect(self.dismiss_current)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        for button in (
            self.assign_button,
            self.assign_org_button,
            self.dismiss_button,
            self.reload_button,
        ):
            top.addWidget(button)

        self.preview = QTextBrowser()
        self.preview.setObjectName("mailPreview")
        self.preview.setOpenLinks(False)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.table)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 0)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self._update_title()
        self._update_buttons()

    # --- reading -----------------------------------------------------------------------------

    def _fetch_rows(self, ids: Sequence[int]) -> Mapping[int, UnassignedRow]:
        with self.db.session() as session:
            return mail_store.unassigned_rows(session, ids)

    def reload(self) -> None:
        """Read the ids of the open unassigned mail in the background, then show them."""
        self.loading = True
        db = self.db
        selected = self.current_id()

        def work(_context: TaskContext) -> list[int]:
            with db.session() as session:
                return mail_store.unassigned_ids(session)

        def done(ids: list[int]) -> None:
            self.loading = False
            self.model.set_ids(ids)
            self.count = len(ids)
            row = self.model.row_of(selected) if selected is not None else None
            if row is not None:
                self.table.selectRow(row)
            else:
                self.preview.clear()
            self._update_title()
            self._update_buttons()
            self.count_changed.emit(self.count)
            self.reloaded.emit()

        def failed(exc: BaseException) -> None:
            self.loading = False
            self._failed_message(describe_error(exc))
            self.reloaded.emit()

        self.runner.run(work, on_done=done, on_error=failed, name="unassigned-mail")

    def current_id(self) -> int | None:
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row()):
            return None
        return self.model.record_id(index.row())

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.row_data(current.row()) if current.isValid() else None
        self._update_buttons()
        if row is None:
            self.preview.clear()
            return
        self.preview.setPlainText(
            "\n".join(
                [
                    self.tr("From: {sender}").format(sender=_sender(row)),
                    self.tr("To: {recipients}").format(recipients=", ".join(row.recipients)),
                    self.tr("Date: {date}").format(
                        date=row.sent_at.astimezone().strftime("%Y-%m-%d %H:%M")
                    ),
                    self.tr("Subject: {subject}").format(subject=row.subject),
                ]
                + (
                    [self.tr("Attachments: {names}").format(names=", ".join(row.attachments))]
                    if row.attachments
                    else []
                )
                + ["", row.snippet]
            )
        )

    def _update_title(self) -> None:
        self.title.setText(self.tr("%n unassigned mail(s)", "", self.count))

    def _update_buttons(self) -> None:
        selected = self.table.currentIndex().isValid()
        self.assign_button.setEnabled(selected)
        self.assign_org_button.setEnabled(selected)
        self.dismiss_button.setEnabled(selected)

    def _failed_message(self, message: str) -> None:
        self.title.setText(self.tr("Could not read the mail: {error}").format(error=message))

    # --- decisions (written in the background) -----------------------------------------------

    def _organization_rows(self, ids: Sequence[int]) -> Mapping[int, Any]:
        return {
            i: _OrganizationChoice(r.id, r.name, r.phone, r.city, r.customer_number)
            for i, r in self.reader.organization_rows(ids).items()
        }

    def assign_current(self, *, organization: bool = False) -> FindContactDialog | None:
        """Find the contact (or organization) in a dialog; the mail is logged there."""
        unassigned_id = self.current_id()
        if unassigned_id is None:
            return None
        row = self.model.row_data(self.table.currentIndex().row())
        who = _sender(row) if row is not None else ""
        if organization:
            dialog = FindContactDialog(
                self.runner,
                self.reader.organization_ids,
                self._organization_rows,
                self.tr("Assign the mail from {sender} to which organization?").format(sender=who),
                self,
            )
        else:
            dialog = FindContactDialog(
                self.runner,
                self.reader.search,
                self.reader.contact_rows,
                self.tr("Assign the mail from {sender} to which contact?").format(sender=who),
                self,
            )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))

        def accepted() -> None:
            record_id = dialog.contact_id()  # the id of the row picked, either kind
            if record_id is None:
                return
            if organization:
                self.assign(unassigned_id, organization_id=record_id)
            else:
                self.assign(unassigned_id, contact_id=record_id)

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def assign(
        self,
        unassigned_id: int,
        *,
        contact_id: int | None = None,
        organization_id: int | None = None,
    ) -> None:
        db = self.db

        def work(_context: TaskContext) -> int:
            with db.session() as session:
                return mail_store.assign_unassigned(
                    session,
                    unassigned_id,
                    contact_id=contact_id,
                    organization_id=organization_id,
                ).id

        self.runner.run(
            work, on_done=lambda _id: self.reload(), on_error=self._write_failed, name="assign-mail"
        )

    def dismiss_current(self) -> None:
        unassigned_id = self.current_id()
        if unassigned_id is not None:
            self.dismiss(unassigned_id)

    def dismiss(self, unassigned_id: int) -> None:
        db = self.db

        def work(_context: TaskContext) -> None:
            with db.session() as session:
                mail_store.dismiss_unassigned(session, unassigned_id)

        self.runner.run(
            work, on_done=lambda _r: self.reload(), on_error=self._write_failed, name="dismiss-mail"
        )

    def _write_failed(self, exc: BaseException) -> None:
        self.title.setText(self.tr("Not saved: {error}").format(error=describe_error(exc)))
        self.reload()
