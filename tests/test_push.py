"""Web Push against a real local push service: VAPID, encryption, headers, retries, gone."""

import base64
import logging
import os
import stat
from datetime import date

import pytest
from sqlalchemy import func, select

from homeprogram import push_config
from homeprogram.extensions import db
from homeprogram.models import PushSubscription, ReminderDelivery
from homeprogram.models.base import utcnow
from homeprogram.scheduler import send_reminders
from homeprogram.services import push, reminders
from homeprogram.services.errors import ValidationFailed
from homeprogram.services.vapid import (
    KEY_FILE,
    PushConfigError,
    check_contact,
    load_keys,
    rotate_keys,
)
from tests.push_service import LocalPushService

CONTACT = "mailto:ops@sunrise-therapy.org"
LOCAL_SERVICE = push.EndpointPolicy(allow_insecure=True)  # the local http push service


@pytest.fixture
def app_config():
    return {"VAPID_CONTACT": CONTACT}


@pytest.fixture
def service():
    with LocalPushService() as running:
        yield running


@pytest.fixture
def keys(tmp_path):
    return load_keys(tmp_path / "vapid", {})


def _sender(keys, **kw):
    sleeps: list[float] = []
    kw.setdefault("policy", LOCAL_SERVICE)
    sender = push.PushSender(keys=keys, contact=CONTACT, sleep=sleeps.append, **kw)
    return sender, sleeps


MESSAGE = push.PushMessage(
    title="Practice time",
    body="Time to practise with Sam (3 activities)",
    url="/today?child=7",
    ttl=3 * 3600,
    urgency="normal",
    topic="c7-20261127",
)


def test_push_arrives_encrypted_with_ttl_urgency_topic_and_valid_vapid(service, keys):
    """The phone decrypts exactly our payload; TTL, Urgency, Topic and a valid VAPID JWT arrive."""
    sender, _ = _sender(keys)
    device = service.device()
    result = sender.send(device.subscription(), MESSAGE)
    assert result.ok and result.attempts == 1
    [got] = service.received_by(device)
    assert got.json == {
        "title": "Practice time",
        "body": "Time to practise with Sam (3 activities)",
        "url": "/today?child=7",
    }
    assert got.ttl == 3 * 3600
    assert got.urgency == "normal"
    assert got.topic == "c7-20261127"
    assert got.claims["sub"] == CONTACT
    assert got.claims["aud"] == service.base_url
    assert got.vapid_key == keys.public_key
    assert service.rejected == []


def test_fresh_claims_per_send_so_two_push_services_both_accept(keys):
    """Sending to a second push service after a first one still carries the right audience."""
    sender, _ = _sender(keys)
    with LocalPushService() as first, LocalPushService() as second:
        a, b = first.device(), second.device()
        assert sender.send(a.subscription(), MESSAGE).ok
        assert sender.send(b.subscription(), MESSAGE).ok
        assert sender.send(a.subscription(), MESSAGE).ok
        assert [r.claims["aud"] for r in second.received] == [second.base_url]
        assert first.rejected == [] and second.rejected == []


def test_429_then_success_retries_honouring_retry_after(service, keys):
    """A 429 with Retry-After is waited out and retried; the push then arrives once."""
    sender, sleeps = _sender(keys)
    device = service.device()
    service.respond(device, (429, {"Retry-After": "2"}))
    result = sender.send(device.subscription(), MESSAGE)
    assert result.ok and result.attempts == 2
    assert sleeps == [2.0]
    assert len(service.received_by(device)) == 1


def test_5xx_is_retried_with_backoff_then_given_up_and_recorded(service, keys):
    """Server errors are retried a bounded number of times, then reported as a failure."""
    sender, sleeps = _sender(keys, max_attempts=3)
    device = service.device()
    service.respond(device, (503, {}), (503, {}), (503, {}), (503, {}))
    result = sender.send(device.subscription(), MESSAGE)
    assert not result.ok and result.status == 503 and result.attempts == 3
    assert len(sleeps) == 2
    assert service.received_by(device) == []


