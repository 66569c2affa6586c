"""Who may see which child, and deactivation."""

from typing import Any

from flask import url_for
from sqlalchemy import func, select, update

from homeprogram.models import AuditEvent, Child, OrgMembership, User, UserSession
from tests.route_table import TABLE
from tests.test_authz import _call
from tests.world import build_world, signed_in_client


def test_therapist_of_another_org_gets_404(client, factory, login):
    """A therapist cannot open or change another organization's child, and learns nothing."""
    org_a, org_b = factory.org(), factory.org()
    therapist_a = factory.therapist(org_a, email="a@example.org")
    child_b = factory.child(org_b, therapist=factory.therapist(org_b))
    login("a@example.org")
    assert therapist_a.id
    for url in (f"/children/{child_b.id}", f"/children/{child_b.id}/edit"):
        assert client.get(url).status_code == 404
    assert (
        client.post(f"/children/{child_b.id}/invites", data={"role": "caregiver"}).status_code
        == 404
    )
    # a missing child looks exactly like a forbidden one
    assert client.get("/children/999999").status_code == 404


def test_caregiver_of_another_child_gets_404(client, factory, login):
    """A caregiver sees only their own child and never the staff pages of any child."""
    org = factory.org()
    therapist = factory.therapist(org)
    own = factory.child(org, therapist=therapist, name="Mine")
    other = factory.child(org, therapist=therapist, name="Theirs")
    factory.caregiver(own, email="parent@example.org")
    login("parent@example.org")
    page = client.get("/today").get_data(as_text=True)
    assert "Mine" in page
    assert "Theirs" not in page
    assert client.get(f"/children/{other.id}").status_code == 404
    assert client.get(f"/children/{own.id}").status_code == 404  # staff page, not theirs
    assert client.get("/caseload").status_code == 404


def test_teacher_cannot_reach_staff_or_family_pages(client, factory, login):
    """A teacher lands on 'my students' and gets 404 on therapist and caregiver pages."""
    org = factory.org()
    child = factory.child(org, therapist=factory.therapist(org), name="Pupil")
    factory.teacher(child, email="teacher@example.org")
    response = login("teacher@example.org")
    assert response.headers["Location"].endswith("/students")
    assert "Pupil" in client.get("/students").get_data(as_text=True)
    assert client.get(f"/children/{child.id}").status_code == 404
    assert client.get("/today").status_code == 404


def test_admin_sees_every_child_of_the_org(client, factory, login):
    """An org admin sees children of colleagues' caseloads; a plain therapist does not."""
    org = factory.org()
    colleague = factory.therapist(org, email="colleague@example.org")
    factory.therapist(org, admin=True, email="admin@example.org")
    child = factory.child(org, therapist=colleague, name="Zed")
    factory.therapist(org, email="other@example.org")
    login("admin@example.org")
    assert client.get(f"/children/{child.id}").status_code == 200
    assert "Zed" in client.get("/caseload").get_data(as_text=True)
    client.post("/logout")
    login("other@example.org")
    assert client.get(f"/children/{child.id}").status_code == 404
    assert "Zed" not in client.get("/caseload").get_data(as_text=True)


def test_deactivated_member_is_signed_out_at_once(app, client, factory, login, session):
    """Deactivating a member ends their open sessions and blocks new logins."""
    org = factory.org()
    factory.therapist(org, admin=True, email="admin@example.org")
    member_user = factory.therapist(org, email="leaving@example.org")
    member_client = app.test_client()
    login("leaving@example.org", c=member_client)
    assert member_client.get("/caseload").status_code == 200

    login("admin@example.org")
    from homeprogram.models import OrgMembership

    membership_id = session.scalar(
        select(OrgMembership.id).where(OrgMembership.user_id == member_user.id)
    )
    response = client.post(f"/org/staff/{membership_id}/deactivate")
    assert response.status_code == 302

    assert member_client.get("/caseload").status_code == 302  # sent to log in
    retry = member_client.post(
        "/login", data={"email": "leaving@example.org", "password": "correct horse battery staple"}
    )
    assert retry.status_code == 401
    open_sessions = session.scalar(
        select(func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == member_user.id, UserSession.ended_at.is_(None))
    )
    assert open_sessions == 0
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "member.deactivated"))


