"""Security headers, API rate limits (memory and Redis), sessions, password links."""

import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from homeprogram.models import AuditEvent, PasswordReset, UserSession
from tests.conftest import TEST_PASSWORD
from tests.urlmap import build_url, get_rules

CSP_REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
INLINE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|\sstyle\s*=|\son[a-z]+\s*=", re.IGNORECASE)


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


def _check_headers(response, url: str) -> None:
    csp = _csp(response)
    for directive, value in CSP_REQUIRED.items():
        assert csp.get(directive) == value, (url, directive, csp)
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
    assert response.headers["X-Content-Type-Options"] == "nosniff", url
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", url
    assert response.headers["X-Frame-Options"] == "DENY", url
    assert "Strict-Transport-Security" not in response.headers, url


def test_every_get_page_sends_security_headers(app, client, factory, session, login):
    """Every GET route (anonymous and signed in) carries the CSP and the other headers, and
    no HTML page has inline script, style attributes or event handlers."""
    org = factory.org()
    admin = factory.therapist(org, admin=True, email="admin@example.org")
    world = {"child": factory.child(org, therapist=admin), "org": org, "user": admin}
    rules = get_rules(app, "GET")
    assert rules
    pages = 0
    for signed_in in (False, True):
        if signed_in:
            login("admin@example.org")
        for rule in rules:
            url = build_url(app, rule, world)
            response = client.get(url)
            response.close()
            _check_headers(response, url)
            if response.status_code == 200 and response.mimetype == "text/html":
                pages += 1
                html = response.get_data(as_text=True)
                assert not INLINE.search(html), (url, INLINE.search(html).group(0))
    assert pages >= 5


def test_invite_qr_code_has_no_style_attributes(client, factory, login):
    """The QR code SVG of an invite uses no style attribute the CSP would block."""
    org = factory.org()
    therapist = factory.therapist(org, email="t@example.org")
    child = factory.child(org, therapist=therapist)
    login("t@example.org")
    html = client.post(
        f"/children/{child.id}/invites", data={"role": "caregiver", "label": ""}
    ).get_data(as_text=True)
    assert "<svg" in html
    assert not INLINE.search(html)


@pytest.mark.parametrize("app_config", [{"HSTS_ENABLED": True}])
def test_hsts_only_over_https(client, app_config):
    """With HSTS on, it is sent on HTTPS requests only, and HTTP is not redirected."""
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert client.get("/login").status_code == 200
    secure = client.get("/login", base_url="https://homeprogram.test")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("app_config", [{"API_RATE_LIMIT": "3 per minute"}])
def test_api_rate_limit_answers_problem_json(client, app_config):
    """The API has a per-caller budget; past it the answer is 429 problem+json."""
    statuses = [client.get("/api/v1/nothing-here").status_code for _ in range(4)]
    assert statuses[:3] == [404, 404, 404]
    assert statuses[3] == 429
    response = client.get("/api/v1/nothing-here")
    assert response.content_type == "application/problem+json"
    # Another caller (a different bearer token) has its own budget.
    other = client.get("/api/v1/nothing-here", headers={"Authorization": "Bearer other"})
    assert other.status_code == 404


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


_COUNTER = """
import sys
from homeprogram import create_app
app = create_app({"TESTING": True, "DATABASE_URL": sys.argv[1], "SECRET_KEY": "k",
                  "RATELIMIT_STORAGE_URL": sys.argv[2], "API_RATE_LIMIT": "5 per minute"})
client = app.test_client()
bearer = {"Authorization": "Bearer " + sys.argv[3]}  # unique per test run
codes = [client.get("/api/v1/x", headers=bearer).status_code
         for _ in range(int(sys.argv[4]))]
print(" ".join(map(str, codes)))
"""


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_two_app_instances_share_the_count_in_redis(database_url, tmp_path):
    """With Redis storage, two app processes count against one API budget."""
    prefix = f"hp-test-{uuid.uuid4().hex}"
    redis_url = "redis://127.0.0.1:6379/15"
    root = Path(__file__).resolve().parent.parent

    def run(n: int) -> list[int]:
        out = subprocess.run(
            [sys.executable, "-c", _COUNTER, database_url, redis_url, prefix, str(n)],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
            env={"PYTHONPATH": str(root), "HOMEPROGRAM_INSTANCE_PATH": str(tmp_path / "i")},
        )
        return [int(code) for code in out.stdout.split()]

    assert run(3) == [404, 404, 404]
    assert run(3) == [404, 404, 429]  # the second process sees the first one's hits


def test_user_sees_and_ends_other_sessions(app, client, factory, session, login):
    """A therapist lists their sessions and ends another one; that browser is signed out."""
    org = factory.org()
    factory.therapist(org, email="t@example.org")
    other = app.test_client()
    login("t@example.org", c=other)
    login("t@example.org")
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "This browser" in page and "Sign out" in page
    theirs = session.scalars(select(UserSession).order_by(UserSession.id)).first()
    assert client.post(f"/account/sessions/{theirs.id}/end").status_code == 302
    assert other.get("/caseload").status_code == 302  # signed out
    assert client.get("/caseload").status_code == 200
    assert session.scalar(select(func.count()).where(AuditEvent.action == "session.ended")) == 1


