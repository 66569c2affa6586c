"""The adherence engine's smaller promises: a chain's day and span figures, which chains
count as active, the dashboard's order, the flags the caregiver prompt reads, and the
cache job. (Holes found by ``make mutation``.)"""

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from homeprogram.extensions import db
from homeprogram.models import AdherenceDay, Child
from homeprogram.services import adherence
from homeprogram.services.adherence import Overview, Tally
from tests.adherence_helpers import log

MON = date(2026, 3, 2)  # a Monday
SUN = MON + timedelta(days=6)
DAY = timedelta(days=1)


def _child(factory, timezone="America/Chicago", name="Sam"):
    org = factory.org()
    return factory.child(org, therapist=factory.therapist(org), timezone=timezone, name=name)


def test_a_chain_gives_each_day_and_any_span_of_its_range(factory, session):
    """A daily prescription with three sessions on Monday (two extra) and one on
    Wednesday: each day and each span counts done up to the plan and the rest as extra;
    days outside the range count nothing."""
    child = _child(factory)
    a = factory.assignment(child, start_date=MON - 30 * DAY)
    for _ in range(3):
        log(session, a, MON)
    log(session, a, MON + 2 * DAY)

    [chain] = adherence.child_adherence(session, child.id, MON, SUN).chains

    assert chain.day(MON) == Tally(expected=1, done=1, extra=2)
    assert chain.day(MON + DAY) == Tally(expected=1, done=0, extra=0)
    assert chain.day(SUN) == Tally(expected=1, done=0, extra=0)
    assert chain.day(MON - DAY) == Tally() == chain.day(SUN + DAY)
    assert chain.between(MON + DAY, MON + 2 * DAY) == Tally(expected=2, done=1, extra=0)
    assert chain.between(MON, MON) == Tally(expected=1, done=1, extra=2)
    assert chain.between(MON - 9 * DAY, SUN + 9 * DAY) == Tally(expected=7, done=2, extra=2)
    assert chain.tally == Tally(expected=7, done=2, extra=2)


def test_active_chains_are_those_expecting_or_logged_in_the_span(factory, session):
    """A chain is active in a span when it expected practice there, or when a session was
    logged there although none was expected (an extra); a chain with neither is not."""
    child = _child(factory)
    weekdays = factory.assignment(child, start_date=MON - 30 * DAY, days_of_week=[0, 1, 2, 3, 4])
    weekend = factory.assignment(child, start_date=MON - 30 * DAY, days_of_week=[5, 6])
    log(session, weekdays, SUN)  # an extra: Sunday expects nothing of this chain

    result = adherence.child_adherence(session, child.id, MON, SUN)
    ids = {c.chain_id: c for c in result.chains}

    def active(a: date, b: date) -> set[int]:
        return {c.chain_id for c in result.active_chains(a, b)}

    assert active(MON, MON + DAY) == {weekdays.id}
    assert active(SUN, SUN) == {weekdays.id, weekend.id}
    assert ids[weekdays.id].between(SUN, SUN) == Tally(expected=0, done=0, extra=1)
    assert active(SUN + DAY, SUN + 2 * DAY) == set()


def test_the_adherence_of_an_unknown_child_names_it(session):
    """Asking for a child that does not exist says which."""
    with pytest.raises(LookupError, match="no child 999999"):
        adherence.child_adherence(session, 999_999, MON, SUN)


def _overview(flags: list[str], rate_7: float | None, rate_28: float | None) -> Overview:
    def tally(rate: float | None) -> Tally:
        return Tally() if rate is None else Tally(expected=100, done=round(rate * 100))

    return Overview(
        child_id=0,
        today=MON,
        last_7=tally(rate_7),
        last_14=Tally(),
        last_28=tally(rate_28),
        weeks=[],
        last_log=None,
        flags=flags,
        hard_activities=[],
    )


