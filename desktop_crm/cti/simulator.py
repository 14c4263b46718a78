"""A telephony source that plays scripted calls: for demos, screenshots and tests.

A scenario is a TOML or JSON file with a list of calls::

    [[calls]]
    number = "0421 70331-66"   # as the phone system would deliver it
    name = "Katharina Böhm"    # the caller ID name (optional)
    line = "201"               # the local line or extension (optional)
    ring_seconds = 4
    outcome = "answered"       # answered, missed or answered_elsewhere
    talk_seconds = 95          # answered calls only
    gap_seconds = 3            # pause before the next call

    [[calls]]
    withheld = true            # instead of a number
    outcome = "missed"

JSON has the same keys: ``{"calls": [{…}, …]}`` or just the list. A call may also say
``direction = "outbound"`` (default ``inbound``). Unknown keys are errors, so a typo such as
``ring_second`` is reported instead of silently using the default.

Events carry *scripted* times: the first call starts when the simulator starts and every later
moment is that start plus the scripted seconds, whatever ``speed`` is. So a scenario played
1000 times faster in a test still logs a 95-second call as 95 seconds.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import tomllib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .events import CallDirection, CallEvent, CallSink, CallState

log = logging.getLogger(__name__)

#: Outcomes a scripted call can have.
OUTCOMES = {
    "answered": CallState.ANSWERED,
    "missed": CallState.MISSED,
    "answered_elsewhere": CallState.ANSWERED_ELSEWHERE,
}
_KEYS = frozenset(
    {
        "number",
        "withheld",
        "name",
        "line",
        "direction",
        "ring_seconds",
        "outcome",
        "talk_seconds",
        "gap_seconds",
    }
)
#: How long stop() waits for the thread (the design promises one second).
STOP_TIMEOUT = 1.0


class ScenarioError(ValueError):
    """A scenario file that cannot be played; the message names the file and the key."""


@dataclass(frozen=True)
class ScriptedCall:
    number: str | None  # None: withheld
    name: str = ""
    line: str = ""
    ring_seconds: float = 3.0
    outcome: CallState = CallState.ANSWERED
    talk_seconds: float = 30.0
    gap_seconds: float = 2.0
    direction: CallDirection = CallDirection.INBOUND

    @property
    def withheld(self) -> bool:
        return self.number is None


def load_scenario(path: str | Path) -> list[ScriptedCall]:
    """The calls of a ``.toml`` or ``.json`` scenario file; ScenarioError names what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text") from exc
    suffix = path.suffix.lower()
    data: Any
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise ScenarioError(f"{path}: a scenario is a .toml or .json file")
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    return parse_scenario(data, str(path))


def parse_scenario(data: Any, where: str = "scenario") -> list[ScriptedCall]:
    """Calls from already parsed data (``{"calls": [...]}`` or a list)."""
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"calls"})
        if unknown:
            raise ScenarioError(f"{where}: unknown key {unknown[0]!r} (expected 'calls')")
        if "calls" not in data:
            raise ScenarioError(f"{where}: calls: missing; list the calls as [[calls]] tables")
        data = data["calls"]
    if not isinstance(data, list):
        raise ScenarioError(f"{where}: calls: expected a list of calls")
    if not data:
        raise ScenarioError(f"{where}: calls: the scenario has no calls")
    return [_call(item, f"{where}: calls[{i}]") for i, item in enumerate(data)]


