"""The adherence engine in the hard cases DESIGN.md lists."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homeprogram.services import adherence
from homeprogram.services.adherence import Tally
from tests.adherence_helpers import log, pause

MON = date(2026, 3, 2)  # a Monday
SUN = MON + timedelta(days=6)


def _child(factory, timezone="America/Chicago"):
    org = factory.org()
    therapist = factory.therapist(org)
    return factory.child(org, therapist=therapist, timezone=timezone)


def test_daily_assignment_counts_each_day(factory, session):
    """A daily assignment expects one session a day; logged days count as done."""
    child = _child(factory)
    a = factory.assignment(child, start_date=MON - timedelta(days=30))
    for d in (MON, MON + timedelta(days=2)):
        log(session, a, d)
    result = adherence.child_adherence(session, child.id, MON, SUN)
    assert result.total == Tally(expected=7, done=2, extra=0)
    assert result.total.rate == 2 / 7


def test_schedule_change_mid_week_uses_prescription_in_force(factory, session):
    """A change on Wednesday: Mon-Tue use the old schedule, Wed-Sun the new, as one chain."""
    child = _child(factory)
    activity = factory.activity()
    old = factory.assignment(
        child, activity, start_date=MON - timedelta(days=7), end_date=MON + timedelta(days=1)
    )
    new = factory.assignment(
        child, activity, start_date=MON + timedelta(days=2), times_per_day=2, previous_id=old.id
    )
    log(session, old, MON)
    log(session, old, MON + timedelta(days=1))
    log(session, old, MON + timedelta(days=1))  # extra under the old schedule
    log(session, new, MON + timedelta(days=2))
    log(session, new, MON + timedelta(days=2))
    # An offline phone logged against the old version on the change day: it still counts.
    log(session, old, MON + timedelta(days=3))
    result = adherence.child_adherence(session, child.id, MON, SUN)
    assert result.total == Tally(expected=2 + 5 * 2, done=2 + 2 + 1, extra=1)
    [chain] = result.chains
    assert chain.chain_id == old.id
    assert chain.assignment_ids == [old.id, new.id]
    assert chain.current_id == new.id


def test_paused_assignment_expects_nothing_while_paused(factory, session):
    """Paused days expect nothing; a log on a paused day is extra."""
    child = _child(factory)
    a = factory.assignment(child, start_date=MON - timedelta(days=7))
    pause(session, a, MON + timedelta(days=2), MON + timedelta(days=3))
    log(session, a, MON + timedelta(days=2))
    result = adherence.child_adherence(session, child.id, MON, SUN)
    assert result.total == Tally(expected=5, done=0, extra=1)
    assert result.day(MON + timedelta(days=3)).rate is None


def test_open_ended_pause_covers_the_rest_of_the_range(factory, session):
    """A pause without an end expects nothing from its first day on."""
    child = _child(factory)
    a = factory.assignment(child, start_date=MON - timedelta(days=7))
    pause(session, a, MON + timedelta(days=5), None)
    assert adherence.child_adherence(session, child.id, MON, SUN).total.expected == 5


def test_assignment_starting_and_ending_inside_the_range(factory, session):
    """Only the days between start and end (inclusive) expect practice."""
    child = _child(factory)
    factory.assignment(child, start_date=MON + timedelta(days=4))  # Fri, Sat, Sun
    factory.assignment(child, start_date=MON - timedelta(days=3), end_date=MON + timedelta(days=1))
    result = adherence.child_adherence(session, child.id, MON, SUN)
    assert result.total.expected == 3 + 2


def test_days_of_week_limit_expected_sessions(factory, session):
    """A Mon/Wed/Fri assignment expects three sessions a week."""
    child = _child(factory)
    factory.assignment(child, start_date=MON, days_of_week=[0, 2, 4])
    assert adherence.child_adherence(session, child.id, MON, SUN).total.expected == 3


def test_extra_sessions_counted_apart_never_above_100(factory, session):
    """Three logs on a one-session day: one done, two extra; the rate stays at most 100%."""
    child = _child(factory)
    a = factory.assignment(child, start_date=MON, end_date=MON)
    for _ in range(3):
        log(session, a, MON)
    result = adherence.child_adherence(session, child.id, MON, SUN)
    assert result.total == Tally(expected=1, done=1, extra=2)
    assert result.total.rate == 1.0


def test_several_sessions_a_day(factory, session):
    """Three sessions a day with two logged is two of three done on that day."""
    child = _child(factory)
    a = factory.assignment(child, start_date=MON, end_date=MON, times_per_day=3)
    log(session, a, MON)
    log(session, a, MON)
    result = adherence.child_adherence(session, child.id, MON, MON)
    assert result.total == Tally(expected=3, done=2, extra=0)


def test_undone_logs_do_not_count(factory, session):
    """A log that was undone (soft-deleted) is neither done nor extra."""
    child = _child(factory)
    a = factory.assignment(child, start_date=MON, end_date=MON)
    log(session, a, MON, deleted=True)
    assert adherence.child_adherence(session, child.id, MON, MON).total == Tally(1, 0, 0)


def test_range_with_no_plan_has_no_rate(factory, session):
    """Nothing expected is "no plan" (rate None), not 0% or 100%, even with extra logs."""
    child = _child(factory)
    a = factory.assignment(child, start_date=MON, end_date=MON)
    log(session, a, MON)
    result = adherence.child_adherence(session, child.id, MON + timedelta(days=7), SUN + 7 * DAY)
    assert result.total.rate is None
    empty = _child(factory)
    assert adherence.child_adherence(session, empty.id, MON, SUN).total == Tally()


DAY = timedelta(days=1)


def test_other_children_and_their_logs_are_separate(factory, session):
    """Bulk adherence keeps each child's figures apart."""
    one, two = _child(factory), _child(factory)
    a1 = factory.assignment(one, start_date=MON)
    factory.assignment(two, start_date=MON)
    log(session, a1, MON)
    result = adherence.adherence_for(session, [one.id, two.id], MON, SUN)
    assert result[one.id].total.done == 1
    assert result[two.id].total.done == 0


