"""The dashboard's per-day cache (``adherence_day``): whatever is written, the figures it
gives are the engine's, computed afresh."""

import queue
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, event, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from homeprogram.db import make_engine
from homeprogram.models import AdherenceDay, Assignment, AssignmentPause, CompletionLog
from homeprogram.models.base import utcnow
from homeprogram.services import adherence
from tests.adherence_helpers import log, pause
from tests.conftest import POSTGRES_URL

DAY = timedelta(days=1)
TODAY = date(2026, 3, 20)  # a Friday


def _child(factory, timezone="America/Chicago"):
    org = factory.org()
    therapist = factory.therapist(org)
    return factory.child(org, therapist=therapist, timezone=timezone)


def _fresh(session, child_id: int, today: date = TODAY) -> dict[str, object]:
    """The dashboard's windows computed by the engine directly, without the cache."""
    yesterday = today - DAY
    adh = adherence.child_adherence(session, child_id, today - 56 * DAY, yesterday)
    return {
        "weeks": [
            adh.between(yesterday - (7 * w + 6) * DAY, yesterday - 7 * w * DAY)
            for w in reversed(range(adherence.TREND_WEEKS))
        ],
        "last_14": adh.between(today - 14 * DAY, yesterday),
        "last_28": adh.between(today - 28 * DAY, yesterday),
    }


def _shown(session, child_id: int, today: date = TODAY) -> dict[str, object]:
    o = adherence.overview_on(session, child_id, today)
    return {"weeks": o.weeks, "last_14": o.last_14, "last_28": o.last_28}


def _cached_days(session, child_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(AdherenceDay).where(AdherenceDay.child_id == child_id)
    )


def test_first_view_fills_the_cache_with_the_engines_figures(factory, session):
    child = _child(factory)
    a = factory.assignment(child, start_date=TODAY - 40 * DAY, times_per_day=2)
    for back in range(1, 30, 2):
        log(session, a, TODAY - back * DAY)
    log(session, a, TODAY - 3 * DAY)
    log(session, a, TODAY - 3 * DAY)  # three on a day that asks for two: one extra
    assert _cached_days(session, child.id) == 0
    shown = _shown(session, child.id)
    assert _cached_days(session, child.id) == 56  # eight complete weeks, today not among them
    assert shown == _fresh(session, child.id)
    assert _shown(session, child.id) == shown  # read back from the cache
    assert shown["last_28"].extra == 1


WRITES = {
    "log on a past day": lambda s, a, entry: log(s, a, TODAY - 10 * DAY),
    "log undone": lambda s, a, entry: s.execute(
        update(CompletionLog).where(CompletionLog.id == entry.id).values(deleted_at=utcnow())
    ),
    "log moved to another day": lambda s, a, entry: s.execute(
        update(CompletionLog)
        .where(CompletionLog.id == entry.id)
        .values(local_date=TODAY - 12 * DAY)
    ),
    "log deleted": lambda s, a, entry: s.delete(s.get(CompletionLog, entry.id)) or s.commit(),
    "dose changed": lambda s, a, entry: s.execute(
        update(Assignment).where(Assignment.id == a.id).values(times_per_day=3)
    ),
    "days of the week changed": lambda s, a, entry: s.execute(
        update(Assignment).where(Assignment.id == a.id).values(days_of_week=[0, 2, 4])
    ),
    "ended": lambda s, a, entry: s.execute(
        update(Assignment).where(Assignment.id == a.id).values(end_date=TODAY - 20 * DAY)
    ),
    "paused": lambda s, a, entry: pause(s, a, TODAY - 15 * DAY, TODAY - 9 * DAY),
    "new version": lambda s, a, entry: (
        s.add(
            Assignment(
                child_id=a.child_id,
                activity_id=a.activity_id,
                previous_id=a.id,
                start_date=TODAY - 8 * DAY,
                times_per_day=2,
            )
        )
        or s.commit()
    ),
    "moved to the classroom": lambda s, a, entry: s.execute(
        update(Assignment).where(Assignment.id == a.id).values(setting="classroom")
    ),
    "assignment deleted": lambda s, a, entry: s.delete(s.get(Assignment, a.id)) or s.commit(),
}


