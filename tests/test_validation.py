"""One rule for an email address and one for a time zone, applied wherever a person or a
command gives one: sign-up, invites, the child form, the services the CLI calls."""

import re

import pytest
from sqlalchemy import func, select

from homeprogram.models import Child, Invite, Organization, User
from homeprogram.services import accounts, validation
from homeprogram.services.audit import SYSTEM
from homeprogram.services.errors import ValidationFailed

BAD_EMAILS = ["not-an-email", "ot@", "@example.org", "ot@example", "o t@example.org", "ot@@x.org"]
BAD_ZONES = ["Mars/Olympus", "", "utc+2", "Europe/Berlin ", "../../etc/passwd"]


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_the_email_rule_refuses_what_is_not_an_address(email):
    """Malformed addresses get a message that says what is expected."""
    assert validation.email_problem(email)


@pytest.mark.parametrize("email", ["ot@example.org", "Dana.Kim+ot@sunrise-therapy.org"])
def test_the_email_rule_accepts_addresses(email):
    """Ordinary addresses, with dots, plus signs and capitals, pass."""
    assert validation.email_problem(email) is None


@pytest.mark.parametrize("zone", BAD_ZONES)
def test_the_time_zone_rule_refuses_names_zoneinfo_cannot_load(zone):
    """Only IANA names that zoneinfo can load pass."""
    assert validation.timezone_problem(zone)
    assert not validation.is_timezone(zone)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Pacific/Auckland", "Asia/Kolkata"])
def test_the_time_zone_rule_accepts_iana_names(zone):
    """Every name the forms offer passes."""
    assert validation.timezone_problem(zone) is None
    assert zone in validation.timezone_names()


@pytest.mark.parametrize(
    ("field", "value"), [("email", "not-an-email"), ("timezone", "Mars/Olympus")]
)
def test_the_account_service_refuses_a_bad_email_or_time_zone(session, field, value):
    """Whoever calls it (sign-up, invite, CLI), the service creates nothing from bad input."""
    given = {"email": "ot@example.org", "timezone": "Europe/Berlin", field: value}
    with pytest.raises(ValidationFailed) as failed:
        accounts.sign_up_therapist(
            session,
            SYSTEM,
            org_name="Clinic",
            name="O T",
            password="a-long-passphrase",
            **given,
        )
    assert set(failed.value.errors) == {field}
    session.rollback()
    assert session.scalar(select(func.count()).select_from(User)) == 0


def _signup(client, **changes):
    data = {
        "org_name": "Riverside OT",
        "name": "Dana Kim",
        "email": "dana@example.org",
        "timezone": "Europe/Berlin",
        **changes,
    }
    # Sign-up is open only with email set up; a refused request sends nothing.
    client.application.config.update(SMTP_HOST="127.0.0.1", SMTP_FROM="hp@example.org")
    return client.post("/signup", data=data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter a valid email address"),
        ("timezone", "Mars/Olympus", "is not a time zone"),
    ],
)
def test_signup_refuses_a_bad_email_or_time_zone(client, session, field, value, message):
    """Sign-up with a malformed email or an unknown time zone shows why and saves nothing."""
    response = _signup(client, **{field: value})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'value="Riverside OT"' in page
    assert session.scalar(select(func.count()).select_from(User)) == 0
    assert session.scalar(select(func.count()).select_from(Organization)) == 0


def test_invite_refuses_a_bad_email(client, factory, login, session):
    """Accepting an invite with a malformed email shows why, creates no account and keeps
    the invite open."""
    org = factory.org()
    therapist = factory.therapist(org, email="t@example.org")
    child = factory.child(org, therapist=therapist, name="Noor")
    login("t@example.org")
    page = client.post(
        f"/children/{child.id}/invites", data={"role": "caregiver", "label": "Mum"}
    ).get_data(as_text=True)
    token = re.search(r'id="invite-link"[^>]*value="([^"]+)"', page).group(1).rsplit("/", 1)[1]
    client.post("/logout")
    users = session.scalar(select(func.count()).select_from(User))
    response = client.post(
        f"/invite/{token}",
        data={"new-name": "Amal", "new-email": "amal@", "new-password": "a-long-passphrase"},
    )
    assert "Enter a valid email address" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(User)) == users
    assert session.scalar(select(Invite.used_at)) is None


def test_child_form_refuses_an_unknown_time_zone_on_add_and_edit(client, factory, login, session):
    """The child form refuses a time zone that is not in the list, whether adding or editing,
    and says why; nothing is saved."""
    org = factory.org()
    therapist = factory.therapist(org, email="t@example.org")
    child = factory.child(org, therapist=therapist, name="Noor", timezone="Europe/Berlin")
    login("t@example.org")
    data = {"display_name": "Ravi", "birth_month": "5", "birth_year": "2019"}
    added = client.post("/children/new", data={**data, "timezone": "Mars/Olympus"})
    assert added.status_code == 400
    assert "is not a time zone" in added.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Child)) == 1
    edited = client.post(
        f"/children/{child.id}/edit",
        data={**data, "display_name": "Noor", "timezone": "Mars/Olympus"},
    )
    assert edited.status_code == 400
    assert "is not a time zone" in edited.get_data(as_text=True)
    session.expire_all()
    assert session.get(Child, child.id).timezone == "Europe/Berlin"