def test_signed_in_devices_are_not_called_sessions(app, client, factory, session, login):
    """Parents read "sessions" as practice sessions: the menu, the page and its messages
    name signed-in devices instead."""
    org = factory.org()
    child = factory.child(org, therapist=factory.therapist(org))
    factory.caregiver(child, email="parent@example.org")
    other = app.test_client()
    login("parent@example.org", c=other)
    login("parent@example.org")
    today = client.get("/today").get_data(as_text=True)
    menu = re.search(r'<ul class="nav-links">(.*?)</ul>', today, re.S).group(1)
    link = re.search(r'<a href="/account/sessions"[^>]*>(.*?)</a>', menu).group(1)
    assert link == "Signed-in devices"
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "<title>Signed-in devices" in page
    theirs = session.scalars(select(UserSession).order_by(UserSession.id)).first()
    client.post(f"/account/sessions/{theirs.id}/end")
    page = client.get("/account/sessions").get_data(as_text=True)
    words = " ".join(re.sub(r"<[^>]+>", " ", page.split("<body", 1)[1]).split())
    assert "signed out" in words
    assert not re.search(r"\bsessions?\b", words, re.IGNORECASE), words


def test_sessions_of_others_are_404_but_admin_can_end_them(app, client, factory, session, login):
    """A therapist cannot end a colleague's session (404); the org admin can."""
    org = factory.org()
    factory.therapist(org, admin=True, email="admin@example.org")
    factory.therapist(org, email="t@example.org")
    outsider = factory.therapist(factory.org(), email="x@example.org")
    colleague = app.test_client()
    login("t@example.org", c=colleague)
    stranger = app.test_client()
    login("x@example.org", c=stranger)
    target = session.scalars(select(UserSession).order_by(UserSession.id)).first()
    assert stranger.post(f"/account/sessions/{target.id}/end").status_code == 404
    login("admin@example.org")
    assert "t@example.org" not in client.get("/account/sessions").get_data(as_text=True)
    assert client.post(f"/account/sessions/{target.id}/end").status_code == 302
    assert colleague.get("/caseload").status_code == 302
    outsider_session = session.scalar(select(UserSession).where(UserSession.user_id == outsider.id))
    assert client.post(f"/account/sessions/{outsider_session.id}/end").status_code == 404


def test_admin_issued_password_link(app, client, factory, session, login):
    """An admin issues a single-use password link; using it sets the password and signs the
    person out everywhere; the link then stops working."""
    org = factory.org()
    factory.therapist(org, admin=True, email="admin@example.org")
    member_user = factory.therapist(org, email="t@example.org")
    theirs = app.test_client()
    login("t@example.org", c=theirs)
    login("admin@example.org")
    from homeprogram.models import OrgMembership

    member = session.scalar(select(OrgMembership).where(OrgMembership.user_id == member_user.id))
    page = client.post(f"/org/staff/{member.id}/reset-link").get_data(as_text=True)
    link = re.search(r'value="https?://[^/]+(/account/reset/[^"]+)"', page).group(1)
    assert session.scalar(select(func.count(PasswordReset.id))) == 1
    assert session.scalar(select(PasswordReset.token_hash)) not in page
    anon = app.test_client()
    bad = anon.post(link, data={"password": "a-brand-new-passphrase", "confirm": "different"})
    assert bad.status_code == 400
    ok = anon.post(
        link, data={"password": "a-brand-new-passphrase", "confirm": "a-brand-new-passphrase"}
    )
    assert ok.status_code == 302
    assert theirs.get("/caseload").status_code == 302  # old sessions ended
    assert anon.get(link).status_code == 404  # single use
    assert login("t@example.org", "a-brand-new-passphrase", c=app.test_client())


@pytest.mark.parametrize("app_config", [{"PASSWORD_RESET_LIMIT": "2 per hour"}])
def test_password_link_is_rate_limited(client, app_config):
    """Guessing password links is rate limited."""
    codes = [
        client.post(f"/account/reset/guess{i}", data={"password": "x", "confirm": "x"}).status_code
        for i in range(3)
    ]
    assert codes == [404, 404, 429]


def test_password_link_needs_admin_of_same_org(client, factory, session, login):
    """Only an admin of the member's organization can issue a link (404 otherwise)."""
    org = factory.org()
    factory.therapist(factory.org(), admin=True, email="other-admin@example.org")
    member_user = factory.therapist(org, email="t@example.org")
    from homeprogram.models import OrgMembership

    member = session.scalar(select(OrgMembership).where(OrgMembership.user_id == member_user.id))
    login("other-admin@example.org")
    assert client.post(f"/org/staff/{member.id}/reset-link").status_code == 404
    assert session.scalar(select(func.count(PasswordReset.id))) == 0
    assert TEST_PASSWORD


@pytest.mark.parametrize(
    "app_config", [{"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}]
)
def test_database_down_answers_503(client, app_config):
    """With the database unreachable, pages, the health check and the API answer 503 with
    Retry-After (a clear error, not a crash)."""
    with client.session_transaction() as cookie:
        cookie["_user_id"] = "some-session-token"  # makes the app look the user up
    page = client.get("/caseload")
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "briefly unavailable" in page.get_data(as_text=True)
    assert client.get("/healthz").status_code == 503
    api = client.get("/api/v1/me")
    assert api.status_code == 503 and api.content_type == "application/problem+json"


def test_huge_ids_in_urls_are_404(app, client, factory, login):
    """An id beyond the database's integer range in any URL answers 404 (or 405), never 500."""
    org = factory.org()
    factory.therapist(org, admin=True, email="admin@example.org")
    login("admin@example.org")
    checked = 0
    for rule in get_rules(app):
        if not any(type(c).__name__ == "IdConverter" for c in rule._converters.values()):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<int:{name}>", str(2**70)).replace(f"<{name}>", "x")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            # No rule matches; Werkzeug may say 405 when the path shape fits another method's
            # rule. Either way: no database access, no 500, nothing revealed.
            assert response.status_code in {404, 405}, (method, url, response.status_code)
            checked += 1
    assert checked > 10