@pytest.mark.parametrize("write", WRITES)
def test_figures_follow_every_write(factory, session, write):
    """After any write that changes what counts, the cached figures are recomputed."""
    child = _child(factory)
    a = factory.assignment(child, start_date=TODAY - 50 * DAY)
    other = _child(factory)
    b = factory.assignment(other, start_date=TODAY - 50 * DAY)
    entry = log(session, a, TODAY - 6 * DAY)
    log(session, b, TODAY - 6 * DAY)
    for back in (2, 4, 5, 9, 16, 30):
        log(session, a, TODAY - back * DAY)
    before = _shown(session, child.id)
    _shown(session, other.id)
    WRITES[write](session, a, entry)
    session.expire_all()
    after = _shown(session, child.id)
    assert after == _fresh(session, child.id)
    assert after != before, "the write should have changed the figures"
    assert _cached_days(session, other.id) == 56  # another child's cache is left alone


def test_details_added_to_a_log_keep_the_cache(factory, session):
    """A note or a rating does not change what counts: the cached days stay."""
    child = _child(factory)
    a = factory.assignment(child, start_date=TODAY - 50 * DAY)
    entry = log(session, a, TODAY - 3 * DAY)
    _shown(session, child.id)
    session.execute(
        update(CompletionLog)
        .where(CompletionLog.id == entry.id)
        .values(note="Did it at bath time", response="easy", minutes=6)
    )
    assert _cached_days(session, child.id) == 56


def test_a_pause_removed_is_recomputed(factory, session):
    child = _child(factory)
    a = factory.assignment(child, start_date=TODAY - 50 * DAY)
    pause(session, a, TODAY - 20 * DAY, TODAY - 10 * DAY)
    paused = _shown(session, child.id)
    session.execute(AssignmentPause.__table__.delete().where(AssignmentPause.assignment_id == a.id))
    resumed = _shown(session, child.id)
    assert resumed == _fresh(session, child.id)
    assert resumed["last_14"].expected > paused["last_14"].expected


def test_often_hard_merges_the_versions_of_a_changed_prescription(factory, session):
    """The last five sessions of an activity span its versions: 2 hard before the change
    and 1 after make 3 of the last 5 (neither version has 3 on its own)."""
    child = _child(factory)
    activity = factory.activity(title="Zipper practice")
    old = factory.assignment(child, activity, start_date=TODAY - 30 * DAY, end_date=TODAY - 4 * DAY)
    new = factory.assignment(child, activity, start_date=TODAY - 3 * DAY, previous_id=old.id)
    for back, response in [(6, "easy"), (5, "hard"), (4, "hard")]:
        log(session, old, TODAY - back * DAY, response=response)
    log(session, new, TODAY - 2 * DAY, response="easy")
    log(session, new, TODAY - DAY, response="easy")
    assert adherence.OFTEN_HARD not in adherence.overview_on(session, child.id, TODAY).flags
    log(session, new, TODAY, response="hard")
    overview = adherence.overview_on(session, child.id, TODAY)
    assert adherence.OFTEN_HARD in overview.flags
    assert overview.hard_activities == ["Zipper practice"]


def test_often_hard_breaks_ties_of_the_same_instant_by_arrival(factory, session):
    """Two sessions logged at the same instant rank by arrival: only the later one can be
    among the last five."""
    child = _child(factory)
    a = factory.assignment(child, start_date=TODAY - 30 * DAY)
    log(session, a, TODAY - 4 * DAY, response="hard")  # the sixth latest...
    log(session, a, TODAY - 4 * DAY, response="easy")  # ...the fifth, at the same instant
    for back, response in [(3, "easy"), (2, "easy"), (1, "hard"), (0, "hard")]:
        log(session, a, TODAY - back * DAY, response=response)
    assert adherence.OFTEN_HARD not in adherence.overview_on(session, child.id, TODAY).flags


def test_dashboard_page_fills_the_cache_and_stays_right_after_a_log(
    factory, session, client, login
):
    """The page the therapist sees: first view fills the cache; a log written for a past
    day (an offline phone catching up) changes the figures on the next view."""
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist, name="Ana")
    today = adherence.local_today(child.timezone, utcnow())
    a = factory.assignment(child, start_date=today - 30 * DAY)
    login("ot@example.org")
    assert "0%" in client.get("/dashboard").get_data(as_text=True)
    assert _cached_days(session, child.id) == 56
    for back in range(1, 8):
        log(session, a, today - back * DAY)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "100%" in page


def _new_log(assignment: Assignment, day: date) -> CompletionLog:
    return CompletionLog(
        client_id=str(uuid.uuid4()),
        assignment_id=assignment.id,
        child_id=assignment.child_id,
        occurred_at=datetime(day.year, day.month, day.day, 23, tzinfo=UTC),
        local_date=day,
    )


