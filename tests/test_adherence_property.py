"""Property: on any program, the adherence engine (uncached, and through the dashboard's
per-day cache) gives the figures of a small day-by-day reference written here.

Each example builds a fresh child in the real database through the program services (the
existing versioning, pauses, resumes and ends), adds pauses and completion logs on any day
(undone ones, extra ones, logs against an old version, logs through ``record_log``), and
compares every day. Then one more write, and the comparison again: the cache triggers
must have forgotten what the write made stale.
"""

import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from homeprogram.models import AdherenceDay, Assignment, AssignmentPause, CompletionLog
from homeprogram.services import adherence, logs, programs
from homeprogram.services.adherence import Tally
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed
from tests.adherence_helpers import log

DAY = timedelta(days=1)
# Days beside daylight-saving changes: New York (8 March, 1 November), London (29 March),
# Lord Howe (5 April, half an hour).
ANCHORS = (date(2026, 3, 10), date(2026, 3, 31), date(2026, 4, 7), date(2026, 11, 3))
# Both sides of UTC, from +14 to -11, with half-hour offsets.
TIMEZONES = (
    "Pacific/Kiritimati",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Europe/London",
    "UTC",
    "America/New_York",
    "Pacific/Pago_Pago",
)
SETTINGS = ("home", "classroom", "both")

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays stable
    database=None,
    suppress_health_check=[
        # factory and session are created once for the test; each example builds its own
        # child (and organisation) in that database, so examples share nothing they read.
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
    ],
)

prescriptions = st.fixed_dictionaries(
    {
        "setting": st.sampled_from(SETTINGS),
        "days_of_week": st.sets(st.integers(0, 6), min_size=1).map(sorted),
        "times_per_day": st.integers(1, 3),
    }
)
chains = st.fixed_dictionaries(
    {
        "start": st.integers(-70, 2),  # days from the child's local today
        "end_after": st.none() | st.integers(0, 70),
        "rx": prescriptions,
        # (what, days after the start, days until the resume of a break, prescription)
        "events": st.lists(
            st.tuples(
                st.sampled_from(("change", "break", "change", "pause", "resume", "end")),
                st.integers(0, 72),
                st.integers(0, 15),
                prescriptions,
            ),
            max_size=4,
        ),
    }
)
# (chain, version of it, first day from today, days paused or None: open-ended)
raw_pauses = st.tuples(
    st.integers(0, 9),
    st.integers(0, 9),
    st.integers(-72, 3),
    st.sampled_from((*range(26), None)),
)
# (chain, version, day from the version's start, minute of the local day, undone, through
# record_log); days after tomorrow are tomorrow.
log_specs = st.tuples(
    st.integers(0, 9),
    st.integers(0, 9),
    st.integers(-4, 70),
    st.integers(0, 24 * 60 - 1),
    st.booleans(),
    st.booleans(),
)
programs_ = st.fixed_dictionaries(
    {
        "timezone": st.sampled_from(TIMEZONES),
        "anchor": st.sampled_from(ANCHORS),
        "half_hours": st.integers(-30, 30),  # now = anchor's UTC midnight + this
        "chains": st.lists(chains, min_size=1, max_size=3),
        "raw_pauses": st.lists(raw_pauses, max_size=2),
        "logs": st.lists(log_specs, min_size=3, max_size=30),
        # (what, which one, days: from a version's start for a log, before today for a pause)
        "then": st.tuples(
            st.sampled_from(("undo", "log", "pause", "unpause", "change")),
            st.integers(0, 99),
            st.integers(0, 60),
        ),
    }
)


# --- the reference: day by day, straight from the rows ----------------------------------


def _due(a: Assignment, day: date) -> int:
    """Sessions ``a`` asks for on ``day``: in its dates, on one of its days, not paused."""
    if day < a.start_date or (a.end_date is not None and day > a.end_date):
        return 0
    if day.weekday() not in a.days_of_week:
        return 0
    for p in a.pauses:
        if p.start_date <= day and (p.end_date is None or day <= p.end_date):
            return 0
    return a.times_per_day


