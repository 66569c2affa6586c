"""Passkeys: registering, signing in with one, the organization's policy, managing them.

The authenticator is a software one (tests/passkey_authenticator.py) with real keys and
signatures, so every check of the server runs; tests/test_passkeys_browser.py does the same
with Chromium's virtual authenticator through passkey.js.
"""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from homeprogram.models import AuditEvent, Organization, UserSession
from homeprogram.models.passkeys import Passkey, PasskeyChallenge
from tests.conftest import TEST_PASSWORD
from tests.passkey_authenticator import SoftAuthenticator, b64url

ORIGIN = "http://homeprogram.test"  # the test app's SERVER_NAME


def _register(client: Any, authenticator: SoftAuthenticator, name: str = "My phone", **kw: Any):
    options = client.post("/account/passkeys/options", json={})
    assert options.status_code == 200, options.get_data(as_text=True)
    credential = authenticator.create(options.get_json(), **kw)
    return client.post("/account/passkeys", json={"credential": credential, "name": name})


def _sign_in(client: Any, authenticator: SoftAuthenticator, **kw: Any):
    options = client.post("/login/passkey/options", json={})
    assert options.status_code == 200
    credential = authenticator.get(options.get_json(), **kw)
    return client.post("/login/passkey", json={"credential": credential})


def _signed_in(client: Any) -> bool:
    return client.get("/account/passkeys").status_code == 200


