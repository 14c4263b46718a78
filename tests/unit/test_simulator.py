"""The simulator source: scenario files, timing, stop, and end-to-end into the call log."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_crm.cti.calllog import CallLogger
from desktop_crm.cti.events import CallDirection, CallEvent, CallSource, CallState
from desktop_crm.cti.simulator import (
    ScenarioError,
    ScriptedCall,
    Simulator,
    load_scenario,
    parse_scenario,
)
from desktop_crm.data.db import Database
from desktop_crm.data.demo import seed_demo
from desktop_crm.data.models import Contact, Interaction, Organization
from desktop_crm.identify import DialingRules

DEMO = Path(__file__).resolve().parents[2] / "desktop_crm" / "cti" / "scenarios" / "demo.toml"


class Collector:
    def __init__(self) -> None:
        self.events: list[CallEvent] = []
        self.first = threading.Event()

    def __call__(self, event: CallEvent) -> None:
        self.events.append(event)
        self.first.set()


@pytest.fixture
def played() -> Iterator[list[Simulator]]:
    """Simulators a test started; stopped even when the test fails."""
    sims: list[Simulator] = []
    yield sims
    for sim in sims:
        sim.stop()


def test_demo_scenario_loads() -> None:
    calls = load_scenario(DEMO)
    assert len(calls) == 7
    assert calls[0] == ScriptedCall(
        number="04217033166",
        name="Boehm Elektro Lange",
        line="201",
        ring_seconds=4,
        outcome=CallState.ANSWERED,
        talk_seconds=95,
        gap_seconds=3,
    )
    assert calls[-1].withheld and calls[-1].number is None
    assert {c.outcome for c in calls} == {
        CallState.ANSWERED,
        CallState.MISSED,
        CallState.ANSWERED_ELSEWHERE,
    }


def test_json_scenario(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        '{"calls": [{"number": "+4989202044725", "outcome": "missed", "line": 201},'
        ' {"withheld": true, "direction": "outbound", "ring_seconds": 0.5}]}'
    )
    first, second = load_scenario(path)
    assert (first.number, first.outcome, first.line) == ("+4989202044725", CallState.MISSED, "201")
    assert second.withheld and second.direction is CallDirection.OUTBOUND
    assert second.ring_seconds == 0.5
    assert parse_scenario([{"number": "1"}]) == [ScriptedCall("1")]


def test_simulator_is_a_call_source() -> None:
    source: CallSource = Simulator([ScriptedCall("1")])
    assert source.name == "simulator"


def test_events_of_a_scenario(played: list[Simulator]) -> None:
    calls = [
        ScriptedCall("+4989202044725", name="Anna", line="201", ring_seconds=4, talk_seconds=60),
        ScriptedCall(None, outcome=CallState.MISSED, ring_seconds=10, gap_seconds=0),
        ScriptedCall("0891234", outcome=CallState.ANSWERED_ELSEWHERE, gap_seconds=0),
    ]
    sim = Simulator(calls, speed=10_000)
    played.append(sim)
    sink = Collector()
    sim.start(sink)
    assert sim.wait_finished(5)
    sim.stop()
    assert not sim.running
    states = [(e.call_id, e.state) for e in sink.events]
    ids = list(dict.fromkeys(call_id for call_id, _ in states))
    assert len(ids) == 3
    assert [s for _, s in states] == [
        CallState.RINGING,
        CallState.ANSWERED,
        CallState.ENDED,
        CallState.RINGING,
        CallState.MISSED,
        CallState.RINGING,
        CallState.ANSWERED_ELSEWHERE,
    ]
    ringing, answered, ended = sink.events[:3]
    assert (ringing.remote_number, ringing.remote_display_name, ringing.line) == (
        "+4989202044725",
        "Anna",
        "201",
    )
    assert ringing.source == "simulator" and not ringing.withheld
    # script time, not wall time: the durations are what the scenario says at any speed
    assert (answered.occurred_at - ringing.occurred_at).total_seconds() == 4
    assert (ended.occurred_at - answered.occurred_at).total_seconds() == 60
    assert ended.answered_at == answered.occurred_at
    assert ended.started_at == ringing.occurred_at
    withheld = sink.events[3]
    assert withheld.withheld and withheld.remote_number is None
    # played again: new call ids, so a replay never updates the calls of the first run
    again = Collector()
    sim.start(again)
    assert sim.wait_finished(5)
    sim.stop()
    assert not {e.call_id for e in again.events} & set(ids)


def test_stop_returns_within_a_second_mid_call(played: list[Simulator]) -> None:
    sim = Simulator([ScriptedCall("+4989202044725", ring_seconds=30)], speed=1)
    played.append(sim)
    sink = Collector()
    sim.start(sink)
    assert sink.first.wait(2)
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 1.0
    assert not sim.running
    assert [e.state for e in sink.events] == [CallState.RINGING]
    assert sim.wait_finished(0)


def test_stop_without_start_and_twice() -> None:
    sim = Simulator([ScriptedCall("1")])
    sim.stop()
    sim.stop()


def test_loop_plays_until_stopped(played: list[Simulator]) -> None:
    sim = Simulator([ScriptedCall("1", outcome=CallState.MISSED)], speed=1000, loop=True)
    played.append(sim)
    sink = Collector()
    sim.start(sink)
    deadline = time.monotonic() + 5
    while len({e.call_id for e in sink.events}) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    sim.stop()
    assert len({e.call_id for e in sink.events}) >= 3
    sim.start(sink)
    with pytest.raises(RuntimeError, match="already running"):
        sim.start(sink)
    sim.stop()


@pytest.mark.allow_logged_errors
def test_a_failing_sink_does_not_end_the_source(played: list[Simulator]) -> None:
    seen: list[CallState] = []

    def sink(event: CallEvent) -> None:
        seen.append(event.state)
        raise RuntimeError("consumer bug")

    sim = Simulator([ScriptedCall("1", outcome=CallState.MISSED, gap_seconds=0)], speed=1000)
    played.append(sim)
    sim.start(sink)
    assert sim.wait_finished(5)
    assert seen == [CallState.RINGING, CallState.MISSED]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("s.yaml", "calls: []", "a scenario is a .toml or .json file"),
        ("s.toml", "[[calls]\nnumber = 1", "not valid TOML"),
        ("s.json", '{"calls": [', "not valid JSON"),
        ("s.toml", "title = 'x'", "unknown key 'title'"),
        ("s.toml", "", "calls: missing"),
        ("s.json", '{"calls": []}', "calls: the scenario has no calls"),
        ("s.json", '{"calls": {"number": "1"}}', "calls: expected a list"),
        ("s.json", '{"calls": ["0891234"]}', "calls[0]: expected a table"),
        ("s.toml", '[[calls]]\nnumber = "1"\nring_second = 3', "calls[0].ring_second: unknown key"),
        ("s.toml", "[[calls]]\noutcome = 'missed'", "calls[0].number: missing"),
        ("s.toml", "[[calls]]\nnumber = 891234", "calls[0].number: expected the number as text"),
        ("s.toml", "[[calls]]\nnumber = '1'\nwithheld = true", "a number or is withheld"),
        ("s.toml", "[[calls]]\nwithheld = 'yes'", "calls[0].withheld: expected true or false"),
        ("s.toml", "[[calls]]\nnumber = '1'\noutcome = 'busy'", "calls[0].outcome: 'busy'"),
        ("s.toml", "[[calls]]\nnumber = '1'\ndirection = 'in'", "calls[0].direction"),
        (
            "s.toml",
            "[[calls]]\nnumber = '1'\nring_seconds = -1",
            "calls[0].ring_seconds: expected 0",
        ),
        (
            "s.toml",
            "[[calls]]\nnumber = '1'\n[[calls]]\nnumber = '2'\ngap_seconds = 'soon'",
            "calls[1].gap_seconds: expected a number",
        ),
        (
            "s.toml",
            "[[calls]]\nnumber = '1'\noutcome = 'missed'\ntalk_seconds = 5",
            "calls[0].talk_seconds: only an answered call",
        ),
        ("s.toml", "[[calls]]\nnumber = '1'\nname = 5.5", "calls[0].name: expected text"),
    ],
)
def test_bad_scenario_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_missing_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the scenario"):
        load_scenario(tmp_path / "nothing.toml")


def test_bad_simulator_arguments() -> None:
    with pytest.raises(ValueError):
        Simulator([])
    with pytest.raises(ValueError):
        Simulator([ScriptedCall("1")], speed=0)


def test_demo_scenario_end_to_end_into_the_call_log(db: Database) -> None:
    """The shipped scenario against the demo data: every call logged once, identified."""
    seed_demo(db)  # the default seed, as `desktop-crm demo` loads it
    logger = CallLogger(db, DialingRules())
    results = []

    def sink(event: CallEvent) -> None:
        results.append(logger.handle(event))

    sim = Simulator.from_file(DEMO, speed=20_000)
    try:
        sim.start(sink)
        assert sim.wait_finished(30)
    finally:
        sim.stop()
    assert all(r is not None for r in results)
    with db.session() as s:
        rows = list(
            s.scalars(
                select(Interaction)
                .where(Interaction.source == "simulator")
                .order_by(Interaction.occurred_at)
            )
        )
        names = {c.id: c.display_name for c in s.scalars(select(Contact))}
        orgs = {o.id: o.name for o in s.scalars(select(Organization))}
    got = [
        (
            names.get(r.contact_id) if r.contact_id else None,
            orgs.get(r.organization_id) if r.contact_id is None and r.organization_id else None,
            r.outcome,
            r.duration_seconds,
            r.remote,
        )
        for r in rows
    ]
    assert got == [
        ("Katharina Böhm", None, "answered", 95, "04217033166"),
        ("Käthe Peters", None, "missed", None, "+491714952936"),
        (None, "Elektro Lange e.K.", "answered_elsewhere", None, "+494217033177"),
        ("Hans-Peter Vogel", None, "answered", 240, "004991418692575"),
        ("Magdalena Schäfer", None, "answered", 45, "004991416377"),
        (None, None, "missed", None, "+493055501234"),
        (None, None, "answered", 20, ""),
    ]
    assert len({r.external_id for r in rows}) == 7
    assert all(isinstance(r.occurred_at, datetime) for r in rows)
