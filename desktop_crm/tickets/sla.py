"""The SLA clock: due and at-risk times of a ticket, replayed from its status and priority history.

Two clocks run per ticket, first response and resolution, each counting the queue's business
time (:class:`~desktop_crm.tickets.calendar.BusinessCalendar`) from the ticket's creation:

- they run while the ticket is *new* or *open*, and pause while it waits for the customer or a
  third party (and, for the resolution clock, while it is resolved: a reopened ticket goes on
  where it stopped);
- the target is the one of the ticket's *current* priority, measured against all business time
  used so far (as Zendesk does it): raising the priority may breach a ticket at once, with the
  due time in the past, at the moment the used time reached the new target;
- the first-response clock stops for good at the first response, the resolution clock when the
  ticket is resolved or closed; the due time is still reported then, so "met in time" can be
  read;
- a paused clock that has not reached its target has no due time (it cannot breach while it
  waits); one that was breached before the pause stays breached.

Everything here is plain arithmetic on values; the services store the results on the ticket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from desktop_crm.data.models import TicketPriority, TicketStatus

from .calendar import BusinessCalendar

RUNNING = frozenset({TicketStatus.NEW, TicketStatus.OPEN})
WAITING = frozenset({TicketStatus.WAITING_CUSTOMER, TicketStatus.WAITING_THIRD_PARTY})
DONE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
OPEN_STATUSES = RUNNING | WAITING


@dataclass(frozen=True)
class SlaTarget:
    """Business time allowed for the first response and for the resolution (None: no target)."""

    first_response: timedelta | None = None
    resolution: timedelta | None = None


@dataclass(frozen=True)
class Moment:
    """From ``at`` on, the ticket had this status and priority."""

    at: datetime
    status: TicketStatus
    priority: TicketPriority


@dataclass(frozen=True)
class Clock:
    due: datetime | None  # when the target is (or was) reached; None: no target, or paused
    warn_at: datetime | None  # when the at-risk share is reached (only for a live clock)
    stopped: bool  # met (first response given / ticket resolved): it never breaches again
    running: bool  # counting right now

    @property
    def live(self) -> bool:
        """Still able to breach: not stopped and either counting or already past due."""
        return not self.stopped and self.due is not None


NO_CLOCK = Clock(None, None, stopped=False, running=False)


@dataclass(frozen=True)
class SlaResult:
    first_response: Clock
    resolution: Clock
    paused: bool

    @property
    def due(self) -> datetime | None:
        """The earliest due time of the live clocks: what the board compares with now."""
        dues = [c.due for c in (self.first_response, self.resolution) if c.live and c.due]
        return min(dues) if dues else None

    @property
    def warn_at(self) -> datetime | None:
        warns = [c.warn_at for c in (self.first_response, self.resolution) if c.live and c.warn_at]
        return min(warns) if warns else None


def compute_sla(
    calendar: BusinessCalendar,
    targets: Mapping[TicketPriority, SlaTarget],
    timeline: Sequence[Moment],
    *,
    first_responded_at: datetime | None = None,
    resolved_at: datetime | None = None,
    at_risk_share: float = 0.75,
) -> SlaResult:
    """Both clocks of a ticket whose history is ``timeline`` (creation first, in time order)."""
    if not timeline:
        raise ValueError("a ticket's timeline starts with its creation")
    current = timeline[-1]
    target = targets.get(current.priority, SlaTarget())
    done = current.status in DONE
    first = _clock(
        calendar,
        timeline,
        target.first_response,
        stop=first_responded_at,
        counts=RUNNING,
        at_risk_share=at_risk_share,
    )
    resolution = _clock(
        calendar,
        timeline,
        target.resolution,
        stop=(resolved_at or current.at) if done else None,
        counts=RUNNING,
        at_risk_share=at_risk_share,
    )
    if done:  # a resolved ticket answers nobody any more
        first = Clock(first.due, None, stopped=True, running=False)
    return SlaResult(first, resolution, paused=current.status in WAITING)


def _clock(
    calendar: BusinessCalendar,
    timeline: Sequence[Moment],
    target: timedelta | None,
    *,
    stop: datetime | None,
    counts: frozenset[TicketStatus],
    at_risk_share: float,
) -> Clock:
    if target is None:
        return NO_CLOCK
    warn_target = target * at_risk_share
    used = timedelta(0)
    due: datetime | None = None
    warn: datetime | None = None
    running = False
    for index, moment in enumerate(timeline):
        start = moment.at
        end = timeline[index + 1].at if index + 1 < len(timeline) else None
        if stop is not None:
            if start >= stop:
                break
            end = stop if end is None else min(end, stop)
        if moment.status not in counts:
            continue
        if end is None:  # counting now: extrapolate into the future
            running = True
            if warn is None:
                warn = calendar.add(start, warn_target - used)
            due = calendar.add(start, target - used)
            break
        span = calendar.between(start, end)
        if warn is None and used + span >= warn_target:
            warn = calendar.add(start, warn_target - used)
        if used + span >= target:
            due = calendar.add(start, target - used)
            break
        used += span
    if stop is not None:
        if due is None:  # met before the target: report where the due time stood
            due = calendar.add(stop, target - used)
        return Clock(due, None, stopped=True, running=False)
    if due is None:  # paused before the target was reached
        return Clock(None, None, stopped=False, running=False)
    return Clock(due, warn, stopped=False, running=running)