def test_add_child_validates_and_keeps_input(client, factory, login, session):
    """Bad child details show messages beside the fields; nothing is saved."""
    org = factory.org()
    factory.therapist(org, email="t@example.org")
    login("t@example.org")
    response = client.post(
        "/children/new",
        data={
            "display_name": "Ravi",
            "birth_month": "13",
            "birth_year": "1890",
            "timezone": "Mars/Base",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="Ravi"' in page
    assert "Not a valid choice" in page or "Choose" in page
    assert session.scalar(select(func.count()).select_from(Child)) == 0


def test_add_child_puts_it_on_the_caseload_and_audits(client, factory, login, session):
    """A therapist adds a child; it appears on their caseload and the creation is audited."""
    org = factory.org()
    factory.therapist(org, email="t@example.org")
    login("t@example.org")
    response = client.post(
        "/children/new",
        data={
            "display_name": "Ravi",
            "birth_month": "4",
            "birth_year": "2019",
            "timezone": "America/Denver",
        },
    )
    assert response.status_code == 302
    assert "Ravi" in client.get("/caseload").get_data(as_text=True)
    assert (
        client.get("/caseload?q=rav", headers={"HX-Request": "true"})
        .get_data(as_text=True)
        .startswith('<div id="caseload-rows"')
    )
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "child.created"))


def test_admin_who_is_also_a_parent_sees_their_childs_today(client, factory, login):
    """An org admin who is a caregiver of a child in the same org gets both the staff page
    and the family's today page for that child."""
    org = factory.org()
    admin = factory.therapist(org, admin=True, email="admin-parent@example.org")
    child = factory.child(org, therapist=factory.therapist(org), name="Own")
    factory.member(child, admin, "caregiver")
    login("admin-parent@example.org")
    assert client.get(f"/children/{child.id}").status_code == 200
    response = client.get(f"/children/{child.id}/today")
    assert response.status_code == 200
    assert "Own" in response.get_data(as_text=True)


# URL and form fields that name a child or one of its records: a route whose table entry
# fills one of them in is a child route.
_CHILD_KEYS = {"child_id", "assignment_id", "log_id", "goal_id"}


def _child_routes(world: Any) -> list[str]:
    """The endpoints of the route table that reach "Maya" and her therapist may use."""
    return sorted(
        endpoint
        for endpoint, entry in TABLE.items()
        if "therapist" in entry.who and _CHILD_KEYS & {*entry.args(world), *entry.data(world)}
    )


def test_therapist_whose_membership_ended_loses_every_child_route(app, factory, session):
    """A therapist whose organization membership is deactivated, while the account stays
    active (a caregiver elsewhere, say), gets 404 on every route of the children of their
    care team: the care team counts only for staff of the child's organization."""
    world = build_world(factory, session, app)
    therapist = world.users["therapist"]
    client = signed_in_client(app, session, therapist)
    routes = _child_routes(world)
    assert {"therapist.child", "api.child_today", "api.create_log"} <= set(routes)
    assert client.get(f"/children/{world['child'].id}").status_code == 200
    session.execute(
        update(OrgMembership).where(OrgMembership.user_id == therapist.id).values(active=False)
    )
    assert session.get(User, therapist.id).active
    with app.test_request_context():
        urls = {endpoint: url_for(endpoint, **TABLE[endpoint].args(world)) for endpoint in routes}
    refused = {
        f"{method} {urls[endpoint]}": _call(
            client, method, urls[endpoint], TABLE[endpoint], TABLE[endpoint].data(world)
        ).status_code
        for endpoint in routes
        for method in TABLE[endpoint].methods
    }
    assert refused == dict.fromkeys(refused, 404)
    assert client.get("/api/v1/children").get_json() == {"children": []}
