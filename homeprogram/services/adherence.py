"""Adherence: the one implementation of DESIGN.md's definition.

Every page, the API, weekly summaries, exports and the benchmark call these functions.

Definition, per local day in the child's time zone:

- ``expected``: sessions the assignments in force that day ask for
  (``services.schedule.expected_sessions``: start, end, pauses, days of week, times a day);
- ``done``: non-deleted completion logs of that day, counted per assignment *chain* (an
  assignment and the versions that replaced it, linked by ``previous_id``) up to the
  number expected from that chain on that day;
- ``extra``: the logs above that number (or on a day that expected nothing), counted apart;
- ``rate = done / expected``; ``None`` when nothing was expected ("no plan").

Counting per chain rather than per row means a log written against the old version of
a changed prescription (an offline phone catching up) still counts on the change day.

Windows on the dashboard (last 7, 14, 28 days, 8-week trend) are *complete* local days
ending yesterday in the child's time zone: today is not over, so it never lowers a rate.

Public interface (stable; other modules rely on it):

- ``Tally``: expected / done / extra and ``rate``.
- ``child_adherence(session, child_id, start, end) -> ChildAdherence``
- ``adherence_for(session, child_ids, start, end) -> dict[child_id, ChildAdherence]``
  (a fixed number of queries whatever the number of children or logs).
- ``ChildAdherence.total`` (Tally), ``.chains`` (list of ``ChainAdherence``, each with
  ``.tally``, ``.days`` and activity title), ``.day(d)``, ``.between(a, b)``.
- ``local_today(timezone, now) -> date``
- ``caseload_overview(session, children, now) -> dict[child_id, Overview]``: the
  dashboard's figures and flags, a fixed number of queries for a whole caseload.
- ``overview_for(session, child, now) -> Overview``
- Flag codes: ``LOW_ADHERENCE``, ``NO_RECENT_LOGS``, ``OFTEN_HARD``.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from operator import sub
from zoneinfo import ZoneInfo

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from homeprogram.models import (
    Activity,
    Assignment,
    AssignmentPause,
    Child,
    CompletionLog,
    Response,
    Setting,
)
from homeprogram.services.schedule import expected_between

LOW_ADHERENCE = "low_adherence"
NO_RECENT_LOGS = "no_recent_logs"
OFTEN_HARD = "often_hard"
FLAGS = (LOW_ADHERENCE, NO_RECENT_LOGS, OFTEN_HARD)
ADHERENCE_FLAGS = frozenset({LOW_ADHERENCE, NO_RECENT_LOGS})

LOW_RATE = 0.5
LOW_RATE_DAYS = 14
QUIET_DAYS = 5
HARD_OF_LAST = (3, 5)  # "hard" on 3 of the last 5 sessions of an activity
HARD_LOOKBACK_DAYS = 28  # sessions older than this no longer raise the flag
TREND_WEEKS = 8
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class Tally:
    expected: int = 0
    done: int = 0
    extra: int = 0

    @property
    def rate(self) -> float | None:
        """done / expected, or None ("no plan") when nothing was expected."""
        if self.expected == 0:
            return None
        return self.done / self.expected

    @property
    def percent(self) -> int | None:
        rate = self.rate
        return None if rate is None else round(rate * 100)

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(
            self.expected + other.expected, self.done + other.done, self.extra + other.extra
        )


def _count(expected: int, logged: int) -> Tally:
    done = min(expected, logged)
    return Tally(expected, done, logged - done)


@dataclass
class ChainAdherence:
    """One prescription over its versions, for one child and range."""

    chain_id: int  # id of the first version
    activity_id: int
    activity_title: str
    assignment_ids: list[int]  # versions, oldest first
    current_id: int  # the latest version
    measure_name: str | None  # of the latest version
    measure_unit: str | None
    first_start: date  # start of the first version
    start: date
    expected: list[int]  # per day of the range, index 0 = start
    logged: list[int]

    def day(self, d: date) -> Tally:
        i = (d - self.start).days
        if not 0 <= i < len(self.expected):
            return Tally()
        return _count(self.expected[i], self.logged[i])

    def between(self, a: date, b: date) -> Tally:
        lo = max(0, (a - self.start).days)
        hi = min(len(self.expected), (b - self.start).days + 1)
        expected = done = extra = 0
        for e, n in zip(self.expected[lo:hi], self.logged[lo:hi], strict=True):
            if n <= e:
                done += n
            else:
                done += e
                extra += n - e
            expected += e
        return Tally(expected, done, extra)

    @property
    def tally(self) -> Tally:
        return self.between(self.start, self.start + timedelta(days=len(self.expected) - 1))


@dataclass
class ChildAdherence:
    child_id: int
    timezone: str
    start: date
    end: date
    chains: list[ChainAdherence] = field(default_factory=list)
    _prefix: tuple[list[int], list[int], list[int]] | None = field(default=None, repr=False)

    def _sums(self) -> tuple[list[int], list[int], list[int]]:
        """Running totals of expected, done and extra per day, for O(1) windows."""
        if self._prefix is None:
            n = (self.end - self.start).days + 1
            if not self.chains:
                zeros = [0] * (n + 1)
                self._prefix = (zeros, zeros, zeros)
                return self._prefix
            # map/zip keep the per-day work in C: a caseload has ~100k chain-days.
            expected = list(map(sum, zip(*(c.expected for c in self.chains), strict=True)))
            done = list(
                map(sum, zip(*(map(min, c.expected, c.logged) for c in self.chains), strict=True))
            )
            logged = list(map(sum, zip(*(c.logged for c in self.chains), strict=True)))
            extra = list(map(sub, logged, done))
            self._prefix = (_running(expected), _running(done), _running(extra))
        return self._prefix

    def between(self, a: date, b: date) -> Tally:
        lo = max(0, (a - self.start).days)
        hi = min((self.end - self.start).days + 1, (b - self.start).days + 1)
        if hi <= lo:
            return Tally()
        e, d, x = self._sums()
        return Tally(e[hi] - e[lo], d[hi] - d[lo], x[hi] - x[lo])

    def day(self, d: date) -> Tally:
        return self.between(d, d)

    @property
    def total(self) -> Tally:
        return self.between(self.start, self.end)

    def active_chains(self, a: date | None = None, b: date | None = None) -> list[ChainAdherence]:
        """Chains with something expected or logged between a and b (default: the range)."""
        a, b = a or self.start, b or self.end
        return [c for c in self.chains if (t := c.between(a, b)).expected or t.extra]


def _running(values: list[int]) -> list[int]:
    return list(accumulate(values, initial=0))


def local_today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass(frozen=True)
class PauseRow:
    start_date: date
    end_date: date | None


@dataclass
class ScheduleRow:
    """The columns of an assignment that adherence reads (plain values, no ORM instance:
    a caseload holds thousands of assignments and building instances dominated the time)."""

    id: int
    child_id: int
    activity_id: int
    previous_id: int | None
    start_date: date
    end_date: date | None
    days_of_week: list[int]
    times_per_day: int
    measure_name: str | None
    measure_unit: str | None
    title: str
    pauses: list[PauseRow] = field(default_factory=list)


def _load_assignments(session: Session, child_ids: list[int]) -> list[ScheduleRow]:
    """Every assignment (all versions) of the children, with their pauses (two queries)."""
    rows = session.execute(
        select(
            Assignment.id,
            Assignment.child_id,
            Assignment.activity_id,
            Assignment.previous_id,
            Assignment.start_date,
            Assignment.end_date,
            Assignment.days_of_week,
            Assignment.times_per_day,
            Assignment.measure_name,
            Assignment.measure_unit,
            Activity.title,
        )
        .join(Activity, Activity.id == Assignment.activity_id)
        # Home adherence: classroom-only strategies are the teachers' to mark, not the family's.
        .where(Assignment.child_id.in_(child_ids), Assignment.setting != Setting.CLASSROOM)
        .order_by(Assignment.id)
    )
    assignments = [ScheduleRow(*row) for row in rows]
    by_id = {a.id: a for a in assignments}
    pauses = session.execute(
        select(AssignmentPause.assignment_id, AssignmentPause.start_date, AssignmentPause.end_date)
        .join(Assignment, Assignment.id == AssignmentPause.assignment_id)
        .where(Assignment.child_id.in_(child_ids))
    )
    for assignment_id, first, last in pauses:
        by_id[assignment_id].pauses.append(PauseRow(first, last))
    return assignments


def _chain_roots(assignments: Sequence[ScheduleRow]) -> dict[int, int]:
    by_id = {a.id: a for a in assignments}
    roots: dict[int, int] = {}
    for a in assignments:
        seen = set()
        cur = a
        while cur.previous_id is not None and cur.previous_id in by_id and cur.id not in seen:
            seen.add(cur.id)
            cur = by_id[cur.previous_id]
        roots[a.id] = cur.id
    return roots


def adherence_for(
    session: Session, child_ids: Iterable[int], start: date, end: date
) -> dict[int, ChildAdherence]:
    """Adherence of several children over one range of local dates (four queries)."""
    ids = sorted(set(child_ids))
    if not ids:
        return {}
    if end < start:
        raise ValueError("end before start")
    timezones = {
        cid: tz
        for cid, tz in session.execute(select(Child.id, Child.timezone).where(Child.id.in_(ids)))
    }
    result = {
        cid: ChildAdherence(cid, timezones[cid], start, end) for cid in ids if cid in timezones
    }
    assignments = _load_assignments(session, ids)
    roots = _chain_roots(assignments)
    n_days = (end - start).days + 1
    chains: dict[int, ChainAdherence] = {}
    for a in assignments:  # ordered by id: versions come after what they replace
        root = roots[a.id]
        chain = chains.get(root)
        if chain is None:
            chain = ChainAdherence(
                chain_id=root,
                activity_id=a.activity_id,
                activity_title=a.title,
                assignment_ids=[],
                current_id=a.id,
                measure_name=a.measure_name,
                measure_unit=a.measure_unit,
                first_start=a.start_date,
                start=start,
                expected=[0] * n_days,
                logged=[0] * n_days,
            )
            chains[root] = chain
            result[a.child_id].chains.append(chain)
        chain.assignment_ids.append(a.id)
        chain.current_id = a.id
        chain.measure_name, chain.measure_unit = a.measure_name, a.measure_unit
        chain.first_start = min(chain.first_start, a.start_date)
        chain.activity_id, chain.activity_title = a.activity_id, a.title
        version = expected_between(a, start, end)
        if len(chain.assignment_ids) == 1:
            chain.expected = version
        else:
            chain.expected = [x + y for x, y in zip(chain.expected, version, strict=True)]
    # Dates come back as text on SQLite; looking the text up directly skips parsing tens of
    # thousands of dates (PostgreSQL returns date objects, which are keys too).
    day_index: dict[object, int] = {}
    for i in range(n_days):
        d = start + timedelta(days=i)
        day_index[d] = day_index[d.isoformat()] = i
    logged_by_assignment = {aid: chains[root].logged for aid, root in roots.items()}
    counts = (
        session.connection()
        .execute(
            select(
                CompletionLog.assignment_id,
                type_coerce(CompletionLog.local_date, String),
                func.count(),
            )
            .where(
                CompletionLog.child_id.in_(ids),
                CompletionLog.local_date >= start,
                CompletionLog.local_date <= end,
                CompletionLog.deleted_at.is_(None),
            )
            .group_by(CompletionLog.child_id, CompletionLog.local_date, CompletionLog.assignment_id)
        )
        .all()
    )  # one fetchall: iterating the cursor would fetch row by row
    for assignment_id, day, n in counts:
        logged = logged_by_assignment.get(assignment_id)
        if logged is not None:
            logged[day_index[day]] += n
    return result


def child_adherence(session: Session, child_id: int, start: date, end: date) -> ChildAdherence:
    found = adherence_for(session, [child_id], start, end)
    if child_id not in found:
        raise LookupError(f"no child {child_id}")
    return found[child_id]


# --- the dashboard: windows and flags ---------------------------------------------------


@dataclass
class Overview:
    child_id: int
    today: date
    last_7: Tally
    last_14: Tally
    last_28: Tally
    weeks: list[Tally]  # TREND_WEEKS weeks, oldest first, the last one ending yesterday
    last_log: date | None
    flags: list[str]
    hard_activities: list[str]  # titles behind OFTEN_HARD

    @property
    def needs_attention(self) -> bool:
        return bool(self.flags)

    def sort_key(self) -> tuple[int, float, float]:
        """Flags first, then the lowest 7-day then 28-day rates; "no plan" last."""
        r7, r28 = self.last_7.rate, self.last_28.rate
        return (0 if self.flags else 1, 2.0 if r7 is None else r7, 2.0 if r28 is None else r28)


def _windows(today: date) -> tuple[date, date]:
    """The range the dashboard needs for a child whose local today is ``today``."""
    return today - timedelta(days=7 * TREND_WEEKS), today


def caseload_overview(
    session: Session, children: Sequence[Child], now: datetime
) -> dict[int, Overview]:
    """Figures and flags for each child, each on its own local today (fixed query count)."""
    if not children:
        return {}
    todays = {c.id: local_today(c.timezone, now) for c in children}
    return _overviews(session, todays)


def overview_for(session: Session, child: Child, now: datetime) -> Overview:
    return caseload_overview(session, [child], now)[child.id]


def overview_on(session: Session, child_id: int, today: date) -> Overview:
    """The overview of one child for a given local today (used by jobs and prompts)."""
    return _overviews(session, {child_id: today})[child_id]


def _overviews(session: Session, todays: dict[int, date]) -> dict[int, Overview]:
    ids = list(todays)
    start = min(_windows(t)[0] for t in todays.values())
    end = max(todays.values())
    data = adherence_for(session, ids, start, end)
    last_logs = last_log_dates(session, ids)
    hard = _often_hard(session, todays)
    result: dict[int, Overview] = {}
    for cid, today in todays.items():
        adh = data[cid]
        yesterday = today - timedelta(days=1)
        weeks = [
            adh.between(yesterday - timedelta(days=7 * w + 6), yesterday - timedelta(days=7 * w))
            for w in reversed(range(TREND_WEEKS))
        ]
        last_14 = adh.between(today - timedelta(days=LOW_RATE_DAYS), yesterday)
        last_28 = adh.between(today - timedelta(days=28), yesterday)
        last_log = last_logs.get(cid)
        flags: list[str] = []
        rate_14 = last_14.rate
        if rate_14 is not None and rate_14 < LOW_RATE:
            flags.append(LOW_ADHERENCE)
        if _quiet(adh, today, last_log):
            flags.append(NO_RECENT_LOGS)
        titles = hard.get(cid, [])
        if titles:
            flags.append(OFTEN_HARD)
        result[cid] = Overview(
            child_id=cid,
            today=today,
            last_7=weeks[-1],
            last_14=last_14,
            last_28=last_28,
            weeks=weeks,
            last_log=last_log,
            flags=flags,
            hard_activities=titles,
        )
    return result


def last_log_dates(session: Session, child_ids: list[int]) -> dict[int, date]:
    """The latest local date with a log, per child (one query).

    A correlated "newest first, first row" per child walks the (child_id, local_date) index
    backwards and stops at once; a GROUP BY max() would read every log of the caseload.
    """
    newest = (
        select(CompletionLog.local_date)
        .where(CompletionLog.child_id == Child.id, CompletionLog.deleted_at.is_(None))
        .order_by(CompletionLog.local_date.desc())
        .limit(1)
        .correlate(Child)
        .scalar_subquery()
    )
    rows = session.execute(select(Child.id, newest).where(Child.id.in_(child_ids)))
    return {cid: day for cid, day in rows if day is not None}


def _quiet(adh: ChildAdherence, today: date, last_log: date | None) -> bool:
    """No log on the last QUIET_DAYS days (or today), though practice was expected.

    Only when the plan already existed QUIET_DAYS days ago: a program that started two
    days ago has not been quiet for five.
    """
    first = today - timedelta(days=QUIET_DAYS)
    if last_log is not None and last_log >= first:
        return False
    return any(
        chain.first_start <= first and chain.between(first, today - timedelta(days=1)).expected
        for chain in adh.chains
    )


def _often_hard(session: Session, todays: dict[int, date]) -> dict[int, list[str]]:
    """Activities whose last sessions were "hard" 3 times out of 5 (one query)."""
    needed, last_n = HARD_OF_LAST
    since = min(todays.values()) - timedelta(days=HARD_LOOKBACK_DAYS)
    ranked = (
        select(
            CompletionLog.child_id,
            CompletionLog.local_date,
            CompletionLog.response,
            Activity.title,
            Assignment.activity_id,
            func.row_number()
            .over(
                partition_by=(CompletionLog.child_id, Assignment.activity_id),
                order_by=(CompletionLog.occurred_at.desc(), CompletionLog.id.desc()),
            )
            .label("n"),
        )
        .join(Assignment, Assignment.id == CompletionLog.assignment_id)
        .join(Activity, Activity.id == Assignment.activity_id)
        .where(
            CompletionLog.child_id.in_(list(todays)),
            CompletionLog.deleted_at.is_(None),
            CompletionLog.local_date >= since,
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.child_id, ranked.c.activity_id, ranked.c.title, ranked.c.local_date)
        .where(ranked.c.n <= last_n, ranked.c.response == Response.HARD.value)
        .order_by(ranked.c.child_id, ranked.c.title)
    )
    hard: dict[tuple[int, int], list[date]] = {}
    titles: dict[int, str] = {}
    for child_id, activity_id, title, day in rows:
        if day >= todays[child_id] - timedelta(days=HARD_LOOKBACK_DAYS):
            hard.setdefault((child_id, activity_id), []).append(day)
            titles[activity_id] = title
    result: dict[int, list[str]] = {}
    for (child_id, activity_id), hard_days in hard.items():
        if len(hard_days) >= needed:
            result.setdefault(child_id, []).append(titles[activity_id])
    return result
