"""The access rule, function by function: which roles a person holds for a child, which
children a role lists, and what a grant carries. (Holes found by ``make mutation``.)

The routes are covered role by role in ``test_authz.py``; these tests pin the rule itself,
including the answers no route shows on its own (the order of roles, the navigation roles).
"""

import pytest
from sqlalchemy import delete, update

from homeprogram.extensions import db
from homeprogram.models import Child, OrgMembership
from homeprogram.services import access
from homeprogram.services.errors import NotFound


@pytest.mark.parametrize(
    ("team_role", "staff_role", "roles"),
    [
        (None, None, []),
        ("caregiver", None, ["caregiver"]),
        ("teacher", "therapist", ["teacher"]),
        # A therapist on the team counts only while staff of the child's organization.
        ("therapist", None, []),
        ("therapist", "therapist", ["therapist"]),
        # An admin who is also on the team as therapist holds "admin", once.
        ("therapist", "admin", ["admin"]),
        # An admin who is also the child's parent holds both, the admin first.
        ("caregiver", "admin", ["admin", "caregiver"]),
        (None, "admin", ["admin"]),
        (None, "therapist", []),
    ],
)
def test_roles_for_a_child(team_role, staff_role, roles):
    """The roles a care-team role and a staff role give for one child, most privileged
    first."""
    assert access.roles_for(team_role, staff_role) == roles


def test_allowed_role_is_the_most_privileged_role_allowed():
    """An admin-parent logging practice acts as admin; on a family-only page, as parent."""
    assert access.allowed_role("caregiver", "admin", access.ANY_ROLE) == "admin"
    assert access.allowed_role("caregiver", "admin", access.FAMILY_ROLES) == "caregiver"
    assert access.allowed_role("teacher", None, access.STAFF_ROLES) is None


@pytest.mark.parametrize(
    ("care_roles", "staff", "roles"),
    [
        ([], None, set()),
        (["caregiver", "teacher"], None, {"caregiver", "teacher"}),
        ([], "therapist", {"therapist"}),
        (["caregiver"], "admin", {"caregiver", "therapist", "admin"}),
    ],
)
def test_roles_for_navigation(care_roles, staff, roles):
    """Navigation roles: the care-team roles, "therapist" for any staff member, and
    "admin" for an organization admin only."""
    assert access.roles_from(care_roles, staff) == roles


def test_a_child_s_roles_for_a_person_most_privileged_first(app, factory, session):
    """child_roles lists each role a person holds for the child, child_role the first;
    someone with no tie to the child holds none, and so does anyone for a child that has
    just been deleted."""
    org = factory.org()
    admin = factory.therapist(org, admin=True)
    child = factory.child(org)
    factory.member(child, admin, "caregiver")
    parent = factory.caregiver(child)
    stranger = factory.user()
    gone = factory.child(org)
    factory.member(gone, parent, "caregiver")

    with app.app_context():
        s = db.new_session()
        assert access.child_roles(s, admin.id, child) == ["admin", "caregiver"]
        assert access.child_role(s, admin.id, child) == "admin"
        assert access.child_roles(s, parent.id, child) == ["caregiver"]
        assert access.child_role(s, parent.id, child) == "caregiver"
        assert access.child_roles(s, stranger.id, child) == []
        assert access.child_role(s, stranger.id, child) is None
        gone = s.get(Child, gone.id)
        s.commit()  # this request read the child; then someone deletes it
        session.execute(delete(Child).where(Child.id == gone.id))
        assert access.child_roles(s, parent.id, gone) == []
        s.close()


def test_children_for_lists_that_person_s_children_in_that_role_by_name(app, factory, session):
    """A parent's children are theirs only, in that role only (not the pupil they teach),
    sorted by name and, for two of one name, by when they were added."""
    org = factory.org()
    zoe, sam_first, adam, sam_second = (
        factory.child(org, name=name) for name in ("Zoe", "Sam", "Adam", "Sam")
    )
    pupil, other_family = factory.child(org, name="Bea"), factory.child(org, name="Cy")
    parent = factory.caregiver(zoe)
    # Joined the second Sam's team first, and a later change moves the first Sam's row
    # (on PostgreSQL): whichever order the database reads them in, the list keeps its own.
    for child in (sam_second, adam, sam_first):
        factory.member(child, parent, "caregiver")
    factory.member(pupil, parent, "teacher")
    factory.caregiver(other_family)
    session.execute(update(Child).where(Child.id == sam_first.id).values(display_name="Sam"))

    with app.app_context():
        s = db.new_session()
        listed = [c.id for c in access.children_for(s, parent.id, "caregiver")]
        taught = [c.id for c in access.children_for(s, parent.id, "teacher")]
        s.close()
    assert listed == [adam.id, sam_first.id, sam_second.id, zoe.id]
    assert taught == [pupil.id]


def test_child_access_grants_the_role_that_opens_the_page(app, factory, session):
    """The grant names the role it was given for (the pages decide by it), tells staff
    from family, and is NotFound for roles the page does not allow and for deactivated
    staff."""
    org = factory.org()
    therapist = factory.therapist(org)
    child = factory.child(org, therapist=therapist)
    parent = factory.caregiver(child)

    with app.app_context():
        s = db.new_session()
        staff = access.child_access(s, therapist.id, child.id)
        family = access.child_access(s, parent.id, child.id, access.FAMILY_ROLES)
        assert (staff.child.id, staff.role, staff.is_staff) == (child.id, "therapist", True)
        assert (family.child.id, family.role, family.is_staff) == (child.id, "caregiver", False)
        with pytest.raises(NotFound):
            access.child_access(s, parent.id, child.id, access.STAFF_ROLES)
        s.close()
    session.execute(
        update(OrgMembership).where(OrgMembership.user_id == therapist.id).values(active=False)
    )
    with app.app_context():
        s = db.new_session()
        with pytest.raises(NotFound):
            access.child_access(s, therapist.id, child.id)
        s.close()
