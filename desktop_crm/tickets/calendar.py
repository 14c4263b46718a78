"""Business hours and public holidays: how much working time lies between two instants.

A :class:`BusinessCalendar` knows a queue's weekly opening hours in its local time zone, the
public holidays of a country (and German state, Austrian or Swiss canton) from the ``holidays``
package, and the queue's own closed days. Every instant in and out is an aware UTC datetime; the
local walk goes day by day through ``zoneinfo``, so a day with a DST change has its real length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from desktop_crm.data.errors import ValidationError

MINUTES_PER_DAY = 1440
# how far ahead a due time is searched before giving up (a queue closed for good has no due time)
LOOKAHEAD_DAYS = 3 * 366

Interval = tuple[int, int]  # start and end minute of the local day, 0..1440


def office_hours(
    start: str = "08:00", end: str = "17:00", days: Iterable[int] = range(5)
) -> dict[int, tuple[Interval, ...]]:
    """Weekly hours with one interval on each of ``days`` (0 = Monday): Mon–Fri 08:00–17:00."""
    interval = (parse_minute(start), parse_minute(end))
    return dict.fromkeys(days, (interval,))


def parse_minute(text: str) -> int:
    """``"08:30"`` → 510; ``"24:00"`` → 1440."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
    except ValueError as exc:
        raise ValidationError(f"{text!r} is not a time of day (HH:MM)", field="hours") from exc
    value = hours * 60 + minutes
    if not (0 <= minutes < 60 and 0 <= value <= MINUTES_PER_DAY):
        raise ValidationError(f"{text!r} is not a time of day (HH:MM)", field="hours")
    return value


@lru_cache(maxsize=256)
def _holidays_of_year(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holiday_dates(country, subdivision, [year]))


def holiday_dates(country: str, subdivision: str | None, years: Iterable[int]) -> dict[date, str]:
    """Public holidays (date → name) of a country and, optionally, its state or canton."""
    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=list(years))
    except (NotImplementedError, KeyError) as exc:
        where = f"{country}-{subdivision}" if subdivision else country
        raise ValidationError(
            f"no public holidays are known for {where!r}; use DE, AT or CH and a state such as "
            "DE-BY",
            field="holidays",
        ) from exc
    return {day: str(name) for day, name in found.items()}