def test_long_retry_after_gives_up_without_waiting(service, keys):
    """A Retry-After longer than the bound is not slept through: the send fails at once."""
    sender, sleeps = _sender(keys)
    device = service.device()
    service.respond(device, (429, {"Retry-After": "3600"}))
    result = sender.send(device.subscription(), MESSAGE)
    assert not result.ok and result.status == 429
    assert sleeps == []


def test_retry_delay_reads_seconds_and_http_dates():
    """Retry-After is understood as seconds or as an HTTP date."""
    assert push.retry_delay("7", 1) == 7.0
    assert push.retry_delay("Wed, 21 Oct 2015 07:28:10 GMT", 1, now=1445412480.0) == 10.0
    assert push.retry_delay(None, 3) == 2.0


def test_one_failure_does_not_stop_the_batch(service, keys):
    """A failing device is recorded and the other devices in the batch still get their push."""
    sender, _ = _sender(keys, workers=4)
    good = [service.device() for _ in range(5)]
    bad = service.device()
    service.make_gone(bad, 404)
    jobs = [push.PushJob(d.subscription(), MESSAGE, key=i) for i, d in enumerate([*good, bad])]
    results = sender.send_many(jobs)
    assert [r.ok for _, r in results] == [True] * 5 + [False]
    assert results[-1][1].gone
    assert all(len(service.received_by(d)) == 1 for d in good)


@pytest.mark.parametrize("status", [404, 410])
def test_gone_subscription_is_deleted(service, keys, session, factory, status):
    """A push service answering 404 or 410 makes us forget that device, and only that one."""
    sender, _ = _sender(keys)
    user = factory.user()
    gone, kept = service.device(), service.device()
    for device in (gone, kept):
        push.save_subscription(
            session, user.id, device.subscription(), "Phone", allow_insecure=True
        )
    service.make_gone(gone, status)
    results = [sender.send(d.subscription(), MESSAGE) for d in (gone, kept)]
    push.record_results(session, results, utcnow())
    endpoints = set(session.scalars(select(PushSubscription.endpoint)))
    assert endpoints == {kept.endpoint}


def test_subscription_validation_rejects_bad_keys_and_http(service, session, factory):
    """A subscription with a non-https endpoint or malformed keys is refused field by field."""
    user = factory.user()
    device = service.device()
    with pytest.raises(ValidationFailed) as failed:
        push.save_subscription(session, user.id, device.subscription(), "Phone")
    assert set(failed.value.errors) == {"endpoint"}
    bad = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/x",
        "keys": {"p256dh": "abc", "auth": "!!"},
    }
    with pytest.raises(ValidationFailed) as failed:
        push.save_subscription(session, user.id, bad, "Phone")
    assert set(failed.value.errors) == {"p256dh", "auth"}


def test_topic_must_fit_the_protocol():
    """A Topic longer than 32 characters or outside base64url is refused before sending."""
    with pytest.raises(ValueError):
        push.PushMessage("t", "b", "/", topic="x" * 33)
    with pytest.raises(ValueError):
        push.PushMessage("t", "b", "/", topic="child 7")


@pytest.mark.parametrize(
    "contact",
    [
        None,
        "",
        "ops@sunrise-therapy.org",
        "mailto:x@localhost",
        "mailto:admin@example.com",
        "mailto:me@clinic.test",
        "https://localhost",
        "https://127.0.0.1",
        "http://sunrise-therapy.org",
        "https://www.example.org/contact",
    ],
)
def test_placeholder_or_bad_contact_is_refused(contact, keys):
    """Without a real mailto:/https: contact the sender refuses to exist, with a clear reason."""
    with pytest.raises(PushConfigError) as failed:
        push.PushSender(keys=keys, contact=contact)
    assert "HOMEPROGRAM_VAPID_CONTACT" in str(failed.value)


def test_real_contacts_are_accepted():
    """A mailto: address or https: page on a real domain is a valid VAPID subject."""
    assert check_contact(" mailto:ops@sunrise-therapy.org ") == "mailto:ops@sunrise-therapy.org"
    assert check_contact("https://sunrise-therapy.org/contact") == (
        "https://sunrise-therapy.org/contact"
    )


