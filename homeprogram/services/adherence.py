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
- ``caseload_overview_isolated(session, children, now) -> dict[child_id, Overview | None]``:
  the same, where a child whose figures fail gets None (logged) instead of failing all.
- ``overview_for(session, child, now) -> Overview``
- ``adherence_flags_on(session, child_id, today) -> list[str]``
- ``fill_cache(transaction, now)``: the job that keeps the dashboard's per-day cache ready.
- Flag codes: ``LOW_ADHERENCE``, ``NO_RECENT_LOGS``, ``OFTEN_HARD``.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate, groupby
from operator import itemgetter, sub
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, func, or_, select, type_coerce
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from homeprogram.db import Transaction
from homeprogram.models import (
    Activity,
    AdherenceDay,
    Assignment,
    AssignmentPause,
    Child,
    CompletionLog,
    Response,
    Setting,
)
from homeprogram.services import claims, jobs
from homeprogram.services.schedule import expected_between

log = logging.getLogger(__name__)

LOW_ADHERENCE = "low_adherence"
NO_RECENT_LOGS = "no_recent_logs"
OFTEN_HARD = "often_hard"
FLAGS = (LOW_ADHERENCE, NO_RECENT_LOGS, OFTEN_HARD)

LOW_RATE = 0.5
LOW_RATE_DAYS = 14
QUIET_DAYS = 5
HARD_OF_LAST = (3, 5)  # "hard" on 3 of the last 5 sessions of an activity
HARD_LOOKBACK_DAYS = 28  # sessions older than this no longer raise the flag
HARD = Response.HARD.value
TREND_WEEKS = 8
MAX_RANGE_DAYS = 366
FILL_BATCH = 200  # children per transaction when a job fills the per-day cache


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


@dataclass(frozen=True)
class DayTotals:
    """Running totals of expected, done and extra per day from ``start``: any window in O(1).

    Each list holds one more item than there are days (``totals[i]`` sums the days before
    day ``i``).
    """

    start: date
    expected: list[int]
    done: list[int]
    extra: list[int]

    @classmethod
    def of_days(
        cls, start: date, expected: Iterable[int], done: Iterable[int], extra: Iterable[int]
    ) -> "DayTotals":
        return cls(start, _running(expected), _running(done), _running(extra))

    def between(self, a: date, b: date) -> Tally:
        lo = max(0, (a - self.start).days)
        hi = min(len(self.expected) - 1, (b - self.start).days + 1)
        if hi <= lo:
            return Tally()
        e, d, x = self.expected, self.done, self.extra
        return Tally(e[hi] - e[lo], d[hi] - d[lo], x[hi] - x[lo])


@dataclass
class ChildAdherence:
    child_id: int
    timezone: str
    start: date
    end: date
    chains: list[ChainAdherence] = field(default_factory=list)
    _totals: DayTotals | None = field(default=None, repr=False)

    def _day_totals(self) -> DayTotals:
        if self._totals is None:
            n = (self.end - self.start).days + 1
            if not self.chains:
                self._totals = DayTotals.of_days(self.start, [0] * n, [0] * n, [0] * n)
                return self._totals
            # map/zip keep the per-day work in C: a caseload has ~100k chain-days.
            expected = list(map(sum, zip(*(c.expected for c in self.chains), strict=True)))
            done = list(
                map(sum, zip(*(map(min, c.expected, c.logged) for c in self.chains), strict=True))
            )
            logged = list(map(sum, zip(*(c.logged for c in self.chains), strict=True)))
            self._totals = DayTotals.of_days(self.start, expected, done, map(sub, logged, done))
        return self._totals

    def between(self, a: date, b: date) -> Tally:
        return self._day_totals().between(a, b)

    def day(self, d: date) -> Tally:
        return self.between(d, d)

    @property
    def total(self) -> Tally:
        return self.between(self.start, self.end)

    def active_chains(self, a: date | None = None, b: date | None = None) -> list[ChainAdherence]:
        """Chains with something expected or logged between a and b (default: the range)."""
        a, b = a or self.start, b or self.end
        return [c for c in self.chains if (t := c.between(a, b)).expected or t.extra]


