"""Mail from and to customers: IMAP watchers, message reading, mail logging (issue 5).

``watchers_from_settings(settings.entries("imap"), db, get_secret)`` gives one
:class:`ImapWatcher` per ``[[imap]]`` table; ``start(sink)`` runs it in its own thread and
``stop()`` ends it within a second. The sink receives :class:`MailEvent` (a new mail, identified
and logged; ``popup`` when the UI should notify) and :class:`MailStatus` (connection state,
scan progress, the reason of a failure in words). See docs/architecture.md, "Mail".
"""

from __future__ import annotations

from .events import MailEvent, MailOutcome, MailSink, MailState, MailStatus
from .maillog import handle_mail
from .message import MessageError, ParsedMail, parse_headers, parse_message
from .watcher import ImapAccount, ImapWatcher, accounts_from_settings, watchers_from_settings

__all__ = [
    "ImapAccount",
    "ImapWatcher",
    "MailEvent",
    "MailOutcome",
    "MailSink",
    "MailState",
    "MailStatus",
    "MessageError",
    "ParsedMail",
    "accounts_from_settings",
    "handle_mail",
    "parse_headers",
    "parse_message",
    "watchers_from_settings",
]
