"""The client's telephony: the listener on worker threads, the bridge, and what the pop-up asks.

:class:`CallCentre` runs a :class:`~desktop_crm.cti.listener.Listener` over the sources the
settings name (``[[sip]]``, ``[[simulator]]``) plus any call simulated from the menu. The
listener's workers identify the caller (own sessions); :func:`CallCentre._announce`, still on
that worker thread, reads the caller's card (important tags, last five history entries, open
tickets) with another short session, so the GUI thread only renders. Results and source status
reach the GUI thread through the one :class:`~desktop_crm.ui.bridge.EventBridge`.

Writes the pop-up asks for (a note into the call's history entry, the picked candidate) run
through the window's :class:`~desktop_crm.ui.tasks.TaskRunner`, never on the GUI thread.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from sqlalchemy.exc import SQLAlchemyError

from desktop_crm.cti.calllog import CallLogger, ResolvedCall
from desktop_crm.cti.events import (
    CallDirection,
    CallSource,
    SourceProblem,
    SourceState,
    SourceStatus,
)
from desktop_crm.cti.listener import (
    DEMO_SCENARIO,
    Listener,
    sip_sources_from_settings,
    sources_from_settings,
)
from desktop_crm.cti.simulator import ScriptedCall, Simulator, load_scenario
from desktop_crm.data import queries, records
from desktop_crm.data.db import Database
from desktop_crm.data.errors import DataError
from desktop_crm.data.queries import CallerCard
from desktop_crm.identify.resolve import Match, RecordKind, remember_pick
from desktop_crm.identify.rules import DialingRules

from .bridge import EventBridge
from .tasks import TaskContext, TaskRunner

log = logging.getLogger(__name__)

SIMULATOR_NAME = "simulator"
CALL_ROW_WAIT = 2.0  # seconds a note or ticket waits for its call's history row


@dataclass(frozen=True)
class CallUpdate:
    """A call event with its caller, and (on the call's first event) the caller's card."""

    call: ResolvedCall
    card: CallerCard | None = None
    display: str = ""  # the number formatted for people (on a call's first event)

    @property
    def key(self) -> tuple[str, str]:
        return (self.call.event.source, self.call.event.call_id)


def read_card(db: Database, match: Match | None) -> CallerCard | None:
    """The card of a matched record, or None (no match, a colleague, or the database failed)."""
    if match is None or match.record.kind is RecordKind.USER:
        return None
    try:
        with db.session() as session:
            if match.record.kind is RecordKind.CONTACT:
                return queries.caller_card(session, contact_id=match.record.id)
            return queries.caller_card(session, organization_id=match.record.id)
    except (DataError, SQLAlchemyError) as exc:
        log.warning("reading the caller's card failed: %s", exc)
        return None


class CallCentre(QObject):
    """Owns the listener and the simulators; delivers call updates and status on the GUI thread."""

    #: a list of :class:`CallUpdate`, oldest first, already coalesced into one batch
    calls_arrived = Signal(list)
    #: a :class:`SourceStatus`
    status_changed = Signal(object)

    def __init__(
        self,
        db: Database,
        rules: DialingRules,
        runner: TaskRunner,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.rules = rules
        self.runner = runner
        self.bridge = EventBridge(runner, self)
        self.bridge.batch_ready.connect(self._batch)
        self.listener: Listener | None = None
        self.logger: CallLogger | None = None
        self.simulators: list[Simulator] = []
        self.statuses: dict[str, SourceStatus] = {}
        self._carded: set[tuple[str, str]] = set()  # calls whose card was read (worker thread)

    # --- running ---------------------------------------------------------------------------

    def start(self, sip: Sequence[dict[str, Any]] = (), simulators: Sequence[Any] = ()) -> None:
        """Start the listener with the configured sources; a source that fails is reported."""
        if self.listener is not None:
            return
        sources: list[CallSource] = []
        for build, entries in (
            (sip_sources_from_settings, list(sip)),
            (sources_from_settings, list(simulators)),
        ):
            if not entries:
                continue
            try:
                sources.extend(build(entries))
            except (ValueError, OSError) as exc:
                self._report(SourceStatus("settings", SourceState.FAILED, detail=str(exc)))
        self.start_sources(sources)

    def start_sources(self, sources: Sequence[CallSource]) -> None:
        """Start the listener on ``sources`` (already built); failures are reported as status."""
        if self.listener is not None:
            return
        logger = self.logger = CallLogger(self.db, self.rules)
        listener = Listener(
            sources,
            logger,
            self._announce,
            on_status=self.bridge.submit,
            on_idle=self.bridge.flush,
        )
        try:
            listener.start()
        except (OSError, RuntimeError, ValueError) as exc:
            names = ", ".join(s.name for s in sources)
            self._report(
                SourceStatus(
                    names or "listener",
                    SourceState.FAILED,
                    SourceProblem.UNREACHABLE,
                    detail=str(exc),
                )
            )
            # calls simulated from the menu still work
            listener = Listener(
                [], logger, self._announce, on_status=self.bridge.submit, on_idle=self.bridge.flush
            )
            listener.start()
        self.listener = listener

    def _report(self, status: SourceStatus) -> None:
        self.statuses[status.source] = status
        self.status_changed.emit(status)

    def simulate(self, calls: Sequence[ScriptedCall], *, speed: float = 1.0) -> Simulator:
        """Play ``calls`` through the listener as if a phone system had sent them."""
        if self.listener is None:
            raise RuntimeError("the call listener is not running")
        self.simulators = [s for s in self.simulators if s.running]
        simulator = Simulator(calls, name=SIMULATOR_NAME, speed=speed)
        simulator.start(self.listener.enqueue)
        self.simulators.append(simulator)
        return simulator

    def play_demo(self, *, speed: float = 1.0) -> Simulator:
        return self.simulate(load_scenario(DEMO_SCENARIO), speed=speed)

    def stop(self) -> None:
        """Stop simulators and the listener (each returns within a second). Idempotent."""
        for simulator in self.simulators:
            simulator.stop()
        self.simulators.clear()
        if self.listener is not None:
            self.listener.stop()
            self.listener = None

    @property
    def running(self) -> bool:
        return self.listener is not None

    # --- worker thread ---------------------------------------------------------------------

    def _announce(self, call: ResolvedCall) -> None:
        """Called on the listener's worker thread: read the card, hand on through the bridge."""
        key = (call.event.source, call.event.call_id)
        card = None
        display = ""
        if key not in self._carded:
            self._carded.add(key)
            if len(self._carded) > 10_000:
                self._carded.clear()
            # formatting the number costs as much as the look-up: here, not in the GUI thread
            if call.resolution is not None:
                display = call.resolution.display
            if call.event.direction is CallDirection.INBOUND:
                card = read_card(self.db, call.best)
        # more of a burst queued or being identified beside this call: one batch (and one
        # repaint) for all of it, see EventBridge; the listener flushes when it runs dry
        listener = self.listener
        more = listener is not None and listener.backlog > 1
        self.bridge.submit(CallUpdate(call, card, display), hold=more)

    # --- GUI thread ------------------------------------------------------------------------

    def _batch(self, items: list[Any]) -> None:
        updates: list[CallUpdate] = []
        for item in items:
            if isinstance(item, CallUpdate):
                updates.append(item)
            elif isinstance(item, SourceStatus):
                self._report(item)
        if updates:
            self.calls_arrived.emit(updates)

    # --- what the pop-up asks for (work in the background) ----------------------------------

    def entry_id(self, call: ResolvedCall, timeout: float = CALL_ROW_WAIT) -> int | None:
        """The id of ``call``'s history row; waits (worker threads only) for its write.

        The pop-up is told about a call before its row is written (see
        :class:`~desktop_crm.cti.listener.Listener`); a note typed at once must still land.
        """
        if call.interaction_id is not None:
            return call.interaction_id
        logger = self.logger
        if logger is None:
            return None
        return logger.wait_for_entry(call.event.source, call.event.call_id, timeout)

    def save_note(
        self,
        call: ResolvedCall,
        text: str,
        on_done: Callable[[int], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        db, event = self.db, call.event

        def work(_context: TaskContext) -> int:
            interaction_id = self.entry_id(call)
            with db.session() as session:
                return records.add_call_note(
                    session,
                    text,
                    interaction_id=interaction_id,
                    source=event.source,
                    call_id=event.call_id,
                )

        self.runner.run(work, on_done=on_done, on_error=on_error, name="call-note")

    def pick(
        self,
        call: ResolvedCall,
        match: Match,
        on_done: Callable[[CallerCard | None], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """Remember the agent's pick for this number, attach the call to it, read its card."""
        db, event = self.db, call.event
        key = call.resolution.key if call.resolution is not None else ""
        contact_id = match.record.id if match.record.kind is RecordKind.CONTACT else None
        organization_id = match.record.id if match.record.kind is RecordKind.ORGANIZATION else None

        def work(_context: TaskContext) -> CallerCard | None:
            interaction_id = self.entry_id(call)
            with db.session() as session:
                if contact_id is not None or organization_id is not None:
                    remember_pick(
                        session, key, contact_id=contact_id, organization_id=organization_id
                    )
                # not logged yet: the logger attaches it to the best match
                with contextlib.suppress(DataError):
                    records.attach_call(
                        session,
                        contact_id=contact_id,
                        organization_id=organization_id,
                        interaction_id=interaction_id,
                        source=event.source,
                        call_id=event.call_id,
                    )
            return read_card(db, match)

        self.runner.run(work, on_done=on_done, on_error=on_error, name="caller-pick")
