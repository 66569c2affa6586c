"""Therapists' Monday summaries and low-adherence alerts: inbox, push, email, once."""

import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from homeprogram.extensions import db
from homeprogram.models import (
    AdherenceAlert,
    Assignment,
    Child,
    CompletionLog,
    InboxMessage,
    Organization,
    User,
)
from homeprogram.services import adherence, push, summaries
from homeprogram.services.email import SmtpSettings
from homeprogram.services.vapid import load_keys
from tests.push_service import LocalPushService
from tests.smtp_server import smtp_fixture  # noqa: F401 (the smtp fixture)

CONTACT = "mailto:ops@sunrise-therapy.org"
MONDAY = date(2026, 11, 30)


@pytest.fixture
def service():
    with LocalPushService() as running:
        yield running


@pytest.fixture
def sender(tmp_path):
    return push.PushSender(
        keys=load_keys(tmp_path / "vapid", {}),
        contact=CONTACT,
        policy=push.EndpointPolicy(allow_insecure=True),  # the local http push service
    )


def berlin(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=ZoneInfo("Europe/Berlin"))


def _log(session, assignment, day, response=None):
    session.add(
        CompletionLog(
            client_id=str(uuid.uuid4()),
            assignment_id=assignment.id,
            child_id=assignment.child_id,
            occurred_at=datetime(day.year, day.month, day.day, 18, tzinfo=UTC),
            local_date=day,
            response=response,
        )
    )
    session.commit()


@pytest.fixture
def caseload(factory, session, service):
    """A Berlin therapist with Sam (nothing logged for weeks) and Lee (practised every day)."""
    org = factory.org()
    therapist = factory.therapist(org, timezone="Europe/Berlin")
    sam = factory.child(org, therapist=therapist, name="Sam", timezone="America/New_York")
    lee = factory.child(org, therapist=therapist, name="Lee", timezone="America/New_York")
    factory.assignment(sam, factory.activity(title="Button board"), start_date=date(2026, 10, 1))
    done = factory.assignment(lee, start_date=date(2026, 10, 1))
    for i in range(1, 15):
        _log(session, done, MONDAY - timedelta(days=i))
    device = service.device()
    push.save_subscription(
        session, therapist.id, device.subscription(), "Laptop", allow_insecure=True
    )
    session.commit()
    return therapist, sam, lee, device


def _summaries(app, sender, smtp_server, now):
    settings = None
    if smtp_server is not None:
        host, port = smtp_server.server_address
        settings = SmtpSettings(host, port, None, None, "homeprogram@sunrise-therapy.org")
    with app.app_context():
        return summaries.run_weekly_summaries(db.transaction, sender, settings, now)


def test_weekly_summary_on_monday_morning_once_in_inbox_push_and_email(
    app, session, caseload, sender, service, smtp
):
    """Monday 07:00 therapist time: last week's figures and flags, once, on every channel."""
    therapist, _, _, device = caseload
    assert _summaries(app, sender, smtp, berlin(MONDAY, 6, 59)) == 0
    assert _summaries(app, sender, smtp, berlin(MONDAY, 7, 0)) == 1
    assert _summaries(app, sender, smtp, berlin(MONDAY, 7, 1)) == 0
    assert _summaries(app, sender, smtp, berlin(MONDAY + timedelta(days=1), 7)) == 0

    message = session.scalar(select(InboxMessage))
    assert message.user_id == therapist.id and message.kind == "summary"
    assert "Mon, Nov 23, 2026" in message.title  # dates as the `day` kind (formatting.py)
    assert "Lee: 100% of planned sessions (7 of 7)" in message.body
    assert "Sam: 0% of planned sessions (0 of 7)" in message.body
    assert "no practice logged for 5 days" in message.body
    assert message.pushed_at is not None and message.emailed_at is not None

    [pushed] = service.received_by(device)
    assert pushed.json["url"] == f"/inbox/{message.id}"
    assert "Sam" not in pushed.payload.decode() and "%" not in pushed.payload.decode()

    [mail] = smtp.messages
    assert mail["To"] == therapist.email
    assert mail.get_content_type() == "text/plain"
    assert "Sam: 0% of planned sessions" in mail.get_payload()


def test_summary_without_smtp_or_push_still_reaches_the_inbox(app, session, caseload):
    """With no SMTP configured and push unavailable, the summary is in the inbox all the same."""
    assert _summaries(app, None, None, berlin(MONDAY, 9)) == 1
    message = session.scalar(select(InboxMessage))
    assert message.pushed_at is None and message.emailed_at is None


def test_alert_when_a_flag_appears_once_per_child_flag_and_week(
    app, session, factory, caseload, sender, service
):
    """A flag raises an alert to every therapist of the child, once per flag and week."""
    therapist, sam, _, device = caseload
    outsider = factory.therapist()  # staff of another organization: never sees Sam
    factory.member(sam, outsider, "therapist")
    now = berlin(MONDAY, 10)
    with app.app_context():
        first = summaries.run_alerts(db.transaction, sender, now)
        again = summaries.run_alerts(db.transaction, sender, now + timedelta(hours=5))
        next_week = summaries.run_alerts(db.transaction, sender, now + timedelta(days=7))
    flags = adherence.overview_for(session, sam, now).flags
    assert set(flags) >= {adherence.LOW_ADHERENCE, adherence.NO_RECENT_LOGS}
    assert first == len(flags) and again == 0 and next_week >= len(flags)
    weeks = session.scalars(
        select(AdherenceAlert.iso_week).where(AdherenceAlert.child_id == sam.id)
    ).all()
    assert sorted(weeks) == ["2026-W49"] * len(flags) + ["2026-W50"] * len(flags)
    alerts = session.scalars(
        select(InboxMessage).where(InboxMessage.kind == "alert", InboxMessage.child_id == sam.id)
    ).all()
    assert {a.user_id for a in alerts} == {therapist.id}
    assert len(alerts) == 2 * len(flags) and all("Sam" in a.title for a in alerts)
    assert all("Sam" not in r.payload.decode() for r in service.received_by(device))