def test_child_in_another_time_zone_than_the_therapist(factory, session):
    """Today and the windows are the child's local days, not the therapist's or UTC's."""
    child = _child(factory, timezone="Pacific/Auckland")  # therapist's clinic is in Chicago
    a = factory.assignment(child, start_date=date(2026, 2, 1))
    # 21:00 in Chicago on Mar 9 is already Mar 10 afternoon in Auckland.
    now = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    log(session, a, date(2026, 3, 9), timezone="Pacific/Auckland")
    overview = adherence.overview_for(session, child, now)
    assert overview.today == date(2026, 3, 10)
    assert overview.last_log == date(2026, 3, 9)
    # Yesterday (Mar 9 in Auckland) is in the last-7 window and was done.
    assert overview.last_7 == Tally(expected=7, done=1, extra=0)


def test_daylight_saving_change(factory, session):
    """The 23-hour day of a DST change is one day; local today follows the new offset."""
    child = _child(factory, timezone="America/New_York")
    a = factory.assignment(child, start_date=date(2026, 3, 1))
    change = date(2026, 3, 8)  # clocks go forward in New York
    log(session, a, change, timezone="America/New_York")
    result = adherence.child_adherence(session, child.id, change - DAY, change + DAY)
    assert result.total == Tally(expected=3, done=1, extra=0)
    # 03:30 UTC is 22:30 the evening before under EST but 23:30 the same evening under EDT.
    assert adherence.local_today(child.timezone, datetime(2026, 3, 8, 4, 30, tzinfo=UTC)) == date(
        2026, 3, 7
    )
    assert adherence.local_today(child.timezone, datetime(2026, 3, 9, 3, 30, tzinfo=UTC)) == change
    assert adherence.local_today(child.timezone, datetime(2026, 3, 9, 4, 30, tzinfo=UTC)) == date(
        2026, 3, 9
    )


