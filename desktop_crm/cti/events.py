"""Call events: what every telephony source (SIP, TAPI, simulator) produces.

A source runs in its own thread and hands frozen :class:`CallEvent` values to a sink; it never
touches a widget or shares a database session. Consumers (the call log, the caller look-up, the
GUI bridge, ``desktop-crm listen``) only ever see these values.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


class CallState(enum.StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"  # answered here (TAPI, simulator) or seen answered via dialog state
    ANSWERED_ELSEWHERE = "answered_elsewhere"  # picked up by another phone of the group
    MISSED = "missed"  # the caller gave up before anybody answered
    ENDED = "ended"  # an answered call was hung up


class CallDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


#: States after which nothing more happens to a call.
FINAL_STATES = frozenset({CallState.ANSWERED_ELSEWHERE, CallState.MISSED, CallState.ENDED})


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CallEvent:
    """One thing that happened to one call, as a source saw it.

    ``remote_number`` is what the network delivered (``None`` when withheld); the look-up reads
    it with the dialling rules, so no source normalises numbers itself.
    """

    call_id: str
    state: CallState
    source: str  # the adapter instance, e.g. "sip:office", "tapi:Line 1", "simulator"
    direction: CallDirection = CallDirection.INBOUND
    remote_number: str | None = None
    remote_display_name: str = ""
    withheld: bool = False
    line: str = ""  # the local line or extension the call came in on
    occurred_at: datetime = field(default_factory=_now)
    # when the call started ringing and (if it was) when it was answered; sources that know
    # fill them on later events, so a consumer that missed the first event still logs right
    started_at: datetime | None = None
    answered_at: datetime | None = None
    reason: str = ""  # e.g. the Reason header text of a CANCEL

    def __post_init__(self) -> None:
        if not self.call_id:
            raise ValueError("a call event needs a call id")
        if self.occurred_at.tzinfo is None:
            raise ValueError("call event times must carry a time zone")

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES


class SourceState(enum.StrEnum):
    """Where a call source stands: what the tray icon and ``listen --json`` show."""

    STARTING = "starting"
    LISTENING = "listening"  # bound and ready; no registration involved (listen mode, TAPI)
    REGISTERING = "registering"
    REGISTERED = "registered"
    FAILED = "failed"  # not working right now; ``problem`` says why, ``retry_in`` when it retries
    STOPPED = "stopped"


class SourceProblem(enum.StrEnum):
    NONE = ""
    WRONG_PASSWORD = "wrong_password"  # the registrar refused our credentials
    UNREACHABLE = "unreachable"  # no answer, connection refused, name does not resolve
    REJECTED = "rejected"  # any other refusal (403 for the user, 404 unknown extension, …)
    NO_SECRET = "no_secret"  # the password is not in the keyring
    UNAVAILABLE = "unavailable"  # the platform lacks what the source needs (TAPI off Windows)


@dataclass(frozen=True)
class SourceStatus:
    """A change in a source's health, delivered to the same sink as its call events."""

    source: str
    state: SourceState
    problem: SourceProblem = SourceProblem.NONE
    detail: str = ""  # one sentence a user understands; never a password
    retry_in: float | None = None  # seconds until the next attempt, when failed
    occurred_at: datetime = field(default_factory=_now)

    def to_json(self) -> dict[str, object]:
        return {
            "event": f"source.{self.state.value}",
            "source": self.source,
            "problem": self.problem.value or None,
            "detail": self.detail,
            "retry_in": self.retry_in,
        }


CallSink = Callable[[CallEvent | SourceStatus], None]
"""Where a source delivers its events and status changes. It must not block: it is called on
the source's thread."""


class CallSource(Protocol):
    """What every telephony adapter implements."""

    name: str

    def start(self, sink: CallSink) -> None:
        """Begin listening in a thread of its own; events go to ``sink``."""

    def stop(self) -> None:
        """Stop listening and join the thread; returns within a second."""
