"""Sign-up tells nobody who has an account (issue 15, §5b).

Every request is answered "check your email to continue"; the email differs: a new address
gets a confirmation link, an existing one a note that someone tried. The organization and
account are created only when the link is followed.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from homeprogram.models import Organization, OrgMembership, User
from tests.smtp_server import body, smtp_fixture, use_smtp  # noqa: F401 (the smtp fixture)

REQUEST = {
    "org_name": "Riverside OT",
    "name": "Dana Kim",
    "email": "Dana@Example.org",
    "timezone": "Europe/Berlin",
}


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _answer(response) -> str:
    """The page without what differs between any two requests (the signed CSRF token)."""
    return re.sub(r"[\w-]{20,}\.[\w-]+\.[\w-]+", "", response.get_data(as_text=True))


def _link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/signup/confirm/\S+)", body(message))
    assert match, body(message)
    return match.group(1)


def test_existing_and_new_addresses_get_the_same_answer(app, client, factory, session, smtp):
    """Sign-up with a taken address and with a new one answer alike and create nothing;
    the owner of the taken address is told by email, the new one gets its link."""
    use_smtp(app, smtp)
    factory.user(email="taken@example.org")
    taken = client.post("/signup", data={**REQUEST, "email": "taken@example.org"})
    new = client.post("/signup", data={**REQUEST, "email": "fresh@example.org"})

    assert taken.status_code == new.status_code == 200
    assert "Check your email to continue" in taken.get_data(as_text=True)
    assert _answer(taken).replace("taken@", "fresh@") == _answer(new)
    assert _count(session, User) == 1
    assert _count(session, Organization) == 0

    to_owner, to_new = smtp.messages
    assert to_owner["To"] == "taken@example.org"
    assert "tried to sign up" in to_owner["Subject"]
    assert "/signup/confirm/" not in body(to_owner)
    assert to_new["To"] == "fresh@example.org"
    assert "/signup/confirm/" in body(to_new)


def test_following_the_link_creates_the_organization(app, client, session, smtp):
    """The link asks for a password, then creates the organization with its admin and signs
    them in; it works only once."""
    use_smtp(app, smtp)
    client.post("/signup", data=REQUEST)
    link = _link(smtp.messages[0])
    assert "Riverside OT" in client.get(link).get_data(as_text=True)

    weak = client.post(link, data={"password": "password123"})
    assert weak.status_code == 400
    assert "too common" in weak.get_data(as_text=True)
    assert _count(session, User) == 0

    done = client.post(link, data={"password": "plenty-long-passphrase"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/caseload")
    user = session.scalar(select(User).where(User.email == "dana@example.org"))
    member = session.scalar(select(OrgMembership).where(OrgMembership.user_id == user.id))
    assert member.role == "admin"
    assert member.organization.name == "Riverside OT"
    assert member.organization.timezone == "Europe/Berlin"
    assert client.get("/caseload").status_code == 200

    again = app.test_client().post(link, data={"password": "another-long-passphrase"})
    assert again.status_code == 404
    assert _count(session, Organization) == 1


def test_a_link_expires_after_a_day_and_cannot_be_forged(app, client, session, smtp, clock):
    """An expired or altered link creates nothing."""
    use_smtp(app, smtp)
    client.post("/signup", data=REQUEST)
    link = _link(smtp.messages[0])
    assert client.get(link[:-2] + "xx").status_code == 404
    clock.advance(timedelta(hours=24, seconds=1))
    assert client.post(link, data={"password": "plenty-long-passphrase"}).status_code == 404
    assert _count(session, User) == 0


def test_without_email_the_page_says_how_to_get_an_account(client, session):
    """With no SMTP configured, the page says sign-up needs email and how an administrator
    adds people; a posted request creates nothing."""
    page = client.get("/signup").get_data(as_text=True)
    assert "Sign-up needs email" in page
    assert "homeprogram create-user" in page
    response = client.post("/signup", data=REQUEST)
    assert "Sign-up needs email" in response.get_data(as_text=True)
    assert _count(session, User) == 0


@pytest.mark.parametrize("field", ["org_name", "name"])
def test_a_blank_field_is_explained_and_sends_nothing(app, client, smtp, field):
    """A field left blank is explained beside the form; no email goes out."""
    use_smtp(app, smtp)
    response = client.post("/signup", data={**REQUEST, field: " "})
    assert response.status_code == 200
    assert "Check your email" not in response.get_data(as_text=True)
    assert smtp.messages == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 10 characters"),
        ("password123", "too common"),
        ("1234567890", "too common"),
        ("dana@example.org-2026", "your email address"),
    ],
)
def test_a_weak_password_is_refused_on_the_linked_page(
    app, client, session, smtp, password, message
):
    """A weak password is refused beside the field, nothing is saved, the link still works."""
    use_smtp(app, smtp)
    client.post("/signup", data=REQUEST)
    link = _link(smtp.messages[0])
    response = client.post(link, data={"password": password})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(session, User) == 0
    assert client.get(link).status_code == 200
