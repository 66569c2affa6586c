"""A staff member's first sign-in from a browser they have not used before is marked
"New device" on their sessions page, where they can end it (issue 15, §6)."""

from sqlalchemy import select

from homeprogram.models import AuditEvent, KnownDevice, UserSession
from homeprogram.services.invites import hash_token
from tests.conftest import TEST_PASSWORD

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def _browser(app, user_agent: str = FIREFOX, ip: str = "198.51.100.20"):
    c = app.test_client()
    c.environ_base = {**c.environ_base, "HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": ip}
    return c


def _sign_in(c, email: str):
    response = c.post("/login", data={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _device_cookie(response) -> str | None:
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("hp_device=")]
    return cookies[0] if cookies else None


def _sessions(session, user) -> list[UserSession]:
    session.expire_all()
    return list(
        session.scalars(
            select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


def test_a_new_browser_is_marked_and_can_be_signed_out(app, factory, session):
    """The account's first browser is remembered without a mark; signing in again there
    is not new; another browser is marked "New device" with its time, address and a
    summary of its browser, audited, and the first browser can sign it out."""
    therapist = factory.therapist(factory.org(), email="t@example.org")
    desk = _browser(app, ip="198.51.100.20")
    _sign_in(desk, "t@example.org")
    desk.post("/logout")
    _sign_in(desk, "t@example.org")
    phone = _browser(app, SAFARI, ip="203.0.113.9")
    _sign_in(phone, "t@example.org")

    first, again, new = _sessions(session, therapist)
    assert first.ended_at is not None and again.ended_at is None
    assert (first.new_device, again.new_device, new.new_device) == (False, False, True)
    page = desk.get("/account/sessions").get_data(as_text=True)
    assert page.count("New device") >= 1
    row = page[page.index("New device") : page.index("New device") + 900]
    assert "Safari on iPhone" in row and "203.0.113.9" in row
    assert "Firefox on Windows" in page
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "login.new_device")).one()
    assert (event.target_id, event.ip, event.detail) == (
        therapist.id,
        "203.0.113.9",
        {"session_id": new.id},
    )

    assert desk.post(f"/account/sessions/{new.id}/end").status_code == 302
    assert phone.get("/caseload").status_code == 302  # sent to log in


def test_the_device_cookie_is_random_long_lived_httponly_and_only_hashed(app, factory, session):
    """The cookie is HttpOnly, SameSite=Lax, kept about 400 days, not Secure over plain
    http; the database keeps only its hash."""
    therapist = factory.therapist(factory.org(), email="t@example.org")
    header = _device_cookie(_sign_in(_browser(app), "t@example.org"))
    assert header is not None
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    assert "Max-Age=34560000" in header
    value = header.split(";", 1)[0].split("=", 1)[1]
    assert len(value) == 43
    stored = session.scalars(select(KnownDevice)).one()
    assert (stored.user_id, stored.token_hash) == (therapist.id, hash_token(value))


def test_over_https_the_device_cookie_is_secure(app, factory):
    """Signed in over https, the device cookie is Secure."""
    factory.therapist(factory.org(), email="t@example.org")
    c = _browser(app)
    response = c.post(
        "/login",
        data={"email": "t@example.org", "password": TEST_PASSWORD},
        base_url="https://homeprogram.test",
        headers={"Referer": "https://homeprogram.test/login"},  # CSRF checks it over https
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    assert "Secure" in _device_cookie(response)


def test_teachers_are_watched_caregivers_are_not(app, factory, session):
    """A teacher's second browser is marked; a caregiver gets no device cookie, nothing is
    stored and no session is ever marked."""
    org = factory.org()
    child = factory.child(org)
    teacher = factory.teacher(child, email="teach@example.org")
    parent = factory.caregiver(child, email="parent@example.org")
    _sign_in(_browser(app), "teach@example.org")
    _sign_in(_browser(app), "teach@example.org")
    assert [s.new_device for s in _sessions(session, teacher)] == [False, True]

    assert _device_cookie(_sign_in(_browser(app), "parent@example.org")) is None
    _sign_in(_browser(app), "parent@example.org")
    assert [s.new_device for s in _sessions(session, parent)] == [False, False]
    assert session.scalars(select(KnownDevice.user_id)).all() == [teacher.id, teacher.id]
    parent_page = _browser(app)
    _sign_in(parent_page, "parent@example.org")
    assert "New device" not in parent_page.get("/account/sessions").get_data(as_text=True)


def test_a_forged_device_cookie_counts_as_a_new_browser(app, factory, session):
    """A cookie value we could not have made is replaced, and the sign-in is new."""
    therapist = factory.therapist(factory.org(), email="t@example.org")
    _sign_in(_browser(app), "t@example.org")
    forged = _browser(app)
    forged.set_cookie("hp_device", "x" * 43 + "<script>", domain="homeprogram.test")
    header = _device_cookie(_sign_in(forged, "t@example.org"))
    assert "<script>" not in header
    assert [s.new_device for s in _sessions(session, therapist)] == [False, True]