def _running(values: Iterable[int]) -> list[int]:
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
    """Every assignment (all versions) of the children that counts at home, with their
    pauses (two queries)."""
    # Home adherence: classroom-only strategies are the teachers' to mark, not the family's.
    counted = Assignment.child_id.in_(child_ids) & (Assignment.setting != Setting.CLASSROOM)
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
        .where(counted)
        .order_by(Assignment.id)
    )
    assignments = [ScheduleRow(*row) for row in rows]
    by_id = {a.id: a for a in assignments}
    pauses = session.execute(
        select(AssignmentPause.assignment_id, AssignmentPause.start_date, AssignmentPause.end_date)
        .join(Assignment, Assignment.id == AssignmentPause.assignment_id)
        .where(counted)
    )
    for assignment_id, first, last in pauses:
        # Under READ COMMITTED the second query may see an assignment added (or moved out of
        # the classroom) since the first: its pauses wait for the next read, like it does.
        if (assignment := by_id.get(assignment_id)) is not None:
            assignment.pauses.append(PauseRow(first, last))
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


def _day_index(start: date, n_days: int) -> dict[object, int]:
    """Offset from ``start`` by day, keyed by date and by ISO text.

    Dates selected as text (``_as_text``) come back as text on SQLite; looking the text up
    directly skips parsing tens of thousands of dates (PostgreSQL returns date objects,
    which are keys too).
    """
    index: dict[object, int] = {}
    for i in range(n_days):
        d = start + timedelta(days=i)
        index[d] = index[d.isoformat()] = i
    return index


def _as_text(column: Any) -> Any:
    return type_coerce(column, String)


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
    return adherence_of(session, timezones, _load_assignments(session, ids), start, end)


def schedule_row(assignment: Assignment) -> ScheduleRow:
    """What adherence reads of an assignment already loaded with its activity and pauses."""
    return ScheduleRow(
        assignment.id,
        assignment.child_id,
        assignment.activity_id,
        assignment.previous_id,
        assignment.start_date,
        assignment.end_date,
        assignment.days_of_week,
        assignment.times_per_day,
        assignment.measure_name,
        assignment.measure_unit,
        assignment.activity.title,
        [PauseRow(p.start_date, p.end_date) for p in assignment.pauses],
    )


