"""Goals and their measurements (Goal Attainment Scaling: ``services/gas.py``)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from homeprogram.models import AssessmentResult, Assignment, Goal, GoalMeasurement
from homeprogram.models.base import utcnow
from homeprogram.services import audit, gas
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed

MAX_VALUE = 1e9


def N_(text: str) -> str:
    """Marks a word for the catalog and returns it unchanged: ``Progress.trend`` stays the
    English key, which pages translate when they show it (``_(gp.trend)``)."""
    return text


def _number(errors: dict[str, str], name: str, value: float | None) -> None:
    if value is None:
        errors[name] = gettext("Enter a number.")
    elif not math.isfinite(value) or abs(value) > MAX_VALUE:
        errors[name] = gettext("Enter a smaller number.")


def _validate(
    statement: str,
    measure: str,
    unit: str,
    baseline: float | None,
    target: float | None,
    target_date: date | None,
    today: date,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not statement.strip():
        errors["statement"] = gettext("Describe the goal in a sentence.")
    elif len(statement) > 2000:
        errors["statement"] = gettext("Use at most %(num)d characters.", num=2000)
    if not measure.strip():
        errors["measure"] = gettext("Say what is measured, e.g. “buttons done in 2 minutes”.")
    elif len(measure) > 120:
        errors["measure"] = gettext("Use at most %(num)d characters.", num=120)
    if len(unit) > 30:
        errors["unit"] = gettext("Use at most %(num)d characters.", num=30)
    _number(errors, "baseline", baseline)
    _number(errors, "target", target)
    if "baseline" not in errors and "target" not in errors and baseline == target:
        errors["target"] = gettext("The target must differ from the baseline.")
    if target_date is not None and target_date < today:
        errors["target_date"] = gettext("The target date cannot be in the past.")
    return errors


@dataclass(frozen=True)
class Scale:
    """A goal's Goal Attainment Scale and baseline assessment result, as a form gives them."""

    levels: tuple[str, ...] = ("", "", "", "", "")  # -2 .. +2
    baseline: int | None = None
    weight: float | None = None
    baseline_result_id: int | None = None


NO_SCALE = Scale()


def _scale_errors(session: Session, child_id: int, scale: Scale) -> dict[str, str]:
    errors = gas.validate_scale(scale.levels, scale.baseline, scale.weight)
    if scale.baseline_result_id is not None:
        result = session.get(AssessmentResult, scale.baseline_result_id)
        if result is None or result.child_id != child_id:
            errors["baseline_result_id"] = gettext("Choose one of this child's results.")
    return errors


def _apply_scale(goal: Goal, scale: Scale) -> None:
    written = [text.strip() for text in scale.levels]
    goal.gas_levels = written if any(written) else []
    goal.gas_baseline = scale.baseline if any(written) else None
    goal.gas_weight = scale.weight
    goal.baseline_result_id = scale.baseline_result_id


def _linked(session: Session, child_id: int, assignment_ids: Sequence[int]) -> list[Assignment]:
    if not assignment_ids:
        return []
    found = list(
        session.scalars(
            select(Assignment).where(
                Assignment.id.in_(list(assignment_ids)), Assignment.child_id == child_id
            )
        )
    )
    if len(found) != len(set(assignment_ids)):
        raise ValidationFailed(
            {"assignment_ids": gettext("Choose activities of this child's program.")}
        )
    return found


def create_goal(
    session: Session,
    actor: Actor,
    *,
    child_id: int,
    statement: str,
    measure: str,
    unit: str,
    baseline: float | None,
    target: float | None,
    target_date: date | None,
    assignment_ids: Sequence[int] = (),
    shared_with_school: bool = False,
    scale: Scale = NO_SCALE,
    today: date,
) -> Goal:
    errors = _validate(statement, measure, unit, baseline, target, target_date, today)
    errors |= _scale_errors(session, child_id, scale)
    if errors:
        raise ValidationFailed(errors)
    assert baseline is not None and target is not None
    goal = Goal(
        child_id=child_id,
        statement=statement.strip(),
        measure=measure.strip(),
        unit=unit.strip(),
        baseline=baseline,
        target=target,
        target_date=target_date,
        shared_with_school=shared_with_school,
        created_by_id=actor.user_id,
        assignments=_linked(session, child_id, assignment_ids),
    )
    _apply_scale(goal, scale)
    session.add(goal)
    session.flush()
    audit.record(
        session, actor, "goal.created", child_id=child_id, target_type="goal", target_id=goal.id
    )
    return goal


