"""Demo data: a clinic, a therapist, three caregivers (one reading Spanish), a teacher and
three children. Seeded once."""

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from homeprogram.models import (
    Activity,
    AssessmentResult,
    Assignment,
    CareRole,
    CareTeamMember,
    Child,
    CoachingNote,
    CompletionLog,
    Goal,
    GoalMeasurement,
    Instrument,
    Organization,
    OrgMembership,
    OrgRole,
    Response,
    Setting,
    User,
)
from homeprogram.services import instruments, passwords

DEMO_ORG = "Maple Street Pediatric OT (demo)"
TIMEZONE = "America/Chicago"

# (role shown, email, password): printed by ``homeprogram demo``.
LOGINS = [
    ("therapist", "therapist@demo.homeprogram.test", "demo-therapist-2026"),
    ("caregiver", "parent.alvarez@demo.homeprogram.test", "demo-caregiver-2026"),
    ("caregiver", "grandpa.okafor@demo.homeprogram.test", "demo-caregiver-2026"),
    ("teacher", "teacher@demo.homeprogram.test", "demo-teacher-2026"),
    ("caregiver (Spanish)", "abuela.rosa@demo.homeprogram.test", "demo-caregiver-2026"),
]

_NAMES = {
    "therapist@demo.homeprogram.test": "Jordan Lee, OTR/L",
    "parent.alvarez@demo.homeprogram.test": "Maria Alvarez",
    "grandpa.okafor@demo.homeprogram.test": "Samuel Okafor",
    "teacher@demo.homeprogram.test": "Ms. Rivera",
    "abuela.rosa@demo.homeprogram.test": "Rosa Alvarez",
}
# Sam's and Lucia's grandmother reads the app in Spanish; Lucia's family language is Spanish.
_SPANISH = "abuela.rosa@demo.homeprogram.test"
_FAMILY_LANGUAGE = {"Lucia": "es"}

# (display name, birth year offset from this year, month, caregiver email, teacher?)
_CHILDREN = [
    ("Sam", 7, 3, "parent.alvarez@demo.homeprogram.test", True),
    ("Lucia", 5, 9, "parent.alvarez@demo.homeprogram.test", False),
    ("Tobi", 9, 11, "grandpa.okafor@demo.homeprogram.test", True),
]

# Per child: (built-in slug, anchor, setting, times per day, measure name/unit or None).
_PROGRAMS = {
    "Sam": [
        ("rainbow-letter-tracing", "after school", Setting.HOME, 1, None),
        ("zipper-start-and-pull", "morning", Setting.HOME, 1, ("seconds to zip the coat", "s")),
        ("wall-push-ups", "movement break every 30 minutes", Setting.CLASSROOM, 1, None),
        ("chair-push-ups", "before writing", Setting.BOTH, 1, None),
    ],
    "Lucia": [
        ("playdough-snakes-and-pinch-pots", "after dinner", Setting.HOME, 1, None),
        ("socks-on-donut-method", "morning", Setting.HOME, 1, None),
        ("two-minute-toothbrushing", "bedtime", Setting.HOME, 2, None),
    ],
    "Tobi": [
        ("tape-line-balance-walk", "after school", Setting.HOME, 1, None),
        ("bunny-ears-shoelaces", "morning", Setting.HOME, 1, ("shoes tied without help", "of 2")),
        ("calm-down-corner", "when upset", Setting.BOTH, 1, None),
    ],
}
# Standardised assessment scores (instrument, subtest, score type, value, weeks ago).
_ASSESSMENTS = {
    "Sam": [
        (instruments.SEEDED[0], "Visual-motor integration", "standard", 84, 26),
        (instruments.SEEDED[0], "Visual-motor integration", "standard", 92, 1),
    ],
}
# How often each child's family practised over the last three weeks (drives the flags).
_PRACTICE_RATE = {"Sam": 0.85, "Lucia": 0.6, "Tobi": 0.25}
HISTORY_DAYS = 21


def seed(session: Session, *, today: date) -> bool:
    """Create the demo data unless it exists; True when it was created now."""
    if session.scalar(select(Organization.id).where(Organization.name == DEMO_ORG)):
        return False
    org = Organization(name=DEMO_ORG, timezone=TIMEZONE)
    session.add(org)
    session.flush()
    instruments.seed(session, org.id)
    users: dict[str, User] = {}
    for _role, email, password in LOGINS:
        users[email] = User(
            email=email,
            name=_NAMES[email],
            password_hash=passwords.hash_password(password),
            timezone=TIMEZONE,
            locale="es" if email == _SPANISH else "en",
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
            family_language=_FAMILY_LANGUAGE.get(name),
        )
        session.add(child)
        session.flush()
        members = [(therapist, CareRole.THERAPIST), (users[caregiver_email], CareRole.CAREGIVER)]
        if caregiver_email == "parent.alvarez@demo.homeprogram.test":
            members.append((users[_SPANISH], CareRole.CAREGIVER))
        if in_class:
            members.append((teacher, CareRole.TEACHER))
        for user, role in members:
            session.add(CareTeamMember(child_id=child.id, user_id=user.id, role=role))
        _seed_program(session, child, therapist, users[caregiver_email], today)
        if name in _ASSESSMENTS:
            _seed_assessments(session, child, therapist, today)
    session.flush()
    return True