def test_often_hard_alert_names_the_activity_in_the_inbox_only(
    app, session, caseload, sender, service
):
    """ "Hard" on 3 of the last 5 sessions names the activity in the inbox, not in the push."""
    _, _, lee, _ = caseload
    lee_assignment = session.scalar(select(Assignment).where(Assignment.child_id == lee.id))
    for _ in range(3):
        _log(session, lee_assignment, MONDAY - timedelta(days=1), response="hard")
    with app.app_context():
        summaries.run_alerts(db.transaction, sender, berlin(MONDAY, 10))
    alert = session.scalar(
        select(InboxMessage).where(InboxMessage.child_id == lee.id, InboxMessage.kind == "alert")
    )
    assert '"hard" on 3 of the last 5 sessions' in alert.body
    assert lee_assignment.activity.title in alert.body
    assert all(lee_assignment.activity.title not in r.payload.decode() for r in service.received)


# --- one bad row must not stop the job for everyone -----------------------------------------

UNKNOWN_ZONE = "Mars/Olympus"


def _poison(session, model, row_id: int) -> None:
    """Write a time zone zoneinfo cannot load straight into the database, past validation."""
    session.execute(update(model).where(model.id == row_id).values(timezone=UNKNOWN_ZONE))


def _inbox(session, user_id: int, kind: str) -> list[InboxMessage]:
    return list(
        session.scalars(
            select(InboxMessage).where(InboxMessage.user_id == user_id, InboxMessage.kind == kind)
        )
    )


def _logged(caplog, *words: str) -> bool:
    return any(all(w in r.getMessage() for w in words) for r in caplog.records)


def test_a_therapist_with_an_unknown_time_zone_is_skipped_and_named(
    app, session, factory, caseload, sender, service, caplog
):
    """A therapist whose stored time zone cannot be loaded is logged with their id and
    skipped: every other therapist still gets the Monday summary and the flag alerts."""
    therapist, sam, _, device = caseload
    clinic = factory.org()
    broken = factory.therapist(clinic, timezone="Europe/Berlin")
    kim = factory.child(clinic, therapist=broken, name="Kim", timezone="Europe/Berlin")
    factory.assignment(kim, start_date=date(2026, 10, 1))
    _poison(session, User, broken.id)
    with app.app_context(), caplog.at_level(logging.ERROR):
        summaries.run(db.transaction, sender, {}, berlin(MONDAY, 10, 0))
    [summary] = _inbox(session, therapist.id, "summary")
    assert "Sam: 0% of planned sessions" in summary.body
    assert {a.child_id for a in _inbox(session, therapist.id, "alert")} == {sam.id}
    assert len(service.received_by(device)) >= 2  # the summary and the alerts reached the laptop
    assert _inbox(session, broken.id, "summary") == []
    # Alerts need no therapist's time zone: Kim's still reaches her therapist's inbox.
    assert {a.child_id for a in _inbox(session, broken.id, "alert")} == {kim.id}
    assert _logged(caplog, f"therapist {broken.id}")


def test_a_child_with_an_unknown_time_zone_is_skipped_and_named(
    app, session, factory, caseload, sender, caplog
):
    """A child whose stored time zone cannot be loaded is named in the log and shown as
    "figures unavailable" in the summary; the therapist's other children, and other
    therapists, are served as usual."""
    therapist, sam, _, _ = caseload
    org = session.get(Organization, sam.organization_id)
    ash = factory.child(org, therapist=therapist, name="Ash", timezone="America/New_York")
    factory.assignment(ash, start_date=date(2026, 10, 1))
    other = factory.therapist(org, timezone="Europe/Berlin")
    kim = factory.child(org, therapist=other, name="Kim")
    factory.assignment(kim, start_date=date(2026, 10, 1))
    factory.member(ash, other, "therapist")  # Ash is on both caseloads
    _poison(session, Child, ash.id)
    with app.app_context(), caplog.at_level(logging.ERROR):
        summaries.run(db.transaction, sender, {}, berlin(MONDAY, 10, 0))
    [summary] = _inbox(session, therapist.id, "summary")
    assert "Lee: 100% of planned sessions (7 of 7)" in summary.body
    assert "Sam: 0% of planned sessions (0 of 7)" in summary.body
    assert "Ash: figures unavailable" in summary.body
    assert {a.child_id for a in _inbox(session, therapist.id, "alert")} == {sam.id}
    [other_summary] = _inbox(session, other.id, "summary")
    assert "Kim: 0% of planned sessions" in other_summary.body
    assert {a.child_id for a in _inbox(session, other.id, "alert")} == {kim.id}
    assert _logged(caplog, f"child {ash.id}")