def reference(session, child_id: int, timezone: str, days: list[date]) -> dict:
    """Per prescription chain and day: (expected, logged).

    Home adherence: a classroom-only version expects nothing of the family and its logs do
    not count; versions linked by ``previous_id`` form one chain (a classroom-only version
    in between breaks it). A log counts on the child's local day of its instant.
    """
    session.expire_all()
    rows = session.scalars(select(Assignment).where(Assignment.child_id == child_id)).all()
    home = {a.id: a for a in rows if a.setting != "classroom"}

    def root(a: Assignment) -> int:
        while a.previous_id in home:
            a = home[a.previous_id]
        return a.id

    chain = {aid: root(a) for aid, a in home.items()}
    zone = ZoneInfo(timezone)
    logged = Counter(
        (chain[entry.assignment_id], entry.occurred_at.astimezone(zone).date())
        for entry in session.scalars(
            select(CompletionLog).where(
                CompletionLog.child_id == child_id, CompletionLog.deleted_at.is_(None)
            )
        )
        if entry.assignment_id in chain
    )
    figures = {}
    for day in days:
        expected = Counter()
        for a in home.values():
            expected[chain[a.id]] += _due(a, day)
        for root_id in set(chain.values()):
            figures[root_id, day] = (expected[root_id], logged[root_id, day])
    return figures


def _tally(figures: dict, days: list[date], root_id: int | None = None) -> Tally:
    """Expected, done (at most what was expected, per chain and day) and extra over days."""
    wanted = set(days)
    total = Tally()
    for (chain_id, day), (expected, n) in figures.items():
        if day in wanted and root_id in (None, chain_id):
            total += Tally(expected, min(expected, n), max(0, n - expected))
    return total


def _days(first: date, last: date) -> list[date]:
    return [first + i * DAY for i in range((last - first).days + 1)]


# --- building a program ------------------------------------------------------------------