def adherence_of(
    session: Session,
    timezones: dict[int, str],
    assignments: list[ScheduleRow],
    start: date,
    end: date,
) -> dict[int, ChildAdherence]:
    """``adherence_for`` with the children's time zones and their counted assignments (every
    version not classroom-only, ordered by id, with pauses) already read: one query, the
    day counts of the logs. A caller that has read the assignments anyway (Today) saves
    reading them twice."""
    if end < start:
        raise ValueError("end before start")
    ids = sorted(timezones)
    result = {cid: ChildAdherence(cid, tz, start, end) for cid, tz in timezones.items()}
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
    day_index = _day_index(start, n_days)
    logged_by_assignment = {aid: chains[root].logged for aid, root in roots.items()}
    counts = (
        session.connection()
        .execute(
            select(
                CompletionLog.assignment_id,
                _as_text(CompletionLog.local_date),
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


def _window(today: date) -> tuple[date, date]:
    """The complete days the dashboard reads for a child whose local today is ``today``."""
    return today - timedelta(days=7 * TREND_WEEKS), today - timedelta(days=1)


def caseload_overview(
    session: Session, children: Sequence[Child], now: datetime
) -> dict[int, Overview]:
    """Figures and flags for each child, each on its own local today (fixed query count)."""
    if not children:
        return {}
    todays = {c.id: local_today(c.timezone, now) for c in children}
    return _overviews(session, todays)


def caseload_overview_isolated(
    session: Session, children: Sequence[Child], now: datetime
) -> dict[int, Overview | None]:
    """``caseload_overview``, but one child's bad data costs only that child's figures.

    The whole caseload is computed at once (the fixed query count, in a SAVEPOINT); if that
    fails, each child alone: a child whose figures still fail gets None, logged with their
    id (``jobs.skipped``), and the others get their figures.
    """
    # In autocommit each statement is its own transaction: a failed one aborts nothing, and
    # PostgreSQL refuses a SAVEPOINT outside a transaction.
    autocommit = session.get_bind().get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    found, _failed = jobs.batch_or_each(
        children,
        lambda group: caseload_overview(session, group, now),
        job="dashboard figures",
        label=lambda child: f"child {child.id}",
        session=None if autocommit else session,
    )
    return {child.id: found.get(child.id) for child in children}


def overview_for(session: Session, child: Child, now: datetime) -> Overview:
    return caseload_overview(session, [child], now)[child.id]


def overview_on(session: Session, child_id: int, today: date) -> Overview:
    """The overview of one child for a given local today."""
    return _overviews(session, {child_id: today})[child_id]


def adherence_flags_on(session: Session, child_id: int, today: date) -> list[str]:
    """The adherence flags (``LOW_ADHERENCE``, ``NO_RECENT_LOGS``) of one child for a local
    today: what the caregiver's "what got in the way?" prompt is about ("often hard" is not
    read)."""
    return _overviews(session, {child_id: today}, often_hard=False)[child_id].flags


def adherence_flags_from(session: Session, data: ChildAdherence, today: date) -> list[str]:
    """``adherence_flags_on`` from engine figures already computed for the child over a
    range holding the last ``LOW_RATE_DAYS`` days before ``today`` (Today's week and
    streak): no query, unless no log in the range is recent enough to rule out
    ``NO_RECENT_LOGS`` (then one, the child's latest log date, as the dashboard reads it).
    """
    yesterday = today - timedelta(days=1)
    if data.start > today - timedelta(days=LOW_RATE_DAYS) or data.end < yesterday:
        return adherence_flags_on(session, data.child_id, today)
    flags: list[str] = []
    rate_14 = data.between(today - timedelta(days=LOW_RATE_DAYS), yesterday).rate
    if rate_14 is not None and rate_14 < LOW_RATE:
        flags.append(LOW_ADHERENCE)
    first = today - timedelta(days=QUIET_DAYS)
    lo = (first - data.start).days
    if not any(any(chain.logged[lo:]) for chain in data.chains):
        last = last_log_dates(session, [data.child_id]).get(data.child_id)
        if (last is None or last < first) and any(
            chain.first_start <= first and any(chain.expected[lo : lo + QUIET_DAYS])
            for chain in data.chains
        ):
            flags.append(NO_RECENT_LOGS)
    return flags


def _overviews(
    session: Session, todays: dict[int, date], *, often_hard: bool = True
) -> dict[int, Overview]:
    totals = daily_totals(session, todays)
    last_logs = last_log_dates(session, list(todays))
    quiet = _expecting_since(
        session,
        {
            cid: today - timedelta(days=QUIET_DAYS)
            for cid, today in todays.items()
            if (last := last_logs.get(cid)) is None or last < today - timedelta(days=QUIET_DAYS)
        },
    )
    hard = _often_hard(session, todays) if often_hard else {}
    result: dict[int, Overview] = {}
    for cid, today in todays.items():
        adh = totals[cid]
        yesterday = today - timedelta(days=1)
        weeks = [
            adh.between(yesterday - timedelta(days=7 * w + 6), yesterday - timedelta(days=7 * w))
            for w in reversed(range(TREND_WEEKS))
        ]
        last_14 = adh.between(today - timedelta(days=LOW_RATE_DAYS), yesterday)
        flags: list[str] = []
        rate_14 = last_14.rate
        if rate_14 is not None and rate_14 < LOW_RATE:
            flags.append(LOW_ADHERENCE)
        if cid in quiet:
            flags.append(NO_RECENT_LOGS)
        titles = hard.get(cid, [])
        if titles:
            flags.append(OFTEN_HARD)
        result[cid] = Overview(
            child_id=cid,
            today=today,
            last_7=weeks[-1],
            last_14=last_14,
            last_28=adh.between(today - timedelta(days=28), yesterday),
            weeks=weeks,
            last_log=last_logs.get(cid),
            flags=flags,
            hard_activities=titles,
        )
    return result


# --- the per-day cache ------------------------------------------------------------------


def daily_totals(session: Session, todays: dict[int, date]) -> dict[int, DayTotals]:
    """Each child's per-day figures over the dashboard window (``_window``), read from
    ``adherence_day`` (one query); days missing there are computed by ``adherence_for`` and
    stored (``_refill``). A row holds exactly what ``ChildAdherence.day`` gives for it."""
    windows = {cid: _window(today) for cid, today in todays.items()}
    start = min(first for first, _ in windows.values())
    end = max(last for _, last in windows.values())
    n_days = (end - start).days + 1
    day_index = _day_index(start, n_days)
    rows = (
        session.connection()
        .execute(
            select(
                AdherenceDay.child_id,
                _as_text(AdherenceDay.local_date),
                AdherenceDay.expected,
                AdherenceDay.done,
                AdherenceDay.extra,
            )
            .where(
                AdherenceDay.child_id.in_(list(todays)),
                AdherenceDay.local_date >= start,
                AdherenceDay.local_date <= end,
            )
            .order_by(AdherenceDay.child_id, AdherenceDay.local_date)  # the primary key
        )
        .all()
    )
    by_child = {cid: list(found) for cid, found in groupby(rows, key=itemgetter(0))}
    days: dict[int, tuple[list[int], list[int], list[int]]] = {}
    missing: dict[int, list[date]] = {}
    for cid, (first, last) in windows.items():
        lo, hi = (first - start).days, (last - start).days
        found = by_child.get(cid, [])
        a = day_index[found[0][1]] if found else 0
        b = day_index[found[-1][1]] if found else -1
        if b - a + 1 == len(found) and a <= lo and b >= hi:
            # The usual case, every day there: whole columns at once.
            before, after = [0] * a, [0] * (n_days - b - 1)
            e, d, x = (before + [r[k] for r in found] + after for k in (2, 3, 4))
            days[cid] = (e, d, x)
            continue
        e, d, x = [0] * n_days, [0] * n_days, [0] * n_days
        have: set[int] = set()
        for _, day, expected, done, extra in found:
            i = day_index[day]
            e[i], d[i], x[i] = expected, done, extra
            have.add(i)
        days[cid] = (e, d, x)
        missing[cid] = [start + timedelta(days=i) for i in range(lo, hi + 1) if i not in have]
    if missing:
        for cid, computed in _refill(session, missing).items():
            e, d, x = days[cid]
            for day, tally in computed.items():
                i = (day - start).days
                e[i], d[i], x[i] = tally.expected, tally.done, tally.extra
    return {cid: DayTotals.of_days(start, *days[cid]) for cid in todays}


def fill_cache(
    transaction: Transaction,
    now: datetime,
    batch: int = FILL_BATCH,
) -> int:
    """Store the dashboard's missing days for every child, ``batch`` children per
    transaction (a job: after each child's local midnight the first view of the day finds
    yesterday ready). Returns the number of children looked at."""

    def fill(rows: Sequence[Any]) -> dict[int, None]:
        with transaction() as session:
            daily_totals(session, {cid: local_today(tz, now) for cid, tz in rows})
        return {}

    with transaction() as session:
        children = session.execute(select(Child.id, Child.timezone).order_by(Child.id)).all()
    for i in range(0, len(children), batch):
        # One child the job cannot use (a time zone zoneinfo cannot load) is logged and
        # skipped; the rest of its batch, and the batches after it, are filled.
        jobs.batch_or_each(
            children[i : i + batch],
            fill,
            job="dashboard cache",
            label=lambda row: f"child {row[0]}",
        )
    return len(children)


def _refill(session: Session, missing: dict[int, list[date]]) -> dict[int, dict[date, Tally]]:
    """Compute the missing days with the engine and store them.

    Stored in a write transaction of its own (a GET's session only reads), unless the
    caller's session already writes (a job): on SQLite a second writer would wait for it.
    The children's rows are locked FOR SHARE before anything is read; the cache triggers
    lock them FOR NO KEY UPDATE on PostgreSQL, so a log written meanwhile either is seen
    here or deletes what this stores. (SQLite's write transaction excludes other writers.)
    A failure to store (a deadlock victim, a busy database) costs only the caching.
    """
    bind = session.get_bind()
    own = not bind.get_execution_options().get("sqlite_write")
    writer = Session(bind=bind.execution_options(sqlite_write=True)) if own else session
    try:
        computed = _compute_and_store(writer, missing)
        if own:
            writer.commit()
        return computed
    except DBAPIError:
        if not own:
            raise
        writer.rollback()
        log.warning("adherence cache not stored; computed for this request only", exc_info=True)
        return _compute(session, missing)
    finally:
        if own:
            writer.close()


def _compute(session: Session, missing: dict[int, list[date]]) -> dict[int, dict[date, Tally]]:
    first = min(wanted[0] for wanted in missing.values())
    last = max(wanted[-1] for wanted in missing.values())
    data = adherence_for(session, missing, first, last)
    return {cid: {day: data[cid].day(day) for day in wanted} for cid, wanted in missing.items()}


def _compute_and_store(
    session: Session, missing: dict[int, list[date]]
) -> dict[int, dict[date, Tally]]:
    session.execute(
        select(Child.id)
        .where(Child.id.in_(list(missing)))
        .order_by(Child.id)
        .with_for_update(read=True)
    )
    computed = _compute(session, missing)
    rows = [
        {
            "child_id": cid,
            "local_date": day,
            "expected": tally.expected,
            "done": tally.done,
            "extra": tally.extra,
        }
        for cid, by_day in computed.items()
        for day, tally in by_day.items()
    ]
    claims.claim(session, AdherenceDay, rows, key=("child_id", "local_date"), returning=False)
    return computed


# --- flags that read more than the figures ------------------------------------------------


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


def _expecting_since(session: Session, firsts: dict[int, date]) -> set[int]:
    """Children (of those given, each with a day ``first``) whose plan expected practice
    between ``first`` and yesterday and already existed on ``first``: the "no log for
    QUIET_DAYS days" flag for children with no log since ``first`` (two queries).

    Only a plan that already existed QUIET_DAYS days ago counts: a program that started two
    days ago has not been quiet for five. "Existed" is per chain: a prescription changed
    yesterday has existed since its first version.
    """
    if not firsts:  # every child logged lately: nothing to read
        return set()
    assignments = _load_assignments(session, list(firsts))
    roots = _chain_roots(assignments)
    chain_start: dict[int, date] = {}
    for a in assignments:
        root = roots[a.id]
        chain_start[root] = min(chain_start.get(root, a.start_date), a.start_date)
    expecting: set[int] = set()
    for a in assignments:
        first = firsts[a.child_id]
        yesterday = first + timedelta(days=QUIET_DAYS - 1)
        if chain_start[roots[a.id]] <= first and any(expected_between(a, first, yesterday)):
            expecting.add(a.child_id)
    return expecting


def _recent_sessions() -> Any:
    """The "hard" sessions among the last ``HARD_OF_LAST[1]`` of each assignment of the
    children ``ids`` on local days from ``since`` (all of them where a child has several
    assignments of one activity); built once, run with bound values."""
    last_n = HARD_OF_LAST[1]
    since = bindparam("since", type_=CompletionLog.local_date.type)
    newer = aliased(CompletionLog)

    def nth_latest(column: Any) -> Any:
        return (
            select(column)
            .where(
                newer.assignment_id == Assignment.id,
                newer.deleted_at.is_(None),
                newer.local_date >= since,
            )
            .order_by(newer.occurred_at.desc(), newer.id.desc())
            .offset(last_n - 1)
            .limit(1)
            .correlate(Assignment)
            .scalar_subquery()
        )

    floor = bindparam("floor", type_=CompletionLog.occurred_at.type)
    cuts = (
        select(
            Assignment.id.label("assignment_id"),
            Assignment.child_id,
            Assignment.activity_id,
            Activity.title,
            func.coalesce(nth_latest(newer.occurred_at), floor).label("cut_at"),
            func.coalesce(nth_latest(newer.id), 0).label("cut_id"),
            func.count()
            .over(partition_by=(Assignment.child_id, Assignment.activity_id))
            .label("versions"),
        )
        .join(Activity, Activity.id == Assignment.activity_id)
        .where(Assignment.child_id.in_(bindparam("ids", expanding=True)))
        .cte("cuts")
        .prefix_with("MATERIALIZED")
    )
    at, log_id = CompletionLog.occurred_at, CompletionLog.id
    return (
        select(
            cuts.c.child_id,
            cuts.c.activity_id,
            cuts.c.title,
            cuts.c.versions,
            # Compared and sorted only: text on SQLite (not parsed), timestamps elsewhere.
            _as_text(at),
            log_id,
            CompletionLog.response,
            _as_text(CompletionLog.local_date),
        )
        .join(
            CompletionLog,
            # The range walks the index; the rest breaks ties of occurred_at by id.
            (CompletionLog.assignment_id == cuts.c.assignment_id) & (at >= cuts.c.cut_at),
        )
        .where(
            CompletionLog.deleted_at.is_(None),
            CompletionLog.local_date >= since,
            or_(at > cuts.c.cut_at, log_id >= cuts.c.cut_id),
            or_(CompletionLog.response == HARD, cuts.c.versions > 1),
        )
    )


_RECENT_SESSIONS = _recent_sessions()


def _often_hard(session: Session, todays: dict[int, date]) -> dict[int, list[str]]:
    """Activities whose last sessions were "hard" 3 times out of 5 (one query).

    For each assignment, the database finds its last_n-th latest session in the lookback
    (``ix_completion_log_recent``, newest first, no sort) and returns the "hard" sessions
    from there on. Where a child has several assignments of one activity (versions of a
    changed prescription), it returns all of their latest sessions, merged here.
    """
    needed, last_n = HARD_OF_LAST
    since = min(todays.values()) - timedelta(days=HARD_LOOKBACK_DAYS)
    # With fewer than last_n sessions every one counts: a floor earlier than any session of
    # a local day >= since, in every time zone.
    floor = datetime.combine(since - timedelta(days=2), time.min, tzinfo=UTC)
    rows = (
        session.connection()
        .execute(_RECENT_SESSIONS, {"ids": list(todays), "since": since, "floor": floor})
        .all()
    )
    sessions: dict[tuple[int, int], list[tuple[Any, int, str | None, Any]]] = {}
    titles: dict[int, str] = {}
    merged: set[tuple[int, int]] = set()
    for child_id, activity_id, title, versions, when, number, response, day in rows:
        sessions.setdefault((child_id, activity_id), []).append((when, number, response, day))
        titles[activity_id] = title
        if versions > 1:
            merged.add((child_id, activity_id))
    result: dict[int, list[str]] = {}
    for key, found in sorted(sessions.items(), key=lambda item: (item[0][0], titles[item[0][1]])):
        child_id, activity_id = key
        if key in merged:
            found = sorted(found, reverse=True)[:last_n]
        lookback = (todays[child_id] - timedelta(days=HARD_LOOKBACK_DAYS)).isoformat()
        hard = sum(1 for _, _, response, day in found if response == HARD and str(day) >= lookback)
        if hard >= needed:
            result.setdefault(child_id, []).append(titles[activity_id])
    return result