def _actions(session: Any, user_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where((AuditEvent.target_id == user_id) | (AuditEvent.actor_id == user_id))
            .order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def staff(factory):
    org = factory.org()
    return factory.therapist(org, email="theo@example.org", name="Theo")


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(ORIGIN)


@pytest.fixture
def with_passkey(client, login, staff, authenticator):
    """Theo has one passkey and is signed out again."""
    login("theo@example.org")
    assert _register(client, authenticator).status_code == 200
    client.post("/logout")
    return authenticator


def _set_policy(session: Any, user: Any, policy: str) -> None:
    org = session.scalar(
        select(Organization).where(Organization.id == user.memberships[0].organization_id)
    )
    org.passkey_policy = policy
    session.commit()


# --- registration ------------------------------------------------------------------------


def test_registration_options_ask_for_a_discoverable_verified_passkey(client, login, staff):
    """The options name this site and the account, and ask for a passkey that verifies the
    person; the challenge is kept on the server, the cookie holds only a handle."""
    login("theo@example.org")
    options = client.post("/account/passkeys/options", json={}).get_json()
    assert options["rp"]["id"] == "homeprogram.test"
    assert options["user"]["name"] == "theo@example.org"
    assert options["user"]["id"] != b64url(str(staff.id).encode())
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    with client.session_transaction() as cookie:
        assert options["challenge"] not in str(dict(cookie))


def test_a_registered_passkey_is_listed_and_audited(client, login, staff, session, authenticator):
    """A new passkey appears on the account page with its name and date, and is audited."""
    login("theo@example.org")
    response = _register(client, authenticator, name="Work laptop")
    assert response.status_code == 200
    assert response.get_json()["redirect"] == "/account/passkeys"
    page = client.get("/account/passkeys").get_data(as_text=True)
    assert "Work laptop" in page
    assert "not used yet" in page
    key = session.scalar(select(Passkey).where(Passkey.user_id == staff.id))
    assert key.transports == "internal"
    assert key.credential_id == b64url(authenticator.credentials[0].id)
    assert "passkey.registered" in _actions(session, staff.id)


def test_several_passkeys_and_the_second_excludes_the_first(client, login, staff, authenticator):
    """A person may keep several passkeys; the options exclude those already registered."""
    login("theo@example.org")
    _register(client, authenticator, name="Phone")
    options = client.post("/account/passkeys/options", json={}).get_json()
    assert [c["id"] for c in options["excludeCredentials"]] == [
        b64url(authenticator.credentials[0].id)
    ]
    credential = authenticator.create(options)
    client.post("/account/passkeys", json={"credential": credential, "name": "Laptop"})
    page = client.get("/account/passkeys").get_data(as_text=True)
    assert "Phone" in page and "Laptop" in page


def test_registration_with_a_wrong_challenge_is_refused(client, login, staff, session):
    """An answer to another challenge adds nothing."""
    login("theo@example.org")
    client.post("/account/passkeys/options", json={})
    authenticator = SoftAuthenticator(ORIGIN)
    options = {"rp": {"id": "homeprogram.test"}, "user": {"id": b64url(b"x")}}
    credential = authenticator.create({**options, "challenge": b64url(b"not ours")})
    response = client.post("/account/passkeys", json={"credential": credential, "name": "X"})
    assert response.status_code == 400
    assert "could not be added" in response.get_json()["error"]
    assert session.scalar(select(Passkey)) is None


def test_registration_from_another_origin_is_refused(client, login, staff, session):
    """A passkey made on another site's page (a phishing copy) is not accepted."""
    login("theo@example.org")
    response = _register(client, SoftAuthenticator("http://homeprogram.evil"))
    assert response.status_code == 400
    assert session.scalar(select(Passkey)) is None


def test_a_registration_answer_cannot_be_replayed(client, login, staff, session):
    """The challenge works once: posting the same answer again fails."""
    login("theo@example.org")
    authenticator = SoftAuthenticator(ORIGIN)
    options = client.post("/account/passkeys/options", json={}).get_json()
    credential = authenticator.create(options)
    first = client.post("/account/passkeys", json={"credential": credential, "name": "A"})
    # The cookie's handle is re-planted: the server has forgotten the challenge anyway.
    again = client.post("/account/passkeys", json={"credential": credential, "name": "A"})
    assert first.status_code == 200
    assert again.status_code == 400
    assert len(session.scalars(select(Passkey)).all()) == 1


def test_registration_challenge_expires(client, login, staff, clock, session):
    """A challenge older than five minutes is refused."""
    login("theo@example.org")
    authenticator = SoftAuthenticator(ORIGIN)
    options = client.post("/account/passkeys/options", json={}).get_json()
    clock.advance(timedelta(minutes=5, seconds=1))
    credential = authenticator.create(options)
    response = client.post("/account/passkeys", json={"credential": credential, "name": "A"})
    assert response.status_code == 400
    assert session.scalar(select(Passkey)) is None


def test_a_name_too_long_is_explained(client, login, staff, authenticator):
    """A name over 60 characters gets a clear message and adds nothing."""
    login("theo@example.org")
    response = _register(client, authenticator, name="x" * 61)
    assert response.status_code == 400
    assert "at most 60" in response.get_json()["error"]


def test_garbage_answers_never_break_the_server(client, login, staff):
    """Malformed bodies get a 400 with a message, never a server error."""
    login("theo@example.org")
    for body in [None, {}, {"credential": "x"}, {"credential": {"id": 5}}, [1, 2]]:
        client.post("/account/passkeys/options", json={})
        response = client.post("/account/passkeys", json=body)
        assert response.status_code == 400
        assert response.get_json()["error"]
    for body in [None, {}, {"credential": {"id": "abc", "response": {}}}]:
        client.post("/login/passkey/options", json={})
        response = client.post("/login/passkey", json=body)
        assert response.status_code == 401
        assert response.get_json()["error"]


# --- signing in with a passkey ----------------------------------------------------------


def test_passkey_sign_in_starts_a_normal_session(client, staff, with_passkey, session):
    """Signing in with a passkey alone (no email, no password) starts the same server-side
    session as a password, lands on the person's home page and records the use."""
    response = _sign_in(client, with_passkey)
    assert response.status_code == 200
    assert response.get_json()["redirect"] == "/dashboard"
    assert _signed_in(client)
    logins = session.scalars(
        select(UserSession).where(UserSession.user_id == staff.id, UserSession.ended_at.is_(None))
    ).all()
    assert len(logins) == 1
    key = session.scalar(select(Passkey))
    assert key.last_used_at is not None
    assert key.sign_count == 1
    assert _actions(session, staff.id)[-2:] == ["passkey.used", "login.succeeded"]
    page = client.get("/account/passkeys").get_data(as_text=True)
    assert "last used" in page


def test_passkey_sign_in_keeps_a_safe_next_page(client, staff, with_passkey):
    """The page asked for before signing in is where the passkey sign-in lands."""
    options = client.post("/login/passkey/options", json={}).get_json()
    credential = with_passkey.get(options)
    response = client.post("/login/passkey?next=/caseload", json={"credential": credential})
    assert response.get_json()["redirect"] == "/caseload"


def test_replayed_sign_in_is_refused(client, staff, with_passkey, session):
    """The same signed answer does not sign in twice."""
    options = client.post("/login/passkey/options", json={}).get_json()
    credential = with_passkey.get(options)
    assert client.post("/login/passkey", json={"credential": credential}).status_code == 200
    client.post("/logout")
    with client.session_transaction() as cookie:
        cookie["passkey_challenge"] = "a-handle-that-was-used"
    again = client.post("/login/passkey", json={"credential": credential})
    assert again.status_code == 401
    assert not _signed_in(client)


def test_sign_in_with_a_wrong_challenge_or_origin_is_refused(client, staff, with_passkey, session):
    """An answer to another challenge, or signed for another origin, does not sign in and
    is audited as a failed login."""
    client.post("/login/passkey/options", json={})
    credential = with_passkey.get({"challenge": b64url(b"someone else's challenge")})
    assert client.post("/login/passkey", json={"credential": credential}).status_code == 401
    response = _sign_in(client, with_passkey, origin="http://homeprogram.evil")
    assert response.status_code == 401
    assert "did not sign you in" in response.get_json()["error"]
    assert not _signed_in(client)
    failures = session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
    assert [f.detail["method"] for f in failures] == ["passkey", "passkey"]
    assert all(f.target_id == staff.id for f in failures)


def test_a_sign_count_that_goes_back_is_refused(client, staff, with_passkey):
    """A counter that does not move forward (a cloned authenticator) does not sign in."""
    assert _sign_in(client, with_passkey, sign_count=5).status_code == 200
    client.post("/logout")
    assert _sign_in(client, with_passkey, sign_count=5).status_code == 401
    assert _sign_in(client, with_passkey, sign_count=3).status_code == 401
    assert not _signed_in(client)


def test_passkey_alone_must_verify_the_person(client, staff, with_passkey):
    """Without user verification (PIN, fingerprint) a passkey alone does not sign in."""
    with_passkey.user_verified = False
    assert _sign_in(client, with_passkey).status_code == 401


def test_an_unknown_passkey_does_not_sign_in(client, staff, session):
    """A passkey the site never registered is refused."""
    stranger = SoftAuthenticator(ORIGIN)
    stranger.create(
        {"rp": {"id": "homeprogram.test"}, "user": {"id": b64url(b"u")}, "challenge": "x"}
    )
    assert _sign_in(client, stranger).status_code == 401


def test_a_closed_account_cannot_sign_in_with_its_passkey(client, staff, with_passkey, session):
    """A deactivated person's passkey no longer signs in."""
    staff.active = False
    session.commit()
    assert _sign_in(client, with_passkey).status_code == 401
    assert not _signed_in(client)


def test_login_page_offers_passkey_sign_in_without_inline_script(client):
    """The login page has the passkey button and loads passkey.js as a file (CSP)."""
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with a passkey" in page
    assert '<script src="/static/js/passkey.js" defer></script>' in page
    assert "<script>" not in page


# --- the organization's policy ----------------------------------------------------------


def test_second_factor_policy_asks_for_the_passkey_after_the_password(
    client, login, staff, with_passkey, session
):
    """With "password, then a passkey", the password alone does not sign in; the passkey
    step does."""
    _set_policy(session, staff, "second_factor")
    response = client.post("/login", data={"email": "theo@example.org", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/passkey/next"
    assert not _signed_in(client)
    page = client.get("/login/passkey/next").get_data(as_text=True)
    assert "Confirm with your passkey" in page
    options = client.post("/login/passkey/next/options", json={}).get_json()
    assert [c["id"] for c in options["allowCredentials"]] == [
        b64url(with_passkey.credentials[0].id)
    ]
    credential = with_passkey.get(options)
    done = client.post("/login/passkey/next", json={"credential": credential})
    assert done.status_code == 200
    assert done.get_json()["redirect"] == "/dashboard"
    assert _signed_in(client)


def test_second_factor_needs_that_persons_passkey(client, factory, staff, with_passkey, session):
    """Someone else's passkey does not complete another person's second step."""
    _set_policy(session, staff, "second_factor")
    org = session.get(Organization, staff.memberships[0].organization_id)
    other = factory.therapist(org, email="cole@example.org")
    client.post("/login", data={"email": "cole@example.org", "password": TEST_PASSWORD})
    # Cole has no passkey: he is asked to create one; Theo's passkey does not help him.
    options = client.post("/login/passkey/next/options", json={}).get_json()
    assert "rp" in options  # registration options: Cole enrols
    with client.session_transaction() as cookie:
        cookie["passkey_pending"] = {**cookie["passkey_pending"], "step": "second"}
    options = client.post("/login/passkey/next/options", json={}).get_json()
    credential = with_passkey.get(options)
    assert client.post("/login/passkey/next", json={"credential": credential}).status_code == 401
    assert not _signed_in(client)
    assert other.id != staff.id


def test_staff_without_a_passkey_create_one_right_after_the_password(
    client, staff, session, authenticator
):
    """Under the policy, a staff member with no passkey creates one before being signed in."""
    _set_policy(session, staff, "required")
    response = client.post("/login", data={"email": "theo@example.org", "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/login/passkey/next"
    page = client.get("/login/passkey/next").get_data(as_text=True)
    assert "Create a passkey" in page
    assert not _signed_in(client)
    options = client.post("/login/passkey/next/options", json={}).get_json()
    credential = authenticator.create(options)
    done = client.post("/login/passkey/next", json={"credential": credential, "name": "Desk"})
    assert done.status_code == 200
    assert _signed_in(client)
    assert session.scalar(select(Passkey.name).where(Passkey.user_id == staff.id)) == "Desk"


def test_required_policy_refuses_password_sign_in(client, staff, with_passkey, session):
    """With "passkey only", a right password is refused with a clear message (and audited);
    the passkey signs in."""
    _set_policy(session, staff, "required")
    response = client.post("/login", data={"email": "theo@example.org", "password": TEST_PASSWORD})
    assert response.status_code == 403
    assert "passkey only" in response.get_data(as_text=True)
    assert not _signed_in(client)
    assert "login.refused" in _actions(session, staff.id)
    assert _sign_in(client, with_passkey).status_code == 200


def test_a_wrong_password_still_says_only_that_under_the_policy(
    client, staff, with_passkey, session
):
    """The policy is revealed only after a right password: a wrong one reads as before."""
    _set_policy(session, staff, "required")
    response = client.post(
        "/login", data={"email": "theo@example.org", "password": "nope-nope-nope"}
    )
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert "Email or password is not right." in body
    assert "passkey only" not in body


def test_the_passkey_step_expires(client, staff, with_passkey, session, clock):
    """The step after the password lasts five minutes; then the person logs in again."""
    _set_policy(session, staff, "second_factor")
    client.post("/login", data={"email": "theo@example.org", "password": TEST_PASSWORD})
    clock.advance(timedelta(minutes=6))
    response = client.get("/login/passkey/next")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.post("/login/passkey/next/options", json={}).status_code == 400


def test_families_are_not_affected_by_the_staff_policy(client, factory, staff, session, login):
    """A caregiver of the organization's child signs in with a password as before."""
    org = session.get(Organization, staff.memberships[0].organization_id)
    child = factory.child(org, therapist=staff)
    factory.caregiver(child, email="pat@example.org")
    _set_policy(session, staff, "required")
    login("pat@example.org")


def test_admin_sets_the_policy_and_it_is_audited(client, factory, login, session):
    """The admin chooses the policy on the staff sign-in page; the change is audited; a
    value that is not an option changes nothing."""
    org = factory.org()
    admin = factory.therapist(org, admin=True, email="ada@example.org")
    login("ada@example.org")
    page = client.get("/org/security").get_data(as_text=True)
    assert "Password, then a passkey" in page
    assert client.post("/org/security", data={"policy": "whatever"}).status_code == 400
    response = client.post("/org/security", data={"policy": "second_factor"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Organization, org.id).passkey_policy == "second_factor"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "org.passkey_policy_set"))
    assert event.detail == {"old": "none", "new": "second_factor"}
    assert event.actor_id == admin.id


# --- managing passkeys ------------------------------------------------------------------


def test_rename_and_remove(client, login, staff, with_passkey, session):
    """A passkey can be renamed and removed; a removed passkey no longer signs in."""
    login("theo@example.org")
    key = session.scalar(select(Passkey))
    bad = client.post(f"/account/passkeys/{key.id}/rename", data={"name": "  "})
    assert bad.status_code == 400
    assert "Enter a name" in bad.get_data(as_text=True)
    client.post(f"/account/passkeys/{key.id}/rename", data={"name": "Old phone"})
    assert "Old phone" in client.get("/account/passkeys").get_data(as_text=True)
    assert client.post(f"/account/passkeys/{key.id}/remove").status_code == 302
    assert session.scalar(select(Passkey)) is None
    assert {"passkey.renamed", "passkey.removed"} <= set(_actions(session, staff.id))
    client.post("/logout")
    assert _sign_in(client, with_passkey).status_code == 401


def test_the_last_passkey_stays_while_the_policy_needs_it(client, staff, with_passkey, session):
    """Under a passkey policy the last passkey cannot be removed (the account must keep a
    way to sign in); a second one makes the first removable."""
    _set_policy(session, staff, "required")
    _sign_in(client, with_passkey)
    key = session.scalar(select(Passkey))
    response = client.post(f"/account/passkeys/{key.id}/remove", follow_redirects=True)
    assert "add another passkey before you remove" in response.get_data(as_text=True)
    assert session.scalar(select(Passkey)) is not None
    _register(client, SoftAuthenticator(ORIGIN), name="Spare key")
    client.post(f"/account/passkeys/{key.id}/remove")
    names = session.scalars(select(Passkey.name)).all()
    assert names == ["Spare key"]


def test_nobody_else_can_rename_or_remove_my_passkey(
    client, factory, login, staff, with_passkey, session
):
    """Another person's passkey answers 404 and is unchanged."""
    factory.therapist(email="cole@example.org")
    login("cole@example.org")
    key = session.scalar(select(Passkey))
    assert (
        client.post(f"/account/passkeys/{key.id}/rename", data={"name": "Mine"}).status_code == 404
    )
    assert client.post(f"/account/passkeys/{key.id}/remove").status_code == 404
    session.expire_all()
    assert session.scalar(select(Passkey.name)) == "My phone"


def test_old_challenges_are_cleared(client, login, staff, session, clock):
    """Expired challenges do not pile up: they are deleted when new ones are made."""
    login("theo@example.org")
    client.post("/account/passkeys/options", json={})
    clock.advance(timedelta(minutes=10))
    client.post("/login/passkey/options", json={})
    assert len(session.scalars(select(PasskeyChallenge)).all()) == 1


def test_new_staff_joining_by_invite_create_a_passkey_first(client, factory, session):
    """A colleague who accepts a staff invite into an organization with a passkey policy
    creates a passkey before being signed in, as after a password sign-in."""
    from homeprogram.services import invites
    from homeprogram.services.audit import SYSTEM

    org = factory.org()
    org.passkey_policy = "second_factor"
    session.commit()
    _, token = invites.create_invite(
        session,
        SYSTEM,
        organization_id=org.id,
        role="therapist",
        child_id=None,
        valid_for=timedelta(days=3),
    )
    session.commit()
    response = client.post(
        f"/invite/{token}",
        data={
            "new-name": "Nia",
            "new-email": "nia@example.org",
            "new-password": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/passkey/next"
    assert not _signed_in(client)
    options = client.post("/login/passkey/next/options", json={}).get_json()
    credential = SoftAuthenticator(ORIGIN).create(options)
    assert client.post("/login/passkey/next", json={"credential": credential}).status_code == 200
    assert _signed_in(client)


@pytest.mark.parametrize("app_config", [{"SERVER_NAME": "127.0.0.1:5000"}])
def test_an_ip_address_gets_a_clear_message(client, app_config):
    """Opened at an IP address (the demo's 127.0.0.1), passkeys explain that localhost works."""
    response = client.post("/login/passkey/options", json={})
    assert response.status_code == 400
    assert "http://localhost" in response.get_json()["error"]


@pytest.mark.parametrize(
    "app_config",
    [{"WEBAUTHN_ORIGIN": "https://ot.example.org", "WEBAUTHN_RP_ID": "example.org"}],
)
def test_the_site_identity_comes_from_configuration(client, login, staff, app_config, session):
    """Behind a proxy, the configured origin and RP ID are used, not the request's host."""
    login("theo@example.org")
    options = client.post("/account/passkeys/options", json={}).get_json()
    assert options["rp"]["id"] == "example.org"
    ok = _register(client, SoftAuthenticator("https://ot.example.org"))
    assert ok.status_code == 200
    wrong = _register(client, SoftAuthenticator(ORIGIN))
    assert wrong.status_code == 400
