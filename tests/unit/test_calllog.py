"""Call logging: one history row per call, identified, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_crm.cti.calllog import CallLogger, ResolvedCall
from desktop_crm.cti.events import CallDirection, CallEvent, CallState
from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.models import Direction, Interaction, InteractionKind
from desktop_crm.data.records import ContactInput, OrganizationInput, PhoneInput
from desktop_crm.identify import DialingRules

RULES = DialingRules(area_code="89")
SOURCE = "sip:office"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ANNA = "+4989202044725"


@pytest.fixture
def crm(db: Database) -> dict[str, int]:
    with db.session() as s:
        company = records.create_organization(
            s,
            OrganizationInput(
                name="Müller Anlagenbau GmbH", phones=[PhoneInput("+49 89 2020447-0")]
            ),
        )
        anna = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Schäfer",
                organization_id=company.id,
                phones=[PhoneInput("+49 89 2020447-25")],
            ),
        )
        bernd = records.create_contact(
            s, ContactInput(first_name="Bernd", phones=[PhoneInput("0171 4952936")])
        )
        return {"company": company.id, "anna": anna.id, "bernd": bernd.id}


def ev(
    state: CallState,
    seconds: float = 0,
    *,
    call_id: str = "call-1",
    number: str | None = ANNA,
    withheld: bool = False,
    line: str = "",
    remote_display_name: str = "",
    direction: CallDirection = CallDirection.INBOUND,
    started_at: datetime | None = None,
    answered_at: datetime | None = None,
) -> CallEvent:
    return CallEvent(
        call_id=call_id,
        state=state,
        source=SOURCE,
        direction=direction,
        remote_number=number,
        remote_display_name=remote_display_name,
        withheld=withheld,
        line=line,
        occurred_at=T0 + timedelta(seconds=seconds),
        started_at=started_at,
        answered_at=answered_at,
    )


def rows(db: Database) -> list[Interaction]:
    with db.session() as s:
        return list(s.scalars(select(Interaction).where(Interaction.source == SOURCE)))


def test_ringing_then_missed_logs_one_missed_call_on_the_contact(
    db: Database, crm: dict[str, int]
) -> None:
    logger = CallLogger(db, RULES)
    ringing = logger.handle(ev(CallState.RINGING, line="201", remote_display_name="Anna S"))
    assert ringing is not None and ringing.best is not None
    assert ringing.best.contact_id == crm["anna"]
    [row] = rows(db)  # written at RINGING already: a crash mid-call loses nothing
    assert row.outcome == "ringing"
    missed = logger.handle(ev(CallState.MISSED, 20))
    assert missed is not None and missed.interaction_id == row.id
    [row] = rows(db)
    assert row.kind is InteractionKind.CALL
    assert row.direction is Direction.INBOUND
    assert row.outcome == "missed"
    assert row.contact_id == crm["anna"]
    assert row.organization_id == crm["company"]
    assert row.remote == ANNA
    assert row.external_id == "call-1"
    assert row.occurred_at == T0
    assert row.duration_seconds is None
    assert row.subject == ""
    assert "line 201" in row.body and "Anna S" in row.body


def test_answered_then_ended_logs_the_talk_time(db: Database, crm: dict[str, int]) -> None:
    logger = CallLogger(db, RULES)
    logger.handle(ev(CallState.RINGING))
    logger.handle(ev(CallState.ANSWERED, 5))
    [row] = rows(db)
    assert (row.outcome, row.duration_seconds) == ("answered", None)  # talking
    logger.handle(ev(CallState.ENDED, 125))
    [row] = rows(db)
    assert (row.outcome, row.duration_seconds) == ("answered", 120)
    assert row.occurred_at == T0
    assert row.version > 1  # updates count as edits (optimistic locking)


def test_answered_elsewhere(db: Database, crm: dict[str, int]) -> None:
    logger = CallLogger(db, RULES)
    logger.handle(ev(CallState.RINGING))
    logger.handle(ev(CallState.ANSWERED_ELSEWHERE, 4))
    [row] = rows(db)
    assert (row.outcome, row.duration_seconds, row.contact_id) == (
        "answered_elsewhere",
        None,
        crm["anna"],
    )


def test_outbound_call_direction(db: Database, crm: dict[str, int]) -> None:
    logger = CallLogger(db, RULES)
    logger.handle(ev(CallState.RINGING, direction=CallDirection.OUTBOUND))
    logger.handle(ev(CallState.MISSED, 30, direction=CallDirection.OUTBOUND))
    [row] = rows(db)
    assert (row.direction, row.outcome) == (Direction.OUTBOUND, "missed")


def test_repeats_and_a_restarted_logger_keep_one_row(db: Database, crm: dict[str, int]) -> None:
    first = CallLogger(db, RULES)
    assert first.handle(ev(CallState.RINGING)) is not None
    assert first.handle(ev(CallState.RINGING, 1)) is None  # a repeat brings nothing new
    assert first.handle(ev(CallState.ANSWERED, 5)) is not None
    assert first.handle(ev(CallState.ANSWERED, 5)) is None
    # the process restarts mid-call; the source still knows when it started and was answered
    second = CallLogger(db, RULES)
    late = T0 + timedelta(seconds=5)
    assert second.handle(ev(CallState.ANSWERED, 6, started_at=T0, answered_at=late)) is not None
    ended = second.handle(ev(CallState.ENDED, 65, started_at=T0, answered_at=late))
    assert ended is not None and ended.best is not None
    assert ended.best.contact_id == crm["anna"]
    [row] = rows(db)
    assert (row.outcome, row.duration_seconds, row.occurred_at) == ("answered", 60, T0)
    # a stale ANSWERED from yet another logger never turns the finished call back
    third = CallLogger(db, RULES)
    third.handle(ev(CallState.ANSWERED, 70))
    third.handle(ev(CallState.ENDED, 65, started_at=T0, answered_at=late))
    [row] = rows(db)
    assert (row.outcome, row.duration_seconds) == ("answered", 60)


def test_final_event_alone_after_a_restart_is_logged(db: Database, crm: dict[str, int]) -> None:
    logger = CallLogger(db, RULES)
    logger.handle(ev(CallState.ANSWERED, 5, call_id="x"))
    # restart: the END arrives at a logger that never saw the call
    CallLogger(db, RULES).handle(
        ev(CallState.ENDED, 50, call_id="x", answered_at=T0 + timedelta(seconds=5))
    )
    [row] = rows(db)
    assert (row.outcome, row.duration_seconds) == ("answered", 45)


def test_withheld_caller_is_logged_without_contact(db: Database, crm: dict[str, int]) -> None:
    logger = CallLogger(db, RULES)
    result = logger.handle(ev(CallState.RINGING, number=None, withheld=True))
    assert result is not None
    assert result.matches == ()
    logger.handle(ev(CallState.MISSED, 10, number=None, withheld=True))
    [row] = rows(db)
    assert (row.contact_id, row.organization_id, row.remote, row.outcome) == (
        None,
        None,
        "",
        "missed",
    )
    data = result.to_json()
    assert data["number"] is None and data["matches"] == [] and data["withheld"] is True


def test_anonymous_number_text_matches_nobody(db: Database, crm: dict[str, int]) -> None:
    result = CallLogger(db, RULES).handle(ev(CallState.RINGING, number="anonymous"))
    assert result is not None and result.matches == ()
    assert result.to_json()["withheld"] is True


def test_switchboard_direct_dial_is_the_organization(db: Database, crm: dict[str, int]) -> None:
    logger = CallLogger(db, RULES)
    result = logger.handle(ev(CallState.RINGING, number="+49 89 2020447 31"))
    assert result is not None and result.best is not None
    logger.handle(ev(CallState.MISSED, 8, number="+49 89 2020447 31"))
    [row] = rows(db)
    assert (row.contact_id, row.organization_id) == (None, crm["company"])
    assert row.remote == "+49 89 2020447 31"  # as delivered


def test_unknown_number_keeps_the_number(db: Database, crm: dict[str, int]) -> None:
    logger = CallLogger(db, RULES)
    result = logger.handle(ev(CallState.RINGING, number="030 1234567"))
    assert result is not None and result.matches == ()
    [row] = rows(db)
    assert (row.contact_id, row.organization_id, row.remote) == (None, None, "030 1234567")


def test_local_form_finds_the_person(db: Database, crm: dict[str, int]) -> None:
    result = CallLogger(db, RULES).handle(ev(CallState.RINGING, number="0171/4952936"))
    assert result is not None and result.best is not None
    assert result.best.contact_id == crm["bernd"]


def test_json_shape(db: Database, crm: dict[str, int]) -> None:
    logger = CallLogger(db, RULES)
    results = [
        logger.handle(ev(CallState.RINGING, line="201", remote_display_name="Anna S")),
        logger.handle(ev(CallState.ANSWERED, 3, line="201")),
        logger.handle(ev(CallState.ENDED, 9, line="201")),
        logger.handle(ev(CallState.RINGING, call_id="2")),
        logger.handle(ev(CallState.MISSED, 1, call_id="2")),
        logger.handle(ev(CallState.RINGING, call_id="3")),
        logger.handle(ev(CallState.ANSWERED_ELSEWHERE, 1, call_id="3")),
    ]
    assert all(isinstance(r, ResolvedCall) for r in results)
    docs = [r.to_json() for r in results if r is not None]
    assert [d["event"] for d in docs] == [
        "call.ringing",
        "call.answered",
        "call.ended",
        "call.ringing",
        "call.missed",
        "call.ringing",
        "call.answered_elsewhere",
    ]
    first = docs[0]
    json.dumps(first)  # plain JSON
    assert {k: first[k] for k in ("call_id", "number", "display_name", "line")} == {
        "call_id": "call-1",
        "number": ANNA,
        "display_name": "Anna S",
        "line": "201",
    }
    [match] = first["matches"]
    assert match["contact_id"] == crm["anna"]
    assert match["organization_id"] == crm["company"]
    assert match["name"] == "Anna Schäfer"
    assert match["reason"] == "exact"
    assert first["source"] == SOURCE and first["direction"] == "inbound"
    assert first["withheld"] is False and first["normalized"] == ANNA
    assert isinstance(first["interaction_id"], int)


def test_state_is_bounded_and_a_forgotten_call_is_not_logged_twice(
    db: Database, crm: dict[str, int]
) -> None:
    logger = CallLogger(db, RULES, max_calls=3)
    for n in range(5):
        logger.handle(ev(CallState.RINGING, n, call_id=f"c{n}"))
    assert logger.tracked_calls == 3
    logger.handle(ev(CallState.MISSED, 30, call_id="c0"))  # c0 was forgotten
    assert logger.tracked_calls == 3
    by_call = {r.external_id: r for r in rows(db)}
    assert len(by_call) == 5
    assert by_call["c0"].outcome == "missed"
    assert by_call["c0"].occurred_at == T0  # the row keeps when it started ringing


def test_default_bound() -> None:
    from desktop_crm.cti import calllog

    assert calllog.MAX_TRACKED_CALLS == 10_000
    with pytest.raises(ValueError):
        CallLogger(None, RULES, max_calls=0)  # type: ignore[arg-type]


def test_two_sources_with_the_same_call_id_are_two_calls(db: Database, crm: dict[str, int]) -> None:
    logger = CallLogger(db, RULES)
    logger.handle(ev(CallState.RINGING))
    logger.handle(
        CallEvent(call_id="call-1", state=CallState.RINGING, source="tapi:Line 1", occurred_at=T0)
    )
    with db.session() as s:
        assert (
            len(list(s.scalars(select(Interaction).where(Interaction.external_id == "call-1"))))
            == 2
        )


@pytest.mark.parametrize("elsewhere", [CallState.ANSWERED_ELSEWHERE, CallState.MISSED])
@pytest.mark.parametrize("first_writer", ["taker", "other"])
def test_group_call_seen_by_two_clients_stays_answered(
    db: Database, crm: dict[str, int], elsewhere: CallState, first_writer: str
) -> None:
    """Agent A takes a group call; agent B's client sees it answered elsewhere (or missed).
    Whatever order their writes reach the database in, the row says answered, with A's time."""
    taker, other = CallLogger(db, RULES), CallLogger(db, RULES)
    taker.handle(ev(CallState.RINGING))
    other.handle(ev(CallState.RINGING))
    if first_writer == "other":
        other.handle(ev(elsewhere, 5))
        taker.handle(ev(CallState.ANSWERED, 5))
    else:
        taker.handle(ev(CallState.ANSWERED, 5))
        other.handle(ev(elsewhere, 5))
    [row] = rows(db)
    assert row.outcome == "answered"
    taker.handle(ev(CallState.ENDED, 95))
    other.handle(ev(elsewhere, 96))  # a late repeat changes nothing
    [row] = rows(db)
    assert (row.outcome, row.duration_seconds) == ("answered", 90)