def update_goal(
    session: Session,
    actor: Actor,
    goal: Goal,
    *,
    statement: str,
    measure: str,
    unit: str,
    baseline: float | None,
    target: float | None,
    target_date: date | None,
    assignment_ids: Sequence[int] = (),
    shared_with_school: bool = False,
    scale: Scale = NO_SCALE,
    today: date,
) -> Goal:
    # An existing target date may stay in the past (the goal is reviewed late).
    check_date = None if target_date == goal.target_date else target_date
    errors = _validate(statement, measure, unit, baseline, target, check_date, today)
    errors |= _scale_errors(session, goal.child_id, scale)
    if errors:
        raise ValidationFailed(errors)
    goal.statement, goal.measure, goal.unit = statement.strip(), measure.strip(), unit.strip()
    goal.baseline, goal.target, goal.target_date = baseline, target, target_date  # type: ignore[assignment]
    goal.shared_with_school = shared_with_school
    goal.assignments = _linked(session, goal.child_id, assignment_ids)
    _apply_scale(goal, scale)
    audit.record(
        session,
        actor,
        "goal.updated",
        child_id=goal.child_id,
        target_type="goal",
        target_id=goal.id,
    )
    return goal


def archive_goal(session: Session, actor: Actor, goal: Goal) -> None:
    goal.archived_at = utcnow()
    audit.record(
        session,
        actor,
        "goal.archived",
        child_id=goal.child_id,
        target_type="goal",
        target_id=goal.id,
    )


def add_measurement(
    session: Session,
    actor: Actor,
    goal: Goal,
    *,
    value: float | None,
    measured_on: date | None,
    note: str,
    today: date,
) -> GoalMeasurement:
    errors: dict[str, str] = {}
    _number(errors, "value", value)
    if measured_on is None:
        errors["measured_on"] = gettext("Enter the date of the measurement.")
    elif measured_on > today:
        errors["measured_on"] = gettext("The date cannot be in the future.")
    if len(note) > 1000:
        errors["note"] = gettext("Use at most %(num)d characters.", num=1000)
    if errors:
        raise ValidationFailed(errors)
    assert value is not None and measured_on is not None
    m = GoalMeasurement(
        goal_id=goal.id,
        value=value,
        measured_on=measured_on,
        by_id=actor.user_id,
        note=note.strip(),
    )
    session.add(m)
    session.flush()
    audit.record(
        session,
        actor,
        "goal.measured",
        child_id=goal.child_id,
        target_type="goal_measurement",
        target_id=m.id,
        goal_id=goal.id,
    )
    return m


def goals_for(session: Session, child_id: int, *, school_only: bool = False) -> list[Goal]:
    """The child's current goals with measurements, linked assignments, GAS ratings and
    baseline result (five queries)."""
    stmt = (
        select(Goal)
        .where(Goal.child_id == child_id, Goal.archived_at.is_(None))
        .options(
            selectinload(Goal.measurements),
            selectinload(Goal.assignments),
            selectinload(Goal.gas_ratings),
            selectinload(Goal.baseline_result),
        )
        .order_by(Goal.created_at, Goal.id)
    )
    if school_only:
        stmt = stmt.where(Goal.shared_with_school)
    return list(session.scalars(stmt))


def goal_of(session: Session, child_id: int, goal_id: int) -> Goal:
    goal = session.get(Goal, goal_id)
    if goal is None or goal.child_id != child_id or goal.archived_at is not None:
        raise NotFound()
    return goal


@dataclass(frozen=True)
class Progress:
    """Where a goal stands: latest value, share of the way from baseline to target, trend."""

    latest: GoalMeasurement | None
    fraction: float | None  # 0 = baseline, 1 = target reached (may exceed 1 or go below 0)
    trend: str  # "improving", "steady", "worse" or "not enough data"


def progress(goal: Goal, until: date | None = None) -> Progress:
    ms = [m for m in goal.measurements if until is None or m.measured_on <= until]
    latest = ms[-1] if ms else None
    span = goal.target - goal.baseline
    fraction = None if latest is None or span == 0 else (latest.value - goal.baseline) / span
    if len(ms) < 2:
        trend = N_("not enough data")
    else:
        # Compare the last measurement with the one before, in the goal's direction.
        delta = (ms[-1].value - ms[-2].value) * (1 if span > 0 else -1)
        trend = N_("improving") if delta > 0 else N_("worse") if delta < 0 else N_("steady")
    return Progress(latest=latest, fraction=fraction, trend=trend)