def _backend_pid(connection) -> int:
    return connection.connection.dbapi_connection.info.backend_pid


def _wait_until_blocked(engine, waiter: "queue.Queue[int]", holder: int) -> None:
    """Until PostgreSQL shows the backend put in ``waiter`` waiting for a lock that the
    backend ``holder`` holds (pg_stat_activity, pg_blocking_pids); fails after 10 s."""
    pid = waiter.get(timeout=10)
    with engine.connect() as watch:
        for _ in range(500):
            row = watch.execute(
                text(
                    "SELECT wait_event_type, pg_blocking_pids(pid) "
                    "FROM pg_stat_activity WHERE pid = :pid"
                ),
                {"pid": pid},
            ).one()
            if row[0] == "Lock" and holder in row[1]:
                return
            time.sleep(0.02)
    pytest.fail(f"backend {pid} was never seen waiting for {holder}: {row}")


def test_a_log_written_during_a_refill_waits_for_it_and_is_not_lost(factory, session, database_url):
    """A log written while a view refills the cache waits for the refill's lock (PostgreSQL:
    the log trigger's FOR NO KEY UPDATE waits on the refill's FOR SHARE, as pg_stat_activity
    shows; SQLite: the refill's write transaction shuts other writers out), then deletes the
    day the refill stored: the next view recomputes it with the log."""
    child = _child(factory)
    a = factory.assignment(child, start_date=TODAY - 50 * DAY)
    day = TODAY - 3 * DAY
    engine = make_engine(database_url)
    waiter: queue.Queue[int] = queue.Queue()

    def write_log(bind=engine) -> None:
        with Session(bind) as s:
            if POSTGRES_URL:
                waiter.put(_backend_pid(s.connection()))
            s.add(_new_log(a, day))
            s.commit()

    writer = threading.Thread(target=write_log, daemon=True)
    refilling = threading.Event()

    def during_the_refill(conn, cursor, statement, *_):
        if refilling.is_set() or not statement.startswith("INSERT INTO adherence_day"):
            return
        refilling.set()  # the refill has read the day and is about to store it, lock held
        if POSTGRES_URL:
            writer.start()
            _wait_until_blocked(engine, waiter, holder=_backend_pid(conn))
            return
        impatient = create_engine(database_url, connect_args={"timeout": 0})
        try:  # a writer that gives up at once instead of waiting for the lock
            with pytest.raises(OperationalError, match="database is locked"):
                write_log(impatient)
        finally:
            impatient.dispose()

    event.listen(engine, "before_cursor_execute", during_the_refill)
    try:
        with Session(engine) as view:
            before = adherence.overview_on(view, child.id, TODAY)  # the first view: a refill
        assert refilling.is_set(), "the first view should have refilled the cache"
        assert before.last_14 == adherence.Tally(expected=14)  # computed without the log
        if POSTGRES_URL:
            writer.join(10)
            assert not writer.is_alive()
        else:
            write_log()
    finally:
        event.remove(engine, "before_cursor_execute", during_the_refill)
        engine.dispose()
    assert session.scalar(select(AdherenceDay).where(AdherenceDay.local_date == day)) is None
    assert _shown(session, child.id) == _fresh(session, child.id)
    assert _shown(session, child.id)["last_14"] == adherence.Tally(expected=14, done=1)


def test_the_job_fills_every_childs_days_in_batches(factory, session, app):
    """The scheduled job stores each child's window, a few children per transaction; the
    first view afterwards computes nothing."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from homeprogram import scheduler
    from homeprogram.extensions import db
    from tests.query_counter import count_queries

    kids = [_child(factory) for _ in range(3)]
    for kid in kids:
        a = factory.assignment(kid, start_date=TODAY - 30 * DAY)
        log(session, a, TODAY - 2 * DAY)
    noon = datetime(TODAY.year, TODAY.month, TODAY.day, 18, tzinfo=UTC)  # noon in Chicago
    assert adherence.fill_cache(db.transaction, noon, batch=2) == 3
    assert [_cached_days(session, kid.id) for kid in kids] == [56, 56, 56]
    with count_queries(session.get_bind()) as counter:
        overview = adherence.overview_on(session, kids[0].id, TODAY)
    assert not [q for q in counter.statements if q.lstrip().upper().startswith("INSERT")]
    assert overview.last_28 == _fresh(session, kids[0].id)["last_28"]
    jobs = scheduler.configure(BackgroundScheduler(timezone="UTC"), app)
    assert jobs.get_job("dashboard-cache") is not None
