"""The push endpoint rules at the routes, as deployed: only https endpoints of a real host.

The other push tests point subscriptions at a local http push service, so they switch
``PUSH_ALLOW_INSECURE_ENDPOINTS`` on; this module leaves it at its default (off).
"""

import pytest
from sqlalchemy import select

from homeprogram.models import PushSubscription
from tests.db_state import contents
from tests.world import P256DH

AUTH = "MDEyMzQ1Njc4OWFiY2RlZg"  # 16 bytes, base64url
HTTPS = "https://fcm.googleapis.com/fcm/send/device-1"


def _subscription(endpoint: object, p256dh: str = P256DH, auth: str = AUTH) -> dict:
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


@pytest.fixture
def parent(factory):
    child = factory.child(factory.org(), name="Sam", timezone="America/New_York")
    return factory.caregiver(child, email="parent@example.org")


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/device-1",
        "http://127.0.0.1:8080/push/device-1",
        "ftp://fcm.googleapis.com/device-1",
        "https:///no-host",
        "fcm.googleapis.com/fcm/send/device-1",
        "https://fcm.googleapis.com/" + "x" * 1024,
        42,
        None,
    ],
)
def test_subscribing_refuses_an_endpoint_that_is_not_https(
    app, client, login, session, parent, endpoint
):
    """An http (or otherwise unusable) endpoint is refused with a reason, and nothing is
    stored: no device, no default reminder, no audit entry."""
    assert not app.config.get("PUSH_ALLOW_INSECURE_ENDPOINTS")
    login(parent.email)
    before = contents(session)
    response = client.post(
        "/settings/devices", json={"subscription": _subscription(endpoint), "device_name": "Phone"}
    )
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"endpoint"}
    assert contents(session) == before


def test_subscribing_refuses_broken_keys(client, login, session, parent):
    """A public key that is not a P-256 point, or an auth secret that is not 16 bytes, is
    refused field by field, and nothing is stored."""
    login(parent.email)
    before = contents(session)
    short_point = P256DH[:-4]
    response = client.post(
        "/settings/devices",
        json={"subscription": _subscription(HTTPS, p256dh=short_point, auth=AUTH[:-4])},
    )
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"p256dh", "auth"}
    assert contents(session) == before


def test_subscribing_with_an_https_endpoint_is_stored(client, login, session, parent):
    """The same request with an https endpoint of a real host stores the device."""
    login(parent.email)
    response = client.post(
        "/settings/devices", json={"subscription": _subscription(HTTPS), "device_name": "Phone"}
    )
    assert response.status_code == 201
    assert session.scalars(select(PushSubscription.endpoint)).all() == [HTTPS]


def test_renewing_onto_an_http_endpoint_is_refused(client, session, parent):
    """The service worker's renewal cannot move a device onto an http endpoint: refused,
    and the device keeps its https endpoint."""
    session.add(
        PushSubscription(
            user_id=parent.id, endpoint=HTTPS, p256dh=P256DH, auth=AUTH, device_name="Phone"
        )
    )
    session.commit()
    before = contents(session)
    response = client.post(
        "/push/renew",
        json={
            "old_endpoint": HTTPS,
            "subscription": _subscription("http://fcm.googleapis.com/fcm/send/device-2"),
        },
        csrf=False,
    )
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"endpoint"}
    assert contents(session) == before
