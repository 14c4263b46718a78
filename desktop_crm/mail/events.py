"""What a mail watcher hands to its sink: a :class:`MailEvent` per new mail, a
:class:`MailStatus` whenever its connection state changes or a scan progresses.

Both are frozen plain values (matches carry ids and names, no ORM objects), made on the
watcher's thread and safe to hand to the GUI thread through the bridge.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from desktop_crm.identify.report import match_json
from desktop_crm.identify.resolve import Match


class MailOutcome(enum.StrEnum):
    LOGGED = "logged"  # in the history of the matched record(s)
    UNASSIGNED = "unassigned"  # nobody known: waits in the unassigned-mail list
    AUTOMATED = "automated"  # a bounce, an auto-reply or list mail: not a customer
    IGNORED = "ignored"  # sent mail to nobody known (and nothing to do)


@dataclass(frozen=True)
class MailEvent:
    """One new mail in a watched folder, identified and (where known) logged.

    ``popup`` is true for a mail *from* a known contact or organization that arrived while the
    watcher was running (not for the backlog of the first scan): the one the UI notifies about,
    with ``matches[0]`` (the best match) one click away.
    """

    account: str
    folder: str
    uid: int
    message_id: str
    direction: str  # "inbound" or "outbound"
    sender: str | None  # author's address
    sender_name: str
    recipients: tuple[str, ...]
    subject: str
    sent_at: datetime
    snippet: str
    attachments: tuple[str, ...]
    outcome: MailOutcome
    matches: tuple[Match, ...] = ()  # inbound: the sender's; outbound: the recipients' logged
    interaction_ids: tuple[int, ...] = ()  # the history rows written (or found already there)
    unassigned_id: int | None = None
    reason: str = ""  # why automated or ignored
    backlog: bool = False  # read by a (first or re-)scan, not new while watching
    popup: bool = False
    in_reply_to: str = ""  # the Message-ID it answers, as written ("<…>"), for ticket threading
    references: tuple[str, ...] = ()  # the Message-IDs of its thread, as written

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    def to_json(self) -> dict[str, Any]:
        """``{"event": "mail.received", "message_id", "from", "subject", "matches": [...]}``
        plus the rest; ``matches`` as ``lookup --json`` writes them."""
        return {
            "event": "mail.received",
            "message_id": self.message_id,
            "from": self.sender,
            "from_name": self.sender_name,
            "subject": self.subject,
            "matches": [match_json(m) for m in self.matches],
            "account": self.account,
            "folder": self.folder,
            "uid": self.uid,
            "direction": self.direction,
            "to": list(self.recipients),
            "sent_at": self.sent_at.isoformat(),
            "attachments": list(self.attachments),
            "outcome": str(self.outcome),
            "reason": self.reason,
            "interaction_ids": list(self.interaction_ids),
            "unassigned_id": self.unassigned_id,
            "backlog": self.backlog,
            "popup": self.popup,
        }


class MailState(enum.StrEnum):
    CONNECTING = "connecting"
    SCANNING = "scanning"  # reading a folder's new or backlog mail (see done/total)
    IDLE = "idle"  # waiting for the server's IDLE push
    POLLING = "polling"  # the server has no IDLE (or idle = false): checking every poll_seconds
    RECONNECTING = "reconnecting"  # lost or refused: next try in retry_in seconds (see reason)
    STOPPED = "stopped"


@dataclass(frozen=True)
class MailStatus:
    """The state of one account's watcher, e.g. for the tray icon and ``listen --json``.

    ``reason`` says in words why a connection failed ("wrong user name or password",
    "cannot reach imap.example.de:993: Connection refused", "TLS certificate not trusted: …").
    """

    account: str
    state: MailState
    reason: str = ""
    folder: str = ""
    done: int = 0  # messages of the current scan handled so far
    total: int = 0  # messages the current scan will handle
    retry_in: float | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_json(self) -> dict[str, Any]:
        return {
            "event": "mail.status",
            "account": self.account,
            "state": str(self.state),
            "reason": self.reason,
            "folder": self.folder,
            "done": self.done,
            "total": self.total,
            "retry_in": self.retry_in,
        }


MailSink = Callable[[MailEvent | MailStatus], None]
"""Where a watcher delivers; called on the watcher's thread, so it must not block."""
