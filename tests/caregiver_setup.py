"""A family with a plan, shared by the caregiver, API and browser tests."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from homeprogram.models import Assignment, Child, CoachingNote, User
from homeprogram.models.base import utcnow
from homeprogram.services.schedule import local_date


@dataclass
class Family:
    child: Child
    caregiver: User
    therapist: User
    morning: Assignment  # once a day, every day
    bedtime: Assignment  # twice a day, every day
    today: date


def family(factory: Any, **assignment_kw: Any) -> Family:
    org = factory.org()
    therapist = factory.therapist(org)
    child = factory.child(org, therapist=therapist, name="Sam")
    caregiver = factory.caregiver(child)
    today = local_date(utcnow(), child.timezone)
    start = today - timedelta(days=14)
    morning = factory.assignment(
        child,
        factory.activity(title="Button practice", steps=["Hold the shirt.", "Push the button."]),
        start_date=start,
        anchor="morning",
        dose_amount=5,
        dose_unit="minutes",
        **assignment_kw,
    )
    bedtime = factory.assignment(
        child,
        factory.activity(title="Squeeze the putty"),
        start_date=start,
        anchor="Bedtime",
        times_per_day=2,
        dose_amount=10,
        dose_unit="reps",
    )
    return Family(child, caregiver, therapist, morning, bedtime, today)


def note(session: Any, child: Child, body: str = "Try it before breakfast.") -> CoachingNote:
    coaching = CoachingNote(child_id=child.id, body=body)
    session.add(coaching)
    session.commit()
    return coaching
