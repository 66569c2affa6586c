"""Scheduled jobs serve everyone but the bad row: a therapist, child or device whose stored
data a job cannot use is logged with its id and skipped, and nobody else notices."""

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, update

from homeprogram import scheduler
from homeprogram.models import (
    AdherenceDay,
    Child,
    InboxMessage,
    PushSubscription,
    ReminderDelivery,
    User,
)
from homeprogram.services import jobs, push, reminders
from tests.push_service import LocalPushService

UNKNOWN_ZONE = "Mars/Olympus"
# Monday 17:00 in New York (reminders due), 23:00 in Berlin (summaries due), minute 0
# (alerts run).
MONDAY_EVENING = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)


@pytest.fixture
def app_config():
    # The local push service is plain http on 127.0.0.1: the tests-only switch lets it in.
    return {
        "VAPID_CONTACT": "mailto:ops@sunrise-therapy.org",
        "PUSH_ALLOW_INSECURE_ENDPOINTS": True,
        "REMINDER_SPREAD_SECONDS": 0,  # no jitter to wait out
    }


@pytest.fixture
def service():
    with LocalPushService() as running:
        yield running


def _poison(session, model, row_id: int) -> None:
    """An unknown time zone written straight into the database, past every validation (as
    an old version, a hand edit or a restore could leave it)."""
    session.execute(update(model).where(model.id == row_id).values(timezone=UNKNOWN_ZONE))


def _device(session, service, user):
    device = service.device()
    push.save_subscription(session, user.id, device.subscription(), "Phone", allow_insecure=True)
    session.commit()
    return device


def _family(factory, session, service, org, therapist, name):
    child = factory.child(org, therapist=therapist, name=name, timezone="America/New_York")
    factory.assignment(child, start_date=date(2026, 10, 1))  # never logged: flags
    parent = factory.caregiver(child)
    session.add(reminders.default_plan(parent.id, child.id))  # 17:00 every day
    session.commit()
    return child, parent, _device(session, service, parent)


def _logged(caplog, text: str) -> bool:
    return any(text in r.getMessage() for r in caplog.records)


def test_one_bad_therapist_child_and_device_do_not_stop_the_jobs_for_everyone(
    app, session, factory, service, clock, caplog
):
    """With a therapist, a child and a device the jobs cannot use, a minute of the scheduler
    still reminds the other families, sends the other therapist's weekly summary and alerts,
    and fills the dashboard cache; the log names each bad row by id."""
    org = factory.org()
    therapist = factory.therapist(org, timezone="Europe/Berlin")
    laptop = _device(session, service, therapist)
    sam, sams_parent, sams_phone = _family(factory, session, service, org, therapist, "Sam")
    ash, _, ashs_phone = _family(factory, session, service, org, therapist, "Ash")
    other_org = factory.org()
    lost = factory.therapist(other_org, timezone="Europe/Berlin")
    kim, _, kims_phone = _family(factory, session, service, other_org, lost, "Kim")
    _poison(session, Child, ash.id)
    _poison(session, User, lost.id)
    session.execute(  # a second device of Sam's parent with keys no browser would make
        insert(PushSubscription).values(
            user_id=sams_parent.id,
            endpoint=f"{service.base_url}/push/broken",
            p256dh="not-a-key",
            auth="x",
            device_name="Old tablet",
        )
    )
    clock.set(MONDAY_EVENING)

    with caplog.at_level(logging.INFO):
        scheduler.tick(app)
        scheduler.fill_dashboard_cache(app)

    # Reminders: Sam's and Kim's families, not Ash's (whose day cannot be known).
    assert [p.json["title"] for p in service.received_by(sams_phone)] == ["Practice time"]
    assert len(service.received_by(kims_phone)) == 1
    assert service.received_by(ashs_phone) == []
    deliveries = session.scalars(select(ReminderDelivery.child_id)).all()
    assert sorted(deliveries) == sorted([sam.id, kim.id])
    # The therapist: the weekly summary (Ash's figures unavailable) and Sam's alerts.
    [summary] = session.scalars(
        select(InboxMessage).where(
            InboxMessage.user_id == therapist.id, InboxMessage.kind == "summary"
        )
    )
    assert "Sam: 0% of planned sessions" in summary.body
    assert "Ash: figures unavailable" in summary.body
    alerts = session.scalars(
        select(InboxMessage.child_id).where(
            InboxMessage.user_id == therapist.id, InboxMessage.kind == "alert"
        )
    ).all()
    assert set(alerts) == {sam.id}
    assert len(service.received_by(laptop)) == 1 + len(alerts)
    # The therapist with the unknown time zone gets no summary, but Kim's alerts still.
    lost_inbox = session.scalars(
        select(InboxMessage.kind).where(InboxMessage.user_id == lost.id)
    ).all()
    assert "summary" not in lost_inbox and "alert" in lost_inbox
    # The dashboard cache is filled for every child but Ash.
    cached = session.scalars(select(AdherenceDay.child_id).group_by(AdherenceDay.child_id))
    assert set(cached) == {sam.id, kim.id}
    # Each bad row named by id.
    assert _logged(caplog, f"reminders: skipped child {ash.id}")
    assert _logged(caplog, f"weekly summaries: skipped child {ash.id}")
    assert _logged(caplog, f"caseload alerts: skipped child {ash.id}")
    assert _logged(caplog, f"dashboard cache: skipped child {ash.id}")
    assert _logged(caplog, f"weekly summaries: skipped therapist {lost.id}")
    broken = session.scalar(
        select(PushSubscription).where(PushSubscription.device_name == "Old tablet")
    )
    assert broken.last_error  # the bad device's failure is recorded on it
    assert session.scalar(select(func.count()).select_from(ReminderDelivery)) == 2


def test_a_skipped_row_is_one_line_each_minute_and_its_traceback_once(
    app, session, factory, service, clock, caplog, monkeypatch
):
    """The bad row is named every minute it is skipped (it stays broken until fixed), but
    its traceback is logged once, not every minute."""
    org = factory.org()
    therapist = factory.therapist(org, timezone="Europe/Berlin")
    ash, _, _ = _family(factory, session, service, org, therapist, "Ash")
    _poison(session, Child, ash.id)
    clock.set(MONDAY_EVENING)
    monkeypatch.setattr(jobs, "_traced", set())  # as in a freshly started scheduler
    with caplog.at_level(logging.ERROR, logger="homeprogram.services.jobs"):
        for _ in range(3):  # planned once a minute whatever the number of schedulers
            scheduler.send_reminders(app)
            clock.advance(timedelta(minutes=1))
    lines = [r for r in caplog.records if f"reminders: skipped child {ash.id}" in r.getMessage()]
    assert len(lines) == 3
    assert [bool(r.exc_info) for r in lines] == [True, False, False]
