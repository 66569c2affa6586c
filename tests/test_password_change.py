"""A signed-in person changes their password (issue 15, §6): the current password first,
then the password rules; their other sessions end, this one stays."""

from sqlalchemy import select

from homeprogram.models import AuditEvent, User, UserSession
from tests.conftest import TEST_PASSWORD

NEW = "a-brand-new-passphrase"


def _change(client, current: str = TEST_PASSWORD, new: str = NEW, confirm: str | None = None):
    data = {"current_password": current, "password": new, "confirm": confirm or new}
    return client.post("/account/password", data=data)


def _hash(session, user) -> str:
    session.expire_all()
    return session.get(User, user.id).password_hash


def _live_sessions(session, user) -> int:
    rows = session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    )
    return len(list(rows))


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    app, client, factory, session, login
):
    """With the right current password the new one works at once, the old one no longer;
    the other browser is signed out, this one stays signed in; the change is audited."""
    therapist = factory.therapist(factory.org(), email="t@example.org")
    phone = app.test_client()
    login("t@example.org", c=phone)
    login("t@example.org")
    assert "Change your password" in client.get("/account/sessions").get_data(as_text=True)
    assert client.get("/account/password").status_code == 200
    with client.session_transaction() as cookie:
        old_token = cookie["_user_id"]

    response = _change(client)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/sessions")
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "signed out on your other devices" in page
    assert phone.get("/caseload").status_code == 302  # sent to log in
    assert client.get("/caseload").status_code == 200
    assert _live_sessions(session, therapist) == 1
    # This browser's session continues under a new token; the old one no longer works.
    with client.session_transaction() as cookie:
        assert cookie["_user_id"] != old_token
    stale = app.test_client()
    with stale.session_transaction() as cookie:
        cookie["_user_id"] = old_token
    assert stale.get("/caseload").status_code == 302
    assert (
        app.test_client()
        .post("/login", data={"email": "t@example.org", "password": TEST_PASSWORD})
        .status_code
        == 401
    )
    login("t@example.org", NEW, c=app.test_client())
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_id == therapist.id)
    ).all()
    assert "user.password_set" in actions


def test_a_wrong_current_password_changes_nothing_and_says_so(app, client, factory, session, login):
    """A wrong current password: a clear message, the password and the other sessions
    stay, and the failed check is in the audit trail as a failed sign-in."""
    parent = factory.caregiver(factory.child(factory.org()), email="p@example.org")
    before = _hash(session, parent)
    phone = app.test_client()
    login("p@example.org", c=phone)
    login("p@example.org")

    response = _change(client, current="not my password at all")

    assert response.status_code == 400
    assert "This is not your current password." in response.get_data(as_text=True)
    assert _hash(session, parent) == before
    assert _live_sessions(session, parent) == 2
    assert phone.get("/account/sessions").status_code == 200
    failed = session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).one()
    assert (failed.target_id, failed.detail) == (parent.id, {"during": "password_change"})


def test_the_new_password_follows_the_rules(client, factory, session, login):
    """A short, common or mismatched new password is refused with its reason; nothing
    changes."""
    user = factory.therapist(factory.org(), email="rules@example.org")
    before = _hash(session, user)
    login("rules@example.org")
    short = _change(client, new="short")
    assert short.status_code == 400
    assert "Use at least 10 characters." in short.get_data(as_text=True)
    common = _change(client, new="aaaaaaaaaaaa")
    assert "too common" in common.get_data(as_text=True)
    mismatch = _change(client, confirm="something-else-entirely")
    assert "The two passwords are not the same." in mismatch.get_data(as_text=True)
    assert _hash(session, user) == before
    assert client.get("/caseload").status_code == 200  # still signed in


def test_guessing_the_current_password_slows_sign_in_too(app, client, factory, session, login):
    """Wrong current passwords count as failed sign-ins: after five, the login page and
    the change form both ask to wait, even with the right password."""
    factory.therapist(factory.org(), email="slow@example.org")
    login("slow@example.org")
    for _ in range(5):
        assert _change(client, current="a wrong guess here").status_code == 400

    waiting = _change(client)
    assert waiting.status_code == 429
    assert "wait" in waiting.get_data(as_text=True).lower()
    other = app.test_client()
    refused = other.post("/login", data={"email": "slow@example.org", "password": TEST_PASSWORD})
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)


def test_failed_sign_ins_elsewhere_slow_the_change_form(app, client, factory, session, login):
    """After five failed sign-ins on the login page the change form waits too, without
    checking the password, and changes nothing."""
    user = factory.therapist(factory.org(), email="busy@example.org")
    login("busy@example.org")
    before = _hash(session, user)
    for n in range(5):
        attacker = app.test_client()
        attacker.environ_base = {**attacker.environ_base, "REMOTE_ADDR": f"203.0.113.{n + 1}"}
        attacker.post("/login", data={"email": "busy@example.org", "password": "guess"})

    response = _change(client)

    assert response.status_code == 429
    assert "Too many failed attempts for this account" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert _hash(session, user) == before
