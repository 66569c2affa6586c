"""Settings pages: devices, reminder plans with bad input, the staff inbox."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from homeprogram.models import InboxMessage, PushSubscription, ReminderPlan
from homeprogram.models.base import utcnow
from homeprogram.services import push
from tests.push_service import LocalPushService

CONTACT = "mailto:ops@sunrise-therapy.org"


@pytest.fixture
def app_config():
    return {"VAPID_CONTACT": CONTACT, "PUSH_ALLOW_INSECURE_ENDPOINTS": True}


@pytest.fixture
def service():
    with LocalPushService() as running:
        yield running


@pytest.fixture
def family(factory):
    org = factory.org()
    child = factory.child(org, name="Sam", timezone="America/New_York")
    parent = factory.caregiver(child)
    factory.assignment(child, start_date=date(2026, 1, 1))
    return child, parent


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_devices_page_explains_and_offers_the_button_without_inline_script(client, login, family):
    """The page explains reminders, carries the public key and loads its script from a file."""
    login(family[1].email)
    page = client.get("/settings/devices").get_data(as_text=True)
    key = re.search(r'data-public-key="([^"]+)"', page).group(1)
    assert len(key) == 87
    assert 'id="push-enable"' in page and "Add to Home Screen" in page
    assert "js/push-subscribe.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert " onclick=" not in page and "style=" not in page


def test_subscribing_stores_the_device_and_switches_on_the_default_reminder(
    client, login, session, family, service
):
    """Posting the browser's subscription stores the device by name and a 17:00 plan."""
    child, parent = family
    login(parent.email)
    device = service.device()
    response = client.post(
        "/settings/devices",
        json={"subscription": device.subscription(), "device_name": "Maria's phone"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    sub = session.scalar(select(PushSubscription))
    assert (sub.user_id, sub.device_name, sub.endpoint) == (
        parent.id,
        "Maria's phone",
        device.endpoint,
    )
    plan = session.scalar(select(ReminderPlan))
    assert (plan.child_id, plan.times, plan.enabled) == (child.id, ["17:00"], True)
    assert "Maria&#39;s phone" in client.get("/settings/devices").get_data(as_text=True)


def test_subscribing_needs_the_csrf_header_and_valid_keys(client, login, session, family, service):
    """Without the CSRF header, or with broken keys, nothing is stored."""
    login(family[1].email)
    good = service.device().subscription()
    assert (
        client.post("/settings/devices", json={"subscription": good}, csrf=False).status_code == 400
    )
    bad = {"endpoint": good["endpoint"], "keys": {"p256dh": "nope", "auth": "x"}}
    response = client.post("/settings/devices", json={"subscription": bad})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"p256dh", "auth"}
    assert _count(session, PushSubscription) == 0


def test_devices_can_be_removed_only_by_their_owner(
    client, login, session, factory, family, service
):
    """A user removes their own device; someone else's device answers 404 and stays."""
    child, parent = family
    other = factory.caregiver(child, name="Grandpa")
    mine = push.save_subscription(
        session, parent.id, service.device().subscription(), "Mine", allow_insecure=True
    )
    theirs = push.save_subscription(
        session, other.id, service.device().subscription(), "Theirs", allow_insecure=True
    )
    session.commit()
    login(parent.email)
    assert client.post(f"/settings/devices/{theirs.id}/remove").status_code == 404
    assert client.post(f"/settings/devices/{mine.id}/remove").status_code == 302
    assert set(session.scalars(select(PushSubscription.device_name))) == {"Theirs"}


def test_send_a_test_notification(client, login, session, family, service):
    """ "Send a test notification" reaches each of the user's devices."""
    login(family[1].email)
    device = service.device()
    push.save_subscription(
        session, family[1].id, device.subscription(), "Phone", allow_insecure=True
    )
    session.commit()
    response = client.post("/settings/devices/test", follow_redirects=True)
    assert "Test notification sent to 1 device" in response.get_data(as_text=True)
    [got] = service.received_by(device)
    assert got.json["title"] == "Test notification"


def test_renew_replaces_a_rotated_subscription(client, session, family, service):
    """The service worker's renewal swaps the endpoint, keeping the owner and device name."""
    old, new = service.device(), service.device()
    push.save_subscription(session, family[1].id, old.subscription(), "Phone", allow_insecure=True)
    session.commit()
    response = client.post(
        "/push/renew",
        json={"old_endpoint": old.endpoint, "subscription": new.subscription()},
        csrf=False,
    )
    assert response.status_code == 200
    session.expire_all()
    sub = session.scalar(select(PushSubscription))
    assert (sub.endpoint, sub.user_id, sub.device_name) == (new.endpoint, family[1].id, "Phone")
    unknown = client.post(
        "/push/renew",
        json={"old_endpoint": "https://x.invalid/1", "subscription": new.subscription()},
    )
    assert unknown.status_code == 404


def _plan_data(child_id, **overrides):
    data = {
        f"c{child_id}-time_1": "17:00",
        f"c{child_id}-time_2": "",
        f"c{child_id}-time_3": "",
        f"c{child_id}-days_of_week": ["0", "1", "2", "3", "4"],
        f"c{child_id}-quiet_start": "21:00",
        f"c{child_id}-quiet_end": "07:00",
        f"c{child_id}-morning_nudge": "y",
        f"c{child_id}-enabled": "y",
    }
    for key, value in overrides.items():
        data[f"c{child_id}-{key}"] = value
    return data


def test_reminder_plan_saved(client, login, session, family):
    """A caregiver sets times, days, quiet hours and the morning nudge for a child."""
    child, parent = family
    login(parent.email)
    response = client.post(
        f"/settings/reminders/{child.id}", data=_plan_data(child.id, time_2="07:30")
    )
    assert response.status_code == 302
    plan = session.scalar(select(ReminderPlan))
    assert plan.times == ["07:30", "17:00"]
    assert plan.days_of_week == [0, 1, 2, 3, 4]
    assert (plan.quiet_start, plan.quiet_end, plan.morning_nudge) == ("21:00", "07:00", True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"time_1": "25:00"}, "Use times like 17:00"),
        ({"time_1": ""}, "Choose at least one time."),
        ({"days_of_week": []}, "Choose at least one day."),
        ({"days_of_week": ["9"]}, "Not a valid choice"),
        ({"quiet_end": ""}, "Give both the start and the end of quiet hours"),
        ({"quiet_start": "7pm"}, "Use a time like 21:00"),
        ({"time_1": "22:00", "quiet_start": "21:00", "quiet_end": "23:00"}, "inside quiet hours"),
    ],
)
def test_reminder_plan_bad_input_is_shown_and_nothing_saved(
    client, login, session, family, overrides, message
):
    """Bad times, no days or half-given quiet hours: the field says why, status 400, no row."""
    child, parent = family
    login(parent.email)
    response = client.post(
        f"/settings/reminders/{child.id}", data=_plan_data(child.id, **overrides)
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message.lower() in page.lower()
    assert 'class="error"' in page
    assert _count(session, ReminderPlan) == 0
    if overrides.get("time_1"):
        assert f'value="{overrides["time_1"]}"' in page  # input kept


def test_reminder_plan_for_someone_elses_child_is_404(client, login, session, factory, family):
    """A caregiver cannot set reminders for a child that is not theirs."""
    _, parent = family
    stranger = factory.child(factory.org(), name="Other")
    login(parent.email)
    assert (
        client.post(f"/settings/reminders/{stranger.id}", data=_plan_data(stranger.id)).status_code
        == 404
    )
    assert _count(session, ReminderPlan) == 0


def test_inbox_with_unread_count_and_read_on_open(client, login, session, factory):
    """Staff see an unread count in the nav; opening a message marks it read."""
    therapist = factory.therapist()
    message = InboxMessage(
        user_id=therapist.id,
        kind="summary",
        title="Weekly summary",
        body="Sam: 80%",
        created_at=utcnow(),
    )
    session.add(message)
    session.commit()
    login(therapist.email)
    page = client.get("/inbox").get_data(as_text=True)
    assert re.search(r'class="badge">1<', page)
    opened = client.get(f"/inbox/{message.id}").get_data(as_text=True)
    assert "Sam: 80%" in opened
    session.expire_all()
    assert session.get(InboxMessage, message.id).read_at is not None
    assert 'class="badge"' not in client.get("/inbox").get_data(as_text=True)


def test_inbox_is_private(client, login, session, factory, family):
    """Another staff member's message answers 404, and families have no inbox."""
    owner, other = factory.therapist(), factory.therapist()
    message = InboxMessage(user_id=owner.id, kind="alert", title="t", body="b", created_at=utcnow())
    session.add(message)
    session.commit()
    login(other.email)
    assert client.get(f"/inbox/{message.id}").status_code == 404
    client.post("/logout")
    login(family[1].email)
    assert client.get("/inbox").status_code == 404
