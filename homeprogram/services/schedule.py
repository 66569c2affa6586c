"""When an assignment expects practice. The one place that reads a schedule.

Everything that asks "is this due on that day, and how many times" (today page, reminders,
adherence, classroom view) calls these functions. Days are local dates in the child's
time zone; instants are converted with zoneinfo.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from homeprogram.models import Assignment


def local_date(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


def is_paused(assignment: Assignment, day: date) -> bool:
    return any(
        pause.start_date <= day and (pause.end_date is None or day <= pause.end_date)
        for pause in assignment.pauses
    )


def in_force(assignment: Assignment, day: date) -> bool:
    """The prescription holds on ``day`` (started, not ended, not paused)."""
    if day < assignment.start_date:
        return False
    if assignment.end_date is not None and day > assignment.end_date:
        return False
    return not is_paused(assignment, day)


def expected_sessions(assignment: Assignment, day: date) -> int:
    """How many sessions the assignment asks for on that local day."""
    if not in_force(assignment, day) or day.weekday() not in assignment.days_of_week:
        return 0
    return assignment.times_per_day


def is_active(assignment: Assignment, day: date) -> bool:
    """Current on ``day``: not ended and not paused (it may start later)."""
    if assignment.end_date is not None and day > assignment.end_date:
        return False
    return not is_paused(assignment, day)


class _Span(Protocol):
    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date | None: ...


class Scheduled(_Span, Protocol):
    """What a schedule is read from: an ``Assignment``, or plain rows with the same fields."""

    @property
    def days_of_week(self) -> list[int]: ...
    @property
    def times_per_day(self) -> int: ...
    @property
    def pauses(self) -> Sequence[_Span]: ...


def expected_between(assignment: Scheduled, start: date, end: date) -> list[int]:
    """``expected_sessions`` for every day from ``start`` to ``end`` (inclusive), index 0 =
    ``start``: the same rule, computed by weekday stride and pause slices for bulk callers
    (adherence over a whole caseload)."""
    n = (end - start).days + 1
    out = [0] * max(n, 0)
    first = max(start, assignment.start_date)
    last = end if assignment.end_date is None else min(end, assignment.end_date)
    if first > last:
        return out
    lo, hi = (first - start).days, (last - start).days + 1
    for weekday in set(assignment.days_of_week):
        offset = lo + (weekday - first.weekday()) % 7
        out[offset:hi:7] = [assignment.times_per_day] * len(range(offset, hi, 7))
    for pause in assignment.pauses:
        p_lo = max(lo, (pause.start_date - start).days)
        p_hi = hi if pause.end_date is None else min(hi, (pause.end_date - start).days + 1)
        if p_lo < p_hi:
            out[p_lo:p_hi] = [0] * (p_hi - p_lo)
    return out
