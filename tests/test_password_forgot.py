"""Forgot password by email (issue 15, §6): the same answer for every address, a
single-use 30-minute link, only its hash stored; using it ends every session."""

import re
import threading
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from homeprogram.models import AuditEvent, PasswordReset, User, UserSession
from homeprogram.services.invites import hash_token
from tests.conftest import TEST_PASSWORD
from tests.smtp_server import body, smtp_fixture, use_smtp  # noqa: F401 (the smtp fixture)

NEW = "a-brand-new-passphrase"


def _answer(response) -> str:
    """The page without what differs between any two requests (the signed CSRF token)."""
    return re.sub(r"[\w-]{20,}\.[\w-]+\.[\w-]+", "", response.get_data(as_text=True))


def _link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/account/reset/\S+)", body(message))
    assert match, body(message)
    return match.group(1)


def _ask(client, address: str):
    return client.post("/account/forgot", data={"email": address})


def _set(client, link: str, password: str = NEW):
    return client.post(link, data={"password": password, "confirm": password})


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_offered_only_when_the_server_sends_email(app, client, smtp):
    """Without SMTP the login page has no "Forgot your password?" and the page says to
    ask the admin (nothing is sent); with SMTP the link and the form are there."""
    assert "Forgot your password?" not in client.get("/login").get_data(as_text=True)
    page = client.get("/account/forgot").get_data(as_text=True)
    assert "does not send email" in page and 'name="email"' not in page
    assert _ask(client, "someone@example.org").status_code == 200
    assert smtp.messages == []

    use_smtp(app, smtp)
    assert "Forgot your password?" in client.get("/login").get_data(as_text=True)
    assert 'name="email"' in client.get("/account/forgot").get_data(as_text=True)


def test_known_and_unknown_addresses_get_the_same_answer(app, client, factory, session, smtp):
    """An address with an account and one without get the same page; each gets one email:
    the account a 30-minute link (only its hash stored), the other a note without one.
    Both requests are audited."""
    use_smtp(app, smtp)
    user = factory.therapist(factory.org(), email="known@example.org")
    known = _ask(client, "Known@Example.org ")
    unknown = _ask(client, "unknown@example.org")

    assert known.status_code == unknown.status_code == 200
    assert "Check your email to continue" in known.get_data(as_text=True)
    assert _answer(known).replace("known@", "unknown@") == _answer(unknown)

    to_known, to_unknown = smtp.messages
    assert to_known["To"] == "known@example.org"
    link = _link(to_known)
    assert "30 minutes" in body(to_known)
    assert to_unknown["To"] == "unknown@example.org"
    assert "/account/reset/" not in body(to_unknown)
    assert "no active account" in body(to_unknown)

    reset = session.scalars(select(PasswordReset)).one()
    token = link.rsplit("/", 1)[1]
    assert (reset.user_id, reset.kind, reset.created_by_id) == (user.id, "self", None)
    assert reset.token_hash == hash_token(token) and token not in reset.token_hash
    assert reset.expires_at - reset.created_at == timedelta(minutes=30)
    requested = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "password_reset.requested")
    ).all()
    assert sorted((e.target_id or 0) for e in requested) == [0, user.id]


def test_the_link_sets_the_password_once_and_ends_every_session(
    app, client, factory, session, smtp, login
):
    """Following the link sets the new password and signs the account out everywhere,
    even the browser that used it; the link then shows that it was already used, and a
    second submission of the form gets that page too (not an error)."""
    use_smtp(app, smtp)
    user = factory.therapist(factory.org(), email="t@example.org")
    laptop = app.test_client()
    login("t@example.org", c=laptop)
    login("t@example.org")
    _ask(app.test_client(), "t@example.org")
    link = _link(smtp.messages[0])

    assert "Choose a new password" in client.get(link).get_data(as_text=True)
    weak = _set(client, link, "short")
    assert weak.status_code == 400 and "Use at least 10 characters." in weak.get_data(as_text=True)
    done = _set(client, link)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    again = _set(client, link, "yet-another-passphrase")

    assert again.status_code == 404
    assert "already used" in again.get_data(as_text=True)
    assert "already used" in client.get(link).get_data(as_text=True)
    assert laptop.get("/caseload").status_code == 302
    assert (
        session.scalar(
            select(func.count()).where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None)
            )
        )
        == 0
    )
    login("t@example.org", NEW, c=app.test_client())
    used = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "password_reset.used")
    ).one()
    assert (used.target_id, used.detail) == (user.id, {"kind": "self"})