def test_answered_elsewhere_beats_a_plain_missed(db: Database, crm: dict[str, int]) -> None:
    b, c = CallLogger(db, RULES), CallLogger(db, RULES)
    b.handle(ev(CallState.MISSED, 5))
    c.handle(ev(CallState.ANSWERED_ELSEWHERE, 5))
    b.handle(ev(CallState.MISSED, 6))
    [row] = rows(db)
    assert row.outcome == "answered_elsewhere"


def test_database_unavailable_then_back_logs_the_call_completely(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The pop-up still gets the event; the next event of the call writes the whole state."""
    db = Database(f"sqlite:///{tmp_path / 'crm.db'}")  # no schema yet: every query fails
    try:
        logger = CallLogger(db, RULES)
        ringing = logger.handle(ev(CallState.RINGING))
        assert ringing is not None
        assert (ringing.resolution, ringing.interaction_id, ringing.matches) == (None, None, ())
        assert ringing.to_json()["matches"] == []
        assert "not logged" in caplog.text
        db.upgrade()  # the database is back
        logger.handle(ev(CallState.RINGING, 1))  # a repeat: written now, not re-announced
        missed = logger.handle(ev(CallState.MISSED, 9))
        assert missed is not None and missed.interaction_id is not None
        [row] = rows(db)
        assert (row.outcome, row.occurred_at, row.remote) == ("missed", T0, ANNA)
    finally:
        db.dispose()


def test_announce_comes_before_the_write_and_a_failing_listener_loses_nothing(
    sqlite_db: Database,
) -> None:
    from desktop_crm.cti.events import CallEvent, CallState
    from desktop_crm.data import history
    from desktop_crm.identify.rules import DialingRules

    logger = CallLogger(sqlite_db, DialingRules())
    seen: list[tuple[str, int]] = []

    def announce(result) -> None:  # the history row is not there yet when the pop-up hears
        with sqlite_db.session() as s:
            seen.append((result.event.state.value, len(history.history(s))))
        raise RuntimeError("the pop-up crashed")

    event = CallEvent(
        call_id="a1", state=CallState.RINGING, source="sip:t", remote_number="+4930123"
    )
    result = logger.handle(event, announce=announce)
    assert seen == [("ringing", 0)]
    assert result is not None and result.interaction_id is not None
    with sqlite_db.session() as s:
        assert [e.outcome for e in history.history(s)] == ["ringing"]
