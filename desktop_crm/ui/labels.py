"""Words for stored codes (kinds, directions, outcomes) and the client's time format.

The tables hold the English source strings marked with ``QT_TRANSLATE_NOOP`` so pyside6-lupdate
collects them; they are translated when shown, in the language installed at that moment.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLocale

from desktop_crm.data.models import Direction, InteractionKind, PhoneKind, TicketStatus

_CONTEXT = "Labels"

_KINDS = {
    InteractionKind.CALL: QT_TRANSLATE_NOOP("Labels", "Call"),
    InteractionKind.EMAIL: QT_TRANSLATE_NOOP("Labels", "E-mail"),
    InteractionKind.NOTE: QT_TRANSLATE_NOOP("Labels", "Note"),
    InteractionKind.MEETING: QT_TRANSLATE_NOOP("Labels", "Meeting"),
    InteractionKind.LETTER: QT_TRANSLATE_NOOP("Labels", "Letter"),
    InteractionKind.TICKET_EVENT: QT_TRANSLATE_NOOP("Labels", "Ticket"),
}

_DIRECTIONS = {
    Direction.INBOUND: QT_TRANSLATE_NOOP("Labels", "incoming"),
    Direction.OUTBOUND: QT_TRANSLATE_NOOP("Labels", "outgoing"),
    Direction.INTERNAL: QT_TRANSLATE_NOOP("Labels", "internal"),
}

# outcome is free text in the schema; these are the values the CTI, mail and demo code write
_OUTCOMES = {
    "answered": QT_TRANSLATE_NOOP("Labels", "answered"),
    "missed": QT_TRANSLATE_NOOP("Labels", "missed"),
    "answered_elsewhere": QT_TRANSLATE_NOOP("Labels", "answered elsewhere"),
    "ringing": QT_TRANSLATE_NOOP("Labels", "ringing"),
    "not_reached": QT_TRANSLATE_NOOP("Labels", "not reached"),
    "busy": QT_TRANSLATE_NOOP("Labels", "busy"),
    "rejected": QT_TRANSLATE_NOOP("Labels", "rejected"),
    "voicemail": QT_TRANSLATE_NOOP("Labels", "voicemail"),
    "failed": QT_TRANSLATE_NOOP("Labels", "failed"),
    "no_answer": QT_TRANSLATE_NOOP("Labels", "no answer"),
    "cancelled": QT_TRANSLATE_NOOP("Labels", "cancelled"),
    "sent": QT_TRANSLATE_NOOP("Labels", "sent"),
    "received": QT_TRANSLATE_NOOP("Labels", "received"),
    "bounced": QT_TRANSLATE_NOOP("Labels", "bounced"),
    "done": QT_TRANSLATE_NOOP("Labels", "done"),
    "open": QT_TRANSLATE_NOOP("Labels", "open"),
}

_PHONE_KINDS = {
    PhoneKind.WORK: QT_TRANSLATE_NOOP("Labels", "Work"),
    PhoneKind.MOBILE: QT_TRANSLATE_NOOP("Labels", "Mobile"),
    PhoneKind.HOME: QT_TRANSLATE_NOOP("Labels", "Home"),
    PhoneKind.FAX: QT_TRANSLATE_NOOP("Labels", "Fax"),
    PhoneKind.SWITCHBOARD: QT_TRANSLATE_NOOP("Labels", "Switchboard"),
    PhoneKind.OTHER: QT_TRANSLATE_NOOP("Labels", "Phone"),
}

_TICKET_STATUS = {
    TicketStatus.NEW: QT_TRANSLATE_NOOP("Labels", "new"),
    TicketStatus.OPEN: QT_TRANSLATE_NOOP("Labels", "open"),
    TicketStatus.WAITING_CUSTOMER: QT_TRANSLATE_NOOP("Labels", "waiting for the customer"),
    TicketStatus.WAITING_THIRD_PARTY: QT_TRANSLATE_NOOP("Labels", "waiting for a third party"),
    TicketStatus.RESOLVED: QT_TRANSLATE_NOOP("Labels", "resolved"),
    TicketStatus.CLOSED: QT_TRANSLATE_NOOP("Labels", "closed"),
}

TIME_FORMAT = "%d.%m.%Y %H:%M"  # German style in both languages: the users are in DACH


def _tr(text: object) -> str:
    # PySide6's stubs type QT_TRANSLATE_NOOP as returning object; it returns the str it got
    return QCoreApplication.translate(_CONTEXT, str(text))


def interaction_kind(kind: InteractionKind) -> str:
    return _tr(_KINDS.get(kind, kind.value))


def direction(value: Direction) -> str:
    """Empty for entries without a direction (notes)."""
    source = _DIRECTIONS.get(value)
    return _tr(source) if source else ""


def outcome(value: str, direction: Direction = Direction.NONE) -> str:
    """Known outcomes in words; anything else exactly as stored.

    An outgoing call nobody answered was not "missed" by us: the customer was not reached.
    """
    key = value.strip().lower()
    if key == "missed" and direction == Direction.OUTBOUND:
        key = "not_reached"
    source = _OUTCOMES.get(key)
    return _tr(source) if source else value


def ticket_status(status: TicketStatus) -> str:
    return _tr(_TICKET_STATUS.get(status, status.value))


def phone_kind(kind: PhoneKind) -> str:
    return _tr(_PHONE_KINDS.get(kind, kind.value))


def country(code: str) -> str:
    """A country in its own language (Deutschland, Österreich, Schweiz); the code if unknown."""
    territory = QLocale.codeToTerritory(code)
    if territory == QLocale.Country.AnyTerritory:
        return code
    return QLocale(QLocale.Language.AnyLanguage, territory).nativeTerritoryName() or code


def local_time(moment: datetime) -> str:
    """An aware time in the computer's time zone, as ``21.11.2025 14:05``."""
    return moment.astimezone().strftime(TIME_FORMAT)


def duration(seconds: int | None) -> str:
    """``3:05`` (minutes:seconds), ``1:02:03`` from an hour on; empty when unknown."""
    if seconds is None or seconds < 0:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