def _seed_program(
    session: Session, child: Child, therapist: User, caregiver: User, today: date
) -> None:
    """A program started three weeks ago with a plausible practice history, a goal and a note.

    The history is fixed by a seeded generator so every demo looks the same.
    """
    rng = random.Random(child.display_name)
    start = today - timedelta(days=HISTORY_DAYS)
    zone = ZoneInfo(child.timezone)
    assignments = []
    for slug, anchor, setting, times, measure in _PROGRAMS[child.display_name]:
        activity = session.scalar(
            select(Activity).where(Activity.slug == slug, Activity.organization_id.is_(None))
        )
        if activity is None:  # library not synced: the demo still works, without programs
            continue
        assignment = Assignment(
            child_id=child.id,
            activity_id=activity.id,
            dose_text=activity.default_dose,
            dose_unit="text",
            minutes_per_session=activity.default_minutes,
            days_of_week=[0, 1, 2, 3, 4] if setting == Setting.CLASSROOM else [0, 1, 2, 3, 4, 5, 6],
            times_per_day=times,
            start_date=start,
            setting=setting,
            anchor=anchor,
            measure_name=measure[0] if measure else None,
            measure_unit=measure[1] if measure else None,
            measure_higher_is_better=(measure[1] != "s") if measure else None,
            created_by_id=therapist.id,
        )
        session.add(assignment)
        assignments.append(assignment)
    session.flush()
    rate = _PRACTICE_RATE[child.display_name]
    for offset in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=offset)
        for assignment in assignments:
            if assignment.setting == Setting.CLASSROOM:
                continue
            for n in range(assignment.times_per_day):
                if rng.random() > rate:
                    continue
                hour = 8 + n * 11 if assignment.times_per_day > 1 else rng.choice((8, 16, 19))
                local = datetime.combine(day, time(hour, rng.randrange(60)), zone)
                value = None
                if assignment.measure_name:
                    value = (
                        round(60 - (HISTORY_DAYS - offset) * 1.5 + rng.uniform(-4, 4))
                        if assignment.measure_unit == "s"
                        else float(rng.choice((0, 1, 1, 2)))
                    )
                session.add(
                    CompletionLog(
                        client_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        assignment_id=assignment.id,
                        child_id=child.id,
                        logged_by_id=caregiver.id,
                        occurred_at=local.astimezone(UTC),
                        local_date=day,
                        minutes=rng.choice((None, 3, 5, 5, 10)),
                        response=rng.choice(
                            (Response.EASY, Response.JUST_RIGHT, Response.JUST_RIGHT, Response.HARD)
                        ),
                        measure_value=value,
                    )
                )
    if assignments:
        first = assignments[0]
        goal = Goal(
            child_id=child.id,
            statement=f"{child.display_name} will complete “{first.activity.title}” on their own.",
            measure="steps done without help",
            unit="of 5",
            baseline=1,
            target=5,
            target_date=today + timedelta(days=90),
            shared_with_school=first.setting != Setting.HOME,
            created_by_id=therapist.id,
        )
        goal.assignments.append(first)
        session.add(goal)
        session.flush()
        for weeks_ago, value in ((3, 1), (2, 2), (1, 2), (0, 3)):
            session.add(
                GoalMeasurement(
                    goal_id=goal.id,
                    value=value,
                    measured_on=today - timedelta(weeks=weeks_ago),
                    by_id=therapist.id,
                )
            )
    session.add(
        CoachingNote(
            child_id=child.id,
            author_id=therapist.id,
            body="Great start! Keep sessions short and fun, and stop before it gets frustrating.",
        )
    )


def _seed_assessments(session: Session, child: Child, therapist: User, today: date) -> None:
    for name, subtest, score_type, value, weeks_ago in _ASSESSMENTS[child.display_name]:
        instrument_id = session.scalar(
            select(Instrument.id).where(
                Instrument.organization_id == child.organization_id, Instrument.name == name
            )
        )
        if instrument_id is None:
            continue
        session.add(
            AssessmentResult(
                child_id=child.id,
                instrument_id=instrument_id,
                taken_on=today - timedelta(weeks=weeks_ago),
                score_type=score_type,
                value=value,
                subtest=subtest,
                by_id=therapist.id,
            )
        )
