"""The one access rule for child-scoped data: every child-scoped view goes through here.

A user sees a child through a care-team membership, or as an admin of the child's
organization. Anything else is ``NotFound`` (answered 404: no existence leak).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from homeprogram.models import CareRole, CareTeamMember, Child, OrgMembership, OrgRole
from homeprogram.services.errors import NotFound

STAFF_ROLES = frozenset({"admin", CareRole.THERAPIST.value})
FAMILY_ROLES = frozenset({CareRole.CAREGIVER.value})
SCHOOL_ROLES = frozenset({CareRole.TEACHER.value})
ANY_ROLE = STAFF_ROLES | FAMILY_ROLES | SCHOOL_ROLES


@dataclass(frozen=True)
class ChildAccess:
    child: Child
    role: str  # "admin", "therapist", "caregiver" or "teacher"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


# The user's care-team role for the child, and their active staff role in the child's
# organization: scalar subqueries correlated to ``child`` (bind ``user_id``), so that a
# query reads a child-scoped row, its child and the access decision together.
TEAM_ROLE = (
    select(CareTeamMember.role)
    .where(CareTeamMember.child_id == Child.id, CareTeamMember.user_id == bindparam("user_id"))
    .scalar_subquery()
)
STAFF_ROLE = (
    select(OrgMembership.role)
    .where(
        OrgMembership.user_id == bindparam("user_id"),
        OrgMembership.organization_id == Child.organization_id,
        OrgMembership.active,
    )
    .scalar_subquery()
)
_CHILD_WITH_ROLES = select(Child, TEAM_ROLE, STAFF_ROLE).where(Child.id == bindparam("child_id"))
_ROLES = select(TEAM_ROLE, STAFF_ROLE).where(Child.id == bindparam("child_id"))


def roles_for(team_role: str | None, staff_role: str | None) -> list[str]:
    """Every role the user holds for a child, the most privileged first.

    ``team_role`` and ``staff_role`` are what ``TEAM_ROLE`` and ``STAFF_ROLE`` read. A
    therapist's care-team role counts only while they are staff of the child's
    organization; an active admin of that organization holds "admin". One person may hold
    two roles (an admin who is also the child's parent).
    """
    roles = []
    if staff_role == OrgRole.ADMIN:
        roles.append("admin")
    if team_role == CareRole.THERAPIST:
        if staff_role is not None and "admin" not in roles:
            roles.append(team_role)
    elif team_role is not None:
        roles.append(team_role)
    return roles


def allowed_role(
    team_role: str | None, staff_role: str | None, allowed: frozenset[str]
) -> str | None:
    """The most privileged of the roles ``TEAM_ROLE`` and ``STAFF_ROLE`` read that is
    ``allowed``, or None."""
    return next((role for role in roles_for(team_role, staff_role) if role in allowed), None)


def grant(
    child: Child, team_role: str | None, staff_role: str | None, allowed: frozenset[str]
) -> ChildAccess:
    """The access to ``child`` its roles give for ``allowed`` roles, or NotFound."""
    role = allowed_role(team_role, staff_role, allowed)
    if role is None:
        raise NotFound()
    return ChildAccess(child=child, role=role)


def child_roles(session: Session, user_id: int, child: Child) -> list[str]:
    """Every role the user holds for the child, the most privileged first."""
    row = session.execute(_ROLES, {"user_id": user_id, "child_id": child.id}).one_or_none()
    return roles_for(*row) if row is not None else []


def child_role(session: Session, user_id: int, child: Child) -> str | None:
    """The user's most privileged role for the child, or None."""
    roles = child_roles(session, user_id, child)
    return roles[0] if roles else None


def child_access(
    session: Session, user_id: int, child_id: int, allowed: frozenset[str] = ANY_ROLE
) -> ChildAccess:
    row = session.execute(
        _CHILD_WITH_ROLES, {"user_id": user_id, "child_id": child_id}
    ).one_or_none()
    if row is None:
        raise NotFound()
    return grant(*row, allowed)


def children_for(session: Session, user_id: int, role: str) -> list[Child]:
    """Children the user holds a given care-team role for, by name."""
    return list(
        session.scalars(
            select(Child)
            .join(CareTeamMember)
            .where(CareTeamMember.user_id == user_id, CareTeamMember.role == role)
            .order_by(Child.display_name, Child.id)
        )
    )


def roles_from(care_roles: Iterable[str], staff: str | None) -> set[str]:
    """Every role the user holds anywhere, to choose a home page and navigation.

    ``care_roles`` are the roles the user holds on care teams; ``staff`` is the role of
    their active organization membership (None when not staff).
    """
    roles = set(care_roles)
    if staff is not None:
        roles.add(CareRole.THERAPIST.value)
        if staff == OrgRole.ADMIN:
            roles.add("admin")
    return roles
