"""Reminder selection with a controlled clock: time zones, DST, quiet hours, catch-up, once."""

import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from homeprogram.db import Database
from homeprogram.extensions import db
from homeprogram.models import CompletionLog, ReminderDelivery, ReminderPlan
from homeprogram.services import push, reminders
from homeprogram.services.vapid import load_keys
from tests.push_service import LocalPushService
from tests.skips import postgres_only

CONTACT = "mailto:ops@sunrise-therapy.org"


@pytest.fixture
def service():
    with LocalPushService() as running:
        yield running


@pytest.fixture
def sender(tmp_path):
    return push.PushSender(
        keys=load_keys(tmp_path / "vapid", {}),
        contact=CONTACT,
        sleep=lambda _s: None,
        policy=push.EndpointPolicy(allow_insecure=True),  # the local http push service
    )


def at(tz: str, y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A local wall-clock time as a UTC instant (the scheduler's clock)."""
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def family(factory, session, service, *, tz="America/New_York", plan=None, times_per_day=1):
    org = factory.org()
    child = factory.child(org, name="Sam", timezone=tz)
    parent = factory.caregiver(child)
    assignment = factory.assignment(child, start_date=date(2026, 1, 1), times_per_day=times_per_day)
    row = reminders.default_plan(parent.id, child.id)
    for name, value in (plan or {}).items():
        setattr(row, name, value)
    session.add(row)
    session.commit()
    device = service.device()
    push.save_subscription(session, parent.id, device.subscription(), "Phone", allow_insecure=True)
    return child, parent, assignment, device


def log_session(session, assignment, day, *, deleted=False):
    entry = CompletionLog(
        client_id=str(uuid.uuid4()),
        assignment_id=assignment.id,
        child_id=assignment.child_id,
        occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        local_date=day,
        deleted_at=datetime(day.year, day.month, day.day, 13, tzinfo=UTC) if deleted else None,
    )
    session.add(entry)
    session.commit()


def due_slots(session, now):
    return [(d.local_date, d.slot) for d in reminders.find_due(session, now)]


@pytest.mark.parametrize(
    "tz", ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]
)
def test_reminder_is_due_at_local_time_in_each_time_zone(session, factory, service, tz):
    """A 17:00 reminder is due at 17:00 in the child's own time zone, not a minute before."""
    family(factory, session, service, tz=tz)
    assert due_slots(session, at(tz, 2026, 6, 10, 16, 59)) == []
    assert due_slots(session, at(tz, 2026, 6, 10, 17, 0)) == [(date(2026, 6, 10), "17:00")]


@pytest.mark.parametrize(
    ("tz", "change"),
    [
        ("America/New_York", date(2026, 3, 8)),  # spring forward
        ("America/New_York", date(2026, 11, 1)),  # fall back
        ("Europe/Berlin", date(2026, 3, 29)),
        ("Europe/Berlin", date(2026, 10, 25)),
    ],
)
def test_reminder_stays_at_17_local_around_dst_changes(session, factory, service, tz, change):
    """On the days around a DST change the reminder is due at 17:00 local wall-clock time."""
    family(factory, session, service, tz=tz)
    offsets = set()
    for day in (change - timedelta(days=1), change, change + timedelta(days=1)):
        five = at(tz, day.year, day.month, day.day, 17)
        offsets.add(five.astimezone(ZoneInfo(tz)).utcoffset())
        assert (day, "17:00") in due_slots(session, five)
        # An hour early (what a fixed UTC offset would give on one side) is not due.
        assert (day, "17:00") not in due_slots(session, five - timedelta(hours=1))
    assert len(offsets) == 2  # the change really happened in between


def test_utc_instant_of_17_local_moves_with_dst():
    """17:00 New York is 22:00 UTC before the March change and 21:00 UTC after it."""
    ny = ZoneInfo("America/New_York")
    five = reminders.parse_hhmm("17:00")
    assert reminders.slot_instant(date(2026, 3, 7), five, ny).hour == 22
    assert reminders.slot_instant(date(2026, 3, 9), five, ny).hour == 21
    assert reminders.slot_instant(date(2026, 10, 31), five, ny).hour == 21
    assert reminders.slot_instant(date(2026, 11, 2), five, ny).hour == 22


def test_quiet_hours_skip_slots_and_late_catch_up(session, factory, service):
    """Times inside quiet hours never fire, and a caught-up reminder waits for no one at night."""
    family(
        factory,
        session,
        service,
        plan={"times": ["17:00", "21:30"], "quiet_start": "21:00", "quiet_end": "07:00"},
    )
    tz = "America/New_York"
    assert due_slots(session, at(tz, 2026, 6, 10, 21, 30)) == []
    assert due_slots(session, at(tz, 2026, 6, 10, 20, 0)) == [(date(2026, 6, 10), "17:00")]
    # 17:00 is still within the window at 21:05, but it is quiet time now.
    assert due_slots(session, at(tz, 2026, 6, 10, 21, 5)) == []


def test_quiet_hours_wrap_midnight():
    """Quiet hours from 21:00 to 07:00 cover late evening and early morning only."""
    start, end = reminders.parse_hhmm("21:00"), reminders.parse_hhmm("07:00")
    quiet = [reminders.parse_hhmm(t) for t in ("21:00", "23:59", "00:00", "06:59")]
    awake = [reminders.parse_hhmm(t) for t in ("07:00", "12:00", "20:59")]
    assert all(reminders.in_quiet_hours(t, start, end) for t in quiet)
    assert not any(reminders.in_quiet_hours(t, start, end) for t in awake)


def test_days_of_week_limit_reminders(session, factory, service):
    """A plan for weekdays sends nothing on Saturday."""
    family(factory, session, service, plan={"days_of_week": [0, 1, 2, 3, 4]})
    tz = "America/New_York"
    assert due_slots(session, at(tz, 2026, 6, 13, 17)) == []  # a Saturday
    assert due_slots(session, at(tz, 2026, 6, 12, 17)) == [(date(2026, 6, 12), "17:00")]


def test_skipped_when_todays_sessions_are_all_logged(session, factory, service):
    """No reminder once every session of the day is logged; a deleted log does not count."""
    _, _, assignment, _ = family(factory, session, service, times_per_day=2)
    tz, day = "America/New_York", date(2026, 6, 10)
    now = at(tz, 2026, 6, 10, 17)
    log_session(session, assignment, day)
    log_session(session, assignment, day, deleted=True)
    assert due_slots(session, now) == [(day, "17:00")]
    log_session(session, assignment, day)
    assert due_slots(session, now) == []


def test_nothing_planned_means_no_reminder(session, factory, service):
    """A day on which the program expects nothing (before it starts) sends no reminder."""
    family(factory, session, service)
    assert due_slots(session, at("America/New_York", 2025, 12, 31, 17)) == []


def test_catch_up_within_the_window_and_stale_ones_skipped(app, session, factory, service, sender):
    """After downtime a reminder still useful is sent (shorter TTL); a stale one is skipped."""
    _, _, _, device = family(factory, session, service)
    tz = "America/New_York"
    with app.app_context():
        stale = reminders.run_due_reminders(db.transaction, sender, at(tz, 2026, 6, 9, 21, 1))
        late = reminders.run_due_reminders(db.transaction, sender, at(tz, 2026, 6, 10, 20, 0))
    assert stale.due == 0
    assert late.sent == 1
    [got] = service.received_by(device)
    assert got.ttl == 3600  # an hour of usefulness left
    assert got.topic == f"c{session.scalar(select(ReminderPlan.child_id))}-20260610"


def test_late_evening_reminder_caught_up_after_midnight(session, factory, service):
    """A 23:30 reminder missed before midnight is still sent at 00:30 (yesterday's slot)."""
    family(factory, session, service, plan={"times": ["23:30"]})
    assert due_slots(session, at("America/New_York", 2026, 6, 11, 0, 30)) == [
        (date(2026, 6, 10), "23:30")
    ]


def test_sent_once_and_recorded(app, session, factory, service, sender):
    """Running the job every minute sends the reminder once and records it as sent."""
    _, parent, _, device = family(factory, session, service)
    start = at("America/New_York", 2026, 6, 10, 17)
    with app.app_context():
        runs = [
            reminders.run_due_reminders(db.transaction, sender, start + timedelta(minutes=i))
            for i in range(3)
        ]
    assert [r.sent for r in runs] == [1, 0, 0]
    assert len(service.received_by(device)) == 1
    delivery = session.scalar(select(ReminderDelivery))
    assert (delivery.user_id, delivery.slot, delivery.status, delivery.devices) == (
        parent.id,
        "17:00",
        "sent",
        1,
    )


def test_each_reminder_opens_its_own_childs_today(
    app, client, login, session, factory, service, sender
):
    """Two children, one parent: the link in each reminder, as the phone decrypts it, opens
    that child's today page (Sam's reminder used to open "Today with Lucia")."""
    org = factory.org()
    lucia = factory.child(org, name="Lucia", timezone="America/New_York")
    sam = factory.child(org, name="Sam", timezone="America/New_York")
    parent = factory.caregiver(lucia)
    factory.member(sam, parent, "caregiver")
    for child in (lucia, sam):
        factory.assignment(child, start_date=date(2026, 1, 1))
        session.add(reminders.default_plan(parent.id, child.id))
    session.commit()
    device = service.device()
    push.save_subscription(session, parent.id, device.subscription(), "Phone", allow_insecure=True)
    with app.app_context():
        run = reminders.run_due_reminders(
            db.transaction, sender, at("America/New_York", 2026, 6, 10, 17)
        )
    assert run.sent == 2
    links = {got.json["body"]: got.json["url"] for got in service.received_by(device)}
    login(parent.email)
    for name in ("Lucia", "Sam"):
        [url] = [url for body, url in links.items() if name in body]
        page = client.get(url, follow_redirects=True)
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        assert f"Today with {name}" in html
        assert "Today with " + ({"Lucia", "Sam"} - {name}).pop() not in html


def test_failed_send_is_recorded_and_not_retried_next_minute(
    app, session, factory, service, sender
):
    """A push service error marks the delivery failed with the reason; it is not sent twice."""
    _, _, _, device = family(factory, session, service)
    service.respond(device, *[(500, {})] * 3)
    start = at("America/New_York", 2026, 6, 10, 17)
    with app.app_context():
        first = reminders.run_due_reminders(db.transaction, sender, start)
        again = reminders.run_due_reminders(db.transaction, sender, start + timedelta(minutes=1))
    assert (first.failed, again.claimed) == (1, 0)
    delivery = session.scalar(select(ReminderDelivery))
    assert delivery.status == "failed" and "500" in delivery.error


def test_morning_nudge_only_after_a_day_with_nothing_logged(session, factory, service):
    """The optional morning nudge comes at 08:00 when yesterday had nothing logged."""
    _, _, assignment, _ = family(factory, session, service, plan={"morning_nudge": True})
    tz = "America/New_York"
    assert (date(2026, 6, 10), "nudge") in due_slots(session, at(tz, 2026, 6, 10, 8))
    log_session(session, assignment, date(2026, 6, 10))
    assert (date(2026, 6, 11), "nudge") not in due_slots(session, at(tz, 2026, 6, 11, 8))


def test_no_reminder_without_a_device_or_when_disabled(session, factory, service):
    """Plans that are off, or caregivers without a device, produce nothing to send."""
    family(factory, session, service, plan={"enabled": False})
    org = factory.org()
    child = factory.child(org, timezone="America/New_York")
    parent = factory.caregiver(child)
    factory.assignment(child, start_date=date(2026, 1, 1))
    session.add(reminders.default_plan(parent.id, child.id))
    session.commit()
    assert due_slots(session, at("America/New_York", 2026, 6, 10, 17)) == []


def _two_schedulers(database_url, app, sender, now):
    barrier = threading.Barrier(2)
    runs = []

    def scheduler() -> None:
        own = Database()  # a separate engine and pool, as in another process
        own.configure(database_url)
        try:
            with app.app_context():
                barrier.wait()
                runs.append(reminders.run_due_reminders(own.transaction, sender, now))
        finally:
            own.engine.dispose()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return runs


def _exactly_once(app, session, factory, service, sender, database_url):
    devices = [family(factory, session, service)[3] for _ in range(40)]
    runs = _two_schedulers(database_url, app, sender, at("America/New_York", 2026, 6, 10, 17, 2))
    assert len(runs) == 2
    assert sum(r.claimed for r in runs) == 40
    assert sum(r.sent for r in runs) == 40
    assert all(len(service.received_by(d)) == 1 for d in devices)
    assert session.scalar(select(func.count()).select_from(ReminderDelivery)) == 40


def test_two_schedulers_send_each_reminder_once(
    app, session, factory, service, sender, database_url
):
    """Two scheduler processes running at the same moment send every reminder exactly once."""
    _exactly_once(app, session, factory, service, sender, database_url)


@pytest.mark.postgres
@postgres_only
def test_two_schedulers_on_postgres_send_each_reminder_once(
    app, session, factory, service, sender, database_url
):
    """On PostgreSQL, concurrent schedulers with their own engines never send a reminder twice."""
    assert database_url.startswith("postgresql")
    _exactly_once(app, session, factory, service, sender, database_url)


def test_web_app_starts_no_scheduler_and_the_tick_runs_the_reminder_job(app):
    """create_app (what gunicorn's homeprogram.wsgi runs) starts no scheduler thread."""
    from homeprogram import scheduler

    assert not [t for t in threading.enumerate() if "APScheduler" in t.name]
    assert scheduler.send_reminders in scheduler.MINUTE_JOBS
    assert scheduler.send_summaries in scheduler.MINUTE_JOBS
