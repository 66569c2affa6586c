"""Push endpoints reach only public push services (issue 15, finding 1: blind SSRF).

A signed-in user chooses the endpoint the server posts to. Only ``https`` endpoints on the
push services' own hosts are stored, and each send checks the address it connects to, so
a name that later resolves to a private address is not reached. The devices page says
only that a device did not accept a notification, never why. This module leaves
``PUSH_ALLOW_INSECURE_ENDPOINTS`` at its default (off), as deployed.
"""

import logging
import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from homeprogram import config as app_config_module
from homeprogram.models import PushSubscription
from homeprogram.services import push
from homeprogram.services.vapid import load_keys
from tests.db_state import contents
from tests.push_service import LocalPushService
from tests.world import P256DH

AUTH = "MDEyMzQ1Njc4OWFiY2RlZg"  # 16 bytes, base64url
CONTACT = "mailto:ops@sunrise-therapy.org"


def _subscription(endpoint: str) -> dict:
    return {"endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": AUTH}}


@pytest.fixture
def app_config():
    return {"VAPID_CONTACT": CONTACT}


@pytest.fixture
def parent(factory):
    child = factory.child(factory.org(), name="Sam", timezone="America/New_York")
    return factory.caregiver(child, email="parent@example.org")


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1/push/device-1",
        "https://127.0.0.1:8443/push/device-1",
        "https://10.0.0.1/push/device-1",
        "https://192.168.1.20/push/device-1",
        "https://[::1]/push/device-1",
        "https://[::ffff:127.0.0.1]/push/device-1",
        "https://[::ffff:10.0.0.1]/push/device-1",
        "https://[64:ff9b::7f00:1]/push/device-1",
        "https://169.254.169.254/latest/meta-data/",
        "https://0.0.0.0/push/device-1",
        "https://224.0.0.1/push/device-1",
        "https://8.8.8.8/push/device-1",
        "https://localhost/push/device-1",
        "https://push.example.com/push/device-1",
        "https://fcm.googleapis.com.evil.example/fcm/send/device-1",
        "https://evilfcm.googleapis.com/fcm/send/device-1",
        "https://user@fcm.googleapis.com/fcm/send/device-1",
    ],
)
def test_subscribing_refuses_an_endpoint_that_is_not_a_public_push_service(
    app, client, login, session, parent, endpoint
):
    """Loopback, private, link-local, unspecified, multicast and IPv4-mapped/NAT64 forms of
    them, and any host that is not a push service: 400 on the endpoint, nothing stored."""
    assert not app.config.get("PUSH_ALLOW_INSECURE_ENDPOINTS")
    login(parent.email)
    before = contents(session)
    response = client.post(
        "/settings/devices", json={"subscription": _subscription(endpoint), "device_name": "Phone"}
    )
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"endpoint"}
    assert contents(session) == before


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/device-1",
        "https://android.googleapis.com/gcm/send/device-1",
        "https://updates.push.services.mozilla.com/wpush/v2/device-1",
        "https://web.push.apple.com/QGuQyavXutnMH/device-1",
        "https://wns2-by3p.notify.windows.com/w/?token=device-1",
        "https://FCM.googleapis.com./fcm/send/device-1",
    ],
)
def test_subscribing_with_a_real_push_service_is_stored(client, login, session, parent, endpoint):
    """Each browser's push service (Chrome, Firefox, Safari, Edge) is accepted."""
    login(parent.email)
    response = client.post(
        "/settings/devices", json={"subscription": _subscription(endpoint), "device_name": "Phone"}
    )
    assert response.status_code == 201
    assert session.scalars(select(PushSubscription.endpoint)).all() == [endpoint]


def test_renewing_onto_a_private_address_is_refused(client, session, parent):
    """The service worker's renewal cannot move a device onto a private address."""
    good = "https://fcm.googleapis.com/fcm/send/device-1"
    session.add(
        PushSubscription(
            user_id=parent.id, endpoint=good, p256dh=P256DH, auth=AUTH, device_name="Phone"
        )
    )
    session.commit()
    before = contents(session)
    response = client.post(
        "/push/renew",
        json={"old_endpoint": good, "subscription": _subscription("https://10.1.2.3/x")},
        csrf=False,
    )
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"endpoint"}
    assert contents(session) == before


