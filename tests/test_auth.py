"""Sign-up, login, logout, sessions, idle timeout, rate limits and CSRF."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from homeprogram.models import AuditEvent, UserSession
from homeprogram.models.base import utcnow
from tests.conftest import TEST_PASSWORD

# Sign-up (an emailed link, the same answer for every address): tests/test_signup_privacy.py


def test_login_wrong_password_and_unknown_email_look_the_same(client, factory):
    """The login form does not tell whether an account exists."""
    factory.user(email="known@example.org")
    known = client.post("/login", data={"email": "known@example.org", "password": "wrong-one-xx"})
    unknown = client.post(
        "/login", data={"email": "nobody@example.org", "password": "wrong-one-xx"}
    )
    assert known.status_code == unknown.status_code == 401
    assert "Email or password is not right." in known.get_data(as_text=True)
    assert "Email or password is not right." in unknown.get_data(as_text=True)


def test_login_is_audited_and_starts_a_new_session(client, factory, session, login):
    """Login failures and successes are audited; a login replaces any previous cookie session."""
    org = factory.org()
    user = factory.therapist(org, email="t@example.org")
    client.post("/login", data={"email": "t@example.org", "password": "not-the-password"})
    with client.session_transaction() as sess:
        sess["planted"] = "attacker-chosen"
    login("t@example.org")
    with client.session_transaction() as sess:
        assert "planted" not in sess
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_id == user.id).order_by(AuditEvent.id)
    ).all()
    assert actions == ["login.failed", "login.succeeded"]


def test_logout_ends_the_server_session(client, factory, session, login):
    """After logout, replaying the old session cookie does not get back in."""
    org = factory.org()
    factory.therapist(org, email="t@example.org")
    login("t@example.org")
    with client.session_transaction() as sess:
        stolen = dict(sess)
    assert client.post("/logout").status_code == 302
    with client.session_transaction() as sess:
        sess.update(stolen)
    response = client.get("/caseload")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert session.scalar(select(UserSession.ended_at)) is not None


def test_logout_needs_csrf_token(client, factory, login):
    """A cross-site POST without the CSRF token is refused and changes nothing."""
    org = factory.org()
    factory.therapist(org, email="t@example.org")
    login("t@example.org")
    response = client.post("/logout", csrf=False)
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert client.get("/caseload").status_code == 200


def test_staff_idle_timeout_signs_out(client, factory, session, login):
    """A staff session idle for more than 30 minutes is signed out with a message."""
    org = factory.org()
    factory.therapist(org, email="t@example.org")
    login("t@example.org")
    session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    session.commit()
    response = client.get("/caseload")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "signed out after a period of inactivity" in page


def test_signed_out_htmx_request_opens_the_login_page_instead_of_swapping_it_in(
    client, factory, session, login
):
    """An htmx request after the session ended gets HX-Redirect to the login page, back to
    the page the person was on; a plain request still gets the usual redirect."""
    org = factory.org()
    factory.therapist(org, email="t@example.org")
    login("t@example.org")
    session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    session.commit()
    response = client.get(
        "/caseload",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "https://evil.example/caseload?sort=name",
        },
    )
    assert response.status_code == 401
    assert response.get_data() == b""
    assert response.headers["HX-Redirect"] == "/login?next=/caseload?sort%3Dname"
    page = client.get(response.headers["HX-Redirect"]).get_data(as_text=True)
    assert "signed out after a period of inactivity" in page

    plain = client.get("/caseload")
    assert plain.status_code == 302
    assert plain.headers["Location"].startswith("/login?next=/caseload")


def test_active_staff_session_is_kept(client, factory, session, login):
    """A staff session used 29 minutes ago is still valid."""
    org = factory.org()
    factory.therapist(org, email="t@example.org")
    login("t@example.org")
    session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=29)))
    session.commit()
    assert client.get("/caseload").status_code == 200


def test_last_seen_is_written_only_when_a_minute_old(client, factory, session, login):
    """A request moves the session's last-seen time on only when it is over a minute old:
    reads in between write nothing, and the idle timeout still counts from the last use."""
    org = factory.org()
    factory.therapist(org, email="t@example.org")
    login("t@example.org")
    recent = utcnow() - timedelta(seconds=30)
    session.execute(update(UserSession).values(last_seen_at=recent))
    assert client.get("/caseload").status_code == 200
    assert session.scalar(select(UserSession.last_seen_at)) == recent
    stale = utcnow() - timedelta(minutes=2)
    session.execute(update(UserSession).values(last_seen_at=stale))
    assert client.get("/caseload").status_code == 200
    assert session.scalar(select(UserSession.last_seen_at)) > utcnow() - timedelta(minutes=1)


@pytest.fixture
def app_config():
    return {"LOGIN_LIMIT_PER_ACCOUNT": "3 per 15 minutes", "LOGIN_LIMIT_PER_IP": "5 per 15 minutes"}


def test_login_rate_limited_per_account(client, factory):
    """After repeated wrong passwords for one account from one address, even the right one is
    refused from that address for a while (other addresses: tests/test_login_throttle.py)."""
    factory.user(email="victim@example.org")
    for _ in range(3):
        client.post("/login", data={"email": "victim@example.org", "password": "guess-guess"})
    response = client.post(
        "/login", data={"email": "victim@example.org", "password": TEST_PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_login_rate_limited_per_ip(client, factory):
    """Many failed logins from one address across accounts are slowed down."""
    for n in range(5):
        client.post("/login", data={"email": f"u{n}@example.org", "password": "guess-guess"})
    response = client.post("/login", data={"email": "other@example.org", "password": "guess-guess"})
    assert response.status_code == 429


def test_successful_logins_are_not_counted(client, factory, login):
    """Logging in correctly many times never trips the per-account limit."""
    factory.user(email="busy@example.org")
    for _ in range(5):
        login("busy@example.org")
        client.post("/logout")
    login("busy@example.org")


def test_open_redirect_is_refused(client, factory):
    """A login link cannot send the user to another site afterwards."""
    factory.user(email="x@example.org")
    response = client.post(
        "/login?next=//evil.example/phish",
        data={"email": "x@example.org", "password": TEST_PASSWORD},
    )
    assert "evil.example" not in response.headers["Location"]


def test_cookies_are_httponly_and_samesite(client, factory):
    """The session cookie is HttpOnly and SameSite=Lax."""
    factory.user(email="c@example.org")
    response = client.post("/login", data={"email": "c@example.org", "password": TEST_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
