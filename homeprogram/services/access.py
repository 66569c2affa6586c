"""The one access rule for child-scoped data: every child-scoped view goes through here.

A user sees a child through a care-team membership, or as an admin of the child's
organization. Anything else is ``NotFound`` (answered 404: no existence leak).
"""

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


def child_role(session: Session, user_id: int, child: Child) -> str | None:
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
    if member_role == CareRole.THERAPIST:
        # A therapist sees the child only while staff of the child's organization.
        return member_role if staff is not None else None
    if staff is not None and staff.role == OrgRole.ADMIN:
        return "admin"
    return member_role


def child_access(
    session: Session, user_id: int, child_id: int, allowed: frozenset[str] = ANY_ROLE
) -> ChildAccess:
    child = session.get(Child, child_id)
    if child is None:
        raise NotFound()
    role = child_role(session, user_id, child)
    if role is None or role not in allowed:
        raise NotFound()
    return ChildAccess(child=child, role=role)


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


def roles_of(session: Session, user_id: int) -> set[str]:
    """Every role the user holds anywhere, to choose a home page and navigation."""
    roles = set(
        session.scalars(
            select(CareTeamMember.role).where(CareTeamMember.user_id == user_id).distinct()
        )
    )
    staff = session.scalar(
        select(OrgMembership.role).where(OrgMembership.user_id == user_id, OrgMembership.active)
    )
    if staff is not None:
        roles.add(CareRole.THERAPIST.value)
        if staff == OrgRole.ADMIN:
            roles.add("admin")
    return roles
