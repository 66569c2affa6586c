"""Demo data: a clinic, a therapist, two caregivers, a teacher and three children. Seeded once."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from homeprogram.models import (
    CareRole,
    CareTeamMember,
    Child,
    Organization,
    OrgMembership,
    OrgRole,
    User,
)
from homeprogram.services import passwords

DEMO_ORG = "Maple Street Pediatric OT (demo)"
TIMEZONE = "America/Chicago"

# (role shown, email, password): printed by ``homeprogram demo``.
LOGINS = [
    ("therapist", "therapist@demo.homeprogram.test", "demo-therapist-2026"),
    ("caregiver", "parent.alvarez@demo.homeprogram.test", "demo-caregiver-2026"),
    ("caregiver", "grandpa.okafor@demo.homeprogram.test", "demo-caregiver-2026"),
    ("teacher", "teacher@demo.homeprogram.test", "demo-teacher-2026"),
]

_NAMES = {
    "therapist@demo.homeprogram.test": "Jordan Lee, OTR/L",
    "parent.alvarez@demo.homeprogram.test": "Maria Alvarez",
    "grandpa.okafor@demo.homeprogram.test": "Samuel Okafor",
    "teacher@demo.homeprogram.test": "Ms. Rivera",
}

# (display name, birth year offset from this year, month, caregiver email, teacher?)
_CHILDREN = [
    ("Sam", 7, 3, "parent.alvarez@demo.homeprogram.test", True),
    ("Lucia", 5, 9, "parent.alvarez@demo.homeprogram.test", False),
    ("Tobi", 9, 11, "grandpa.okafor@demo.homeprogram.test", True),
]


def seed(session: Session, *, today: date) -> bool:
    """Create the demo data unless it exists; True when it was created now."""
    if session.scalar(select(Organization.id).where(Organization.name == DEMO_ORG)):
        return False
    org = Organization(name=DEMO_ORG, timezone=TIMEZONE)
    session.add(org)
    session.flush()
    users: dict[str, User] = {}
    for _role, email, password in LOGINS:
        users[email] = User(
            email=email,
            name=_NAMES[email],
            password_hash=passwords.hash_password(password),
            timezone=TIMEZONE,
        )
        session.add(users[email])
    session.flush()
    therapist = users[LOGINS[0][1]]
    teacher = users[LOGINS[3][1]]
    session.add(OrgMembership(organization_id=org.id, user_id=therapist.id, role=OrgRole.ADMIN))
    for name, age, month, caregiver_email, in_class in _CHILDREN:
        child = Child(
            organization_id=org.id,
            display_name=name,
            birth_year=today.year - age,
            birth_month=month,
            timezone=TIMEZONE,
        )
        session.add(child)
        session.flush()
        members = [(therapist, CareRole.THERAPIST), (users[caregiver_email], CareRole.CAREGIVER)]
        if in_class:
            members.append((teacher, CareRole.TEACHER))
        for user, role in members:
            session.add(CareTeamMember(child_id=child.id, user_id=user.id, role=role))
    session.flush()
    return True
