"""Factory helpers that write real rows (no mocks of our own database)."""

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from homeprogram.models import (
    Activity,
    Assignment,
    CareRole,
    CareTeamMember,
    Child,
    Organization,
    OrgMembership,
    OrgRole,
    User,
)
from homeprogram.services import passwords

TEST_PASSWORD = "correct horse battery staple"
_HASH = passwords.hash_password(TEST_PASSWORD)


class Factory:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def org(self, name: str | None = None, timezone: str = "America/Chicago") -> Organization:
        org = Organization(name=name or f"Clinic {self._next()}", timezone=timezone)
        self.session.add(org)
        self.session.commit()
        return org

    def user(self, email: str | None = None, name: str = "Test User", **kw: Any) -> User:
        user = User(
            email=email or f"user{self._next()}@example.org",
            name=name,
            password_hash=_HASH,
            timezone=kw.pop("timezone", "America/Chicago"),
            **kw,
        )
        self.session.add(user)
        self.session.commit()
        return user

    def therapist(self, org: Organization | None = None, admin: bool = False, **kw: Any) -> User:
        org = org or self.org()
        user = self.user(name=kw.pop("name", "Therapist"), **kw)
        role = OrgRole.ADMIN if admin else OrgRole.THERAPIST
        self.session.add(OrgMembership(organization_id=org.id, user_id=user.id, role=role))
        self.session.commit()
        return user

    def child(
        self,
        org: Organization,
        *,
        therapist: User | None = None,
        name: str = "Sam",
        timezone: str = "America/Chicago",
        birth_year: int = 2018,
    ) -> Child:
        child = Child(
            organization_id=org.id,
            display_name=name,
            birth_year=birth_year,
            birth_month=5,
            timezone=timezone,
        )
        self.session.add(child)
        self.session.commit()
        if therapist is not None:
            self.member(child, therapist, CareRole.THERAPIST)
        return child

    def member(self, child: Child, user: User, role: str) -> CareTeamMember:
        member = CareTeamMember(child_id=child.id, user_id=user.id, role=role)
        self.session.add(member)
        self.session.commit()
        return member

    def caregiver(self, child: Child, **kw: Any) -> User:
        user = self.user(name=kw.pop("name", "Parent"), **kw)
        self.member(child, user, CareRole.CAREGIVER)
        return user

    def teacher(self, child: Child, **kw: Any) -> User:
        user = self.user(name=kw.pop("name", "Teacher"), **kw)
        self.member(child, user, CareRole.TEACHER)
        return user

    def activity(self, org: Organization | None = None, **kw: Any) -> Activity:
        n = self._next()
        activity = Activity(
            organization_id=org.id if org else None,
            slug=kw.pop("slug", None if org else f"test-activity-{n}"),
            title=kw.pop("title", f"Activity {n}"),
            focus_area=kw.pop("focus_area", "fine_motor"),
            steps=kw.pop("steps", ["Do the first step.", "Do the second step."]),
            materials=kw.pop("materials", ["paper"]),
            **kw,
        )
        self.session.add(activity)
        self.session.commit()
        return activity

    def assignment(
        self,
        child: Child,
        activity: Activity | None = None,
        *,
        start_date: date,
        **kw: Any,
    ) -> Assignment:
        activity = activity or self.activity()
        assignment = Assignment(
            child_id=child.id, activity_id=activity.id, start_date=start_date, **kw
        )
        self.session.add(assignment)
        self.session.commit()
        return assignment
