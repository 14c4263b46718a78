"""The main window: search, the contact list and the selected contact's detail pane."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from desktop_crm.data import history as history_service
from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.errors import DataError, NotFound
from desktop_crm.data.history import InteractionInput
from desktop_crm.data.models import Direction, Interaction, InteractionKind
from desktop_crm.data.queries import ListAnchors
from desktop_crm.identify.resolve import RecordKind
from desktop_crm.identify.rules import DialingRules
from desktop_crm.settings import Settings, config_path

from .call_dialogs import FindContactDialog, NewTicketDialog, SimulateCallDialog
from .calls import CallCentre
from .contact_form import ContactDialog, OrganizationDialog
from .contact_view import ContactView
from .errors import describe_error
from .live import LiveRefresh
from .mail import MailArrival, MailCentre, MailPage
from .models import ContactTableModel
from .pages import CallsPage, OrganizationsPage, PlaceholderPage
from .popup import CallerPopup, CallInfo, popup_options
from .reader import SEARCH_LIMIT, ContactDetail, CrmReader, HistoryEntry, SearchResult
from .settings_dialog import SettingsDialog
from .tasks import Progress, Task, TaskContext, TaskRunner
from .transfer import Transfers
from .tray import CallTray

if TYPE_CHECKING:
    from desktop_crm.data.demo import DemoSummary
    from desktop_crm.data.importing import ImportReport

log = logging.getLogger(__name__)

APP_TITLE = "desktop_crm"
DEMO_CONTACTS = 250
_LOAD_ERRORS = (DataError, SQLAlchemyError)


def ask_load_demo_data(parent: QWidget, *, empty: bool = True) -> bool:
    """The question dialog (blocking, as a question has to be)."""
    if empty:
        text = QCoreApplication.translate("DemoData", "The database is empty. Load demo data?")
    else:
        text = QCoreApplication.translate("DemoData", "Load demo data into this database?")
    box = QMessageBox(
        QMessageBox.Icon.Question,
        QCoreApplication.translate("DemoData", "Demo data"),
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        parent,
    )
    box.setInformativeText(
        QCoreApplication.translate(
            "DemoData",
            "{count} invented contacts with organizations and history are added, so you can "
            "try searching and the history view.",
        ).format(count=DEMO_CONTACTS)
    )
    box.setDefaultButton(QMessageBox.StandardButton.Yes)
    return box.exec() == QMessageBox.StandardButton.Yes


class MainWindow(QMainWindow):
    SEARCH_DELAY_MS = 150
    FIRST_PAGE = 400  # ids of the whole list shown before the rest has arrived
    #: the first search (the whole list) has been shown
    loaded = Signal()

    def __init__(
        self,
        db: Database,
        parent: QWidget | None = None,
        *,
        rules: DialingRules | None = None,
        settings: Settings | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.settings = settings
        self.rules = rules or DialingRules()
        self.reader = CrmReader(db, self.rules)
        self.tasks = TaskRunner(self)
        self._shut_down = False
        self.record_dialog: ContactDialog | OrganizationDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        # telephony: the listener (started by start_telephony), the pop-up (made once, now)
        self.calls = CallCentre(db, self.rules, self.tasks, self)
        self.popup = CallerPopup(self.calls, **popup_options(settings))
        self.tray = CallTray(self)
        # mail (issue 5): the IMAP watchers feed the same bridge as the call listener
        self.mail = MailCentre(db, self.calls.bridge, self)
        self.transfers = Transfers(self, db, self.tasks, self.rules.country)
        self.total_contacts = 0
        self.demo_task: Task[DemoSummary] | None = None
        self.progress_dialog: QProgressDialog | None = None
        self.message_box: QMessageBox | None = None
        self._search_text = ""
        self._search_generation = 0
        self.searching = False
        self.loading_rest = False
        self.detail_loading = False
        self._detail_generation = 0
        self._loaded_once = False
        self._pending_keys: list[tuple[Qt.Key, Qt.KeyboardModifier]] = []
        self._load_failed = False
        self._shown_id: int | None = None  # the contact in the detail pane (or failed there)

        self.setWindowTitle(f"{APP_TITLE} — {db.display_url}")
        self.setObjectName("mainWindow")

        # --- left: search and list -------------------------------------------------------
        self.search_box = QLineEdit()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText(self.tr("Search name, number, e-mail or customer no."))
        self.search_box.setClearButtonEnabled(True)
        self.search_box.installEventFilter(self)

        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(self.SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self.run_search)
        self.search_box.textEdited.connect(lambda _text: self.search_timer.start())
        self.search_box.returnPressed.connect(self.run_search)

        self.contact_model = ContactTableModel(
            self.reader.contact_rows,
            self,
            fetch_range=self.reader.contact_range,
            locate=self.reader.contact_position,
        )
        self.contact_model.error_handler = self._rows_failed
        self.contact_model.runner = self.tasks  # blocks next to the one shown are read ahead
        self.contact_table = QTableView()
        self.contact_table.setObjectName("contactTable")
        self.contact_table.setModel(self.contact_model)
        self.contact_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.contact_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.contact_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.contact_table.setAlternatingRowColors(True)
        self.contact_table.setShowGrid(False)
        self.contact_table.setWordWrap(False)
        self.contact_table.setTabKeyNavigation(False)
        rows = self.contact_table.verticalHeader()
        rows.hide()
        # fixed row heights: the view never measures rows it does not show
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.contact_table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(self.fontMetrics().horizontalAdvance("Ulm") + 24)
        header.setStretchLastSection(True)  # the city takes what is left
        # widths from typical values (never from the contents: that would read every row)
        fm = self.fontMetrics()
        for column, sample in (
            (ContactTableModel.NAME, "Stefanie Baumgart"),
            (ContactTableModel.ORGANIZATION, "Müller Anlagenbau"),
            (ContactTableModel.PHONE, "+49 (0)761 23974"),
            (ContactTableModel.EMAIL, "b.baumgartner@spree"),
        ):
            self.contact_table.setColumnWidth(column, fm.horizontalAdvance(sample) + 12)
        self.contact_table.selectionModel().currentRowChanged.connect(self._current_changed)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 0)
        left_layout.setSpacing(6)
        left_layout.addWidget(self.search_box)
        left_layout.addWidget(self.contact_table, 1)

        # --- right: detail ---------------------------------------------------------------
        self.contact_view = ContactView()
        self.contact_view.note_requested.connect(self.save_note)
        self.contact_view.edit_requested.connect(self.edit_contact)
        self.contact_view.open_record.connect(self.open_record)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.contact_view)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([615, 585])
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.pages.addWidget(self.splitter)
        self.organizations_page = OrganizationsPage(self.reader, self.tasks)
        self.organizations_page.open_record.connect(self.open_record)
        self.organizations_page.edit_requested.connect(self.edit_organization)
        self.pages.addWidget(self.organizations_page)
        self.calls_page = CallsPage(self.reader, self.tasks)
        self.calls_page.open_record.connect(self.open_record)
        self.pages.addWidget(self.calls_page)
        self.mail_page: QWidget = PlaceholderPage(
            "mailPage",
            self.tr(
                "Mails from customers appear here once a mailbox is set up "
                "(Settings, IMAP accounts)."
            ),
        )
        self.pages.addWidget(self.mail_page)
        # the ticket board (issue 7) replaces this page: see set_tickets_page()
        self.tickets_page: QWidget = PlaceholderPage(
            "ticketsPage", self.tr("The ticket board appears here.")
        )
        self.pages.addWidget(self.tickets_page)

        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        for text in (
            self.tr("Contacts"),
            self.tr("Organizations"),
            self.tr("Calls"),
            self.tr("Mail"),
            self.tr("Tickets"),
        ):
            self.navigation.addItem(QListWidgetItem(text))
        fm = self.fontMetrics()
        self.navigation.setFixedWidth(
            max(fm.horizontalAdvance(self.navigation.item(i).text()) for i in range(5)) + 48
        )
        self.navigation.setSpacing(1)
        self.navigation.setStyleSheet("QListWidget#navigation::item { padding: 5px 8px; }")
        self.navigation.currentRowChanged.connect(self.show_page)
        self.navigation.setCurrentRow(self.CONTACTS)

        central = QWidget()
        central_layout = QHBoxLayout(central)
        central_layout.setContentsMargins(6, 6, 6, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.navigation)
        central_layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        # --- status bar ------------------------------------------------------------------
        self.count_label = QLabel()
        self.count_label.setObjectName("contactCount")
        self.statusBar().addPermanentWidget(self.count_label)

        self.telephony_label = QLabel()
        self.telephony_label.setObjectName("telephonyStatus")
        self.telephony_label.setContentsMargins(12, 0, 4, 0)
        self.statusBar().addPermanentWidget(self.telephony_label)

        self._build_menus()
        self._connect_telephony()
        # issue 8: what others change appears here; the role decides what is offered
        self.live = LiveRefresh(self)
        self.resize(1200, 750)
        self.reload()
        self.live.read_role()

    # --- pages -----------------------------------------------------------------------------

    CONTACTS, ORGANIZATIONS, CALLS, MAIL, TICKETS = range(5)

    def show_page(self, index: int) -> None:
        if self.navigation.currentRow() != index:
            self.navigation.setCurrentRow(index)  # comes back here through the signal
            return
        self.pages.setCurrentIndex(index)
        if index == self.ORGANIZATIONS and not self.organizations_page.loaded_once:
            self.organizations_page.search()
        elif index == self.CALLS:
            self.calls_page.reload()
            self.tray.clear_missed()
        elif index == self.TICKETS and hasattr(self.tickets_page, "load"):
            self.tickets_page.load()
        elif index == self.MAIL and isinstance(self.mail_page, MailPage):
            self.mail_page.reload()

    def set_tickets_page(self, page: QWidget) -> None:
        """Put the ticket board (issue 7) in place of the placeholder."""
        index = self.pages.indexOf(self.tickets_page)
        current = self.pages.currentIndex() == index
        self.pages.removeWidget(self.tickets_page)
        self.tickets_page.deleteLater()
        self.tickets_page = page
        self.pages.insertWidget(index, page)
        if current:
            self.pages.setCurrentIndex(index)

    def set_mail_page(self, page: MailPage) -> None:
        """Put the unassigned-mail page (issue 5) in place of the placeholder; its count
        becomes the badge of the navigation entry."""
        index = self.pages.indexOf(self.mail_page)
        current = self.pages.currentIndex() == index
        self.pages.removeWidget(self.mail_page)
        self.mail_page.deleteLater()
        self.mail_page = page
        self.pages.insertWidget(index, page)
        if current:
            self.pages.setCurrentIndex(index)
        page.count_changed.connect(self._mail_count_changed)
        page.reload()

    def _mail_count_changed(self, count: int) -> None:
        item = self.navigation.item(self.MAIL)
        item.setText(self.tr("Mail ({count})").format(count=count) if count else self.tr("Mail"))

    def _mail_arrived(self, arrivals: list[MailArrival]) -> None:
        shown = len(self.tray.notified)
        for arrival in arrivals:
            self.tray.notify_mail(arrival.event)
        if len(self.tray.notified) > shown and not self.tray.icon.isVisible():
            title, text = self.tray.notified[-1]  # no tray on this desktop: the status bar
            self.statusBar().showMessage(f"{title}: {text}", 10_000)
        if isinstance(self.mail_page, MailPage) and any(
            a.event.unassigned_id is not None for a in arrivals
        ):
            self.mail_page.reload()
        last = arrivals[-1]
        if last.ticket_number is not None:
            self.statusBar().showMessage(
                self.tr("Mail from {sender} added to ticket {number}.").format(
                    sender=last.event.sender or "", number=last.ticket_number
                ),
                10_000,
            )

    # --- menus -----------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.reload_action = QAction(self.tr("&Reload"), self)
        self.reload_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.reload_action.triggered.connect(self.reload)
        file_menu.addAction(self.reload_action)
        self.import_action = QAction(self.tr("&Import contacts…"), self)
        self.import_action.setObjectName("importAction")
        self.import_action.triggered.connect(self._import_triggered)
        file_menu.addAction(self.import_action)
        self.export_action = QAction(self.tr("&Export contacts…"), self)
        self.export_action.setObjectName("exportAction")
        self.export_action.triggered.connect(self._export_triggered)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        self.demo_action = QAction(self.tr("Load &demo data…"), self)
        self.demo_action.triggered.connect(self._demo_action_triggered)
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        self.settings_action = QAction(self.tr("&Settings…"), self)
        self.settings_action.setObjectName("settingsAction")
        self.settings_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Preferences))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.triggered.connect(self.open_settings)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        self.quit_action = QAction(self.tr("&Quit"), self)
        self.quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        edit_menu = self.menuBar().addMenu(self.tr("&Edit"))
        self.find_action = QAction(self.tr("&Find contact"), self)
        self.find_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        self.find_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.find_action.triggered.connect(self.focus_search)
        edit_menu.addAction(self.find_action)
        edit_menu.addSeparator()
        self.new_contact_action = QAction(self.tr("&New contact…"), self)
        self.new_contact_action.setObjectName("newContactAction")
        self.new_contact_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_contact_action.triggered.connect(self.new_contact)
        edit_menu.addAction(self.new_contact_action)
        self.new_organization_action = QAction(self.tr("New &organization…"), self)
        self.new_organization_action.triggered.connect(self.new_organization)
        edit_menu.addAction(self.new_organization_action)
        self.edit_contact_action = QAction(self.tr("&Edit contact…"), self)
        self.edit_contact_action.setShortcut(QKeySequence("Ctrl+E"))
        self.edit_contact_action.triggered.connect(self.edit_current_contact)
        edit_menu.addAction(self.edit_contact_action)
        self.delete_contact_action = QAction(self.tr("&Delete contact…"), self)
        self.delete_contact_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_contact_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_contact_action.triggered.connect(self.delete_current_contact)
        self.contact_table.addAction(self.delete_contact_action)
        edit_menu.addAction(self.delete_contact_action)
        self.note_action = QAction(self.tr("Add &note…"), self)
        self.note_action.setObjectName("noteAction")
        self.note_action.setShortcut(QKeySequence("Ctrl+Shift+N"))
        self.note_action.triggered.connect(self.add_note)
        edit_menu.addAction(self.note_action)

        calls_menu = self.menuBar().addMenu(self.tr("&Calls"))
        self.simulate_action = QAction(self.tr("&Simulate incoming call…"), self)
        self.simulate_action.setObjectName("simulateAction")
        self.simulate_action.setShortcut(QKeySequence("Ctrl+Shift+I"))
        self.simulate_action.triggered.connect(self.simulate_call)
        calls_menu.addAction(self.simulate_action)
        self.demo_calls_action = QAction(self.tr("Play the &demo calls"), self)
        self.demo_calls_action.triggered.connect(self.play_demo_calls)
        calls_menu.addAction(self.demo_calls_action)
        calls_menu.addSeparator()
        self.dismiss_action = QAction(self.tr("&Close all call pop-ups"), self)
        self.dismiss_action.triggered.connect(self.popup.dismiss_all)
        calls_menu.addAction(self.dismiss_action)

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self.about_action = QAction(self.tr("&About desktop_crm"), self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self._about)
        help_menu.addAction(self.about_action)

    def focus_search(self) -> None:
        if self.pages.currentIndex() == self.ORGANIZATIONS:
            self.organizations_page.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.organizations_page.search_box.selectAll()
            return
        self.show_page(self.CONTACTS)
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About desktop_crm"),
            self.tr(
                "desktop_crm: contacts, caller identification and contact history.\n\n"
                "Database: {url}"
            ).format(url=self.db.display_url),
        )

    # --- loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Run the current search again and refresh the detail pane (F5)."""
        self.search_timer.stop()
        self._search(self.search_box.text(), force=True)

    def run_search(self) -> None:
        self.search_timer.stop()
        self._search(self.search_box.text())

    def _search(self, text: str, *, force: bool = False) -> None:
        """Search in the background; a newer search makes an older answer obsolete."""
        text = text.strip()
        if text == self._search_text and not force and not self._load_failed:
            return
        self._search_text = text
        self._search_generation += 1
        generation = self._search_generation
        reader = self.reader
        self.searching = True

        def work(_context: TaskContext) -> SearchResult:
            # the whole list: its first screen at once, the other ids after (_load_rest)
            return reader.first_page(self.FIRST_PAGE) if not text else reader.search(text)

        def done(result: SearchResult) -> None:
            if generation != self._search_generation:
                return
            self.searching = False
            if self._load_failed:  # the error message is out of date now
                self.statusBar().clearMessage()
            self._load_failed = False
            self._show_result(result)
            if not text and len(result.ids) < result.total:
                self._load_rest(generation, len(result.ids))
            self._replay_keys()
            if not self._loaded_once:
                self._loaded_once = True
                self.loaded.emit()

        def failed(exc: BaseException) -> None:
            if generation != self._search_generation:
                return
            self.searching = False
            self._pending_keys.clear()
            if isinstance(exc, _LOAD_ERRORS):
                self._load_error(exc, "searching contacts failed")
            else:
                log.error("searching contacts failed", exc_info=exc)
            if not self._loaded_once:
                self._loaded_once = True
                self.loaded.emit()

        self.tasks.run(work, on_done=done, on_error=failed, name="search")

    def _load_rest(self, generation: int, shown: int) -> None:
        """The rest of the whole list after its first screen, appended when it arrives: held
        as anchors every 200 rows (docs/architecture.md), not as a million ids."""
        reader = self.reader
        self.loading_rest = True

        def work(_context: TaskContext) -> ListAnchors:
            return reader.contact_list(head=shown)

        def done(anchors: ListAnchors) -> None:
            self.loading_rest = False
            if generation != self._search_generation:
                return  # the user searched meanwhile
            # appended when the first screen is still the start of the list, else (changed
            # meanwhile) the list is shown as it is now
            self.contact_model.extend_with_anchors(anchors)
            self.total_contacts = anchors.count
            self._update_count(
                SearchResult([], anchors.count, truncated=False), shown=anchors.count
            )

        def failed(exc: BaseException) -> None:
            self.loading_rest = False
            if isinstance(exc, _LOAD_ERRORS):
                self._load_error(exc, "loading the contact list failed")
            else:
                log.error("loading the contact list failed", exc_info=exc)

        self.tasks.run(work, on_done=done, on_error=failed, name="contact-list")

    def _replay_keys(self) -> None:
        """Arrow keys pressed while the search ran move through its results now."""
        keys, self._pending_keys = self._pending_keys, []
        for key, modifiers in keys:
            self.contact_table.keyPressEvent(QKeyEvent(QEvent.Type.KeyPress, key, modifiers))

    def _show_result(self, result: SearchResult) -> None:
        previous = self._shown_id
        self.total_contacts = result.total
        self.contact_model.set_ids(result.ids)
        self._update_count(result)
        row = self.contact_model.row_of(previous) if previous is not None else None
        if row is None and result.ids:
            row = 0
        if row is None:
            self._shown_id = None
            if self._search_text:
                hint = self.tr("No contact matches “{text}”.").format(text=self._search_text)
            else:
                hint = self.tr(
                    "No contacts yet. Load demo data (File menu) or import contacts with "
                    "“desktop-crm import”."
                )
            self.contact_view.show_hint(hint)
            return
        self._shown_id = None
        self.contact_table.selectRow(row)
        if self._shown_id is None:  # the current row stayed, so no signal: load afresh (F5)
            self._show_contact(result.ids[row])
        self.contact_table.scrollTo(self.contact_model.index(row, 0))

    def _update_count(self, result: SearchResult, *, shown: int | None = None) -> None:
        text = self.tr("{shown} of {total} contacts shown").format(
            shown=len(result.ids) if shown is None else shown, total=result.total
        )
        if result.truncated:
            text += " " + self.tr("(first {limit} matches; refine the search)").format(
                limit=SEARCH_LIMIT
            )
        self.count_label.setText(text)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        contact_id = self.contact_model.contact_id(current.row()) if current.isValid() else None
        if contact_id is None:
            self._shown_id = None
            self.contact_view.show_hint()
        elif contact_id != self._shown_id:
            self._show_contact(contact_id)

    def _show_contact(self, contact_id: int) -> None:
        """Read the contact's 360° view in the background; the newest selection wins."""
        self._shown_id = contact_id
        self._detail_generation += 1
        generation = self._detail_generation
        reader = self.reader
        self.detail_loading = True

        def work(_context: TaskContext) -> tuple[ContactDetail, list[HistoryEntry]]:
            return reader.contact(contact_id), reader.history(contact_id)

        def done(result: tuple[ContactDetail, list[HistoryEntry]]) -> None:
            if generation != self._detail_generation:
                return
            self.detail_loading = False
            self.contact_view.show_contact(*result)

        def failed(exc: BaseException) -> None:
            if generation != self._detail_generation:
                return
            self.detail_loading = False
            if not isinstance(exc, NotFound):
                if isinstance(exc, _LOAD_ERRORS):
                    self._load_error(exc, "loading a contact failed")
                else:
                    log.error("loading a contact failed", exc_info=exc)
            self.contact_view.show_hint(describe_error(exc))

        self.tasks.run(work, on_done=done, on_error=failed, name="contact")

    @property
    def load_failed(self) -> bool:
        """The last search (or row fetch) met a database error."""
        return self._load_failed

    def _load_error(self, exc: BaseException, what: str) -> None:
        log.error("%s: %s", what, exc)
        self._load_failed = True
        self.statusBar().showMessage(describe_error(exc))

    def _rows_failed(self, message: str) -> None:
        # called from inside data(): report after the paint, not during it
        self._load_failed = True
        QTimer.singleShot(0, self, lambda: self.statusBar().showMessage(message))

    # --- keyboard --------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search_box and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                # arrows move through the results while the cursor stays in the search box
                self.run_search()
                if self.searching:
                    self._pending_keys.append((Qt.Key(key), event.modifiers()))
                else:
                    self.contact_table.keyPressEvent(event)
                return True
            if key == Qt.Key.Key_Escape and self.search_box.text():
                self.search_box.clear()
                self.run_search()
                return True
        return super().eventFilter(watched, event)

    # --- demo data -------------------------------------------------------------------------

    def _demo_action_triggered(self) -> None:
        if ask_load_demo_data(self, empty=self.total_contacts == 0):
            self.load_demo_data()

    def load_demo_data(self, contacts: int = DEMO_CONTACTS) -> Task[DemoSummary]:
        """Seed demo data in a worker with a progress dialog; refresh when done."""
        if self.demo_task is not None:
            return self.demo_task
        # imported when needed: its word lists are not needed to open the window
        from desktop_crm.data.demo import seed_demo

        db = self.db

        def work(context: TaskContext) -> DemoSummary:
            def progress(done: int, total: int) -> None:
                # raising here makes seed_demo roll everything back
                context.raise_if_cancelled()
                context.report_progress(done, total)

            return seed_demo(db, contacts=contacts, progress=progress)

        dialog = QProgressDialog(self.tr("Loading demo data…"), self.tr("Cancel"), 0, 0, self)
        dialog.setObjectName("demoProgress")
        dialog.setWindowTitle(self.tr("Demo data"))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self._cancel_demo)
        self.progress_dialog = dialog
        self.demo_action.setEnabled(False)
        self.demo_task = self.tasks.run(
            work,
            on_done=self._demo_done,
            on_error=self._demo_failed,
            on_progress=self._demo_progress,
            on_cancelled=self._demo_cancelled,
            name="demo-data",
        )
        dialog.show()
        return self.demo_task

    def _cancel_demo(self) -> None:
        if self.demo_task is not None:
            self.demo_task.cancel()
            # the dialog hides itself on Cancel; the worker stops at its next progress report
            self.statusBar().showMessage(self.tr("Cancelling…"))

    def _demo_progress(self, progress: Progress) -> None:
        if self.progress_dialog is not None and progress.total > 0:
            self.progress_dialog.setMaximum(progress.total)
            self.progress_dialog.setValue(min(progress.done, progress.total))

    def _demo_finished(self) -> None:
        self.demo_task = None
        self.demo_action.setEnabled(True)
        if self.progress_dialog is not None:
            self.progress_dialog.canceled.disconnect(self._cancel_demo)
            self.progress_dialog.close()
            self.progress_dialog.deleteLater()
            self.progress_dialog = None

    def _demo_done(self, summary: DemoSummary) -> None:
        self._demo_finished()
        self.reload()
        if summary.already_present:
            message = self.tr("The demo data is already in this database; nothing was added.")
        else:
            message = self.tr("Demo data loaded: {contacts} contacts, {entries} history entries.")
            message = message.format(contacts=summary.contacts, entries=summary.interactions)
        self.statusBar().showMessage(message, 10_000)

    def _demo_cancelled(self) -> None:
        self._demo_finished()
        self.reload()
        self.statusBar().showMessage(self.tr("Loading the demo data was cancelled."), 10_000)

    def _demo_failed(self, exc: BaseException) -> None:
        log.error("loading demo data failed", exc_info=exc)
        self._demo_finished()
        self.reload()
        self._show_message(
            QMessageBox.Icon.Warning,
            self.tr("The demo data could not be loaded.") + "\n\n" + describe_error(exc),
        )

    def _show_message(self, icon: QMessageBox.Icon, text: str) -> None:
        """A window-modal message that does not block the caller (nor a test)."""
        box = QMessageBox(icon, APP_TITLE, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("messageBox")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: setattr(self, "message_box", None))
        self.message_box = box
        self.statusBar().showMessage(text.replace("\n\n", " "))
        box.open()

    # --- telephony -------------------------------------------------------------------------

    def _connect_telephony(self) -> None:
        self.calls.status_changed.connect(self.tray.set_status)
        self.popup.missed_call.connect(lambda _update: self.tray.add_missed())
        self.tray.changed.connect(self._telephony_changed)
        self.tray.show_window.connect(self.bring_to_front)
        self.tray.simulate_call.connect(self.simulate_call)
        self.tray.show_missed.connect(self._show_missed)
        self.tray.quit_requested.connect(self.close)
        self.popup.open_record.connect(self.open_record)
        self.popup.new_ticket.connect(self.new_ticket_for_call)
        self.popup.create_contact.connect(self.create_contact_with_number)
        self.popup.add_number.connect(self.add_number_to_contact)
        self.mail.status_changed.connect(self.tray.set_mail_status)
        self.mail.mail_arrived.connect(self._mail_arrived)
        self.tray.open_record.connect(self.open_record)
        self._telephony_changed()

    def start_telephony(self, settings: Settings | None = None) -> None:
        """Listen for calls on the sources the settings name (none: only simulated calls)."""
        settings = settings or self.settings
        sip = settings.entries("sip") if settings is not None else []
        simulators = settings.entries("simulator") if settings is not None else []
        self.calls.start(sip, simulators)
        self.mail.start(settings.entries("imap") if settings is not None else [])
        self.tray.start()

    def _telephony_changed(self) -> None:
        text = self.tray.summary()
        if self.tray.missed:
            text += " · " + self.tr("%n missed call(s)", "", self.tray.missed)
        if self.tray.mail_statuses:
            text += " · " + self.tray.mail_summary()
        self.telephony_label.setText(text)
        self.telephony_label.setToolTip(self.tray.tooltip())

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def _show_missed(self) -> None:
        self.bring_to_front()
        self.tray.clear_missed()

    def simulate_call(self) -> SimulateCallDialog:
        """The "Simulate incoming call" dialog (window-modal, does not block)."""
        dialog = SimulateCallDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)

        def accepted() -> None:
            if not self.calls.running:
                self.calls.start()
            if dialog.play_demo:
                self.calls.play_demo()
            else:
                self.calls.simulate([dialog.scripted_call()])

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def play_demo_calls(self) -> None:
        if not self.calls.running:
            self.calls.start()
        self.calls.play_demo()

    def open_record(self, kind: str, record_id: int) -> None:
        """The pop-up's "Open record": the contact in the detail pane, the window in front."""
        self.bring_to_front()
        if kind == "contact":
            self.show_page(self.CONTACTS)
            row = self.contact_model.row_of(record_id)
            if row is not None:
                self.contact_table.selectRow(row)
                self.contact_table.scrollTo(self.contact_model.index(row, 0))
            else:
                self.contact_table.clearSelection()
                self._show_contact(record_id)
        else:
            self.show_page(self.ORGANIZATIONS)
            self.organizations_page.show_organization(record_id)

    def new_ticket_for_call(self, info: CallInfo) -> NewTicketDialog:
        match = info.chosen
        who = match.record.name if match is not None else info.number_display
        dialog = NewTicketDialog(who, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        contact_id = match.contact_id if match is not None else None
        organization_id = (
            match.record.id
            if match is not None and match.record.kind is RecordKind.ORGANIZATION
            else None
        )

        def accepted() -> None:
            subject = dialog.subject_edit.text()
            description = dialog.description_edit.toPlainText()
            db, centre = self.db, self.calls

            source, call_id = info.key

            def work(_context: TaskContext) -> str:
                # the ticket services (issue 7): numbered, in the history, SLA clock started;
                # the call joins the ticket's history when its row is already written
                from desktop_crm.data.team import current_user
                from desktop_crm.tickets.service import (
                    TicketInput,
                    create_from_call,
                    create_ticket,
                )

                # the call's row is written right after the pop-up is told: the call log
                # says when (a call the listener no longer tracks is looked up instead)
                entry_id = centre.entry_id(info.call)
                with db.session() as session:
                    if entry_id is None:
                        entry_id = session.scalar(
                            select(Interaction.id).where(
                                Interaction.source == source, Interaction.external_id == call_id
                            )
                        )
                    user_id = current_user(session).id
                    data = TicketInput(
                        subject=subject,
                        description=description,
                        contact_id=contact_id,
                        organization_id=organization_id,
                        channel="phone",
                    )
                    if entry_id is not None:
                        ticket = create_from_call(session, entry_id, data, user_id=user_id)
                    else:
                        ticket = create_ticket(session, data, user_id=user_id, responded=True)
                    return ticket.number

            self.tasks.run(
                work,
                on_done=lambda number: self.statusBar().showMessage(
                    self.tr("Ticket {number} created.").format(number=number), 10_000
                ),
                on_error=self._write_failed,
                name="new-ticket",
            )

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def create_contact_with_number(self, number: str) -> ContactDialog:
        """The pop-up's "Create contact": the form with the caller's number filled in."""
        dialog = self.new_contact()
        dialog.prefill_phone(number)
        return dialog

    def add_number_to_contact(self, number: str) -> FindContactDialog:
        dialog = FindContactDialog(
            self.tasks,
            self.reader.search,
            self.reader.contact_rows,
            self.tr("Add {number} to which contact?").format(number=number),
            self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            contact_id = dialog.contact_id()
            if contact_id is None:
                return
            db, region = self.db, self.rules.country

            def work(_context: TaskContext) -> int:
                with db.session() as session:
                    return records.add_phone_to_contact(
                        session, contact_id, number, home_region=region
                    ).id

            def done(saved_id: int) -> None:
                self.statusBar().showMessage(
                    self.tr("{number} added to the contact.").format(number=number), 10_000
                )
                self.reload()

            self.tasks.run(work, on_done=done, on_error=self._write_failed, name="add-number")

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    # --- editing ---------------------------------------------------------------------------

    def _record_dialog(self, dialog: ContactDialog | OrganizationDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._record_saved)
        dialog.deleted.connect(self._record_deleted)
        dialog.open_record.connect(self.open_record)
        self.record_dialog = dialog
        dialog.finished.connect(lambda _r: setattr(self, "record_dialog", None))
        dialog.open()

    def new_contact(self) -> ContactDialog:
        dialog = ContactDialog(self.db, self.tasks, home_region=self.rules.country, parent=self)
        self._record_dialog(dialog)
        return dialog

    def new_organization(self) -> OrganizationDialog:
        dialog = OrganizationDialog(
            self.db, self.tasks, home_region=self.rules.country, parent=self
        )
        self._record_dialog(dialog)
        return dialog

    def edit_contact(self, contact_id: int) -> ContactDialog:
        dialog = ContactDialog(
            self.db, self.tasks, home_region=self.rules.country, contact_id=contact_id, parent=self
        )
        self._record_dialog(dialog)
        return dialog

    def edit_organization(self, organization_id: int) -> OrganizationDialog:
        dialog = OrganizationDialog(
            self.db,
            self.tasks,
            home_region=self.rules.country,
            organization_id=organization_id,
            parent=self,
        )
        self._record_dialog(dialog)
        return dialog

    def edit_current_contact(self) -> ContactDialog | None:
        if self._shown_id is None:
            return None
        return self.edit_contact(self._shown_id)

    def delete_current_contact(self) -> ContactDialog | None:
        """Delete asks first and says what goes with the contact (in the edit dialog's flow)."""
        dialog = self.edit_current_contact()
        if dialog is not None:
            # once loaded, go straight to the confirmation
            def ask() -> None:
                if dialog.version is not None:
                    dialog.ask_delete()

            dialog.loaded.connect(ask)
        return dialog

    def _record_saved(self, kind: str, record_id: int) -> None:
        self.statusBar().showMessage(self.tr("Saved."), 5000)
        self.reload()
        if kind == "contact":
            self.open_record(kind, record_id)
        elif self.organizations_page.loaded_once:
            self.organizations_page.search()

    def _record_deleted(self, _kind: str, _record_id: int) -> None:
        self.statusBar().showMessage(self.tr("Deleted."), 5000)
        self._shown_id = None
        self.reload()

    def add_note(self) -> None:
        """Ctrl+Shift+N: a note on the contact shown (the detail pane's note field)."""
        if self._shown_id is None:
            self.statusBar().showMessage(self.tr("Select a contact first."), 5000)
            return
        self.contact_view.start_note()

    def save_note(self, contact_id: int, text: str, kind: InteractionKind) -> None:
        db = self.db

        def work(_context: TaskContext) -> int:
            with db.session() as session:
                entry, _created = history_service.log_interaction(
                    session,
                    InteractionInput(
                        kind=kind,
                        contact_id=contact_id,
                        direction=Direction.OUTBOUND
                        if kind is InteractionKind.CALL
                        else Direction.NONE,
                        outcome="answered" if kind is InteractionKind.CALL else "",
                        body=text,
                    ),
                )
                return entry.id

        def done(_entry_id: int) -> None:
            self.contact_view.note_saved()
            if self._shown_id == contact_id:
                self._show_contact(contact_id)

        self.tasks.run(work, on_done=done, on_error=self._write_failed, name="note")

    # --- settings ----------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        if self.settings is None:
            self.settings = Settings(path=config_path())
        settings = self.settings
        dialog = SettingsDialog(settings, self.tasks, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.settings_dialog = dialog
        dialog.finished.connect(lambda _r: setattr(self, "settings_dialog", None))

        def accepted() -> None:
            # what can change at once does; the rest (database, telephony, language) at restart
            options = popup_options(settings)
            self.popup.corner = options["corner"]
            self.popup.auto_close_seconds = options["auto_close_seconds"]
            self.statusBar().showMessage(
                self.tr("Settings saved to {path}.").format(path=settings.path), 10_000
            )

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    # --- import and export -----------------------------------------------------------------

    def _import_triggered(self) -> None:
        files, _filter = QFileDialog.getOpenFileNames(
            self,
            self.tr("Import contacts"),
            "",
            self.tr("Contact files (*.vcf *.csv *.json *.txt);;All files (*)"),
        )
        if files:
            self.import_files([Path(f) for f in files])

    def import_files(self, paths: list[Path]) -> None:
        """Import in the background with a cancellable progress dialog; then the report."""
        if self.transfers.task is not None:
            return

        def done(reports: list[ImportReport]) -> None:
            self.reload()
            if reports:
                self.statusBar().showMessage(reports[-1].summary(), 10_000)
                self.transfers.show_report(reports)

        self.transfers.import_files(paths, done, self._transfer_failed)

    def _export_triggered(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Export contacts"),
            "contacts.csv",
            self.tr("CSV (*.csv);;vCard (*.vcf);;JSON (*.json)"),
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        if self.transfers.task is not None:
            return

        def done(written: int | None) -> None:
            if written is None:
                self.statusBar().showMessage(self.tr("Export cancelled; no file written."), 10_000)
            else:
                self.statusBar().showMessage(
                    self.tr("{count} contacts exported to {file}.").format(
                        count=written, file=path.name
                    ),
                    10_000,
                )

        self.transfers.export_file(path, done, self._transfer_failed)

    def _transfer_failed(self, exc: BaseException) -> None:
        log.warning("import or export failed: %s", exc)
        text = exc.strerror if isinstance(exc, OSError) and exc.strerror else describe_error(exc)
        self._show_message(
            QMessageBox.Icon.Warning, self.tr("Import or export failed.") + "\n\n" + str(text)
        )

    def _write_failed(self, exc: BaseException) -> None:
        log.warning("saving failed: %s", exc)
        self._show_message(
            QMessageBox.Icon.Warning,
            self.tr("Not saved.") + "\n\n" + describe_error(exc),
        )

    # --- live refresh ----------------------------------------------------------------------

    def start_live_refresh(self) -> None:
        """Watch the database for changes by others, once the first list is shown."""
        if self._loaded_once:
            self.live.start()
            return

        def first_load() -> None:
            self.loaded.disconnect(first_load)
            self.live.start()

        self.loaded.connect(first_load)

    # --- shutdown --------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the listener and background work; safe to call more than once."""
        self.search_timer.stop()
        if self._shut_down:
            return
        self._shut_down = True
        if hasattr(self.tickets_page, "stop"):
            self.tickets_page.stop()
        self.mail.stop()
        self.live.stop()
        self.calls.stop()
        self.tray.stop()
        self.popup.close_timer.stop()
        self.popup.hide()
        self.tasks.shutdown()
        self.popup.deleteLater()
        gc.unfreeze()  # frozen at start (ui/startup.py): what this window made may go now

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
