"""Static files travel light: no session cookie, no user lookup."""

from typing import Any

from flask.testing import FlaskClient


def _signed_in_family(factory: Any, login: Any) -> None:
    org = factory.org()
    child = factory.child(org, therapist=factory.therapist(org))
    parent = factory.caregiver(child)
    login(parent.email)


def test_static_files_do_not_resend_the_session_cookie(
    client: FlaskClient, factory: Any, login: Any
) -> None:
    """A signed-in phone gets its session cookie refreshed with pages, not with every file."""
    _signed_in_family(factory, login)
    page = client.get("/today")
    assert page.status_code == 200
    assert "hp_session=" in page.headers.get("Set-Cookie", "")
    with client.get("/static/css/app.css") as asset:
        assert asset.status_code == 200
        assert "Set-Cookie" not in asset.headers


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
