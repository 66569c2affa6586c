"""Passkeys in a real browser: Chromium's virtual authenticator (DevTools protocol) creates
and uses passkeys through static/js/passkey.js against the live server.

WebAuthn refuses an IP address as the site's identity, so the pages are opened at
http://localhost:PORT (a secure context) on the shared live server.
"""

from typing import Any

from sqlalchemy import select

from homeprogram.models import Organization
from homeprogram.models.passkeys import Passkey
from tests.browser import check_accessibility
from tests.conftest import TEST_PASSWORD


def _localhost(live_server: Any) -> str:
    """The live server's origin as localhost; links the app writes follow."""
    port = live_server.server.server_port
    live_server.app.config["SERVER_NAME"] = f"localhost:{port}"
    return f"http://localhost:{port}"


def _authenticator(page: Any) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp


def _password_log_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


def test_register_a_passkey_then_sign_in_with_it(live_server, new_page, factory, session):
    """A therapist creates a passkey on the account page, logs out, and signs back in with
    the passkey alone: no email, no password."""
    from playwright.sync_api import expect

    base = _localhost(live_server)
    factory.therapist(email="theo@example.org", name="Theo")
    page = new_page()
    _authenticator(page)
    _password_log_in(page, base, "theo@example.org")
    page.goto(base + "/account/passkeys")
    page.get_by_label("Name for the new passkey (optional)").fill("Test phone")
    page.get_by_role("button", name="Create a passkey").click()
    expect(page.get_by_text("Passkey “Test phone” added.")).to_be_visible()
    expect(page.get_by_role("heading", name="Test phone")).to_be_visible()
    check_accessibility(page, "passkeys page")
    key = session.scalar(select(Passkey))
    assert key.transports == "internal"

    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    page.goto(base + "/login")
    check_accessibility(page, "login page with passkey button")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(base + "/dashboard")
    session.expire_all()
    assert session.scalar(select(Passkey.last_used_at)) is not None


def test_staff_create_their_passkey_right_after_the_password(
    live_server, new_page, factory, session
):
    """Under a passkey-only policy, a staff member without a passkey creates one after the
    password and is then signed in; the next password sign-in is refused."""
    from playwright.sync_api import expect

    base = _localhost(live_server)
    org = factory.org()
    factory.therapist(org, email="cole@example.org", name="Cole")
    session.get(Organization, org.id).passkey_policy = "required"
    session.commit()
    page = new_page()
    _authenticator(page)
    _password_log_in(page, base, "cole@example.org")
    assert page.url == base + "/login/passkey/next"
    check_accessibility(page, "create a passkey after the password")
    page.get_by_role("button", name="Create a passkey").click()
    page.wait_for_url(base + "/dashboard")

    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    _password_log_in(page, base, "cole@example.org")
    expect(page.get_by_text("signs staff in with a passkey only")).to_be_visible()
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(base + "/dashboard")


def test_admin_policy_page_is_accessible(live_server, new_page, factory, session):
    """The admin's staff sign-in page passes the accessibility checks and saves a choice."""
    from playwright.sync_api import expect

    base = _localhost(live_server)
    org = factory.org()
    factory.therapist(org, admin=True, email="ada@example.org", name="Ada")
    page = new_page()
    _password_log_in(page, base, "ada@example.org")
    page.goto(base + "/org/security")
    check_accessibility(page, "staff sign-in policy")
    page.get_by_label("Password, then a passkey").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The sign-in policy for your staff is saved.")).to_be_visible()
    session.expire_all()
    assert session.get(Organization, org.id).passkey_policy == "second_factor"
