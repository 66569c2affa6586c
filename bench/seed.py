"""Benchmark data for bench/load.py: programs with weeks of practice, through the models.

Assignments start in the past so that the dashboard and the progress pages have days to
rate; the program editor only plans from today on, hence the models rather than
``services.programs``.
"""

import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session

from homeprogram.models import Activity, Assignment, CompletionLog

HISTORY_DAYS = 21
# (title, minutes, measure name and unit or None): one fine motor, self-care, gross motor.
PROGRAM = [
    ("Theraputty treasure hunt", 5, None),
    ("Sock-on race", 3, ("seconds to put on socks", "s")),
    ("Animal walks", 5, None),
]


def program_activities(session: Session, organization_id: int) -> list[Activity]:
    activities = []
    for title, minutes, _measure in PROGRAM:
        activity = Activity(
            organization_id=organization_id,
            title=title,
            focus_area="fine_motor",
            steps=["Show the child how.", "Do it together.", "Let the child try alone."],
            materials=["timer"],
            default_dose=f"{minutes} minutes",
            default_minutes=minutes,
        )
        session.add(activity)
        activities.append(activity)
    session.flush()
    return activities


def add_program(
    session: Session,
    *,
    child_id: int,
    caregiver_id: int,
    therapist_id: int,
    activities: list[Activity],
    today: date,
    seed: int = 0,
) -> list[int]:
    """Assign the activities from three weeks ago, with about two days in three done."""
    start = today - timedelta(days=HISTORY_DAYS)
    ids = []
    for activity, (_title, minutes, measure) in zip(activities, PROGRAM, strict=True):
        assignment = Assignment(
            child_id=child_id,
            activity_id=activity.id,
            dose_amount=minutes,
            dose_unit="minutes",
            minutes_per_session=minutes,
            start_date=start,
            anchor="after school",
            measure_name=measure[0] if measure else None,
            measure_unit=measure[1] if measure else None,
            created_by_id=therapist_id,
        )
        session.add(assignment)
        session.flush()
        ids.append(assignment.id)
        for day in range(HISTORY_DAYS):
            if (day + seed + assignment.id) % 3 == 0:
                continue
            local = start + timedelta(days=day)
            session.add(
                CompletionLog(
                    client_id=str(uuid.uuid4()),
                    assignment_id=assignment.id,
                    child_id=child_id,
                    logged_by_id=caregiver_id,
                    occurred_at=datetime(local.year, local.month, local.day, 22, 0, tzinfo=UTC),
                    local_date=local,
                    minutes=minutes,
                    response="just_right",
                    measure_value=40.0 - day if measure else None,
                )
            )
    session.flush()
    return ids