def test_the_dashboard_puts_flags_first_then_the_lowest_rates_and_no_plan_last():
    """Children with a flag come first; then the lowest 7-day rate, then the lowest 28-day
    rate; a child with no plan in a window comes after every rate."""
    flagged = _overview(["low_adherence"], 0.9, 0.9)
    low_week = _overview([], 0.2, 0.9)
    mid_week_low_month = _overview([], 0.6, 0.1)
    mid_week_high_month = _overview([], 0.6, 0.8)
    mid_week_no_month = _overview([], 0.6, None)
    no_week = _overview([], None, 0.05)
    shuffled = [no_week, mid_week_no_month, mid_week_high_month, flagged, low_week]
    shuffled.append(mid_week_low_month)
    assert sorted(shuffled, key=Overview.sort_key) == [
        flagged,
        low_week,
        mid_week_low_month,
        mid_week_high_month,
        mid_week_no_month,
        no_week,
    ]


def _hard_week(factory, session) -> tuple[int, date]:
    """A child (in UTC) whose last five sessions of one activity were hard, and no other
    flag: their today is the Sunday after."""
    child = _child(factory, timezone="UTC")
    a = factory.assignment(child, factory.activity(title="Scissors"), start_date=MON - 30 * DAY)
    for offset in range(-23, 6):
        log(session, a, MON + offset * DAY, response="hard" if offset >= 1 else None)
    return child.id, SUN


def test_the_caregiver_prompt_reads_adherence_flags_but_never_often_hard(factory, session):
    """The dashboard flags an activity that was hard 3 times of the last 5; the flags the
    caregiver's "what got in the way?" prompt reads leave that one out."""
    child_id, today = _hard_week(factory, session)
    overview = adherence.overview_on(session, child_id, today)
    assert (overview.child_id, overview.flags) == (child_id, [adherence.OFTEN_HARD])
    assert overview.hard_activities == ["Scissors"]
    assert adherence.adherence_flags_on(session, child_id, today) == []


def test_a_child_with_nothing_hard_has_an_empty_list_of_hard_activities(factory, session):
    """No "often hard" activity reads as an empty list, not as nothing at all."""
    child = _child(factory, timezone="UTC")
    a = factory.assignment(child, start_date=MON - 30 * DAY)
    log(session, a, MON, response="easy")
    overview = adherence.overview_on(session, child.id, SUN)
    assert overview.child_id == child.id
    assert overview.hard_activities == []


def test_the_cache_job_fills_every_child_whatever_the_batch_size(app, factory, session):
    """The job fills the dashboard's days for every child, one transaction per batch,
    also when a batch holds a single child."""
    children = [_child(factory, timezone="UTC", name=n) for n in ("Ana", "Ben", "Cy")]
    for child in children:
        factory.assignment(child, start_date=MON - 90 * DAY)
    noon = datetime.combine(SUN, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)

    with app.app_context():
        assert adherence.fill_cache(db.transaction, noon, batch=1) == 3

    first, last = adherence._window(SUN)
    per_child = dict(
        session.execute(
            select(AdherenceDay.child_id, func.count())
            .where(AdherenceDay.local_date.between(first, last))
            .group_by(AdherenceDay.child_id)
        ).all()
    )
    days = (last - first).days + 1
    assert per_child == {child.id: days for child in children}