class TestOperatorHosts:
    """An operator adds a push service of their own; addresses stay refused."""

    @pytest.fixture
    def app_config(self):
        return {"VAPID_CONTACT": CONTACT, "PUSH_ALLOWED_HOSTS": ["push.example.org"]}

    def test_an_added_host_is_accepted_and_the_defaults_stay(self, client, login, session, parent):
        login(parent.email)
        for endpoint in (
            "https://push.example.org/device-1",
            "https://eu.push.example.org/device-2",
            "https://fcm.googleapis.com/fcm/send/device-3",
        ):
            response = client.post(
                "/settings/devices", json={"subscription": _subscription(endpoint)}
            )
            assert response.status_code == 201, endpoint
        response = client.post(
            "/settings/devices", json={"subscription": _subscription("https://10.0.0.1/x")}
        )
        assert response.status_code == 400


def test_allowed_hosts_come_from_the_environment(tmp_path, monkeypatch):
    """``HOMEPROGRAM_PUSH_ALLOWED_HOSTS`` is a comma-separated list; a bad entry stops the app
    with one line naming the setting."""
    monkeypatch.setenv("HOMEPROGRAM_PUSH_ALLOWED_HOSTS", " Push.Example.org, other.example.net ,")
    loaded = app_config_module.load(tmp_path, {"SECRET_KEY": "x"})
    assert loaded["PUSH_ALLOWED_HOSTS"] == ("push.example.org", "other.example.net")
    monkeypatch.setenv("HOMEPROGRAM_PUSH_ALLOWED_HOSTS", "https://push.example.org/")
    with pytest.raises(app_config_module.ConfigError, match="HOMEPROGRAM_PUSH_ALLOWED_HOSTS"):
        app_config_module.load(tmp_path, {"SECRET_KEY": "x"})


# --- at send time -----------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port on 127.0.0.1 that only counts connections (non-blocking accept)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def _connections(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


class TestNameResolvingToLoopback:
    """A stored subscription on an allowed name that resolves to 127.0.0.1 is not sent to."""

    @pytest.fixture
    def app_config(self):
        return {"VAPID_CONTACT": CONTACT, "PUSH_ALLOWED_HOSTS": ["localhost"]}

    def test_the_test_notification_does_not_connect_and_the_refusal_is_logged(
        self, app, client, login, session, parent, listener, caplog
    ):
        assert not app.config.get("PUSH_ALLOW_INSECURE_ENDPOINTS")
        port = listener.getsockname()[1]
        endpoint = f"https://localhost:{port}/push/device-1"
        login(parent.email)
        response = client.post("/settings/devices", json={"subscription": _subscription(endpoint)})
        assert response.status_code == 201  # the name is allowed; its address is checked later
        sub_id = response.get_json()["id"]
        with caplog.at_level(logging.WARNING, logger="homeprogram.services.push"):
            page = client.post("/settings/devices/test", follow_redirects=True)
        assert _connections(listener) == 0
        text = page.get_data(as_text=True)
        assert "Sent to 0 of 1 device(s); the others did not accept it." in text
        assert f"subscription {sub_id}" in caplog.text
        assert "127.0.0.1" in caplog.text or "::1" in caplog.text
        stored = session.scalar(select(PushSubscription).where(PushSubscription.id == sub_id))
        session.refresh(stored)
        assert stored.last_failure_at is not None

    def test_the_reminder_sender_refuses_the_address_too(self, app, listener, caplog):
        """The sender the scheduler uses checks the connected address, not just the name."""
        from homeprogram import push_config

        port = listener.getsockname()[1]
        with app.app_context():
            sender = push_config.sender(app)
        sub = _subscription(f"https://localhost:{port}/push/device-1") | {"id": 41}
        message = push.PushMessage(title="Practice time", body="Time to practise", url="/today")
        with caplog.at_level(logging.WARNING, logger="homeprogram.services.push"):
            result = sender.send(sub, message)
        assert not result.ok and result.attempts == 1
        assert _connections(listener) == 0
        assert "subscription 41" in caplog.text