def _call(item: Any, where: str) -> ScriptedCall:
    if not isinstance(item, Mapping):
        raise ScenarioError(f"{where}: expected a table of keys, got {item!r}")
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise ScenarioError(
            f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(_KEYS))})"
        )
    withheld = item.get("withheld", False)
    if not isinstance(withheld, bool):
        raise ScenarioError(f"{where}.withheld: expected true or false, got {withheld!r}")
    number = item.get("number")
    if number is not None and (not isinstance(number, str) or not number.strip()):
        raise ScenarioError(f"{where}.number: expected the number as text, got {number!r}")
    if number is None and not withheld:
        raise ScenarioError(f"{where}.number: missing (or write withheld = true)")
    if number is not None and withheld:
        raise ScenarioError(f"{where}: a call has a number or is withheld, not both")
    outcome_text = item.get("outcome", "answered")
    if outcome_text not in OUTCOMES:
        raise ScenarioError(
            f"{where}.outcome: {outcome_text!r} is not one of {', '.join(OUTCOMES)}"
        )
    direction = item.get("direction", "inbound")
    if direction not in {d.value for d in CallDirection}:
        raise ScenarioError(f"{where}.direction: {direction!r} is not inbound or outbound")
    outcome = OUTCOMES[outcome_text]
    if "talk_seconds" in item and outcome is not CallState.ANSWERED:
        raise ScenarioError(f"{where}.talk_seconds: only an answered call has a talk time")
    return ScriptedCall(
        number=number.strip() if number is not None else None,
        name=_text(item, "name", where),
        line=_text(item, "line", where),
        ring_seconds=_seconds(item, "ring_seconds", 3.0, where),
        outcome=outcome,
        talk_seconds=_seconds(item, "talk_seconds", 30.0, where),
        gap_seconds=_seconds(item, "gap_seconds", 2.0, where),
        direction=CallDirection(direction),
    )


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key, "")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # line = 201
    if not isinstance(value, str):
        raise ScenarioError(f"{where}.{key}: expected text, got {value!r}")
    return value


def _seconds(item: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = item.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}.{key}: expected a number of seconds, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ScenarioError(f"{where}.{key}: expected 0 or more seconds, got {value!r}")
    return float(value)


class Simulator:
    """A :class:`~desktop_crm.cti.events.CallSource` that plays scripted calls in its thread.

    ``speed`` divides every wait (1000: a minute passes in 60 ms); ``loop`` starts over after
    the last call. Each start gives the calls new ids, so playing a scenario again logs new
    calls rather than updating the old ones.
    """

    def __init__(
        self,
        calls: Sequence[ScriptedCall],
        *,
        name: str = "simulator",
        speed: float = 1.0,
        loop: bool = False,
    ) -> None:
        if not calls:
            raise ValueError("a simulator needs at least one scripted call")
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        self.name = name
        self.calls = tuple(calls)
        self.speed = speed
        self.loop = loop
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> Simulator:
        return cls(load_scenario(path), **kwargs)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, sink: CallSink) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self._stop.clear()
        self._finished.clear()
        self._thread = threading.Thread(
            target=self._run, args=(sink,), name=f"cti-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                log.warning("%s did not stop within %.0f s", self.name, STOP_TIMEOUT)
        self._thread = None

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Whether the scenario played to its end (or was stopped) within ``timeout``."""
        return self._finished.wait(timeout)

    # --- the thread ----------------------------------------------------------------------

    def _run(self, sink: CallSink) -> None:
        try:
            run = uuid.uuid4().hex[:12]
            clock = _ScriptClock(datetime.now(UTC))
            rounds = 0
            while not self._stop.is_set():
                for index, call in enumerate(self.calls):
                    call_id = f"{run}-{rounds}-{index}"
                    if not self._play(call, call_id, clock, sink):
                        return
                rounds += 1
                if not self.loop:
                    return
        finally:
            self._finished.set()

    def _wait(self, seconds: float, clock: _ScriptClock) -> bool:
        """Let ``seconds`` of script time pass; False when stopped meanwhile."""
        clock.advance(seconds)
        if seconds <= 0:
            return not self._stop.is_set()
        return not self._stop.wait(seconds / self.speed)

    def _play(self, call: ScriptedCall, call_id: str, clock: _ScriptClock, sink: CallSink) -> bool:
        started = clock.now

        def emit(state: CallState, answered_at: datetime | None = None) -> None:
            event = CallEvent(
                call_id=call_id,
                state=state,
                source=self.name,
                direction=call.direction,
                remote_number=call.number,
                remote_display_name=call.name,
                withheld=call.withheld,
                line=call.line,
                occurred_at=clock.now,
                started_at=started,
                answered_at=answered_at,
            )
            try:
                sink(event)
            except Exception:  # a broken consumer must not end the source
                log.exception("%s: the sink failed on %s %s", self.name, call_id, state.value)

        emit(CallState.RINGING)
        if not self._wait(call.ring_seconds, clock):
            return False
        if call.outcome is CallState.ANSWERED:
            answered = clock.now
            emit(CallState.ANSWERED, answered)
            if not self._wait(call.talk_seconds, clock):
                return False
            emit(CallState.ENDED, answered)
        else:
            emit(call.outcome)
        return self._wait(call.gap_seconds, clock)


class _ScriptClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