def _noon(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 18, 0, tzinfo=UTC)  # midday in Chicago


def test_low_adherence_flag_under_half_over_14_days(factory, session):
    """Under 50% over the last 14 complete days raises the low-adherence flag."""
    child = _child(factory)
    today = date(2026, 3, 20)
    a = factory.assignment(child, start_date=today - 30 * DAY)
    for i in range(1, 7):  # 6 of 14
        log(session, a, today - i * DAY)
    overview = adherence.overview_for(session, child, _noon(today))
    assert overview.last_14 == Tally(14, 6, 0)
    assert adherence.LOW_ADHERENCE in overview.flags
    log(session, a, today - 7 * DAY)  # 7 of 14: exactly half is not "under"
    overview = adherence.overview_for(session, child, _noon(today))
    assert adherence.LOW_ADHERENCE not in overview.flags


def test_today_does_not_lower_the_rates(factory, session):
    """Windows end yesterday: a morning without a log yet changes nothing."""
    child = _child(factory)
    today = date(2026, 3, 20)
    a = factory.assignment(child, start_date=today - 30 * DAY)
    for i in range(1, 29):
        log(session, a, today - i * DAY)
    overview = adherence.overview_for(session, child, _noon(today))
    assert overview.last_7.rate == overview.last_28.rate == 1.0
    assert overview.flags == []
    assert [w.rate for w in overview.weeks][-4:] == [1.0] * 4


def test_no_log_for_five_days_flag(factory, session):
    """No log in the last 5 days while practice was expected raises the flag."""
    child = _child(factory)
    today = date(2026, 3, 20)
    a = factory.assignment(child, start_date=today - 30 * DAY)
    log(session, a, today - 6 * DAY)
    overview = adherence.overview_for(session, child, _noon(today))
    assert adherence.NO_RECENT_LOGS in overview.flags
    assert overview.last_log == today - 6 * DAY
    log(session, a, today - 5 * DAY)
    assert (
        adherence.NO_RECENT_LOGS not in adherence.overview_for(session, child, _noon(today)).flags
    )


def test_no_log_flag_needs_an_expected_plan(factory, session):
    """No flag while the program is paused, nor for a program that began two days ago."""
    child = _child(factory)
    today = date(2026, 3, 20)
    a = factory.assignment(child, start_date=today - 30 * DAY)
    pause(session, a, today - 10 * DAY, None)
    assert (
        adherence.NO_RECENT_LOGS not in adherence.overview_for(session, child, _noon(today)).flags
    )
    fresh = _child(factory)
    factory.assignment(fresh, start_date=today - 2 * DAY)
    flags = adherence.overview_for(session, fresh, _noon(today)).flags
    assert adherence.NO_RECENT_LOGS not in flags


def test_often_hard_flag_three_of_last_five(factory, session):
    """ "Hard" on 3 of the last 5 sessions of an activity raises the flag, naming it."""
    child = _child(factory)
    today = date(2026, 3, 20)
    activity = factory.activity(title="Button practice")
    a = factory.assignment(child, activity, start_date=today - 30 * DAY)
    responses = ["hard", "hard", "easy", "hard", "just_right", "hard", None]  # oldest first
    for i, response in enumerate(responses):
        log(session, a, today - (len(responses) - i) * DAY, response=response)
    # The last five: easy, hard, just right, hard, (none): two hard.
    overview = adherence.overview_for(session, child, _noon(today))
    assert adherence.OFTEN_HARD not in overview.flags
    log(session, a, today, response="hard")
    overview = adherence.overview_for(session, child, _noon(today))
    assert adherence.OFTEN_HARD in overview.flags
    assert overview.hard_activities == ["Button practice"]