@pytest.mark.parametrize(
    "answers",
    [
        ["10.0.0.7"],
        ["169.254.169.254"],
        ["100.64.0.1"],
        ["0.0.0.0"],
        ["224.0.0.1"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["64:ff9b::a00:7"],
        ["fe80::1"],
        ["fd00::7"],
        ["142.250.1.1", "127.0.0.1"],  # one private answer is enough
    ],
)
def test_a_push_service_name_answering_a_private_address_is_refused(
    tmp_path, monkeypatch, listener, caplog, answers
):
    """Whatever the resolver answers for a push service's name (a rebinding attack, a
    poisoned cache), a non-public address is not connected to: the send is refused at
    once, logged with the subscription id, and never reaches a socket."""
    port = listener.getsockname()[1]

    def resolver(host, _port, *args, **kwargs):
        assert host == "fcm.googleapis.com"
        family = {4: socket.AF_INET, 6: socket.AF_INET6}
        return [
            (family[6 if ":" in a else 4], socket.SOCK_STREAM, 6, "", (a, port)) for a in answers
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    sender = push.PushSender(
        keys=load_keys(tmp_path / "vapid", {}), contact=CONTACT, sleep=lambda _s: None
    )
    message = push.PushMessage(title="Practice time", body="Time to practise", url="/today")
    endpoint = "https://fcm.googleapis.com/fcm/send/device-1"
    with caplog.at_level(logging.WARNING, logger="homeprogram.services.push"):
        result = sender.send(_subscription(endpoint) | {"id": 9}, message)
    monkeypatch.undo()
    assert not result.ok and result.attempts == 1
    assert _connections(listener) == 0
    assert "subscription 9 refused" in caplog.text


def test_a_stored_private_endpoint_is_not_sent_to(tmp_path, listener, caplog):
    """A row stored before these rules (or by hand) pointing at 127.0.0.1 is refused at send
    time by a sender with the default rules."""
    sender = push.PushSender(
        keys=load_keys(tmp_path / "vapid", {}), contact=CONTACT, sleep=lambda _s: None
    )
    port = listener.getsockname()[1]
    message = push.PushMessage(title="Practice time", body="Time to practise", url="/today")
    for endpoint in (f"https://127.0.0.1:{port}/x", f"http://127.0.0.1:{port}/x"):
        with caplog.at_level(logging.WARNING, logger="homeprogram.services.push"):
            result = sender.send(_subscription(endpoint) | {"id": 7}, message)
        assert not result.ok
    assert _connections(listener) == 0
    assert "subscription 7" in caplog.text


def test_redirects_are_not_followed(tmp_path):
    """A push service answering 307 elsewhere is a failed send; the other place gets nothing."""
    sender = push.PushSender(
        keys=load_keys(tmp_path / "vapid", {}),
        contact=CONTACT,
        sleep=lambda _s: None,
        policy=push.EndpointPolicy(allow_insecure=True),
    )
    message = push.PushMessage(title="Practice time", body="Time to practise", url="/today")
    with LocalPushService() as service:
        first, second = service.device(), service.device()
        service.respond(first, (307, {"Location": second.endpoint}))
        result = sender.send(first.subscription(), message)
        assert not result.ok and result.status == 307
        assert service.received_by(second) == []


# --- what the devices page says ----------------------------------------------------------------


def test_devices_page_says_only_that_a_device_did_not_accept(client, login, session, parent):
    """A failed device is marked "did not accept" in words a person reads, never the reason
    (an address, an exception name, a status)."""
    session.add(
        PushSubscription(
            user_id=parent.id,
            endpoint="https://fcm.googleapis.com/fcm/send/device-1",
            p256dh=P256DH,
            auth=AUTH,
            device_name="Phone",
            last_error="ConnectionError: 10.0.0.7:8443 refused",
        )
    )
    session.commit()
    login(parent.email)
    page = client.get("/settings/devices").get_data(as_text=True)
    assert "did not accept the last notification" in page
    assert "ConnectionError" not in page and "10.0.0.7" not in page