def test_cached_figures_match_the_engine_after_late_logs_and_a_new_day(
    app, factory, session, clock
):
    """Figures read from the cache equal the engine's after the cache was filled, a late
    log replaced one past day's row, and a new day was added: the rows are put back in
    day order, whatever order the database keeps them in."""
    child = _child(factory, timezone="UTC")
    a = factory.assignment(child, start_date=MON - 90 * DAY)
    noon = datetime.combine(SUN, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    clock.set(noon)
    with app.app_context():
        adherence.fill_cache(db.transaction, noon)
        # A late log for a past day: the trigger drops that day's row; the next read puts
        # it back, after the others.
        log(session, a, SUN - 20 * DAY)
        log(session, a, SUN - 20 * DAY)
        adherence.fill_cache(db.transaction, noon)
        tomorrow = noon + DAY
        log(session, a, SUN)
        adherence.fill_cache(db.transaction, tomorrow)

    today = SUN + DAY
    cached = adherence.overview_on(session, child.id, today)
    first, last = adherence._window(today)
    engine = adherence.child_adherence(session, child.id, first, last)
    assert cached.weeks == [
        engine.between(last - timedelta(days=7 * w + 6), last - timedelta(days=7 * w))
        for w in reversed(range(adherence.TREND_WEEKS))
    ]
    assert cached.last_28 == engine.between(today - 28 * DAY, last)
    assert cached.weeks[-3] == Tally(expected=7, done=1, extra=1)


def _flags(session, child_id: int, today: date) -> list[str]:
    return adherence.overview_on(session, child_id, today).flags


def test_no_recent_logs_counts_a_changed_prescription_from_its_first_version(factory, session):
    """A plan that began long ago and was changed two days ago, with nothing logged for
    five days, is flagged: the prescription existed all along."""
    child = _child(factory, timezone="UTC")
    activity = factory.activity()
    today = SUN + 14 * DAY
    old = factory.assignment(child, activity, start_date=today - 40 * DAY, end_date=today - 3 * DAY)
    factory.assignment(child, activity, start_date=today - 2 * DAY, previous_id=old.id)
    log(session, old, today - 6 * DAY)
    assert adherence.NO_RECENT_LOGS in _flags(session, child.id, today)


def test_no_recent_logs_reads_exactly_the_last_five_days(factory, session):
    """The quiet flag needs a plan that existed five days ago (a plan starting that very
    day counts) and expected practice in the five days up to yesterday: practice due
    only yesterday counts, practice due only today does not."""
    today = SUN + 14 * DAY  # a Sunday
    yesterday, weekday = today - DAY, lambda d: d.weekday()

    def child_with(**kw) -> int:
        child = _child(factory, timezone="UTC")
        factory.assignment(child, **kw)
        return child.id

    started_five_days_ago = child_with(start_date=today - 5 * DAY)
    started_four_days_ago = child_with(start_date=today - 4 * DAY)
    due_only_yesterday = child_with(start_date=today - 30 * DAY, days_of_week=[weekday(yesterday)])
    due_only_today = child_with(start_date=today - 30 * DAY, days_of_week=[weekday(today)])

    assert adherence.NO_RECENT_LOGS in _flags(session, started_five_days_ago, today)
    assert adherence.NO_RECENT_LOGS not in _flags(session, started_four_days_ago, today)
    assert adherence.NO_RECENT_LOGS in _flags(session, due_only_yesterday, today)
    assert adherence.NO_RECENT_LOGS not in _flags(session, due_only_today, today)


def test_the_last_log_date_leaves_undone_logs_out(factory, session):
    """A log that was undone is not the child's latest log."""
    child = _child(factory, timezone="UTC")
    a = factory.assignment(child, start_date=MON - 30 * DAY)
    log(session, a, MON)
    log(session, a, MON + 2 * DAY)
    log(session, a, MON + 3 * DAY, deleted=True)
    assert adherence.last_log_dates(session, [child.id]) == {child.id: MON + 2 * DAY}
    assert adherence.overview_on(session, child.id, SUN).last_log == MON + 2 * DAY


def test_often_hard_counts_the_first_days_of_the_lookback(factory, session):
    """Three hard sessions, the first two on the first days of the 28-day lookback and no
    others, raise the flag."""
    child = _child(factory, timezone="UTC")
    a = factory.assignment(child, factory.activity(title="Laces"), start_date=MON - 60 * DAY)
    today = SUN
    since = today - 28 * DAY
    for day in (since, since + DAY, today - DAY):
        log(session, a, day, response="hard")
    assert adherence.overview_on(session, child.id, today).hard_activities == ["Laces"]


def test_often_hard_reads_the_last_five_sessions_across_a_changed_prescription(factory, session):
    """After a change, the last five sessions are taken over both versions: three hard
    sessions before five easy ones on the new version raise nothing; three hard among the
    last five do."""
    today = SUN + 7 * DAY

    def changed(hard_last: bool) -> int:
        child = _child(factory, timezone="UTC")
        activity = factory.activity(title="Buttons")
        old = factory.assignment(
            child, activity, start_date=today - 40 * DAY, end_date=today - 11 * DAY
        )
        new = factory.assignment(child, activity, start_date=today - 10 * DAY, previous_id=old.id)
        for n in range(3):
            log(session, old, today - (15 - n) * DAY, response="hard")
        for n in range(5):
            log(session, new, today - (8 - n) * DAY, response="easy")
        if hard_last:
            for n in range(3):
                log(session, new, today - (3 - n) * DAY, response="hard")
        return child.id

    calm, struggling = changed(hard_last=False), changed(hard_last=True)
    assert adherence.overview_on(session, calm, today).hard_activities == []
    assert adherence.overview_on(session, struggling, today).hard_activities == ["Buttons"]


def test_often_hard_activities_are_named_in_alphabetical_order(factory, session):
    """Two activities flagged for one child are listed by title."""
    child = _child(factory, timezone="UTC")
    zips = factory.assignment(child, factory.activity(title="Zips"), start_date=MON - 30 * DAY)
    beads = factory.assignment(child, factory.activity(title="Beads"), start_date=MON - 30 * DAY)
    for a in (zips, beads):
        for n in range(3):
            log(session, a, MON + n * DAY, response="hard")
    assert adherence.overview_on(session, child.id, SUN).hard_activities == ["Beads", "Zips"]


@pytest.fixture
def cache_refuses_rows(app, session):
    """The cache table refuses every row (a full disk, a lock timeout): a real trigger."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text(
                "CREATE TRIGGER test_refuse BEFORE INSERT ON adherence_day "
                "BEGIN SELECT RAISE(ABORT, 'cache refused'); END"
            )
        )
        yield
        session.execute(text("DROP TRIGGER test_refuse"))
        return
    session.execute(
        text(
            "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'cache refused'; END $$"
        )
    )
    session.execute(
        text(
            "CREATE TRIGGER test_refuse BEFORE INSERT ON adherence_day "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse()"
        )
    )
    yield
    session.execute(text("DROP TRIGGER test_refuse ON adherence_day"))
    session.execute(text("DROP FUNCTION test_refuse()"))


def test_a_page_whose_cache_cannot_be_stored_still_gets_its_figures(
    app, factory, session, cache_refuses_rows, caplog
):
    """When the figures cannot be stored, a reading page gets them computed for itself,
    and the warning (with its traceback) says so; a job, which writes, fails instead, so
    that its transaction is not left half done."""
    child = _child(factory, timezone="UTC")
    a = factory.assignment(child, start_date=MON - 30 * DAY)
    log(session, a, MON)
    today = SUN + DAY
    first, last = adherence._window(today)
    engine = adherence.child_adherence(session, child.id, first, last)

    with caplog.at_level(logging.WARNING, logger="homeprogram.services.adherence"):
        overview = adherence.overview_on(session, child.id, today)
    assert overview.last_7 == engine.between(today - 7 * DAY, last) == Tally(7, 1, 0)
    [warning] = [r for r in caplog.records if r.name == "homeprogram.services.adherence"]
    assert warning.getMessage() == "adherence cache not stored; computed for this request only"
    assert warning.exc_info and issubclass(warning.exc_info[0], DBAPIError)
    assert session.scalar(select(func.count()).select_from(AdherenceDay)) == 0

    with pytest.raises(DBAPIError), app.app_context(), db.transaction() as job:
        adherence.overview_on(job, child.id, today)


def test_a_chain_carries_its_activity_and_the_latest_version_s_measure(factory, session):
    """A changed prescription is one chain named after its activity, whose current version
    and measure are the latest version's, although the old version was edited last."""
    child = _child(factory)
    activity = factory.activity(title="Pegboard")
    old = factory.assignment(
        child, activity, start_date=MON - 20 * DAY, measure_name="pegs", measure_unit="n"
    )
    new = factory.assignment(
        child,
        activity,
        start_date=MON + 2 * DAY,
        previous_id=old.id,
        measure_name="seconds",
        measure_unit="s",
    )
    old.end_date = MON + DAY  # ended after the new version was written, as programs does
    session.commit()

    [chain] = adherence.child_adherence(session, child.id, MON, SUN).chains
    assert (chain.chain_id, chain.current_id, chain.assignment_ids) == (
        old.id,
        new.id,
        [old.id, new.id],
    )
    assert (chain.activity_id, chain.activity_title) == (activity.id, "Pegboard")
    assert (chain.measure_name, chain.measure_unit) == ("seconds", "s")
    assert chain.first_start == MON - 20 * DAY


def test_a_span_reaching_past_the_range_counts_the_range_only(factory, session):
    """Asking for days beyond the computed range counts only the days inside it."""
    child = _child(factory)
    a = factory.assignment(child, start_date=MON - 20 * DAY)
    log(session, a, SUN)
    result = adherence.child_adherence(session, child.id, MON, SUN)
    assert result.between(MON + 3 * DAY, SUN + 5 * DAY) == Tally(expected=4, done=1, extra=0)
    assert result.between(MON - 5 * DAY, SUN + 5 * DAY) == result.total


def test_a_version_that_replaced_a_classroom_strategy_starts_its_own_chain(factory, session):
    """A home prescription that replaced a classroom-only one (left out of home figures)
    is counted on its own, from its start."""
    child = _child(factory)
    activity = factory.activity()
    classroom = factory.assignment(
        child, activity, start_date=MON - 20 * DAY, end_date=MON + DAY, setting="classroom"
    )
    home = factory.assignment(
        child, activity, start_date=MON + 2 * DAY, previous_id=classroom.id, setting="both"
    )
    result = adherence.child_adherence(session, child.id, MON, SUN)
    assert (result.child_id, [c.chain_id for c in result.chains]) == (child.id, [home.id])
    assert result.total == Tally(expected=5, done=0, extra=0)


def test_a_range_that_ends_before_it_starts_is_refused_in_words(factory, session):
    """Asking for figures from Sunday back to Monday is a ValueError that says so."""
    child = _child(factory)
    with pytest.raises(ValueError, match=r"^end before start$"):
        adherence.child_adherence(session, child.id, SUN, MON)
    # The same words from the engine Today calls with the rows it has read.
    with pytest.raises(ValueError, match=r"^end before start$"):
        adherence.adherence_of(session, {child.id: child.timezone}, [], SUN, MON)


def test_often_hard_looks_back_28_days_from_each_child_s_own_today(factory, session):
    """On one dashboard, a child in Auckland is a day ahead of one in Los Angeles: a hard
    session 28 days before Los Angeles' today is outside Auckland's lookback, so it does
    not count there."""
    now = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # Los Angeles: the 10th; Auckland: 11th
    ahead = _child(factory, timezone="Pacific/Auckland", name="Aroha")
    behind = _child(factory, timezone="America/Los_Angeles", name="Bo")
    la_today = date(2026, 3, 10)
    for child in (ahead, behind):
        a = factory.assignment(
            child, factory.activity(title="Knots"), start_date=la_today - 60 * DAY
        )
        for day in (la_today - 28 * DAY, la_today - 3 * DAY, la_today - 2 * DAY):
            log(session, a, day, response="hard")

    overviews = adherence.caseload_overview(session, [ahead, behind], now)
    assert overviews[behind.id].hard_activities == ["Knots"]
    assert overviews[ahead.id].hard_activities == []


def _refuse_cache_rows_of(session, child_id: int) -> list[str]:
    """A real trigger that refuses the cache rows of one child; returns the clean-up."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text(
                "CREATE TRIGGER test_refuse_one BEFORE INSERT ON adherence_day "
                f"WHEN NEW.child_id = {child_id} BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        )
        return ["DROP TRIGGER test_refuse_one"]
    session.execute(
        text(
            "CREATE FUNCTION test_refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.child_id = {child_id} THEN RAISE EXCEPTION 'refused'; END IF; "
            "RETURN NEW; END $$"
        )
    )
    session.execute(
        text(
            "CREATE TRIGGER test_refuse_one BEFORE INSERT ON adherence_day "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse_one()"
        )
    )
    return ["DROP TRIGGER test_refuse_one ON adherence_day", "DROP FUNCTION test_refuse_one()"]


def test_one_child_whose_figures_fail_inside_a_transaction_costs_only_that_child(
    app, factory, session
):
    """In a transaction that writes (a job's), a database error in one child's figures
    leaves that child without figures and the others with theirs: each child is retried
    in a savepoint, so the error does not spoil the transaction for the rest."""
    good, bad = _child(factory, timezone="UTC", name="Ann"), _child(factory, timezone="UTC")
    for child in (good, bad):
        log(session, factory.assignment(child, start_date=MON - 30 * DAY), SUN)
    cleanup = _refuse_cache_rows_of(session, bad.id)
    noon = datetime.combine(SUN + DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    try:
        with app.app_context(), db.transaction() as job:
            children = [job.get(Child, good.id), job.get(Child, bad.id)]
            found = adherence.caseload_overview_isolated(job, children, noon)
    finally:
        for statement in cleanup:
            session.execute(text(statement))
    assert found[bad.id] is None
    assert found[good.id].last_7 == Tally(expected=7, done=1, extra=0)


def test_the_dashboard_figures_come_out_on_a_connection_without_transactions(factory, session):
    """Read on an autocommit connection (each statement its own transaction, where
    PostgreSQL refuses savepoints), the isolated figures are the plain ones."""
    child = _child(factory, timezone="UTC")
    log(session, factory.assignment(child, start_date=MON - 30 * DAY), SUN)
    noon = datetime.combine(SUN + DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    assert adherence.caseload_overview_isolated(session, [child], noon) == {
        child.id: adherence.overview_for(session, child, noon)
    }
    assert adherence.overview_for(session, child, noon).last_7 == Tally(7, 1, 0)


def test_the_cache_job_names_a_child_it_cannot_fill_and_fills_the_others(
    app, factory, session, caplog
):
    """A child whose time zone cannot be loaded is logged by id under the job's name and
    skipped; the children around it are filled."""
    org = factory.org()
    first = factory.child(org, timezone="UTC", name="Ana")
    broken = factory.child(org, timezone="Mars/Olympus_Mons", name="Ben")
    last = factory.child(org, timezone="UTC", name="Cy")
    for child in (first, broken, last):
        factory.assignment(child, start_date=MON - 90 * DAY)
    noon = datetime.combine(SUN, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)

    with caplog.at_level(logging.ERROR, logger="homeprogram.services.jobs"), app.app_context():
        assert adherence.fill_cache(db.transaction, noon) == 3
    messages = [r.getMessage() for r in caplog.records if r.name == "homeprogram.services.jobs"]
    assert [m.split(" (")[0] for m in messages] == [f"dashboard cache: skipped child {broken.id}"]
    filled = set(session.scalars(select(AdherenceDay.child_id).distinct()))
    assert filled == {first.id, last.id}
