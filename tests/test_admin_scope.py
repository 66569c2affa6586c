"""An organization's admin acts only on what belongs to their organization (issue 15, §2).

The person in these tests is staff in clinic B and a caregiver in clinic A: clinic B's
admin may remove them from B, but can neither take over their account with a password
link nor cut their access to clinic A's child.
"""

import re

from sqlalchemy import func, select

from homeprogram.models import AuditEvent, CareTeamMember, OrgMembership, PasswordReset, User
from tests.factories import TEST_PASSWORD


def _two_clinic_person(factory, session):
    clinic_a, clinic_b = factory.org(name="Clinic A"), factory.org(name="Clinic B")
    child_a = factory.child(clinic_a, therapist=factory.therapist(clinic_a), name="Ada")
    child_b = factory.child(clinic_b, therapist=factory.therapist(clinic_b), name="Bea")
    factory.therapist(clinic_b, admin=True, email="admin-b@example.org")
    person = factory.therapist(clinic_b, name="Pat Both", email="pat@example.org")
    factory.member(child_a, person, "caregiver")
    factory.member(child_b, person, "caregiver")  # also a parent of a clinic B child
    member = session.scalar(select(OrgMembership).where(OrgMembership.user_id == person.id))
    return person, member, child_a, child_b


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_admin_cannot_issue_a_password_link_for_a_person_of_another_org(
    client, factory, session, login
):
    """Clinic B's admin asks for a password link for someone who is also a caregiver in
    clinic A: the page says why not, no link is created and the audit trail is unchanged."""
    _, member, _, _ = _two_clinic_person(factory, session)
    login("admin-b@example.org")
    staff_page = client.get("/org/staff").get_data(as_text=True)
    assert "Password link for Pat Both" not in staff_page
    audit_before = _count(session, AuditEvent)

    response = client.post(f"/org/staff/{member.id}/reset-link", follow_redirects=True)
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "also belongs to another organization" in page
    assert "/account/reset/" not in page
    assert _count(session, PasswordReset) == 0
    assert _count(session, AuditEvent) == audit_before


def test_admin_can_still_issue_a_link_for_a_person_only_in_their_org(
    client, factory, session, login
):
    """The password link still works for a member with no role anywhere else."""
    org = factory.org()
    factory.therapist(org, admin=True, email="admin@example.org")
    only_here = factory.therapist(org, name="Only Here")
    factory.member(factory.child(org), only_here, "caregiver")  # a role in the same org
    member = session.scalar(select(OrgMembership).where(OrgMembership.user_id == only_here.id))
    login("admin@example.org")
    assert "Password link for Only Here" in client.get("/org/staff").get_data(as_text=True)
    page = client.post(f"/org/staff/{member.id}/reset-link").get_data(as_text=True)
    assert "/account/reset/" in page
    assert _count(session, PasswordReset) == 1


def test_removing_a_person_from_one_org_keeps_their_access_in_the_other(
    app, client, factory, session, login
):
    """Clinic B's admin removes the person from B: their B membership and their care roles
    for B's children end, the account stays active, and they still sign in and open
    clinic A's child."""
    person, member, child_a, child_b = _two_clinic_person(factory, session)
    login("admin-b@example.org")
    staff_page = client.get("/org/staff").get_data(as_text=True)
    assert "Remove Pat Both from this organization" in staff_page

    response = client.post(f"/org/staff/{member.id}/deactivate", follow_redirects=True)
    assert response.status_code == 200
    assert "Pat Both is removed from your organization" in response.get_data(as_text=True)

    session.expire_all()
    assert session.get(User, person.id).active
    assert not session.get(OrgMembership, member.id).active
    roles = {
        row.child_id
        for row in session.scalars(
            select(CareTeamMember).where(CareTeamMember.user_id == person.id)
        )
    }
    assert child_b.id not in roles
    assert child_a.id in roles

    theirs = app.test_client()
    assert login("pat@example.org", TEST_PASSWORD, c=theirs)
    assert theirs.get(f"/api/v1/children/{child_a.id}/today").status_code == 200
    assert theirs.get(f"/api/v1/children/{child_b.id}/today").status_code == 404
    assert theirs.get("/caseload").status_code in (302, 403, 404)


def test_removing_a_person_only_in_this_org_still_closes_their_account(
    app, client, factory, session, login
):
    """With no role anywhere else, deactivation still closes the account (as before)."""
    org = factory.org()
    factory.therapist(org, admin=True, email="admin@example.org")
    leaving = factory.therapist(org, name="Leaving", email="leaving@example.org")
    member = session.scalar(select(OrgMembership).where(OrgMembership.user_id == leaving.id))
    login("admin@example.org")
    assert client.post(f"/org/staff/{member.id}/deactivate").status_code == 302
    session.expire_all()
    assert not session.get(User, leaving.id).active
    retry = app.test_client().post(
        "/login", data={"email": "leaving@example.org", "password": TEST_PASSWORD}
    )
    assert retry.status_code == 401


def test_a_link_issued_before_the_person_joined_another_org_stops_working(
    app, client, factory, session, login
):
    """A link issued while the person belonged to clinic B alone stops working once they
    join clinic A's care team: nothing is changed and their password still works."""
    clinic_a, clinic_b = factory.org(), factory.org()
    factory.therapist(clinic_b, admin=True, email="admin-b@example.org")
    person = factory.therapist(clinic_b, name="Pat", email="pat@example.org")
    member = session.scalar(select(OrgMembership).where(OrgMembership.user_id == person.id))
    login("admin-b@example.org")
    page = client.post(f"/org/staff/{member.id}/reset-link").get_data(as_text=True)
    link = re.search(r'value="https?://[^/]+(/account/reset/[^"]+)"', page).group(1)
    factory.member(factory.child(clinic_a), person, "caregiver")

    anon = app.test_client()
    assert anon.get(link).status_code == 404
    new = "a-brand-new-passphrase"
    assert anon.post(link, data={"password": new, "confirm": new}).status_code == 404
    assert login("pat@example.org", TEST_PASSWORD, c=app.test_client())
