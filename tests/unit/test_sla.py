"""SLA arithmetic with hand-computed due times: weekends, holidays, pauses, priorities, DST.

Every expected value is worked out by hand in the comment next to it, in local wall time and in
the UTC the database stores. The calendar is Mon–Fri 08:00–17:00 in Europe/Berlin with the public
holidays of Bavaria unless a test says otherwise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_crm.data.errors import ValidationError
from desktop_crm.data.models import TicketPriority as P
from desktop_crm.data.models import TicketStatus as S
from desktop_crm.tickets.calendar import BusinessCalendar, office_hours, parse_minute
from desktop_crm.tickets.sla import Moment, SlaTarget, compute_sla

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def local(y: int, mo: int, d: int, h: int, mi: int = 0, zone: str = "Europe/Berlin") -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(zone))


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def bavaria(**kw: object) -> BusinessCalendar:
    return BusinessCalendar("Europe/Berlin", office_hours(), "DE", "BY", **kw)  # type: ignore[arg-type]


# --- the calendar ------------------------------------------------------------------------------


def test_across_a_weekend() -> None:
    cal = bavaria()
    # Fri 13 March 2026 15:00 CET: 2 h left on Friday, 2 h more from Monday 08:00 → Mon 10:00 CET
    due = cal.add(local(2026, 3, 13, 15), 4 * H)
    assert due == utc(2026, 3, 16, 9)  # 10:00 CET = 09:00 UTC
    assert cal.between(local(2026, 3, 13, 15), local(2026, 3, 16, 10)) == 4 * H


def test_created_outside_hours_on_friday_night_starts_on_monday_morning() -> None:
    cal = bavaria()
    created = local(2026, 3, 13, 22)  # Friday 22:00
    assert cal.add(created, timedelta(0)) == utc(2026, 3, 16, 7)  # Mon 08:00 CET
    assert cal.add(created, 1 * H) == utc(2026, 3, 16, 8)  # Mon 09:00 CET
    # 16 business hours: Monday 9 h, Tuesday 7 h → Tue 17 March 15:00 CET = 14:00 UTC
    assert cal.add(created, 16 * H) == utc(2026, 3, 17, 14)
    assert cal.between(created, local(2026, 3, 16, 8)) == timedelta(0)


def test_christmas_in_bavaria_with_a_closed_day_on_the_24th() -> None:
    cal = bavaria(closed_days=frozenset({date(2026, 12, 24), date(2026, 12, 31)}))
    # Wed 23 Dec 16:00: 1 h on Wednesday; 24th closed (company), 25th and 26th public holidays
    # (26th is a Saturday anyway), 27th Sunday → 3 h from Mon 28 Dec 08:00 → 11:00 CET
    assert cal.add(local(2026, 12, 23, 16), 4 * H) == utc(2026, 12, 28, 10)
    assert cal.is_holiday(date(2026, 12, 25)) and cal.is_holiday(date(2026, 12, 26))
    # the 24th is no public holiday: without the closed day the clock runs on Thursday
    plain = bavaria()
    assert not plain.is_holiday(date(2026, 12, 24))
    assert plain.add(local(2026, 12, 23, 16), 4 * H) == utc(2026, 12, 24, 10)


def test_state_holidays_differ_between_bavaria_and_berlin() -> None:
    # Epiphany (Tue 6 Jan 2026) is a holiday in Bavaria, not in Berlin
    start = local(2026, 1, 5, 16)  # Monday 16:00, 2 h target
    assert bavaria().add(start, 2 * H) == utc(2026, 1, 7, 8)  # Wed 09:00 CET
    berlin = BusinessCalendar("Europe/Berlin", office_hours(), "DE", "BE")
    assert berlin.add(start, 2 * H) == utc(2026, 1, 6, 8)  # Tue 09:00 CET


def test_austria_and_switzerland() -> None:
    vienna = BusinessCalendar("Europe/Vienna", office_hours(), "AT", None)
    # Mon 7 Dec 2026 16:00; Tue 8 Dec is Mariä Empfängnis in Austria → Wed 09:00 CET
    assert vienna.add(local(2026, 12, 7, 16, zone="Europe/Vienna"), 2 * H) == utc(2026, 12, 9, 8)
    zurich = BusinessCalendar("Europe/Zurich", office_hours(), "CH", "ZH")
    # Wed 13 May 2026 16:00 CEST; Thu 14 May is Ascension → Fri 09:00 CEST = 07:00 UTC
    assert zurich.add(local(2026, 5, 13, 16, zone="Europe/Zurich"), 2 * H) == utc(2026, 5, 15, 7)


def test_lunch_break() -> None:
    cal = BusinessCalendar(
        "Europe/Berlin", dict.fromkeys(range(5), ((480, 720), (780, 1020))), None
    )
    # Mon 2 March 11:00, 2 h: 11–12, lunch, 13–14 → 14:00 CET
    assert cal.add(local(2026, 3, 2, 11), 2 * H) == utc(2026, 3, 2, 13)
    assert cal.between(local(2026, 3, 2, 11), local(2026, 3, 2, 14)) == 2 * H


def test_daylight_saving_change_in_march() -> None:
    every_day = BusinessCalendar("Europe/Berlin", office_hours(days=range(7)), None)
    # Sat 28 March 2026 16:00 CET, 3 h: 1 h on Saturday, then Sunday (now CEST, UTC+2)
    # 08:00 + 2 h = 10:00 CEST = 08:00 UTC (not 09:00: the offset changed overnight)
    assert every_day.add(local(2026, 3, 28, 16), 3 * H) == utc(2026, 3, 29, 8)
    always = BusinessCalendar("Europe/Berlin", office_hours("00:00", "24:00", range(7)), None)
    # round the clock: 24 h after Sat 12:00 CET (11:00 UTC) is Sun 11:00 UTC = 13:00 CEST
    due = always.add(local(2026, 3, 28, 12), 24 * H)
    assert due == utc(2026, 3, 29, 11)
    assert due is not None and due.astimezone(BERLIN).hour == 13
    # the night of the change has 23 hours: Sat 00:00 to Mon 00:00 local is 47 h
    assert always.between(local(2026, 3, 28, 0), local(2026, 3, 30, 0)) == 47 * H


def test_bad_calendar_input_is_refused_in_words() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        BusinessCalendar("Mars/Olympus")
    with pytest.raises(ValidationError, match="holidays"):
        BusinessCalendar("Europe/Berlin", office_hours(), "DE", "XX")
    with pytest.raises(ValidationError):
        parse_minute("25:00")
    assert parse_minute("24:00") == 1440
    assert BusinessCalendar("Europe/Berlin", {}, None).add(utc(2026, 1, 1, 0), H) is None


# --- the clocks --------------------------------------------------------------------------------

TARGETS = {
    P.URGENT: SlaTarget(1 * H, 4 * H),
    P.HIGH: SlaTarget(2 * H, 4 * H),
    P.NORMAL: SlaTarget(4 * H, 16 * H),
    P.LOW: SlaTarget(8 * H, 24 * H),
}


def test_new_ticket_due_and_at_risk_times() -> None:
    created = local(2026, 3, 2, 8)  # Mon 08:00 CET
    result = compute_sla(bavaria(), TARGETS, [Moment(created, S.NEW, P.NORMAL)])
    assert result.first_response.due == utc(2026, 3, 2, 11)  # 12:00 CET
    assert result.first_response.warn_at == utc(2026, 3, 2, 10)  # 75 % of 4 h: 11:00 CET
    assert result.resolution.due == utc(2026, 3, 3, 14)  # 9 h Mon + 7 h Tue → Tue 15:00 CET
    assert result.due == utc(2026, 3, 2, 11)
    assert result.warn_at == utc(2026, 3, 2, 10)
    assert not result.paused


def test_ticket_created_friday_22_00() -> None:
    created = local(2026, 3, 13, 22)
    result = compute_sla(bavaria(), TARGETS, [Moment(created, S.NEW, P.URGENT)])
    assert result.first_response.due == utc(2026, 3, 16, 8)  # Mon 09:00 CET
    assert result.first_response.warn_at == utc(2026, 3, 16, 7, 45)  # 45 min: 08:45 CET
    assert result.resolution.due == utc(2026, 3, 16, 11)  # Mon 12:00 CET


def test_waiting_for_the_customer_pauses_the_clock() -> None:
    created = local(2026, 3, 2, 8)  # Mon 08:00, normal: resolution 16 h
    timeline = [
        Moment(created, S.NEW, P.NORMAL),
        Moment(local(2026, 3, 2, 9), S.OPEN, P.NORMAL),  # responded at 09:00
        Moment(local(2026, 3, 2, 10), S.WAITING_CUSTOMER, P.NORMAL),  # 2 h used
    ]
    paused = compute_sla(bavaria(), TARGETS, timeline, first_responded_at=local(2026, 3, 2, 9))
    assert paused.paused
    assert paused.resolution.due is None and paused.due is None  # cannot breach while waiting
    assert paused.warn_at is None
    assert paused.first_response.stopped and paused.first_response.due == utc(2026, 3, 2, 11)
    # the customer answers on Wed 4 March 14:00: 14 h left: Wed 3 h, Thu 9 h, Fri 2 h
    # → Fri 6 March 10:00 CET; at risk after 12 h: Wed 3 h, Thu 7 h → Thu 15:00 CET
    timeline.append(Moment(local(2026, 3, 4, 14), S.OPEN, P.NORMAL))
    resumed = compute_sla(bavaria(), TARGETS, timeline, first_responded_at=local(2026, 3, 2, 9))
    assert resumed.resolution.due == utc(2026, 3, 6, 9)
    assert resumed.resolution.warn_at == utc(2026, 3, 5, 14)
    assert resumed.due == utc(2026, 3, 6, 9)  # the first response is met: only resolution counts


def test_third_party_wait_and_two_pauses() -> None:
    created = local(2026, 3, 2, 8)
    timeline = [
        Moment(created, S.OPEN, P.HIGH),  # resolution 4 h
        Moment(local(2026, 3, 2, 9), S.WAITING_THIRD_PARTY, P.HIGH),  # 1 h used
        Moment(local(2026, 3, 2, 15), S.OPEN, P.HIGH),
        Moment(local(2026, 3, 2, 16), S.WAITING_CUSTOMER, P.HIGH),  # 2 h used
        Moment(local(2026, 3, 3, 16), S.OPEN, P.HIGH),  # Tue 16:00: 2 h left: 1 h Tue, 1 h Wed
    ]
    result = compute_sla(bavaria(), TARGETS, timeline, first_responded_at=created)
    assert result.resolution.due == utc(2026, 3, 4, 8)  # Wed 09:00 CET
    assert result.resolution.warn_at == utc(2026, 3, 3, 16)  # 3 h used at Tue 17:00 CET


def test_raising_the_priority_counts_the_time_already_used() -> None:
    created = local(2026, 3, 2, 8)
    timeline = [
        Moment(created, S.OPEN, P.NORMAL),
        Moment(local(2026, 3, 2, 10), S.OPEN, P.HIGH),  # 2 h used of the high target 4 h
    ]
    result = compute_sla(bavaria(), TARGETS, timeline, first_responded_at=created)
    assert result.resolution.due == utc(2026, 3, 2, 11)  # 12:00 CET
    assert result.resolution.warn_at == utc(2026, 3, 2, 10)  # 3 h: 11:00 CET


def test_raising_the_priority_late_breaches_at_once_with_the_due_time_in_the_past() -> None:
    created = local(2026, 3, 2, 8)
    timeline = [
        Moment(created, S.OPEN, P.NORMAL),
        Moment(local(2026, 3, 2, 13), S.OPEN, P.HIGH),  # 5 h used, high allows 4 h
    ]
    result = compute_sla(bavaria(), TARGETS, timeline, first_responded_at=created)
    assert result.resolution.due == utc(2026, 3, 2, 11)  # it was due at 12:00 CET already
    assert result.due is not None and result.due < local(2026, 3, 2, 13)


def test_lowering_the_priority_extends_the_due_time() -> None:
    created = local(2026, 3, 2, 8)
    timeline = [
        Moment(created, S.NEW, P.URGENT),
        Moment(local(2026, 3, 2, 8, 30), S.NEW, P.LOW),
    ]
    result = compute_sla(bavaria(), TARGETS, timeline)
    # low: first response 8 h → Mon 16:00 CET; resolution 24 h: Mon 9, Tue 9, Wed 6 → Wed 14:00
    assert result.first_response.due == utc(2026, 3, 2, 15)
    assert result.resolution.due == utc(2026, 3, 4, 13)


def test_a_breach_before_a_pause_stays_a_breach() -> None:
    created = local(2026, 3, 2, 8)
    timeline = [
        Moment(created, S.NEW, P.URGENT),  # first response due 09:00
        Moment(local(2026, 3, 2, 10), S.WAITING_CUSTOMER, P.URGENT),
    ]
    result = compute_sla(bavaria(), TARGETS, timeline)
    assert result.first_response.due == utc(2026, 3, 2, 8)  # 09:00 CET, in the past
    assert result.due == utc(2026, 3, 2, 8)
    assert result.paused


def test_resolved_and_reopened() -> None:
    created = local(2026, 3, 2, 8)
    timeline = [
        Moment(created, S.OPEN, P.HIGH),  # resolution 4 h
        Moment(local(2026, 3, 2, 11), S.RESOLVED, P.HIGH),  # 3 h used
    ]
    done = compute_sla(
        bavaria(), TARGETS, timeline, first_responded_at=created, resolved_at=local(2026, 3, 2, 11)
    )
    assert done.resolution.stopped and done.due is None  # nothing left to breach
    assert done.resolution.due == utc(2026, 3, 2, 11)  # would have been due 12:00: met in time
    # reopened on Tue 3 March 09:00: 1 h left → 10:00 CET; resolved time does not count
    timeline.append(Moment(local(2026, 3, 3, 9), S.OPEN, P.HIGH))
    reopened = compute_sla(bavaria(), TARGETS, timeline, first_responded_at=created)
    assert reopened.resolution.due == utc(2026, 3, 3, 9)
    assert reopened.resolution.warn_at == utc(2026, 3, 2, 10)  # 3 h were used on Monday 11:00


def test_at_risk_share_is_configurable_and_missing_targets_give_no_due_time() -> None:
    created = local(2026, 3, 2, 8)
    result = compute_sla(bavaria(), TARGETS, [Moment(created, S.NEW, P.NORMAL)], at_risk_share=0.5)
    assert result.first_response.warn_at == utc(2026, 3, 2, 9)  # 2 h: 10:00 CET
    none = compute_sla(bavaria(), {}, [Moment(created, S.NEW, P.NORMAL)])
    assert none.due is None and none.warn_at is None


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=0, max_value=60 * 200),
    hours=st.sampled_from(
        [
            office_hours(),
            dict.fromkeys(range(5), ((480, 720), (780, 1020))),
            office_hours("00:00", "24:00", range(7)),
            {5: ((540, 720),)},
        ]
    ),
)
def test_adding_and_measuring_business_time_agree(
    start: datetime, minutes: int, hours: dict[int, tuple[tuple[int, int], ...]]
) -> None:
    """Whatever the start (inside or outside hours, around DST and holidays): the time between
    a start and start + amount is the amount, and the due time lies within opening hours."""
    cal = BusinessCalendar("Europe/Berlin", hours, "DE", "BY")
    amount = timedelta(minutes=minutes)
    due = cal.add(start, amount)
    assert due is not None and due >= start
    assert cal.between(start, due) == amount
    if minutes:
        local = due.astimezone(BERLIN)
        # to the microsecond: a due time 1 µs after opening is inside the hours
        minute = local.hour * 60 + local.minute + (local.second * 1e6 + local.microsecond) / 6e7
        day = local.date()
        if minute == 0:  # an interval ending at midnight belongs to the day before
            day, minute = day - timedelta(days=1), 1440
        assert not cal.is_holiday(day)
        assert any(a < minute <= b for a, b in cal.hours.get(day.weekday(), ()))
