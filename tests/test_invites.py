"""Invites: single use, expiring, revocable, hashed; accepting creates or attaches an account."""

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from homeprogram.models import AuditEvent, CareTeamMember, Invite, OrgMembership, User
from homeprogram.models.base import utcnow
from homeprogram.services.invites import hash_token


def _create_child_invite(client, child_id: int, role: str = "caregiver") -> str:
    response = client.post(f"/children/{child_id}/invites", data={"role": role, "label": "Mum"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<svg" in page  # the QR code is rendered inline, server-side
    link = re.search(r'id="invite-link"[^>]*value="([^"]+)"', page).group(1)
    return link.rsplit("/invite/", 1)[1]


def _setup(factory, login):
    org = factory.org()
    therapist = factory.therapist(org, email="t@example.org")
    child = factory.child(org, therapist=therapist, name="Noor")
    login("t@example.org")
    return org, therapist, child


def test_only_the_token_hash_is_stored(client, factory, login, session):
    """The invite's token appears in the link but never in the database."""
    _org, _t, child = _setup(factory, login)
    token = _create_child_invite(client, child.id)
    invite = session.scalar(select(Invite))
    assert invite.token_hash == hash_token(token)
    assert token not in invite.token_hash
    assert invite.expires_at - utcnow() > timedelta(days=6, hours=23)


def test_caregiver_accepts_and_lands_on_today(client, app, factory, login, session):
    """A new caregiver creates an account from the link and lands on today with the child."""
    _org, _t, child = _setup(factory, login)
    token = _create_child_invite(client, child.id)
    client.post("/logout")
    page = client.get(f"/invite/{token}").get_data(as_text=True)
    assert "Noor" in page
    response = client.post(
        f"/invite/{token}",
        data={
            "new-name": "Amal",
            "new-email": "amal@example.org",
            "new-password": "a-long-family-passphrase",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/today")
    assert "Noor" in client.get("/today").get_data(as_text=True)
    user = session.scalar(select(User).where(User.email == "amal@example.org"))
    member = session.scalar(select(CareTeamMember).where(CareTeamMember.user_id == user.id))
    assert (member.child_id, member.role) == (child.id, "caregiver")
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "invite.accepted"))


def test_used_invite_cannot_be_reused(client, factory, login, session):
    """A second person opening a used link sees a clear page and gets nothing."""
    _org, _t, child = _setup(factory, login)
    token = _create_child_invite(client, child.id)
    client.post("/logout")
    client.post(
        f"/invite/{token}",
        data={
            "new-name": "A",
            "new-email": "a@example.org",
            "new-password": "first-long-passphrase",
        },
    )
    client.post("/logout")
    page = client.get(f"/invite/{token}")
    assert page.status_code == 410
    assert "already used" in page.get_data(as_text=True)
    again = client.post(
        f"/invite/{token}",
        data={"new-name": "B", "new-email": "b@example.org", "new-password": "second-long-phrase"},
    )
    assert again.status_code == 410
    assert session.scalar(select(User).where(User.email == "b@example.org")) is None


def test_expired_invite_is_refused(client, factory, login, session):
    """An invite past its expiry answers with a clear page."""
    _org, _t, child = _setup(factory, login)
    token = _create_child_invite(client, child.id)
    session.execute(update(Invite).values(expires_at=utcnow() - timedelta(minutes=1)))
    client.post("/logout")
    response = client.get(f"/invite/{token}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


def test_revoked_invite_is_refused(client, factory, login, session):
    """A revoked invite answers with a clear page and the revocation is audited."""
    _org, _t, child = _setup(factory, login)
    token = _create_child_invite(client, child.id)
    invite_id = session.scalar(select(Invite.id))
    assert client.post(f"/children/{child.id}/invites/{invite_id}/revoke").status_code == 302
    client.post("/logout")
    response = client.get(f"/invite/{token}")
    assert response.status_code == 410
    assert "withdrawn" in response.get_data(as_text=True)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "invite.revoked"))


def test_unknown_token_is_a_clear_404(client):
    """A mistyped link says it is not recognised."""
    response = client.get("/invite/not-a-real-token")
    assert response.status_code == 404
    assert "do not recognise" in response.get_data(as_text=True)


def test_logged_in_user_attaches_invite_to_existing_account(client, factory, login, session):
    """A therapist who is also a parent accepts a caregiver invite with their own account."""
    org, therapist, child = _setup(factory, login)
    other_child = factory.child(org, name="Own kid")
    # The therapist is not on other_child's team, so an admin makes the invite.
    admin = factory.therapist(org, admin=True, email="admin@example.org")
    client.post("/logout")
    login("admin@example.org")
    token = _create_child_invite(client, other_child.id)
    client.post("/logout")
    login("t@example.org")
    response = client.post(f"/invite/{token}", data={})
    assert response.status_code == 302
    roles = dict(
        session.execute(
            select(CareTeamMember.child_id, CareTeamMember.role).where(
                CareTeamMember.user_id == therapist.id
            )
        ).all()
    )
    assert roles == {child.id: "therapist", other_child.id: "caregiver"}
    assert admin.id != therapist.id


def test_invite_form_errors_keep_input_and_create_nothing(client, factory, login, session):
    """A weak password on the invite form shows the message and keeps the invite open."""
    _org, _t, child = _setup(factory, login)
    token = _create_child_invite(client, child.id)
    client.post("/logout")
    users_before = session.scalar(select(func.count()).select_from(User))
    response = client.post(
        f"/invite/{token}",
        data={"new-name": "Amal", "new-email": "amal@example.org", "new-password": "short"},
    )
    page = response.get_data(as_text=True)
    assert "at least 10 characters" in page
    assert 'value="amal@example.org"' in page
    assert session.scalar(select(func.count()).select_from(User)) == users_before
    assert session.scalar(select(Invite.used_at)) is None


def test_admin_invites_therapist_to_organization(client, factory, login, session):
    """An org admin's staff invite makes the new person a therapist of the organization."""
    org = factory.org()
    factory.therapist(org, admin=True, email="admin@example.org")
    login("admin@example.org")
    page = client.post("/org/invites", data={"label": "New OT"}).get_data(as_text=True)
    token = re.search(r'/invite/([^"]+)"', page).group(1)
    client.post("/logout")
    response = client.post(
        f"/invite/{token}",
        data={
            "new-name": "Kai",
            "new-email": "kai@example.org",
            "new-password": "kai-long-passphrase",
        },
    )
    assert response.headers["Location"].endswith("/dashboard")
    member = session.scalar(select(OrgMembership).join(User).where(User.email == "kai@example.org"))
    assert (member.organization_id, member.role) == (org.id, "therapist")


def test_non_admin_cannot_see_staff_page(client, factory, login):
    """A therapist who is not an admin gets 404 on the staff pages."""
    org = factory.org()
    factory.therapist(org, email="t@example.org")
    login("t@example.org")
    assert client.get("/org/staff").status_code == 404
    assert client.post("/org/invites", data={"label": "x"}).status_code == 404


def test_expired_invites_are_not_listed_as_open(client, factory, login, clock):
    """The child page and the staff page list an invite as open until it expires, and not
    after: a link that can no longer be used is not offered for revoking."""
    org = factory.org()
    factory.therapist(org, admin=True, email="admin@example.org")
    child = factory.child(org, name="Noor")
    login("admin@example.org")
    child_page, staff_page = f"/children/{child.id}", "/org/staff"

    def invite(label: str) -> None:
        child_invite = {"role": "caregiver", "label": f"{label} family"}
        assert client.post(f"{child_page}/invites", data=child_invite).status_code == 200
        assert client.post("/org/invites", data={"label": f"{label} OT"}).status_code == 200

    invite("Stale")
    clock.advance(timedelta(days=6))
    login("admin@example.org")  # the first session has timed out
    invite("Fresh")
    for page, label in ((child_page, "family"), (staff_page, "OT")):
        listed = client.get(page).get_data(as_text=True)
        assert f"Stale {label}" in listed and f"Fresh {label}" in listed
    clock.advance(timedelta(days=1, minutes=1))  # Stale is 7 days and a minute old
    login("admin@example.org")
    for page, label in ((child_page, "family"), (staff_page, "OT")):
        listed = client.get(page).get_data(as_text=True)
        assert f"Stale {label}" not in listed, page
        assert f"Fresh {label}" in listed, page
