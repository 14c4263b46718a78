"""Call logging: every call a source reports lands once in the history, identified.

:class:`CallLogger` is the sink-side consumer of :class:`~desktop_crm.cti.events.CallEvent`.
It runs on the listener's thread and opens its own session per event (one unit of work),
never sharing one.

When a row is written, and why
------------------------------
The row is written at the *first* event of a call (normally RINGING, outcome ``"ringing"``),
not only at its end: a crash, a restart or a lost BYE mid-call must not lose the call. Later
events update that same row, found by ``(source, external_id=call_id)``, which is unique in the
schema; so repeated events, a second logger (restart) and two desktop clients seeing the same
group call all end in one row.

Outcomes written: ``ringing`` → ``answered`` (talking, no duration yet) → final ``answered``
with ``duration_seconds`` (ENDED), ``missed`` or ``answered_elsewhere``. An update never goes
backwards: a late or repeated ANSWERED cannot turn a finished call back into a running one, and
another client's "answered elsewhere" or "missed" for the same group call never overwrites the
"answered" of the client that took it (see ``_UPDATES_FROM``; the UPDATE's WHERE clause checks
the stored outcome, so this also holds across processes).

Only the call's progress (outcome, duration, a start time a source filled in late) is updated;
who the call is attached to and its text are written when the row is created, so an agent who
re-attaches the call or types a note while it runs does not lose that edit. Updates bump
``version`` like every other write, so an open editor sees the conflict.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from desktop_crm.data.db import Database
from desktop_crm.data.history import InteractionInput, log_interaction
from desktop_crm.data.models import Direction, Interaction, InteractionKind, utcnow
from desktop_crm.identify import DialingRules, Match, RecordKind, Resolution, resolve_caller
from desktop_crm.identify.report import match_json

from .events import CallEvent, CallState

log = logging.getLogger(__name__)

#: Calls remembered at most (oldest forgotten first). A forgotten call that sends another
#: event is resolved again and updates its row; nothing is logged twice.
MAX_TRACKED_CALLS = 10_000

OUTCOME_RINGING = "ringing"
OUTCOME_ANSWERED = "answered"
OUTCOME_MISSED = "missed"
OUTCOME_ANSWERED_ELSEWHERE = "answered_elsewhere"

#: How far a call has got: an update only ever moves a row forward. The order is the one of
#: ``_UPDATES_FROM`` below: a call first cancelled as "answered elsewhere" and then reported
#: answered by the extension's dialog state (the agent's own desk phone took it) moves on to
#: answered and, when it is hung up, to ended with its duration.
_RANK = {
    CallState.RINGING: 0,
    CallState.MISSED: 1,
    CallState.ANSWERED_ELSEWHERE: 2,
    CallState.ANSWERED: 3,
    CallState.ENDED: 4,
}
_OUTCOME = {
    CallState.RINGING: OUTCOME_RINGING,
    CallState.ANSWERED: OUTCOME_ANSWERED,
    CallState.ANSWERED_ELSEWHERE: OUTCOME_ANSWERED_ELSEWHERE,
    CallState.MISSED: OUTCOME_MISSED,
    CallState.ENDED: OUTCOME_ANSWERED,
}

#: Which stored outcomes a state may replace. Several desktop clients on one database may see
#: the same group call: the one whose phone answered logs "answered", the others see it
#: answered elsewhere (or, without a Reason header, missed). So "answered" wins over both and
#: is never replaced by them, whichever client writes first; a running answered call (no
#: duration yet) is finished by ENDED.
_UPDATES_FROM = {
    CallState.ANSWERED: (OUTCOME_RINGING, OUTCOME_MISSED, OUTCOME_ANSWERED_ELSEWHERE),
    CallState.ENDED: (OUTCOME_RINGING, OUTCOME_MISSED, OUTCOME_ANSWERED_ELSEWHERE),
    CallState.ANSWERED_ELSEWHERE: (OUTCOME_RINGING, OUTCOME_MISSED),
    CallState.MISSED: (OUTCOME_RINGING,),
    CallState.RINGING: (),
}


@dataclass(frozen=True)
class CallWrite:
    """What one event changes in a call's history row: a snapshot taken on the thread that
    identifies calls, written on the one that writes (so a slow write never delays the next
    caller's pop-up)."""

    first: CallEvent  # the call's first event: the row's direction, text and number
    event: CallEvent
    state: CallState  # the furthest state seen
    rank: int
    started_at: datetime | None
    duration: int | None
    contact_id: int | None
    organization_id: int | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.event.source, self.event.call_id)

    @property
    def source(self) -> str:
        return self.event.source

    @property
    def call_id(self) -> str:
        return self.event.call_id


