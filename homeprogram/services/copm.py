"""COPM (Canadian Occupational Performance Measure): the problems a family names, and the
performance and satisfaction ratings at the first assessment and each reassessment.

Scores only: the app never reproduces the instrument. An average is the sum of the ratings
over the number of problems scored in that assessment; the change is against the first
assessment, and a change of 2 points or more counts as clinically meaningful. Averages are
exact fractions, so a change of exactly 2 is never 1.9999; rounding is for display only.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from homeprogram.models import Child, CopmAssessment, CopmProblem, CopmScore
from homeprogram.models.base import utcnow
from homeprogram.services import audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.services.goals import N_

MAX_PROBLEMS = 5
MAX_DESCRIPTION = 200
MAX_NOTE = 1000
RATINGS = range(1, 11)
MEANINGFUL = Fraction(2)
_TENTH = Decimal("0.1")


def shown(value: Fraction) -> Decimal:
    """A fraction rounded to one decimal (half away from zero), for display only."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    rounded = exact.quantize(_TENTH, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded == 0 else rounded  # never "-0.0"


def _is_rating(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in RATINGS


# --- problems ----------------------------------------------------------------------------


def _problem_errors(description: str, importance: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not description.strip():
        errors["description"] = gettext("Describe the problem in the family's words.")
    elif len(description.strip()) > MAX_DESCRIPTION:
        errors["description"] = gettext("Use at most %(num)d characters.", num=MAX_DESCRIPTION)
    if not _is_rating(importance):
        errors["importance"] = gettext("Rate the importance from 1 to 10.")
    return errors


def active_problems(session: Session, child_id: int) -> list[CopmProblem]:
    """The child's current problems, in the order they were named."""
    return list(
        session.scalars(
            select(CopmProblem)
            .where(CopmProblem.child_id == child_id, CopmProblem.archived_at.is_(None))
            .order_by(CopmProblem.created_at, CopmProblem.id)
        )
    )


def problem_of(session: Session, child_id: int, problem_id: int) -> CopmProblem:
    """A current problem of the child; NotFound for another child's or an archived one."""
    problem = session.get(CopmProblem, problem_id)
    if problem is None or problem.child_id != child_id or problem.archived_at is not None:
        raise NotFound()
    return problem


def add_problem(
    session: Session, actor: Actor, *, child_id: int, description: str, importance: Any
) -> CopmProblem:
    errors = _problem_errors(description, importance)
    if errors:
        raise ValidationFailed(errors)
    # Two therapists adding at once must not make a sixth: hold the child's row (PostgreSQL).
    session.execute(select(Child.id).where(Child.id == child_id).with_for_update())
    count = session.scalar(
        select(func.count())
        .select_from(CopmProblem)
        .where(CopmProblem.child_id == child_id, CopmProblem.archived_at.is_(None))
    )
    if (count or 0) >= MAX_PROBLEMS:
        raise ValidationFailed(
            {
                "problems": gettext(
                    "At most %(num)d problems can be current. Archive one to add another.",
                    num=MAX_PROBLEMS,
                )
            }
        )
    problem = CopmProblem(
        child_id=child_id,
        description=description.strip(),
        importance=importance,
        created_by_id=actor.user_id,
    )
    session.add(problem)
    session.flush()
    _audit_problem(session, actor, "copm.problem_added", problem)
    return problem


def update_problem(
    session: Session, actor: Actor, problem: CopmProblem, *, description: str, importance: Any
) -> CopmProblem:
    errors = _problem_errors(description, importance)
    if errors:
        raise ValidationFailed(errors)
    problem.description = description.strip()
    problem.importance = importance
    _audit_problem(session, actor, "copm.problem_updated", problem)
    return problem


def archive_problem(session: Session, actor: Actor, problem: CopmProblem) -> None:
    """The problem is no longer scored; its past scores stay in the history."""
    problem.archived_at = utcnow()
    _audit_problem(session, actor, "copm.problem_archived", problem)


def _audit_problem(session: Session, actor: Actor, action: str, problem: CopmProblem) -> None:
    audit.record(
        session,
        actor,
        action,
        child_id=problem.child_id,
        target_type="copm_problem",
        target_id=problem.id,
    )


# --- assessments -------------------------------------------------------------------------


def _score_errors(
    problems: list[CopmProblem], scores: Mapping[int, tuple[Any, Any]]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not problems:
        errors["problems"] = gettext("Add at least one problem before recording an assessment.")
        return errors
    if set(scores) - {p.id for p in problems}:
        errors["problems"] = gettext(
            "Some scores are for problems this child no longer has. Reload the page."
        )
    for p in problems:
        performance, satisfaction = scores.get(p.id, (None, None))
        if not _is_rating(performance):
            errors[f"performance_{p.id}"] = gettext(
                "Rate the performance of “%(problem)s” from 1 to 10.", problem=p.description
            )
        if not _is_rating(satisfaction):
            errors[f"satisfaction_{p.id}"] = gettext(
                "Rate the satisfaction with “%(problem)s” from 1 to 10.", problem=p.description
            )
    return errors


def _date_errors(
    session: Session, child_id: int, assessed_on: date | None, today: date
) -> dict[str, str]:
    if assessed_on is None:
        return {"assessed_on": gettext("Enter the date of the assessment.")}
    if assessed_on > today:
        return {"assessed_on": gettext("The date cannot be in the future.")}
    taken = session.scalar(
        select(CopmAssessment.id).where(
            CopmAssessment.child_id == child_id, CopmAssessment.assessed_on == assessed_on
        )
    )
    if taken is not None:
        # Most often the same form sent twice; a correction is a delete and a new entry.
        return {
            "assessed_on": gettext(
                "An assessment on this date is already recorded. Delete it first to enter it again."
            )
        }
    return {}


def record_assessment(
    session: Session,
    actor: Actor,
    child: Child,
    *,
    assessed_on: date | None,
    scores: Mapping[int, tuple[Any, Any]],
    note: str,
    today: date,
) -> CopmAssessment:
    """Record an assessment: every current problem rated 1-10 for performance and
    satisfaction. ``today`` is the child's local day."""
    problems = active_problems(session, child.id)
    errors = _date_errors(session, child.id, assessed_on, today)
    errors.update(_score_errors(problems, scores))
    if len(note) > MAX_NOTE:
        errors["note"] = gettext("Use at most %(num)d characters.", num=MAX_NOTE)
    if errors:
        raise ValidationFailed(errors)
    assert assessed_on is not None
    assessment = CopmAssessment(
        child_id=child.id,
        assessed_on=assessed_on,
        by_id=actor.user_id,
        note=note.strip(),
        scores=[
            CopmScore(problem_id=p.id, performance=perf, satisfaction=sat)
            for p in problems
            for perf, sat in [scores[p.id]]
        ],
    )
    session.add(assessment)
    session.flush()
    audit.record(
        session,
        actor,
        "copm.assessed",
        child_id=child.id,
        target_type="copm_assessment",
        target_id=assessment.id,
        assessed_on=assessed_on.isoformat(),
        problems=len(problems),
    )
    return assessment


def assessment_of(session: Session, child_id: int, assessment_id: int) -> CopmAssessment:
    assessment = session.get(CopmAssessment, assessment_id)
    if assessment is None or assessment.child_id != child_id:
        raise NotFound()
    return assessment


def delete_assessment(session: Session, actor: Actor, assessment: CopmAssessment) -> None:
    """Remove an assessment entered by mistake (its scores go with it)."""
    audit.record(
        session,
        actor,
        "copm.assessment_deleted",
        child_id=assessment.child_id,
        target_type="copm_assessment",
        target_id=assessment.id,
        assessed_on=assessment.assessed_on.isoformat(),
    )
    session.delete(assessment)
    session.flush()


# --- summary -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A change of an average against the first assessment (positive: better)."""

    value: Fraction

    @property
    def meaningful(self) -> bool:
        return abs(self.value) >= MEANINGFUL

    @property
    def direction(self) -> str:
        """ "better", "worse" or "no change" (English keys: pages translate them)."""
        if self.value > 0:
            return N_("better")
        return N_("worse") if self.value < 0 else N_("no change")

    @property
    def shown(self) -> Decimal:
        return shown(self.value)


@dataclass(frozen=True)
class ScoreLine:
    problem_id: int
    description: str
    importance: int
    archived: bool
    performance: int
    satisfaction: int


@dataclass(frozen=True)
class AssessmentLine:
    id: int
    assessed_on: date
    note: str
    scores: tuple[ScoreLine, ...]
    performance: Fraction  # average over the problems scored in this assessment
    satisfaction: Fraction
    performance_change: Change | None  # None for the first assessment
    satisfaction_change: Change | None

    @property
    def performance_shown(self) -> Decimal:
        return shown(self.performance)

    @property
    def satisfaction_shown(self) -> Decimal:
        return shown(self.satisfaction)


@dataclass(frozen=True)
class Summary:
    child_id: int
    problems: tuple[CopmProblem, ...]  # current problems, in the order they were named
    assessments: tuple[AssessmentLine, ...]  # oldest first

    @property
    def can_add_problem(self) -> bool:
        return len(self.problems) < MAX_PROBLEMS

    @property
    def first(self) -> AssessmentLine | None:
        return self.assessments[0] if self.assessments else None

    @property
    def latest(self) -> AssessmentLine | None:
        return self.assessments[-1] if self.assessments else None


def _line(
    assessment: CopmAssessment, problems: Mapping[int, CopmProblem], first: AssessmentLine | None
) -> AssessmentLine:
    scores = tuple(
        ScoreLine(
            problem_id=s.problem_id,
            description=problems[s.problem_id].description,
            importance=problems[s.problem_id].importance,
            archived=problems[s.problem_id].archived_at is not None,
            performance=s.performance,
            satisfaction=s.satisfaction,
        )
        for s in assessment.scores
    )
    n = len(scores)
    performance = Fraction(sum(s.performance for s in scores), n)
    satisfaction = Fraction(sum(s.satisfaction for s in scores), n)
    return AssessmentLine(
        id=assessment.id,
        assessed_on=assessment.assessed_on,
        note=assessment.note,
        scores=scores,
        performance=performance,
        satisfaction=satisfaction,
        performance_change=None if first is None else Change(performance - first.performance),
        satisfaction_change=None if first is None else Change(satisfaction - first.satisfaction),
    )


def summary(session: Session, child_id: int, *, until: date | None = None) -> Summary:
    """Problems and assessments (oldest first; up to ``until`` when given), each with its
    averages and, after the first, the change against the first."""
    every_problem = {
        p.id: p
        for p in session.scalars(select(CopmProblem).where(CopmProblem.child_id == child_id))
    }
    stmt = (
        select(CopmAssessment)
        .where(CopmAssessment.child_id == child_id)
        .options(selectinload(CopmAssessment.scores))
        .order_by(CopmAssessment.assessed_on, CopmAssessment.id)
    )
    if until is not None:
        stmt = stmt.where(CopmAssessment.assessed_on <= until)
    lines: list[AssessmentLine] = []
    for assessment in session.scalars(stmt):
        if not assessment.scores:  # cannot be recorded so; nothing to average
            continue
        lines.append(_line(assessment, every_problem, lines[0] if lines else None))
    current = sorted(
        (p for p in every_problem.values() if p.archived_at is None),
        key=lambda p: (p.created_at, p.id),
    )
    return Summary(child_id=child_id, problems=tuple(current), assessments=tuple(lines))


@dataclass(frozen=True)
class ReportSummary:
    """What the progress report prints: the first and latest assessments and the change
    (the changes are None when there is only one assessment)."""

    first: AssessmentLine
    latest: AssessmentLine
    performance_change: Change | None
    satisfaction_change: Change | None

    @property
    def reassessed(self) -> bool:
        return self.latest.id != self.first.id


def copm_summary_for_report(
    session: Session, child_id: int, *, until: date | None = None
) -> ReportSummary | None:
    """The first and latest assessment (up to ``until``, e.g. the report's end) and the
    change between them; None when no assessment is recorded."""
    s = summary(session, child_id, until=until)
    if s.first is None or s.latest is None:
        return None
    return ReportSummary(
        first=s.first,
        latest=s.latest,
        performance_change=s.latest.performance_change,
        satisfaction_change=s.latest.satisfaction_change,
    )