def test_two_submissions_at_once_set_the_password_once(app, factory, session, smtp):
    """The reset form sent twice at the same moment: one sets the password, the other is
    told the link was used; neither is a server error."""
    use_smtp(app, smtp)
    factory.user(email="twice@example.org")
    _ask(app.test_client(), "twice@example.org")
    link = _link(smtp.messages[0])
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        c.csrf_token()
    start = threading.Barrier(2)
    codes: list[int] = []

    def submit(c, password):
        start.wait()
        codes.append(_set(c, link, password).status_code)

    threads = [
        threading.Thread(target=submit, args=(c, p))
        for c, p in zip(clients, (NEW, "the-other-passphrase"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [302, 404]
    assert (
        session.scalar(select(func.count()).where(AuditEvent.action == "password_reset.used")) == 1
    )


def test_the_link_expires_after_30_minutes(app, client, factory, session, smtp, clock, login):
    """At 29 minutes the link still opens; after 30 it says it expired and the password
    stays as it was."""
    use_smtp(app, smtp)
    factory.user(email="late@example.org")
    _ask(client, "late@example.org")
    link = _link(smtp.messages[0])
    clock.advance(timedelta(minutes=29))
    assert client.get(link).status_code == 200
    clock.advance(timedelta(minutes=1, seconds=1))

    page = client.get(link)
    assert page.status_code == 404
    assert "It has expired." in page.get_data(as_text=True)
    assert "30 minutes" in page.get_data(as_text=True)
    assert _set(client, link).status_code == 404
    login("late@example.org", TEST_PASSWORD, c=app.test_client())


def test_a_newer_link_replaces_the_older_one(app, client, factory, smtp):
    """Asking twice: only the newest link works."""
    use_smtp(app, smtp)
    factory.user(email="twice@example.org")
    _ask(client, "twice@example.org")
    _ask(client, "twice@example.org")
    first, second = (_link(m) for m in smtp.messages)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_requests_are_rate_limited_per_address_and_per_ip(app, factory, smtp):
    """Five requests an hour for one email address (from any IP), twenty per IP."""
    use_smtp(app, smtp)
    factory.user(email="target@example.org")
    codes = []
    for n in range(6):
        c = app.test_client()
        c.environ_base = {**c.environ_base, "REMOTE_ADDR": f"198.51.100.{n + 1}"}
        codes.append(_ask(c, "target@example.org").status_code)
    assert codes == [200] * 5 + [429]
    assert len(smtp.messages) == 5

    one_ip = app.test_client()
    codes = [_ask(one_ip, f"person{n}@example.org").status_code for n in range(21)]
    assert codes == [200] * 20 + [429]


def test_when_mail_cannot_be_sent_nothing_is_kept(app, client, factory, session, smtp):
    """With the mail server down both kinds of address get the same "try again" answer,
    and no link is left behind."""
    use_smtp(app, smtp)
    app.config["SMTP_PORT"] = 1  # nothing listens there
    factory.user(email="known@example.org")
    known = _ask(client, "known@example.org")
    unknown = _ask(client, "unknown@example.org")
    assert known.status_code == unknown.status_code == 503
    assert "could not send the email" in known.get_data(as_text=True)
    assert _answer(known).replace("known@", "unknown@") == _answer(unknown)
    assert _count(session, PasswordReset) == 0


def test_a_closed_account_gets_the_no_account_note(app, client, factory, session, smtp):
    """A deactivated account's address gets the note without a link, like any unknown one."""
    use_smtp(app, smtp)
    user = factory.user(email="gone@example.org")
    user.active = False
    session.commit()
    assert _ask(client, "gone@example.org").status_code == 200
    assert "/account/reset/" not in body(smtp.messages[0])
    assert _count(session, PasswordReset) == 0
    assert session.get(User, user.id).active is False


@pytest.mark.parametrize("address", ["", "not-an-address"])
def test_a_bad_address_is_refused_with_a_message(app, client, smtp, address):
    """An empty or malformed address gets its message and sends nothing."""
    use_smtp(app, smtp)
    response = _ask(client, address)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert smtp.messages == []


def test_the_link_is_written_in_the_account_owners_language(app, client, factory, smtp):
    """Whoever asks, and in whatever browser, the owner reads the email in their language."""
    use_smtp(app, smtp)
    factory.caregiver(factory.child(factory.org()), email="madre@example.org", locale="es")
    _ask(client, "madre@example.org")  # an English browser (no Accept-Language: English)
    [message] = smtp.messages
    with app.test_request_context(), force_locale("es"):
        subject = gettext("Choose a new Home Program password")
    assert str(make_header(decode_header(message["Subject"]))) == subject
    assert subject != "Choose a new Home Program password"
    assert "30 minutes" not in body(message) and "30 minutos" in body(message)