@dataclass(frozen=True)
class ResolvedCall:
    """A call event together with who is calling: what the pop-up and ``listen --json`` show.

    Plain values only (the resolution carries ids and names, no ORM objects), so it may be
    handed to another thread.
    """

    event: CallEvent
    resolution: Resolution | None  # None when the look-up failed (database unavailable)
    interaction_id: int | None = None  # the history row, None when it could not be written

    @property
    def matches(self) -> tuple[Match, ...]:
        return self.resolution.matches if self.resolution is not None else ()

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    def to_json(self) -> dict[str, Any]:
        """``{"event": "call.ringing", "call_id", "number", "display_name", "line",
        "matches": [match_json …]}`` plus ``source``, ``direction``, ``withheld``,
        ``normalized`` and ``interaction_id``."""
        event = self.event
        return {
            "event": f"call.{event.state.value}",
            "call_id": event.call_id,
            "number": None if event.withheld else event.remote_number,
            "display_name": event.remote_display_name,
            "line": event.line,
            "matches": [match_json(m) for m in self.matches],
            "source": event.source,
            "direction": event.direction.value,
            "withheld": event.withheld or self._withheld_by_reading(),
            "normalized": self.resolution.normalized if self.resolution is not None else None,
            "interaction_id": self.interaction_id,
        }

    def _withheld_by_reading(self) -> bool:
        caller = self.resolution.caller if self.resolution is not None else None
        return caller is not None and caller.withheld


@dataclass
class _Call:
    """What the logger knows about one call (touched only by the thread of its source)."""

    first: CallEvent
    resolution: Resolution | None = None
    rank: int = -1  # of the furthest state seen
    state: CallState | None = None
    written_rank: int = -1  # of the furthest state stored
    queued_rank: int = -1  # of the furthest state handed to the writer
    interaction_id: int | None = None
    started_at: datetime | None = None
    answered_at: datetime | None = None
    duration: int | None = field(default=None)


