"""Outcome records of a child for tests: a scaled goal rated twice with measurements, two
COPM assessments, and results of one instrument (the last one taken today)."""

from datetime import date, timedelta
from typing import Any

from homeprogram.models import (
    AssessmentResult,
    CopmAssessment,
    CopmProblem,
    CopmScore,
    GasRating,
    Goal,
    GoalMeasurement,
    Instrument,
)

DAY = timedelta(days=1)
# A long seeded name: tables must wrap it, on screen and on paper.
INSTRUMENT = "Beery-Buktenica Developmental Test of Visual-Motor Integration (Beery VMI)"


def record_outcomes(session: Any, child: Any, therapist: Any, today: date) -> Goal:
    """A scaled goal rated twice, two COPM assessments and two results of one instrument."""
    goal = Goal(
        child_id=child.id,
        statement="Leo ties his shoes",
        measure="seconds",
        unit="s",
        baseline=90,
        target=30,
        gas_levels=["Needs help", "Starts the knot", "Ties in 60 s", "Ties in 30 s", "Ties alone"],
        gas_baseline=-1,
    )
    session.add(goal)
    session.flush()
    session.add_all(
        [
            GasRating(goal_id=goal.id, level=0, rated_on=today - 20 * DAY),
            GasRating(goal_id=goal.id, level=1, rated_on=today - 5 * DAY),
        ]
    )
    problem = CopmProblem(child_id=child.id, description="Getting dressed", importance=9)
    session.add(problem)
    session.flush()
    for days_ago, perf, sat in ((25, 3, 2), (3, 6, 5)):
        assessment = CopmAssessment(child_id=child.id, assessed_on=today - days_ago * DAY)
        session.add(assessment)
        session.flush()
        session.add(
            CopmScore(
                assessment_id=assessment.id,
                problem_id=problem.id,
                performance=perf,
                satisfaction=sat,
            )
        )
    instrument = Instrument(organization_id=child.organization_id, name=INSTRUMENT)
    session.add(instrument)
    session.flush()
    for days_ago, value in ((60, 78), (10, 84), (0, 88)):
        session.add(
            AssessmentResult(
                child_id=child.id,
                instrument_id=instrument.id,
                taken_on=today - days_ago * DAY,
                score_type="standard",
                value=value,
                subtest="Visual-motor integration",
                by_id=therapist.id,
            )
        )
    session.commit()
    for days_ago, value in ((20, 80), (5, 60)):
        session.add(
            GoalMeasurement(goal_id=goal.id, value=value, measured_on=today - days_ago * DAY)
        )
    session.commit()
    return goal
