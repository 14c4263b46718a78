"""Live refresh and the team role in the desktop client (issue 8, client side).

:class:`LiveRefresh` starts the database's change feed (:func:`desktop_crm.data.changes.
watch_changes`: LISTEN/NOTIFY on PostgreSQL, ``PRAGMA data_version`` on SQLite) once the first
list is shown. The feed's thread only calls :meth:`EventBridge.submit` (no Qt call off the GUI
thread, see docs/architecture.md); on the GUI thread the changes are collected into one
:class:`Pending` set and applied in one *pass* after a short delay, so a burst of 1,000 changes
costs one refresh, not 1,000:

* contact and organization rows shown are re-read (their cached rows are dropped); a new or
  deleted record re-reads the id list (the whole contact list: its anchors, also after a
  rename, which moves a contact) and swaps it in without a reset, so the selection and the
  scroll position stay;
* the open record view is re-read when its record (or any history entry or ticket) changed; a
  record open in an edit form is never overwritten: the form says "changed by someone else" and
  the save goes through the conflict dialog;
* the calls page and the ticket board refresh when interactions or tickets changed.

A lost connection shows a banner ("Connection to the database lost — retrying in N s") until the
feed is connected again; then one catch-up pass refreshes everything shown.

The role (:func:`desktop_crm.data.team.current_role`) is read in the background at start;
:meth:`LiveRefresh.apply_role` hides what the role may not do (TABLE_RIGHTS decides).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QToolBar
from sqlalchemy import text

from desktop_crm.data.changes import Change, FeedStatus, watch_changes
from desktop_crm.data.models import Role
from desktop_crm.data.queries import ListAnchors
from desktop_crm.data.team import TABLE_RIGHTS, at_least, current_role

from .bridge import EventBridge
from .reader import SearchResult
from .tasks import TaskContext

if TYPE_CHECKING:
    from .main_window import MainWindow

log = logging.getLogger(__name__)

# changes arriving within this time are applied in one pass
COALESCE_MS = 80


@dataclass
class Pending:
    """What the changes since the last pass touched."""

    contacts: set[int] = field(default_factory=set)
    organizations: set[int] = field(default_factory=set)
    contact_list: bool = False  # a contact was added or deleted: re-read the id list
    organization_list: bool = False
    interactions: bool = False
    tickets: bool = False
    changes: int = 0
    # the newest version announced per (table, id), to tell an edit form whether it is stale
    versions: dict[tuple[str, int], int] = field(default_factory=dict)

    def add(self, change: Change) -> None:
        self.changes += 1
        if change.id is not None and change.version is not None:
            key = (change.table, change.id)
            self.versions[key] = max(change.version, self.versions.get(key, 0))
        listed = change.op in ("insert", "delete", "refresh")
        if change.table == "contact":
            if change.id is not None:
                self.contacts.add(change.id)
            self.contact_list |= listed
        elif change.table == "organization":
            if change.id is not None:
                self.organizations.add(change.id)
            self.organization_list |= listed
        elif change.table == "interaction":
            self.interactions = True
        elif change.table == "ticket":
            self.tickets = True

    @classmethod
    def everything(cls) -> Pending:
        return cls(contact_list=True, organization_list=True, interactions=True, tickets=True)

    def __bool__(self) -> bool:
        return bool(
            self.contacts
            or self.organizations
            or self.contact_list
            or self.organization_list
            or self.interactions
            or self.tickets
        )


@dataclass(frozen=True)
class Identity:
    """Who is connected, as the server sees it."""

    login: str
    role: Role


class LiveRefresh(QObject):
    """The change feed of one main window, its connection banner and the role read at start."""

    # one refresh pass ran (for tests): the Pending it applied
    applied = Signal(object)
    # the feed's state changed: the FeedStatus
    status_changed = Signal(object)
    # the role is known: the Identity
    role_known = Signal(object)

    def __init__(self, window: MainWindow, **feed_options: Any) -> None:
        super().__init__(window)
        self.window = window
        self.feed_options = feed_options
        self.bridge = EventBridge(window.tasks, self)
        self.bridge.batch_ready.connect(self._batch)
        self.feed: Any = None
        self._feed_lock = threading.Lock()
        self._stopped = False
        self.pending = Pending()
        self.passes = 0
        self.status: FeedStatus | None = None
        self._was_lost = False
        self.identity: Identity | None = None
        self.pass_timer = QTimer(self)
        self.pass_timer.setSingleShot(True)
        self.pass_timer.setInterval(COALESCE_MS)
        self.pass_timer.timeout.connect(self.run_pass)

        # the banner: a toolbar of its own at the top, hidden while the feed is connected
        self.banner = QToolBar(window)
        self.banner.setObjectName("connectionBanner")
        self.banner.setMovable(False)
        self.banner.setFloatable(False)
        self.banner.toggleViewAction().setVisible(False)
        self.banner_label = QLabel()
        self.banner_label.setObjectName("connectionBannerText")
        self.banner_label.setContentsMargins(8, 4, 8, 4)
        self.banner.setStyleSheet(
            "QToolBar#connectionBanner { background: #fff3cd; border-bottom: 1px solid #e0c46c; }"
        )
        self.banner.addWidget(self.banner_label)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.banner)
        self.banner.hide()
        self._retry_left = 0
        self.countdown = QTimer(self)
        self.countdown.setInterval(1000)
        self.countdown.timeout.connect(self._tick)

        self.user_label = QLabel()
        self.user_label.setObjectName("userRole")
        self.user_label.setContentsMargins(12, 0, 4, 0)
        self.user_label.hide()
        window.statusBar().addPermanentWidget(self.user_label)

    # --- the feed ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.feed is not None and not self._stopped

    def start(self) -> None:
        """Start the change feed; its ``start()`` (which may wait for a first scan) runs in a
        worker so the window never waits for it."""
        if self.feed is not None or self._stopped:
            return
        self.feed = watch_changes(
            self.window.db.url,
            self.bridge.submit,
            on_status=self.bridge.submit,
            **self.feed_options,
        )
        feed = self.feed

        def work(_context: TaskContext) -> None:
            with self._feed_lock:
                if not self._stopped:
                    feed.start()

        self.window.tasks.run(
            work, on_done=lambda _r: None, on_error=self._start_failed, name="change-feed"
        )

    def _start_failed(self, exc: BaseException) -> None:
        log.warning("the change feed could not start: %s", exc)

    def stop(self) -> None:
        """Stop the feed (aboutToQuit, closing the window): returns within about a second."""
        self._stopped = True
        self.pass_timer.stop()
        self.countdown.stop()
        feed, self.feed = self.feed, None
        if feed is not None:
            with self._feed_lock:
                feed.stop()

    def _batch(self, items: list[Any]) -> None:
        for item in items:
            if isinstance(item, FeedStatus):
                self._status(item)
            elif isinstance(item, Change):
                self.pending.add(item)
        if self.pending and not self._stopped and not self.pass_timer.isActive():
            self.pass_timer.start()

    # --- the banner ----------------------------------------------------------------------

    def _status(self, status: FeedStatus) -> None:
        self.status = status
        if status.state == "disconnected":
            self._was_lost = True
            self._retry_left = round(status.retry_in or 0)
            self._show_banner()
            self.countdown.start()
        elif status.state == "connected":
            self.countdown.stop()
            self.banner.hide()
            if self._was_lost:
                self._was_lost = False
                # the feed sends what it found after the gap; read everything shown anyway
                self.pending = _merge(self.pending, Pending.everything())
                if not self._stopped:
                    self.pass_timer.start()
        self.status_changed.emit(status)

    def _show_banner(self) -> None:
        if self._retry_left > 0:
            text = self.tr("Connection to the database lost — retrying in {seconds} s").format(
                seconds=self._retry_left
            )
        else:
            text = self.tr("Connection to the database lost — retrying now")
        self.banner_label.setText(text)
        self.banner_label.setToolTip(self.status.detail if self.status else "")
        self.banner.show()

    def _tick(self) -> None:
        self._retry_left = max(0, self._retry_left - 1)
        self._show_banner()

    @property
    def banner_visible(self) -> bool:
        return not self.banner.isHidden()

    # --- one refresh pass ----------------------------------------------------------------

    def run_pass(self) -> None:
        """Apply everything collected since the last pass (GUI thread)."""
        pending, self.pending = self.pending, Pending()
        if not pending or self._stopped:
            return
        self.passes += 1
        self._contacts(pending)
        self._record_view(pending)
        self._edit_form(pending)
        self._organizations(pending)
        if pending.interactions and self.window.calls_page.loaded_once:
            self.window.calls_page.refresh()
        if pending.tickets:
            self._ticket_board()
        self.applied.emit(pending)

    def _again(self, **what: bool) -> None:
        """Something could not be applied yet (a search is running): try in the next pass."""
        for name, value in what.items():
            setattr(self.pending, name, getattr(self.pending, name) or value)
        if not self._stopped:
            self.pass_timer.start()

    def _contacts(self, pending: Pending) -> None:
        window = self.window
        model = window.contact_model
        if pending.contacts:
            model.forget(pending.contacts)
        # the whole list is held as anchors (name order): a renamed contact moves, so any
        # change to a contact reads the anchors again, not only an added or deleted one
        relist = pending.contact_list or (bool(pending.contacts) and model.by_anchors)
        if not relist:
            return
        if window.searching or window.loading_rest:
            self._again(contact_list=True)
            return
        generation = window._search_generation
        search_text = window._search_text
        reader = window.reader

        def work(_context: TaskContext) -> tuple[ListAnchors | list[int], int, bool]:
            if not search_text:
                anchors = reader.contact_list()
                return anchors, anchors.count, False
            result = reader.search(search_text)
            return result.ids, result.total, result.truncated

        def done(result: tuple[ListAnchors | list[int], int, bool]) -> None:
            listing, total, truncated = result
            if generation != window._search_generation or self._stopped:
                return  # the user searched meanwhile: that answer is newer
            if isinstance(listing, ListAnchors):
                model.replace_anchors(listing)  # selection and current row follow by id
                shown = listing.count
            else:
                model.replace_ids(listing)
                shown = len(listing)
            window.total_contacts = total
            window._update_count(SearchResult([], total, truncated=truncated), shown=shown)

        self.window.tasks.run(work, on_done=done, on_error=self._failed, name="live-contacts")

    def _record_view(self, pending: Pending) -> None:
        window = self.window
        shown = window._shown_id
        if shown is None:
            return
        if shown in pending.contacts or pending.interactions or pending.tickets:
            window._show_contact(shown)  # a deleted contact ends as "no longer exists"

    def _edit_form(self, pending: Pending) -> None:
        dialog = self.window.record_dialog
        if dialog is None or dialog.record_id is None or dialog.saving:
            return
        table = dialog.KIND
        ids = pending.contacts if table == "contact" else pending.organizations
        if dialog.record_id not in ids:
            return
        version = pending.versions.get((table, dialog.record_id))
        if version is not None and dialog.version is not None and version <= dialog.version:
            return  # what the form shows (or saved itself)
        dialog.mark_changed_elsewhere()

    def _organizations(self, pending: Pending) -> None:
        page = self.window.organizations_page
        if not page.loaded_once:
            return
        current = page.current_id
        reload_current = current is not None and (
            current in pending.organizations
            or pending.contacts
            or pending.tickets
            or pending.interactions
        )
        page.refresh(
            pending.organizations,
            list_changed=pending.organization_list,
            reload_current=bool(reload_current),
        )

    def _ticket_board(self) -> None:
        page = self.window.tickets_page
        for candidate in (page, getattr(page, "board", None)):
            refresh = getattr(candidate, "refresh", None)
            if callable(refresh):
                refresh()
                return

    def _failed(self, exc: BaseException) -> None:
        log.warning("live refresh: reading failed: %s", exc)

    # --- the role ------------------------------------------------------------------------

    def read_role(self) -> None:
        """Who is connected and with which role, read in the background (PostgreSQL only:
        SQLite has one user, who may do everything)."""
        db = self.window.db
        if db.is_sqlite:
            return

        def work(_context: TaskContext) -> Identity:
            with db.session() as session:
                role = current_role(session)
                login = session.scalar(text("SELECT current_user")) or ""
            return Identity(str(login), role)

        def failed(exc: BaseException) -> None:
            log.warning("reading the role failed: %s", exc)

        self.window.tasks.run(work, on_done=self.apply_role, on_error=failed, name="role")

    def apply_role(self, identity: Identity) -> None:
        """Hide or disable what the role may not do; show who is connected (in the status bar:
        the window title stays the database's)."""
        self.identity = identity
        window = self.window
        role = identity.role
        contact = TABLE_RIGHTS["contact"]
        organization = TABLE_RIGHTS["organization"]

        def may(minimum: Role | None) -> bool:
            return minimum is not None and at_least(role, minimum)

        may_delete = may(contact.delete)
        may_import = may(contact.insert)  # an import writes contacts
        may_export = may(contact.insert)  # the whole list leaves the house: back office
        may_edit = may(contact.update)
        may_add = may(contact.insert)
        for action, allowed in (
            (window.delete_contact_action, may_delete),
            (window.import_action, may_import),
            (window.export_action, may_export),
            (window.demo_action, may_add),
            (window.new_contact_action, may_add),
            (window.new_organization_action, may(organization.insert)),
            (window.edit_contact_action, may_edit),
        ):
            action.setVisible(allowed)
            action.setEnabled(allowed)
        window.contact_view.edit_button.setEnabled(may_edit)
        window.contact_view.edit_button.setVisible(may_edit)
        window.organizations_page.edit_button.setVisible(may(organization.update))
        window.popup.allow_record_changes(
            create_contact=may_add, add_number=may(TABLE_RIGHTS["phone_number"].insert)
        )
        role_name = role_label(role)
        self.user_label.setText(
            self.tr("Signed in as {user} ({role})").format(user=identity.login, role=role_name)
        )
        self.user_label.show()
        window.setProperty("mayChangeQueues", may(TABLE_RIGHTS["queue"].update))  # the board
        self.role_known.emit(identity)


def role_label(role: Role) -> str:
    names = {
        Role.AGENT: QCoreApplication.translate("LiveRefresh", "agent"),
        Role.BACKOFFICE: QCoreApplication.translate("LiveRefresh", "back office"),
        Role.SUPERVISOR: QCoreApplication.translate("LiveRefresh", "supervisor"),
        Role.ADMIN: QCoreApplication.translate("LiveRefresh", "administrator"),
    }
    return names.get(role, role.value)


def _merge(a: Pending, b: Pending) -> Pending:
    return Pending(
        contacts=a.contacts | b.contacts,
        organizations=a.organizations | b.organizations,
        contact_list=a.contact_list or b.contact_list,
        organization_list=a.organization_list or b.organization_list,
        interactions=a.interactions or b.interactions,
        tickets=a.tickets or b.tickets,
        changes=a.changes + b.changes,
        versions={**a.versions, **b.versions},
    )