def test_caseload_overview_query_count_is_fixed(factory, session, app):
    """The dashboard figures take the same number of queries for 2 or 20 children, whether
    the per-day cache has to be filled first or not."""
    from tests.query_counter import count_queries

    def build(n):
        org = factory.org()
        kids = []
        for _ in range(n):
            c = factory.child(org)
            a = factory.assignment(c, start_date=MON)
            log(session, a, MON + DAY, response="hard")
            kids.append(c)
        return kids

    small, big = build(2), build(20)
    for c in small + big:
        session.refresh(c)  # loaded before counting, as the caseload query does
    now = _noon(MON + 14 * DAY)
    counts = []
    for _ in ("cold", "warm"):
        with count_queries(session.get_bind()) as few:
            adherence.caseload_overview(session, small, now)
        with count_queries(session.get_bind()) as many:
            result = adherence.caseload_overview(session, big, now)
        assert len(result) == 20
        assert few.count == many.count
        counts.append(few.count)
    # warm: cached days, last logs, plans of quiet children (2), "often hard";
    # cold adds the lock, the engine's four queries and the insert.
    assert counts == [11, 5]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start_offset=st.integers(-20, 40),
    length=st.integers(0, 60),
    end_after=st.one_of(st.none(), st.integers(0, 50)),
    weekdays=st.sets(st.integers(0, 6), min_size=1),
    times=st.integers(1, 3),
    pauses=st.lists(
        st.tuples(st.integers(-5, 70), st.one_of(st.none(), st.integers(0, 10))), max_size=3
    ),
)
def test_bulk_schedule_reading_matches_day_by_day(
    start_offset, length, end_after, weekdays, times, pauses
):
    """The bulk reader gives exactly expected_sessions for every day (any start, end, pauses)."""
    from homeprogram.models import Assignment, AssignmentPause
    from homeprogram.services.schedule import expected_between, expected_sessions

    a = Assignment(
        start_date=MON + timedelta(days=start_offset),
        end_date=None if end_after is None else MON + timedelta(days=start_offset + end_after),
        days_of_week=sorted(weekdays),
        times_per_day=times,
    )
    a.pauses = [
        AssignmentPause(
            start_date=MON + timedelta(days=p),
            end_date=None if d is None else MON + timedelta(days=p + d),
        )
        for p, d in pauses
    ]
    end = MON + timedelta(days=length)
    days = [MON + timedelta(days=i) for i in range(length + 1)]
    assert expected_between(a, MON, end) == [expected_sessions(a, d) for d in days]


def test_classroom_only_strategy_is_not_home_adherence(session, factory):
    """A strategy for school only never lowers the family's home adherence."""
    from datetime import date

    from homeprogram.services.adherence import child_adherence

    org = factory.org()
    child = factory.child(org)
    factory.assignment(child, start_date=date(2026, 3, 2), setting="classroom")
    home = factory.assignment(child, start_date=date(2026, 3, 2), setting="home")
    result = child_adherence(session, child.id, date(2026, 3, 2), date(2026, 3, 8))
    assert result.total.expected == 7
    assert [c.current_id for c in result.chains] == [home.id]


def test_a_paused_classroom_only_strategy_breaks_nothing(session, factory):
    """Pausing a classroom-only strategy (then resuming it) leaves the family's figures as
    they were: the pause of a strategy the engine leaves out is left out with it."""
    child = _child(factory)
    classroom = factory.assignment(child, start_date=MON - 14 * DAY, setting="classroom")
    home = factory.assignment(child, start_date=MON - 14 * DAY, setting="both")
    log(session, home, MON)
    pause(session, classroom, MON + DAY, MON + 2 * DAY)  # paused, then resumed
    pause(session, classroom, MON + 4 * DAY, None)  # paused again, still paused
    result = adherence.child_adherence(session, child.id, MON, SUN)
    assert result.total == Tally(expected=7, done=1, extra=0)
    assert [c.current_id for c in result.chains] == [home.id]
    overview = adherence.overview_on(session, child.id, SUN + DAY)
    assert overview.last_7 == Tally(expected=7, done=1, extra=0)
    flags = adherence.adherence_flags_on(session, child.id, SUN + DAY)
    assert flags == [adherence.LOW_ADHERENCE, adherence.NO_RECENT_LOGS]
