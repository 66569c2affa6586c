"""Static files travel light: no session cookie, no user lookup."""

import time
from types import SimpleNamespace
from typing import Any

import pytest
from flask.testing import FlaskClient


def _signed_in_family(factory: Any, login: Any) -> None:
    org = factory.org()
    child = factory.child(org, therapist=factory.therapist(org))
    parent = factory.caregiver(child)
    login(parent.email)


def _minutes_pass(monkeypatch: pytest.MonkeyPatch, minutes: int) -> None:
    """Move the clock the session cookie is renewed by (only that one) forward."""
    now = time.time() + minutes * 60
    monkeypatch.setattr("homeprogram.auth.time", SimpleNamespace(time=lambda: now))


def test_static_files_do_not_resend_the_session_cookie(
    client: FlaskClient, factory: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signed-in phone gets its session cookie refreshed with pages, not with every file."""
    _signed_in_family(factory, login)
    _minutes_pass(monkeypatch, 5)
    with client.get("/static/css/app.css") as asset:
        assert asset.status_code == 200
        assert "Set-Cookie" not in asset.headers
    page = client.get("/today")
    assert page.status_code == 200
    assert "hp_session=" in page.headers.get("Set-Cookie", "")


def test_the_session_cookie_slides_at_most_once_a_minute(
    client: FlaskClient, factory: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cookie's expiry moves on with use, without re-signing it into every response."""
    _signed_in_family(factory, login)
    _minutes_pass(monkeypatch, 5)
    renewed = client.get("/today")
    cookie = renewed.headers.get("Set-Cookie", "")
    assert "hp_session=" in cookie and "Expires=" in cookie
    for path in ("/today", "/api/v1/me", "/today"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
    _minutes_pass(monkeypatch, 7)
    assert "hp_session=" in client.get("/api/v1/me").headers.get("Set-Cookie", "")
    assert client.get("/today").status_code == 200  # the renewed cookie still signs in


def test_static_files_are_served_without_loading_the_user(
    client: FlaskClient, factory: Any, login: Any, app: Any
) -> None:
    """Serving a file runs no database query for the signed-in user."""
    from sqlalchemy import event

    from homeprogram.extensions import db

    _signed_in_family(factory, login)
    statements: list[str] = []
    engine = db.engine
    assert engine is not None
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with client.get("/static/css/app.css") as asset:
            assert asset.status_code == 200
        assert statements == []
        client.get("/today")
        assert statements, "the page itself does load the user"
    finally:
        event.remove(engine, "before_cursor_execute", listener)
