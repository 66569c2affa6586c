"""Behind a TLS proxy: forwarded headers count only from the proxies the setting trusts."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from homeprogram import clock
from homeprogram.models import AuditEvent
from tests.factories import TEST_PASSWORD
from tests.server import gunicorn

CLIENT = "203.0.113.7"
FORWARDED = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}
HOMEPROGRAM = str(Path(sys.executable).with_name("homeprogram"))
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _login_addresses(session) -> list[str | None]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent.ip)
            .where(AuditEvent.action == "login.succeeded")
            .order_by(AuditEvent.id)
        )
    )


def _sign_in(client, email: str, headers: dict[str, str]):
    # A browser on https sends its page as Referer; Flask-WTF checks it on https requests.
    headers = {"Referer": "https://homeprogram.test/login", **headers}
    response = client.post(
        "/login", data={"email": email, "password": TEST_PASSWORD}, headers=headers
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _session_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("hp_session="))


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_a_trusted_proxy_gives_the_client_address_https_hsts_and_secure_cookies(
    client, factory, session, app_config
):
    """With one proxy trusted, X-Forwarded-For is the audited address and
    X-Forwarded-Proto: https brings HSTS and a Secure session cookie."""
    user = factory.therapist()
    response = _sign_in(client, user.email, FORWARDED)
    assert _login_addresses(session) == [CLIENT]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "; Secure" in _session_cookie(response)


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_a_trusted_proxy_over_plain_http_sends_no_hsts(client, factory, session, app_config):
    """The proxy saying the request came over http: no HSTS, and the cookie is not Secure."""
    user = factory.therapist()
    response = _sign_in(
        client, user.email, {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "http"}
    )
    assert _login_addresses(session) == [CLIENT]
    assert "Strict-Transport-Security" not in response.headers
    assert "; Secure" not in _session_cookie(response)


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_only_the_trusted_hop_counts_in_x_forwarded_for(client, factory, session, app_config):
    """A client's own X-Forwarded-For entry sits left of the one the proxy appends: the
    audit trail records the address the proxy saw, not the one the client wrote."""
    user = factory.therapist()
    _sign_in(client, user.email, {"X-Forwarded-For": f"198.51.100.66, {CLIENT}"})
    assert _login_addresses(session) == [CLIENT]


@pytest.mark.parametrize("app_config", [{"HSTS_ENABLED": True}])
def test_without_the_setting_forwarded_headers_are_ignored(client, factory, session, app_config):
    """No proxy trusted (the default): a spoofed X-Forwarded-For changes neither the audit
    address nor brings HSTS or a Secure cookie over plain HTTP."""
    user = factory.therapist()
    response = _sign_in(client, user.email, FORWARDED)
    assert _login_addresses(session) == ["127.0.0.1"]
    assert "Strict-Transport-Security" not in response.headers
    assert "; Secure" not in _session_cookie(response)


def _api_codes(client, addresses: list[str]) -> list[int]:
    return [
        client.get("/api/v1/children", headers={"X-Forwarded-For": address}).status_code
        for address in addresses
    ]


@pytest.mark.parametrize(
    ("app_config", "codes"),
    [
        ({"API_RATE_LIMIT": "2 per minute", "TRUSTED_PROXIES": 1}, [401, 401, 429, 401]),
        ({"API_RATE_LIMIT": "2 per minute"}, [401, 401, 429, 429]),
    ],
)
def test_the_api_limit_counts_per_client_only_behind_a_trusted_proxy(client, app_config, codes):
    """Behind a trusted proxy each client has its own API budget; without the setting a
    client cannot escape its budget by writing another X-Forwarded-For."""
    a, b = "203.0.113.7", "203.0.113.8"
    assert _api_codes(client, [a, a, a, b]) == codes


def test_a_negative_proxy_count_is_refused(monkeypatch, tmp_path):
    """HOMEPROGRAM_TRUSTED_PROXIES=-1 stops the app with a line naming the setting."""
    from homeprogram.config import ConfigError, load

    monkeypatch.setenv("HOMEPROGRAM_TRUSTED_PROXIES", "-1")
    with pytest.raises(ConfigError, match="HOMEPROGRAM_TRUSTED_PROXIES"):
        load(tmp_path, {"SECRET_KEY": "x"})


# Real servers: the same request through gunicorn (wsgi.py) and `homeprogram serve` (waitress).


def _forwarded_login(base: str, email: str) -> requests.Response:
    with requests.Session() as browser:
        page = browser.get(base + "/login", timeout=10)
        token = CSRF.search(page.text)
        assert token, page.text
        answer = browser.post(
            base + "/login",
            data={"email": email, "password": TEST_PASSWORD, "csrf_token": token.group(1)},
            headers={**FORWARDED, "Referer": base.replace("http:", "https:") + "/login"},
            allow_redirects=False,
            timeout=10,
        )
    assert answer.status_code == 302, answer.text
    return answer


@contextmanager
def _waitress(database_url: str, instance: Path, **env: str) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HOMEPROGRAM_")}
    environment.update(
        HOMEPROGRAM_INSTANCE_PATH=str(instance),
        HOMEPROGRAM_DATABASE_URL=database_url,
        HOMEPROGRAM_SECRET_KEY="proxy-test-secret-key",
        HOMEPROGRAM_NOW=clock.now().isoformat(),
        **env,
    )
    server = subprocess.Popen(
        [HOMEPROGRAM, "serve", "--port", str(port), "--no-scheduler", "--threads", "2"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                if requests.get(base + "/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "serve did not answer"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.communicate(timeout=30)


@contextmanager
def _gunicorn(database_url: str, instance: Path, **env: str) -> Iterator[str]:
    with gunicorn(database_url, instance, workers=1, threads=2, **env) as base:
        yield base


@pytest.mark.parametrize("server", [_gunicorn, _waitress], ids=["gunicorn", "waitress"])
@pytest.mark.parametrize(("trusted", "address"), [("1", CLIENT), ("0", "127.0.0.1")])
def test_real_servers_honour_forwarded_headers_only_when_trusted(
    server, trusted, address, database_url, factory, session, tmp_path
):
    """gunicorn and `homeprogram serve` behind one trusted proxy: the audit row has the
    client's address and the https answer carries HSTS; with none trusted, neither."""
    user = factory.therapist()
    with server(database_url, tmp_path / "served", HOMEPROGRAM_TRUSTED_PROXIES=trusted) as base:
        answer = _forwarded_login(base, user.email)
    assert _login_addresses(session) == [address]
    assert ("Strict-Transport-Security" in answer.headers) is (trusted == "1")