def test_keys_are_generated_once_with_private_mode(tmp_path):
    """The key pair is created on first use (mode 600) and read back unchanged afterwards."""
    first = load_keys(tmp_path, {})
    mode = stat.S_IMODE(os.stat(tmp_path / KEY_FILE).st_mode)
    assert mode == 0o600
    assert load_keys(tmp_path, {}).public_key == first.public_key
    point = base64.urlsafe_b64decode(first.public_key + "=" * (-len(first.public_key) % 4))
    assert len(point) == 65 and point[0] == 4 and "=" not in first.public_key


def test_keys_from_configuration_win_and_are_checked(tmp_path, keys):
    """Configured keys are used as given; a public key that does not match is an error."""
    pem = keys.vapid.private_pem().decode()
    configured = load_keys(tmp_path, {"VAPID_PRIVATE_KEY": pem})
    assert configured.public_key == keys.public_key
    assert not (tmp_path / KEY_FILE).exists()
    other = load_keys(tmp_path / "other", {}).public_key
    with pytest.raises(PushConfigError):
        load_keys(tmp_path, {"VAPID_PRIVATE_KEY": pem, "VAPID_PUBLIC_KEY": other})
    with pytest.raises(PushConfigError):
        rotate_keys(tmp_path, {"VAPID_PRIVATE_KEY": pem})


def test_cli_vapid_show_and_rotate(app, runner):
    """`vapid show` prints the applicationServerKey; `vapid rotate` replaces it and says so."""
    shown = runner.invoke(args=["vapid", "show"])
    assert shown.exit_code == 0, shown.output
    key = shown.output.strip()
    assert len(key) == 87
    rotated = runner.invoke(args=["vapid", "rotate", "--yes"])
    assert rotated.exit_code == 0, rotated.output
    assert "need renewal" in rotated.output
    again = runner.invoke(args=["vapid", "show"]).output.strip()
    assert again != key and again in rotated.output


def _due_setup(factory, session, service, name="Sam"):
    org = factory.org()
    child = factory.child(org, name=name, timezone="America/New_York")
    parent = factory.caregiver(child)
    factory.assignment(
        child,
        factory.activity(title="Button board drill"),
        start_date=date(2026, 1, 1),
        caregiver_note="Watch the pincer grip on the left hand",
    )
    session.add(reminders.default_plan(parent.id, child.id))
    session.commit()
    device = service.device()
    push.save_subscription(session, parent.id, device.subscription(), "Phone", allow_insecure=True)
    return child, parent, device


def test_reminder_payload_carries_no_health_details(app, session, factory, service, keys):
    """A reminder says whom to practise with and how many activities, nothing clinical."""
    child, _, device = _due_setup(factory, session, service)
    sender, _ = _sender(keys)
    now = reminders.slot_instant(date(2026, 11, 27), reminders.parse_hhmm("17:00"), _ny())
    with app.app_context():
        run = reminders.run_due_reminders(db.transaction, sender, now)
    assert run.sent == 1
    [got] = service.received_by(device)
    assert set(got.json) == {"title", "body", "url", "tag"}
    assert got.json["body"] == "Time to practise with Sam (1 activity)"
    assert got.json["url"] == f"/children/{child.id}/today"
    text = got.payload.decode()
    for secret in ("Button", "pincer", "grip", "drill", "Parent"):
        assert secret not in text


def test_scheduler_refuses_to_send_with_a_placeholder_contact(
    app, session, factory, service, caplog
):
    """With a placeholder contact the reminder job logs why and neither claims nor sends."""
    _due_setup(factory, session, service)
    app.config["VAPID_CONTACT"] = "mailto:admin@example.com"
    with caplog.at_level(logging.ERROR):
        send_reminders(app)
        send_reminders(app)
    assert service.received == []
    assert session.scalar(select(func.count()).select_from(ReminderDelivery)) == 0
    errors = [r for r in caplog.records if "placeholder" in r.getMessage()]
    assert len(errors) == 1  # logged once, not every minute
    with pytest.raises(PushConfigError):
        push_config.sender(app)


def _ny():
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/New_York")
