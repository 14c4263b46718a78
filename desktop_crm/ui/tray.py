"""Listener status and missed calls: the tray icon, and the same text for the status bar.

The icon is drawn (a coloured dot), so no image files are needed: green when every source is
registered or listening, amber while starting or registering, red when a source failed (wrong
password, unreachable, …), grey when no telephone source is configured. The tooltip names each
source with its state and the problem in words, plus the count of missed calls.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QCoreApplication, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from desktop_crm.cti.events import SourceProblem, SourceState, SourceStatus
from desktop_crm.mail.events import MailEvent, MailStatus

from .mail import mail_failing, mail_state_words


def state_words(state: SourceState) -> str:
    return {
        SourceState.STARTING: QCoreApplication.translate("Tray", "starting"),
        SourceState.LISTENING: QCoreApplication.translate("Tray", "listening"),
        SourceState.REGISTERING: QCoreApplication.translate("Tray", "registering"),
        SourceState.REGISTERED: QCoreApplication.translate("Tray", "registered"),
        SourceState.FAILED: QCoreApplication.translate("Tray", "not working"),
        SourceState.STOPPED: QCoreApplication.translate("Tray", "stopped"),
    }[state]


def problem_words(problem: SourceProblem) -> str:
    return {
        SourceProblem.NONE: "",
        SourceProblem.WRONG_PASSWORD: QCoreApplication.translate("Tray", "wrong password"),
        SourceProblem.UNREACHABLE: QCoreApplication.translate("Tray", "unreachable"),
        SourceProblem.REJECTED: QCoreApplication.translate("Tray", "rejected by the server"),
        SourceProblem.NO_SECRET: QCoreApplication.translate("Tray", "no password in the keyring"),
        SourceProblem.UNAVAILABLE: QCoreApplication.translate(
            "Tray", "not available on this computer"
        ),
    }[problem]


def describe_status(status: SourceStatus) -> str:
    """``office: not working (wrong password): 401 from the registrar; next try in 30 s``."""
    text = f"{status.source}: {state_words(status.state)}"
    if status.problem:
        text += f" ({problem_words(status.problem)})"
    if status.detail:
        text += f": {status.detail}"
    if status.retry_in is not None and status.state is SourceState.FAILED:
        text += "; " + QCoreApplication.translate("Tray", "next attempt in {seconds} s").format(
            seconds=round(status.retry_in)
        )
    return text


def overall(statuses: Mapping[str, SourceStatus]) -> str:
    """``ok``, ``busy``, ``failed`` or ``none`` for the icon colour."""
    if not statuses:
        return "none"
    states = {s.state for s in statuses.values()}
    if SourceState.FAILED in states:
        return "failed"
    if states & {SourceState.STARTING, SourceState.REGISTERING}:
        return "busy"
    if states <= {SourceState.STOPPED}:
        return "none"
    return "ok"


_COLOURS = {"ok": "#2e7d32", "busy": "#f9a825", "failed": "#c62828", "none": "#8a8a8a"}


def status_icon(level: str, missed: int = 0) -> QIcon:
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#1d6fb8"))
    painter.drawRoundedRect(QRectF(2, 2, 28, 28), 6, 6)  # the app: a blue tile
    painter.setBrush(QColor(_COLOURS[level]))
    painter.setPen(QColor("white"))
    painter.drawEllipse(QRectF(17, 17, 13, 13))  # the listener: a dot in the corner
    if missed:
        painter.setBrush(QColor("#c62828"))
        painter.drawEllipse(QRectF(1, 1, 14, 14))
    painter.end()
    return QIcon(pixmap)


class CallTray(QObject):
    """The tray icon (when the desktop has a tray) and the status text for the window."""

    show_window = Signal()
    simulate_call = Signal()
    show_missed = Signal()
    quit_requested = Signal()
    changed = Signal()
    #: the notification of a mail from a known customer was clicked: (kind, record id)
    open_record = Signal(str, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.statuses: dict[str, SourceStatus] = {}
        self.mail_statuses: dict[str, MailStatus] = {}
        self.notified: list[tuple[str, str]] = []  # (title, text) of mail notifications shown
        self._notified_record: tuple[str, int] | None = None
        self.missed = 0
        self.icon = QSystemTrayIcon(self)
        self.menu = QMenu()
        self.show_action = QAction(self.tr("Show desktop_crm"), self)
        self.show_action.triggered.connect(self.show_window)
        self.simulate_action = QAction(self.tr("Simulate incoming call…"), self)
        self.simulate_action.triggered.connect(self.simulate_call)
        self.missed_action = QAction(self)
        self.missed_action.triggered.connect(self.show_missed)
        self.quit_action = QAction(self.tr("Quit"), self)
        self.quit_action.triggered.connect(self.quit_requested)
        for action in (self.show_action, self.missed_action, self.simulate_action):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self._message_clicked)
        self._refresh()

    def start(self) -> None:
        """Show the icon where the desktop has a tray (not on the offscreen platform)."""
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon.show()

    def stop(self) -> None:
        self.icon.hide()

    def set_status(self, status: SourceStatus) -> None:
        self.statuses[status.source] = status
        self._refresh()

    def set_mail_status(self, status: MailStatus) -> None:
        self.mail_statuses[status.account] = status
        self._refresh()

    def notify_mail(self, event: MailEvent) -> None:
        """A mail from a known customer: a notification; clicking it opens the record."""
        match = event.best
        if not event.popup or match is None:
            return
        title = self.tr("Mail from {name}").format(name=match.record.name or event.sender)
        text = event.subject or event.snippet[:120]
        self.notified.append((title, text))
        del self.notified[:-50]
        self._notified_record = (str(match.record.kind), match.record.id)
        if self.icon.isVisible():
            self.icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10_000)

    def _message_clicked(self) -> None:
        if self._notified_record is not None:
            self.show_window.emit()
            self.open_record.emit(*self._notified_record)

    def mail_summary(self) -> str:
        """One line for the status bar: each mail account's state in words (or empty)."""
        if not self.mail_statuses:
            return ""
        return self.tr("Mail: {states}").format(
            states="; ".join(mail_state_words(s) for s in self.mail_statuses.values())
        )

    def add_missed(self, count: int = 1) -> None:
        self.missed += count
        self._refresh()

    def clear_missed(self) -> None:
        self.missed = 0
        self._refresh()

    @property
    def level(self) -> str:
        if any(mail_failing(s) for s in self.mail_statuses.values()):
            return "failed"
        return overall(self.statuses)

    def summary(self) -> str:
        """One line for the status bar."""
        if not self.statuses:
            text = self.tr("Telephony: no source configured (simulate a call from the Calls menu)")
        else:
            text = self.tr("Telephony: {states}").format(
                states="; ".join(describe_status(s) for s in self.statuses.values())
            )
        return text

    def tooltip(self) -> str:
        lines = ["desktop_crm", self.summary()]
        if self.mail_statuses:
            lines.append(self.mail_summary())
        if self.missed:
            lines.append(self.tr("%n missed call(s)", "", self.missed))
        return "\n".join(lines)

    def _refresh(self) -> None:
        self.icon.setIcon(status_icon(self.level, self.missed))
        self.icon.setToolTip(self.tooltip())
        self.missed_action.setText(self.tr("Missed calls: {count}").format(count=self.missed))
        self.missed_action.setEnabled(self.missed > 0)
        self.changed.emit()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_window.emit()
