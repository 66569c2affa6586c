"""The one access rule for child-scoped data: every child-scoped view goes through here.

A user sees a child through a care-team membership, or as an admin of the child's
organization. Anything else is ``NotFound`` (answered 404: no existence leak).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
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


def child_roles(session: Session, user_id: int, child: Child) -> list[str]:
    """Every role the user holds for the child, the most privileged first.

    A therapist's care-team role counts only while they are staff of the child's
    organization; an active admin of that organization holds "admin". One person may hold
    two roles (an admin who is also the child's parent).
    """
    member_role = session.scalar(
        select(CareTeamMember.role).where(
            CareTeamMember.child_id == child.id, CareTeamMember.user_id == user_id
        )
    )
    staff = session.scalar(
        select(OrgMembership).where(
            OrgMembership.user_id == user_id,
            OrgMembership.organization_id == child.organization_id,
            OrgMembership.active,
        )
    )
    roles = []
    if staff is not None and staff.role == OrgRole.ADMIN:
        roles.append("admin")
    if member_role == CareRole.THERAPIST:
        if staff is not None and "admin" not in roles:
            roles.append(member_role)
    elif member_role is not None:
        roles.append(member_role)
    return roles


def child_role(session: Session, user_id: int, child: Child) -> str | None:
    """The user's most privileged role for the child, or None."""
    roles = child_roles(session, user_id, child)
    return roles[0] if roles else None


def child_access(
    session: Session, user_id: int, child_id: int, allowed: frozenset[str] = ANY_ROLE
) -> ChildAccess:
    child = session.get(Child, child_id)
    if child is None:
        raise NotFound()
    for role in child_roles(session, user_id, child):
        if role in allowed:
            return ChildAccess(child=child, role=role)
    raise NotFound()


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