class Program:
    """One child's program written through the services, as a therapist would."""

    def __init__(self, factory, session, spec: dict) -> None:
        self.session = session
        self.timezone = spec["timezone"]
        midnight = datetime.combine(spec["anchor"], time(0), tzinfo=UTC)
        self.now = midnight + timedelta(minutes=30 * spec["half_hours"])
        self.today = adherence.local_today(self.timezone, self.now)
        org = factory.org()
        therapist = factory.therapist(org)
        self.child = factory.child(org, therapist=therapist, timezone=self.timezone)
        self.parent = factory.caregiver(self.child)
        self.staff = Actor(therapist.id)
        self.versions: list[list[int]] = []
        for chain in spec["chains"]:
            self._chain(factory, chain)

    def _ok(self, write) -> object | None:
        """Run a service call; a refused one (as the app would refuse it) writes nothing."""
        try:
            result = write()
        except (ValidationFailed, NotFound):
            self.session.rollback()
            return None
        self.session.commit()
        return result

    def _rx(self, rx: dict, start: date | None = None, end: date | None = None):
        return programs.Prescription(dose_amount=5, start_date=start, end_date=end, **rx)

    def _chain(self, factory, spec: dict) -> None:
        start = self.today + spec["start"] * DAY
        end = None if spec["end_after"] is None else start + spec["end_after"] * DAY
        activity = factory.activity()
        first = self._ok(
            lambda: programs.create_assignment(
                self.session,
                self.staff,
                self.child,
                activity.id,
                self._rx(spec["rx"], start, end),
                today=start,
            )
        )
        ids = [first.id]
        self.versions.append(ids)
        for what, after, resume_after, rx in sorted(spec["events"], key=lambda e: e[1]):
            if not self._event(ids, what, start + after * DAY, resume_after, rx):
                self.versions.remove(ids)  # its only version was upcoming, and removed
                return

    def _event(self, ids: list[int], what: str, day: date, resume_after: int, rx: dict) -> bool:
        """A therapist's action on ``day`` on the current version; False when it removed
        the prescription altogether."""
        s, staff = self.session, self.staff
        current = s.get(Assignment, ids[-1])
        if what == "change":
            new = self._ok(
                lambda: programs.change_assignment(
                    s, staff, current, self._rx(rx, end=current.end_date), effective=day, today=day
                )
            )
            if new is not None and new.id != ids[-1]:
                ids.append(new.id)
        elif what == "end":
            self._ok(lambda: programs.end_assignment(s, staff, current, last_day=day, today=day))
            if s.get(Assignment, ids[-1]) is None:
                ids.pop()  # an upcoming version, removed: the previous one is current again
        else:
            if what in ("pause", "break"):
                self._ok(
                    lambda: programs.pause_assignment(s, staff, current, from_day=day, today=day)
                )
            if what in ("resume", "break"):
                on = day + resume_after * DAY if what == "break" else day
                self._ok(lambda: programs.resume_assignment(s, staff, current, on=on, today=day))
        return bool(ids)

    def version(self, chain: int, index: int) -> Assignment | None:
        if not self.versions:
            return None
        ids = self.versions[chain % len(self.versions)]
        return self.session.get(Assignment, ids[index % len(ids)])

    def raw_pause(self, chain: int, index: int, first: int, length: int | None) -> None:
        """A pause row on any version, any days (older data, or another writer)."""
        a = self.version(chain, index)
        if a is not None:
            start = self.today + first * DAY
            end = None if length is None else start + length * DAY
            self.session.add(AssignmentPause(assignment_id=a.id, start_date=start, end_date=end))
            self.session.commit()

    def log(self, chain: int, index: int, day: int, minute: int, undone: bool, app: bool):
        a = self.version(chain, index)
        if a is None:
            return
        local = min(a.start_date + day * DAY, self.today + DAY)
        at = time(minute // 60, minute % 60)
        if not app:  # written as stored, against any version (an old one, a paused one)
            log(self.session, a, local, at=at, deleted=undone, timezone=self.timezone)
            return
        occurred = datetime.combine(local, at, tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)
        parent = Actor(self.parent.id)
        written = self._ok(
            lambda: logs.record_log(
                self.session,
                parent,
                client_id=str(uuid.uuid4()),
                assignment_id=a.id,
                occurred_at=occurred,
                user_id=self.parent.id,
                now=self.now,
            )
        )
        if written is not None and undone:
            entry = written[0]
            self._ok(
                lambda: logs.undo_log(self.session, parent, log_id=entry.id, user_id=self.parent.id)
            )

    def then(self, what: str, pick: int, day: int) -> None:
        """One more write after the cache was filled."""
        s = self.session
        if what == "undo":
            live = s.scalars(
                select(CompletionLog)
                .where(CompletionLog.child_id == self.child.id, CompletionLog.deleted_at.is_(None))
                .order_by(CompletionLog.id)
            ).all()
            if live:
                live[pick % len(live)].deleted_at = self.now
                s.commit()
        elif what == "log":
            self.log(pick, pick // 3, day, 600, False, False)
        elif what == "pause":
            self.raw_pause(pick, pick // 3, -day, pick % 9)
        elif what == "unpause":
            pauses = s.scalars(
                select(AssignmentPause)
                .join(Assignment)
                .where(Assignment.child_id == self.child.id)
                .order_by(AssignmentPause.id)
            ).all()
            if pauses:
                s.delete(pauses[pick % len(pauses)])
                s.commit()
        elif self.versions:
            ids = self.versions[pick % len(self.versions)]
            current = s.get(Assignment, ids[-1])
            rx = {"setting": SETTINGS[pick % 3], "days_of_week": [0, 2, 4], "times_per_day": 2}
            new = self._ok(
                lambda: programs.change_assignment(
                    s,
                    self.staff,
                    current,
                    self._rx(rx, end=current.end_date),
                    effective=self.today,
                    today=self.today,
                )
            )
            if new is not None and new.id != ids[-1]:
                ids.append(new.id)


# --- the property -------------------------------------------------------------------------


def _describe(session, child_id: int, total: Tally) -> None:
    """What the example holds (``pytest --hypothesis-show-statistics`` shows how often)."""
    rows = session.scalars(select(Assignment).where(Assignment.child_id == child_id)).all()
    if any(a.previous_id for a in rows):
        event("several versions")
    if any(a.pauses and a.setting == "classroom" for a in rows):
        event("a paused classroom-only version")
    if any(a.pauses and a.setting != "classroom" for a in rows):
        event("a paused home version")
    if total.extra:
        event("extra sessions")
    if total.done:
        event("sessions done")
    undone = select(CompletionLog.id).where(
        CompletionLog.child_id == child_id, CompletionLog.deleted_at.is_not(None)
    )
    if session.scalars(undone).first() is not None:
        event("undone logs")


def _check(session, p: Program) -> None:
    cid, today = p.child.id, p.today
    yesterday = today - DAY

    # Uncached: the engine over a range around the dashboard's, every day and every chain.
    days = _days(today - 62 * DAY, today + 2 * DAY)
    ref = reference(session, cid, p.timezone, days)
    engine = adherence.child_adherence(session, cid, days[0], days[-1])
    for day in days:
        assert engine.day(day) == _tally(ref, [day]), day
    roots = {root_id for root_id, _ in ref}
    assert {c.chain_id for c in engine.chains} == roots
    for c in engine.chains:
        assert c.tally == _tally(ref, days, c.chain_id), c.chain_id
    assert engine.total == _tally(ref, days)
    _describe(session, cid, engine.total)

    # Cached: the dashboard's window, first filled (cold) then read back (warm).
    window = _days(today - 56 * DAY, yesterday)
    for _ in ("cold", "warm"):
        totals = adherence.daily_totals(session, {cid: today})[cid]
        assert [totals.between(d, d) for d in window] == [_tally(ref, [d]) for d in window]
    stored = session.scalars(select(AdherenceDay).where(AdherenceDay.child_id == cid)).all()
    assert sorted(r.local_date for r in stored) == window

    # The dashboard's figures and the low-adherence flag, on the child's own today.
    overview = adherence.caseload_overview(session, [p.child], p.now)[cid]
    assert overview.today == today
    weeks = [
        _tally(ref, _days(yesterday - (7 * w + 6) * DAY, yesterday - 7 * w * DAY))
        for w in reversed(range(adherence.TREND_WEEKS))
    ]
    assert overview.weeks == weeks
    assert overview.last_7 == weeks[-1]
    last_14 = _tally(ref, _days(today - 14 * DAY, yesterday))
    assert overview.last_14 == last_14
    assert overview.last_28 == _tally(ref, _days(today - 28 * DAY, yesterday))
    low = last_14.rate is not None and last_14.rate < adherence.LOW_RATE
    assert (adherence.LOW_ADHERENCE in overview.flags) == low
    assert adherence.caseload_overview_isolated(session, [p.child], p.now) == {cid: overview}


@PROPERTY
@given(spec=programs_)
def test_engine_and_cache_match_a_day_by_day_reference(factory, session, spec):
    """Any program (settings, versions, pauses, ends, days, times a day, undone and extra
    logs, time zones either side of UTC): the engine's figures, uncached and cached, are
    the reference's for every day, before and after one more write."""
    p = Program(factory, session, spec)
    for raw in spec["raw_pauses"]:
        p.raw_pause(*raw)
    for entry in spec["logs"]:
        p.log(*entry)
    _check(session, p)
    p.then(*spec["then"])
    _check(session, p)