class CallLogger:
    """Identifies callers and writes one history row per call (see the module docstring).

    ``handle`` is a :data:`~desktop_crm.cti.events.CallSink`-compatible callable; it returns the
    event with its resolution for the pop-up, or ``None`` for an event that brings nothing new
    (a repeat, or a state older than one already seen).
    """

    def __init__(
        self, db: Database, rules: DialingRules, *, max_calls: int = MAX_TRACKED_CALLS
    ) -> None:
        if max_calls < 1:
            raise ValueError("max_calls must be at least 1")
        self._db = db
        self._rules = rules
        self._max_calls = max_calls
        self._calls: OrderedDict[tuple[str, str], _Call] = OrderedDict()
        self._lock = threading.Lock()  # several sources may share one logger
        self._written = threading.Condition(self._lock)  # a history row was written
        self._waiting = 0  # callers in wait_for_entry: the writer should not hold back

    @property
    def tracked_calls(self) -> int:
        return len(self._calls)

    def handle(
        self, event: CallEvent, *, announce: Callable[[ResolvedCall], None] | None = None
    ) -> ResolvedCall | None:
        """Identify and log ``event``; the result for a new state, else None.

        With ``announce``, a new state is handed to it as soon as the caller is identified and
        before the history row is written, so the pop-up does not wait for the database write
        (its ``interaction_id`` is then None for a call's first event). This is
        :meth:`prepare` and :meth:`write` on one thread; the listener runs them on two.
        """
        result, job = self.prepare(event, announce=announce)
        if job is None:
            return result
        self.write(job)
        if result is None:
            return None
        return ResolvedCall(event, result.resolution, self._interaction_id(job.key))

    __call__ = handle

    def prepare(
        self, event: CallEvent, *, announce: Callable[[ResolvedCall], None] | None = None
    ) -> tuple[ResolvedCall | None, CallWrite | None]:
        """Track and identify ``event`` and announce a new state; what to write, if anything.

        Runs on the thread that takes events in order; the returned :class:`CallWrite` is a
        snapshot, so :meth:`write` may run on another thread while later events arrive.
        """
        call = self._track(event)
        rank = _RANK[event.state]
        with self._lock:
            new = rank > call.rank
            if new:
                call.rank, call.state = rank, event.state
            self._note_times(call, event)
            if not new and call.queued_rank >= call.rank:
                return None, None  # a repeat of something already stored (or on its way)
            call.queued_rank = call.rank
        if call.resolution is None:
            try:
                with self._db.session() as session:
                    call.resolution = self._resolve(session, call.first)
            except SQLAlchemyError as exc:
                log.warning("call %s from %s not identified: %s", event.call_id, event.source, exc)
        result = ResolvedCall(event, call.resolution, call.interaction_id) if new else None
        if result is not None and announce is not None:
            try:
                announce(result)
            except Exception:  # whoever listens, the call is still logged
                log.warning("announcing call %s failed", event.call_id, exc_info=True)
        return result, self._snapshot(call, event)

    def write(self, job: CallWrite) -> None:
        """Write (or move forward) the history row of ``job``; a failure is retried with the
        call's next event."""
        try:
            with self._db.session() as session:
                entry_id = self._write(session, job)
        except SQLAlchemyError as exc:
            # the next event of this call writes the complete state again
            log.warning("call %s from %s not logged (yet): %s", job.call_id, job.source, exc)
            with self._lock:
                call = self._calls.get(job.key)
                if call is not None:
                    call.queued_rank = min(call.queued_rank, call.written_rank)
            return
        with self._lock:
            call = self._calls.get(job.key)
            if call is not None:
                call.interaction_id = entry_id
                call.written_rank = max(call.written_rank, job.rank)
            self._written.notify_all()

    @property
    def someone_waits(self) -> bool:
        """Somebody waits for a call's history row (a note typed into the pop-up)."""
        return self._waiting > 0

    def wait_for_entry(self, source: str, call_id: str, timeout: float) -> int | None:
        """The id of a call's history row, waiting up to ``timeout`` seconds for its write.

        None when the call is unknown to this logger or its row could not be written in time.
        """
        key = (source, call_id)

        def written() -> bool:
            call = self._calls.get(key)
            return call is None or call.interaction_id is not None

        with self._written:
            self._waiting += 1
            try:
                self._written.wait_for(written, timeout)
            finally:
                self._waiting -= 1
            call = self._calls.get(key)
            return call.interaction_id if call is not None else None

    def _interaction_id(self, key: tuple[str, str]) -> int | None:
        with self._lock:
            call = self._calls.get(key)
            return call.interaction_id if call is not None else None

    # --- state ---------------------------------------------------------------------------

    def _track(self, event: CallEvent) -> _Call:
        key = (event.source, event.call_id)
        with self._lock:
            call = self._calls.get(key)
            if call is not None:
                self._calls.move_to_end(key)
                return call
            call = self._calls[key] = _Call(first=event)
            while len(self._calls) > self._max_calls:
                self._calls.popitem(last=False)
            return call

    @staticmethod
    def _note_times(call: _Call, event: CallEvent) -> None:
        if call.started_at is None:
            call.started_at = event.started_at or event.occurred_at
        elif event.started_at is not None and event.started_at < call.started_at:
            call.started_at = event.started_at  # a logger that missed the first event
        if event.answered_at is not None:
            call.answered_at = event.answered_at
        elif event.state is CallState.ANSWERED and call.answered_at is None:
            call.answered_at = event.occurred_at
        if event.state is CallState.ENDED and call.answered_at is not None:
            call.duration = max(0, round((event.occurred_at - call.answered_at).total_seconds()))

    # --- database ------------------------------------------------------------------------

    def _resolve(self, session: Session, event: CallEvent) -> Resolution:
        number = None if event.withheld else event.remote_number
        return resolve_caller(session, number, self._rules)

    @staticmethod
    def _snapshot(call: _Call, event: CallEvent) -> CallWrite:
        best = call.resolution.matches[0] if call.resolution and call.resolution.matches else None
        contact_id = organization_id = None
        if best is not None and best.record.kind is RecordKind.CONTACT:
            contact_id = best.record.id
        elif best is not None and best.record.kind is RecordKind.ORGANIZATION:
            organization_id = best.record.id
        assert call.state is not None
        return CallWrite(
            first=call.first,
            event=event,
            state=call.state,
            rank=call.rank,
            started_at=call.started_at,
            duration=call.duration if call.state is CallState.ENDED else None,
            contact_id=contact_id,
            organization_id=organization_id,
        )

    def _write(self, session: Session, job: CallWrite) -> int:
        first = job.first
        outcome = _OUTCOME[job.state]
        entry, created = log_interaction(
            session,
            InteractionInput(
                kind=InteractionKind.CALL,
                contact_id=job.contact_id,
                organization_id=job.organization_id,
                direction=Direction(first.direction.value),
                occurred_at=job.started_at,
                duration_seconds=job.duration,
                outcome=outcome,
                body=_body(first),
                remote="" if first.withheld else (first.remote_number or ""),
                source=job.source,
                external_id=job.call_id,
            ),
        )
        if not created and job.rank > 0:
            self._advance(session, job, outcome)
        return entry.id

    @staticmethod
    def _advance(session: Session, job: CallWrite, outcome: str) -> None:
        """Move the stored row forward to ``outcome``, never back (checked in the WHERE, so it
        also holds against another process writing the same call)."""
        behind: ColumnElement[bool] = Interaction.outcome.in_(_UPDATES_FROM[job.state])
        if job.state is CallState.ENDED:
            running = and_(
                Interaction.outcome == OUTCOME_ANSWERED, Interaction.duration_seconds.is_(None)
            )
            behind = or_(behind, running)
        values: dict[str, Any] = {
            "outcome": outcome,
            "duration_seconds": job.duration,
            "updated_at": utcnow(),
            "version": Interaction.version + 1,
        }
        if job.event.started_at is not None:
            values["occurred_at"] = job.started_at
        session.execute(
            update(Interaction)
            .where(
                Interaction.source == job.source,
                Interaction.external_id == job.call_id,
                behind,
            )
            .values(values)
            .execution_options(synchronize_session=False)
        )


def _body(event: CallEvent) -> str:
    """Facts a source knows that have no column: the line and the name the network sent."""
    parts = []
    if event.line:
        parts.append(f"line {event.line}")
    if event.remote_display_name:
        parts.append(f"caller ID name: {event.remote_display_name}")
    return "; ".join(parts)
