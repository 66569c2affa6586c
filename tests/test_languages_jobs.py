"""What the scheduler writes is in the recipient's language: reminders and push notifications
in each caregiver's, the weekly summary and alerts in each therapist's. The pushes are read
back from the local push service, which decrypts them as a browser's push service would."""

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from sqlalchemy import select

from homeprogram import scheduler
from homeprogram.models import InboxMessage
from homeprogram.services import push, reminders
from tests.push_service import LocalPushService

# 17:00 in New York on a Monday: the default reminder is due, the weekly summary and the
# alerts run.
MONDAY_EVENING = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)


@pytest.fixture
def app_config():
    return {
        "VAPID_CONTACT": "mailto:ops@sunrise-therapy.org",
        "PUSH_ALLOW_INSECURE_ENDPOINTS": True,
        "REMINDER_SPREAD_SECONDS": 0,
    }


@pytest.fixture
def service():
    with LocalPushService() as running:
        yield running


def _in(app: Flask, language: str, text: str) -> str:
    with app.app_context(), force_locale(language):
        return gettext(text)


def _device(session, service, user):
    device = service.device()
    push.save_subscription(session, user.id, device.subscription(), "Phone", allow_insecure=True)
    session.commit()
    return device


def test_each_caregiver_is_reminded_in_their_own_language(app, session, factory, service, clock):
    org = factory.org()
    therapist = factory.therapist(org)
    child = factory.child(org, therapist=therapist, name="Sam", timezone="America/New_York")
    factory.assignment(child, start_date=date(2026, 10, 1))
    mother = factory.caregiver(child, locale="es")
    grandpa = factory.caregiver(child, locale="en")
    for parent in (mother, grandpa):
        session.add(reminders.default_plan(parent.id, child.id))
    session.commit()
    phones = {user.id: _device(session, service, user) for user in (mother, grandpa)}
    clock.set(MONDAY_EVENING)

    scheduler.tick(app)

    [to_mother] = service.received_by(phones[mother.id])
    [to_grandpa] = service.received_by(phones[grandpa.id])
    assert to_grandpa.json["title"] == "Practice time"
    assert to_mother.json["title"] == _in(app, "es", "Practice time") != "Practice time"
    assert "Sam" in to_mother.json["body"] and "practise" not in to_mother.json["body"]


def test_the_therapists_summary_and_alerts_are_in_the_therapists_language(
    app, session, factory, service, clock
):
    org = factory.org()
    therapist = factory.therapist(org, timezone="America/New_York", locale="es")
    laptop = _device(session, service, therapist)
    child = factory.child(org, therapist=therapist, name="Sam", timezone="America/New_York")
    factory.assignment(child, start_date=date(2026, 10, 1))  # never logged: flagged
    clock.set(MONDAY_EVENING)

    scheduler.tick(app)

    messages = {
        m.kind: m
        for m in session.scalars(select(InboxMessage).where(InboxMessage.user_id == therapist.id))
    }
    assert set(messages) >= {"summary", "alert"}
    with app.app_context(), force_locale("es"):
        alert_title = gettext("%(name)s may need attention", name="Sam")
    assert messages["alert"].title == alert_title
    assert "attention" not in messages["alert"].title
    assert "planned sessions" not in messages["summary"].body  # the English summary's words
    titles = {p.json["title"] for p in service.received_by(laptop)}
    assert _in(app, "es", "Your weekly summary is ready") in titles
    assert _in(app, "es", "New caseload alert") in titles


def test_reminders_sent_while_an_event_loop_runs_are_in_the_recipients_language_too(
    app, session, factory, service, clock
):
    """With a loop already running (an async host; the browser tests), dispatch runs in a
    thread of its own: the app and the language must go with it."""
    org = factory.org()
    child = factory.child(org, name="Sam", timezone="America/New_York")
    factory.assignment(child, start_date=date(2026, 10, 1))
    mother = factory.caregiver(child, locale="es")
    session.add(reminders.default_plan(mother.id, child.id))
    session.commit()
    phone = _device(session, service, mother)
    clock.set(MONDAY_EVENING)

    async def host() -> None:
        scheduler.tick(app)  # a loop is running here

    # On a loop of its own (in a thread when this test's caller already runs one).
    reminders.run_to_end(host())

    [received] = service.received_by(phone)
    assert received.json["title"] == _in(app, "es", "Practice time")