@dataclass
class BusinessCalendar:
    """Working time of one queue; all arguments and results are aware datetimes (UTC out)."""

    time_zone: str = "Europe/Berlin"
    hours: Mapping[int, Sequence[Interval]] = field(default_factory=office_hours)
    holiday_country: str | None = "DE"
    holiday_subdivision: str | None = None
    closed_days: frozenset[date] = frozenset()
    _holiday_years: dict[int, frozenset[date]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(
                f"{self.time_zone!r} is not a time zone (e.g. Europe/Berlin)", field="time_zone"
            ) from exc
        cleaned: dict[int, tuple[Interval, ...]] = {}
        for day, intervals in self.hours.items():
            if not 0 <= day <= 6:
                raise ValidationError(f"weekday {day} is not 0 (Monday) to 6", field="hours")
            for start, end in intervals:
                if not 0 <= start < end <= MINUTES_PER_DAY:
                    raise ValidationError(f"{start}-{end} is not an interval", field="hours")
            cleaned[day] = tuple(sorted(intervals))
        self.hours = cleaned
        if self.holiday_country:  # refuse an unknown country or state now, not at first use
            _holidays_of_year(self.holiday_country, self.holiday_subdivision, 2026)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def has_hours(self) -> bool:
        return any(self.hours.values())

    # --- days ----------------------------------------------------------------------------------

    def is_holiday(self, day: date) -> bool:
        if day in self.closed_days:
            return True
        if not self.holiday_country:
            return False
        known = self._holiday_years.get(day.year)
        if known is None:
            known = _holidays_of_year(self.holiday_country, self.holiday_subdivision, day.year)
            self._holiday_years[day.year] = known
        return day in known

    def _local(self, day: date, minute: int) -> datetime:
        """The UTC instant of ``minute`` on local ``day`` (1440: the next local midnight)."""
        if minute >= MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
        wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        # a wall time that does not exist (skipped by DST) or exists twice: zoneinfo reads it
        # with fold=0; round-trip through UTC to land on a real instant
        return wall.astimezone(UTC)

    def open_intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening intervals (UTC) from ``start`` on, the first one clipped to ``start``."""
        _aware(start)
        if not self.has_hours:
            return
        day = start.astimezone(self.zone).date() - timedelta(days=1)  # an interval may span 0:00
        for _ in range(LOOKAHEAD_DAYS + 2):
            if not self.is_holiday(day):
                for first, last in self.hours.get(day.weekday(), ()):
                    begin, end = self._local(day, first), self._local(day, last)
                    if end <= start:
                        continue
                    yield max(begin, start), end
            day += timedelta(days=1)

    # --- arithmetic ----------------------------------------------------------------------------

    def add(self, start: datetime, amount: timedelta) -> datetime | None:
        """The instant when ``amount`` of working time after ``start`` has passed.

        Zero means the next opening moment (a ticket created on Friday at 22:00 starts its clock
        on Monday morning). ``None`` when the calendar never opens again within the look-ahead.
        """
        left = amount
        for begin, end in self.open_intervals(start):
            span = end - begin
            if left <= span:
                return begin + left
            left -= span
        return None

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero when ``end`` is not after ``start``)."""
        _aware(end)
        total = timedelta(0)
        if end <= start:
            return total
        for begin, stop in self.open_intervals(start):
            if begin >= end:
                break
            total += min(stop, end) - begin
        return total


def _aware(value: datetime) -> None:
    if value.tzinfo is None:
        raise ValidationError("times must carry a time zone", field="time")


_DAYS = {
    "mo": 0,
    "tu": 1,
    "we": 2,
    "th": 3,
    "fr": 4,
    "sa": 5,
    "su": 6,
    "di": 1,
    "mi": 2,
    "do": 3,
    "so": 6,  # German: Mo Di Mi Do Fr Sa So
}


def parse_hours(text: str) -> dict[int, tuple[Interval, ...]]:
    """``"mo-fr 08:00-12:00,13:00-17:00; sa 09:00-12:00"`` → weekly hours (0 = Monday)."""
    hours: dict[int, list[Interval]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        days_text, _, times_text = part.partition(" ")
        days: list[int] = []
        for span in days_text.lower().split(","):
            first, _, last = span.partition("-")
            try:
                a, b = _DAYS[first[:2]], _DAYS[(last or first)[:2]]
            except KeyError:
                raise ValidationError(
                    f"{span!r} is not a weekday range (mo-fr, sa, …)", field="hours"
                ) from None
            days.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
        for interval in filter(None, (t.strip() for t in times_text.split(","))):
            start, _, end = interval.partition("-")
            pair = (parse_minute(start), parse_minute(end))
            if pair[0] >= pair[1]:
                raise ValidationError(f"{interval!r} ends before it starts", field="hours")
            for day in days:
                hours.setdefault(day, []).append(pair)
    if not hours:
        raise ValidationError(f"{text!r} names no opening hours", field="hours")
    return {day: tuple(sorted(v)) for day, v in hours.items()}


def parse_duration(text: str) -> int:
    """``"90"``, ``"90m"``, ``"1h30m"``, ``"2h"``, ``"1d"`` (24 business hours) → minutes."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    match = re.fullmatch(r"(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m(?:in)?)?", value)
    if not value or match is None:
        raise ValidationError(f"{text!r} is not a duration (90m, 2h, 1h30m)", field="sla")
    d, h, m = (int(g) if g else 0 for g in match.groups())
    return d * 1440 + h * 60 + m
