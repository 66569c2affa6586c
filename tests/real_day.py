"""A caregiver's day made of real built-in activities: the wordiest ones of the library
(long steps, materials and safety lines), so page budgets and layout checks see the text
families actually get."""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from homeprogram.models import Activity, Assignment, Child, User
from homeprogram.models.base import utcnow
from homeprogram.services import library, logs, safety
from homeprogram.services.audit import Actor


@dataclass
class RealDay:
    therapist: User
    caregiver: User
    child: Child
    assignments: list[Assignment]


def _words(activity: Activity) -> tuple[int, int]:
    """Safety text first (the long notes), then everything else the card shows."""
    s = safety.of(activity)
    texts = [activity.title, activity.default_dose, *activity.steps, *(activity.materials or [])]
    return sum(map(len, [*s.stop_if, *s.notes])), sum(map(len, texts))


def wordiest_builtin(session: Session, count: int) -> list[Activity]:
    """The ``count`` built-in activities with the longest safety notes (then the most
    other text a family reads on Today)."""
    library.sync_builtin(session)
    session.commit()
    builtin = session.scalars(
        select(Activity).where(Activity.organization_id.is_(None), Activity.archived_at.is_(None))
    ).all()
    return sorted(builtin, key=lambda a: (_words(a), a.slug or ""), reverse=True)[:count]


def real_day(
    factory: Any,
    session: Session,
    *,
    activities: int = 4,
    logs_today: int = 0,
    kept_up: bool = True,
) -> RealDay:
    """A child with ``activities`` of the wordiest built-ins, after school, started three
    days ago, and ``logs_today`` sessions the caregiver logged today (with details), spread
    over them. ``kept_up``: every planned session of the days before was done too."""
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org", name="Jordan Lee")
    child = factory.child(org, therapist=therapist, name="Sam")
    parent = factory.caregiver(child, email="parent@example.org", name="Maria")
    start = utcnow().date() - timedelta(days=3)
    assignments = [
        factory.assignment(
            child,
            activity,
            start_date=start,
            dose_text=activity.default_dose,
            minutes_per_session=activity.default_minutes,
            anchor="after school",
            caregiver_note="Keep it playful; stop before it gets frustrating.",
        )
        for activity in wordiest_builtin(session, activities)
    ]
    past = [(a, days) for a in assignments for days in (1, 2, 3)] if kept_up else []
    for assignment, days in past:
        logs.record_log(
            session,
            Actor(parent.id),
            client_id=str(uuid.uuid4()),
            assignment_id=assignment.id,
            occurred_at=utcnow() - timedelta(days=days),
            user_id=parent.id,
            child_id=child.id,
        )
    for n in range(logs_today):
        logs.record_log(
            session,
            Actor(parent.id),
            client_id=str(uuid.uuid4()),
            assignment_id=assignments[n % len(assignments)].id,
            occurred_at=utcnow() - timedelta(minutes=5 * (n + 1)),
            minutes=5,
            response="just_right",
            note="Went well, asked to do it again.",
            user_id=parent.id,
            child_id=child.id,
        )
    session.commit()
    return RealDay(therapist, parent, child, assignments)
