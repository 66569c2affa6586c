"""Standardised assessment results of a child: one score (of an instrument in the
organisation's list, optionally of a subtest) on a date. Scores only: never test content.

For other features:

- ``results_of(session, child_id)``: newest first (a goal's baseline choices, the report).
- ``result_of(session, child_id, result_id)``: one result of the child, else NotFound (check
  a goal's chosen baseline with it).
- ``describe(result)``: one line, e.g. "Beery VMI · Visual perception · standard score 92
  (Tue, Mar 3, 2026)", for choices, the goal page and the report.
- ``series(results)``: results grouped per (instrument, subtest, score type), oldest first,
  for charts.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_decimal, gettext, lazy_gettext, ngettext
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from homeprogram.formatting import format_when
from homeprogram.models import AssessmentResult, Child, Goal, Instrument, ScoreType
from homeprogram.services import audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed

MAX_SUBTEST = 120
MAX_NOTES = 1000

SCORE_TYPE_NAMES = {
    ScoreType.STANDARD: lazy_gettext("standard score"),
    ScoreType.SCALED: lazy_gettext("scaled score"),
    ScoreType.PERCENTILE: lazy_gettext("percentile"),
    ScoreType.AGE_EQUIVALENT: lazy_gettext("age equivalent"),
    ScoreType.RAW: lazy_gettext("raw score"),
}

# Plausible values per score type (an age equivalent is in months).
BOUNDS: dict[ScoreType, tuple[float, float]] = {
    ScoreType.STANDARD: (0, 200),
    ScoreType.SCALED: (0, 40),
    ScoreType.PERCENTILE: (0, 100),
    ScoreType.AGE_EQUIVALENT: (0, 300),
    ScoreType.RAW: (0, 100000),
}


def score_type_name(score_type: str) -> str:
    try:
        return str(SCORE_TYPE_NAMES[ScoreType(score_type)])
    except ValueError:
        return score_type


def _bound_message(score_type: ScoreType) -> str:
    low, high = (format_decimal(b) for b in BOUNDS[score_type])
    if score_type is ScoreType.STANDARD:
        return gettext("A standard score is from %(low)s to %(high)s.", low=low, high=high)
    if score_type is ScoreType.SCALED:
        return gettext("A scaled score is from %(low)s to %(high)s.", low=low, high=high)
    if score_type is ScoreType.PERCENTILE:
        return gettext("A percentile is from %(low)s to %(high)s.", low=low, high=high)
    if score_type is ScoreType.AGE_EQUIVALENT:
        return gettext("An age equivalent is from %(low)s to %(high)s months.", low=low, high=high)
    return gettext("A raw score is from %(low)s to %(high)s.", low=low, high=high)


def _value_error(score_type: ScoreType | None, value: float | None) -> str | None:
    if value is None:
        return gettext("Enter the score as a number.")
    if not math.isfinite(value):
        return gettext("Enter a smaller number.")
    if score_type is None:
        return None
    low, high = BOUNDS[score_type]
    if not low <= value <= high:
        return _bound_message(score_type)
    if score_type is ScoreType.AGE_EQUIVALENT and not float(value).is_integer():
        return gettext("Enter the age equivalent in whole months (4 years 6 months is 54).")
    return None


def _instrument_error(
    session: Session, child: Child, instrument_id: int | None
) -> tuple[Instrument | None, str | None]:
    if instrument_id is None:
        return None, gettext("Choose an instrument.")
    instrument = session.get(Instrument, instrument_id)
    if instrument is None or instrument.organization_id != child.organization_id:
        return None, gettext("Choose an instrument from your organization's list.")
    if instrument.archived_at is not None:
        return None, gettext(
            "“%(name)s” is archived: choose another instrument.", name=instrument.name
        )
    return instrument, None


def _score_type(raw: str | None) -> ScoreType | None:
    try:
        return ScoreType(raw or "")
    except ValueError:
        return None


def add_result(
    session: Session,
    actor: Actor,
    child: Child,
    *,
    instrument_id: int | None,
    taken_on: date | None,
    score_type: str | None,
    value: float | None,
    subtest: str = "",
    notes: str = "",
    today: date,
) -> AssessmentResult:
    """Record a score; ``today`` is the child's local day (a result cannot be in the future)."""
    errors: dict[str, str] = {}
    instrument, problem = _instrument_error(session, child, instrument_id)
    if problem:
        errors["instrument_id"] = problem
    if taken_on is None:
        errors["taken_on"] = gettext("Enter the date the assessment was given.")
    elif taken_on > today:
        errors["taken_on"] = gettext("The date cannot be in the future.")
    kind = _score_type(score_type)
    if kind is None:
        errors["score_type"] = gettext("Choose a score type.")
    if problem := _value_error(kind, value):
        errors["value"] = problem
    subtest, notes = " ".join(subtest.split()), notes.strip()
    if len(subtest) > MAX_SUBTEST:
        errors["subtest"] = gettext("Use at most %(num)d characters.", num=MAX_SUBTEST)
    if len(notes) > MAX_NOTES:
        errors["notes"] = gettext("Use at most %(num)d characters.", num=MAX_NOTES)
    if errors:
        raise ValidationFailed(errors)
    assert instrument is not None and taken_on is not None and kind is not None
    assert value is not None
    result = AssessmentResult(
        child_id=child.id,
        instrument_id=instrument.id,
        taken_on=taken_on,
        score_type=kind.value,
        value=float(value),
        subtest=subtest,
        notes=notes,
        by_id=actor.user_id,
    )
    session.add(result)
    session.flush()
    audit.record(
        session,
        actor,
        "assessment.recorded",
        organization_id=child.organization_id,
        child_id=child.id,
        target_type="assessment_result",
        target_id=result.id,
        instrument_id=instrument.id,
        score_type=kind.value,
    )
    return result


def result_of(session: Session, child_id: int, result_id: int) -> AssessmentResult:
    result = session.get(AssessmentResult, result_id)
    if result is None or result.child_id != child_id:
        raise NotFound()
    return result


def delete_result(session: Session, actor: Actor, result: AssessmentResult) -> int:
    """Delete a result; goals that had it as their baseline lose the link (not their numbers).
    Returns how many goals lost it."""
    # The foreign key says ON DELETE SET NULL; clearing it here keeps that true whatever the
    # database enforces, and tells the caller how many goals were affected.
    unlinked = session.execute(
        update(Goal)
        .where(Goal.baseline_result_id == result.id)
        .values(baseline_result_id=None)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    audit.record(
        session,
        actor,
        "assessment.deleted",
        child_id=result.child_id,
        target_type="assessment_result",
        target_id=result.id,
        instrument_id=result.instrument_id,
        goals_unlinked=unlinked,
    )
    session.delete(result)
    session.flush()
    return unlinked


def results_of(session: Session, child_id: int) -> list[AssessmentResult]:
    """The child's results, newest first."""
    return list(
        session.scalars(
            select(AssessmentResult)
            .where(AssessmentResult.child_id == child_id)
            .order_by(AssessmentResult.taken_on.desc(), AssessmentResult.id.desc())
        )
    )


def results_between(
    session: Session, child_id: int, start: date, end: date
) -> list[AssessmentResult]:
    """The child's results taken from ``start`` to ``end`` (inclusive), oldest first (the
    report)."""
    return list(
        session.scalars(
            select(AssessmentResult)
            .where(
                AssessmentResult.child_id == child_id,
                AssessmentResult.taken_on >= start,
                AssessmentResult.taken_on <= end,
            )
            .order_by(AssessmentResult.taken_on, AssessmentResult.id)
        )
    )


def baseline_result_ids(session: Session, child_id: int) -> set[int]:
    """Results that some current goal of the child uses as its baseline."""
    return set(
        session.scalars(
            select(Goal.baseline_result_id).where(
                Goal.child_id == child_id,
                Goal.archived_at.is_(None),
                Goal.baseline_result_id.is_not(None),
            )
        )
    )


@dataclass
class Series:
    """Results of one instrument, subtest and score type, oldest first."""

    instrument: str
    subtest: str
    score_type: str
    results: list[AssessmentResult] = field(default_factory=list)

    @property
    def points(self) -> list[tuple[date, float]]:
        return [(r.taken_on, r.value) for r in self.results]

    @property
    def title(self) -> str:
        kind = score_type_name(self.score_type)
        if self.subtest:
            return gettext(
                "%(instrument)s · %(subtest)s · %(score_type)s",
                instrument=self.instrument,
                subtest=self.subtest,
                score_type=kind,
            )
        return gettext(
            "%(instrument)s · %(score_type)s", instrument=self.instrument, score_type=kind
        )


def series(results: Iterable[AssessmentResult]) -> list[Series]:
    """Results grouped by (instrument, subtest, score type), each oldest first; the groups
    ordered by instrument name, subtest and score type."""
    groups: dict[tuple[int, str, str], Series] = {}
    for r in sorted(results, key=lambda r: (r.taken_on, r.id)):
        key = (r.instrument_id, r.subtest.casefold(), r.score_type)
        if key not in groups:
            groups[key] = Series(r.instrument.name, r.subtest, r.score_type)
        groups[key].results.append(r)
    order = list(ScoreType)
    return sorted(
        groups.values(),
        key=lambda s: (
            s.instrument.casefold(),
            s.subtest.casefold(),
            order.index(ScoreType(s.score_type)) if s.score_type in order else len(order),
        ),
    )


def format_age(months: float) -> str:
    """An age equivalent in months as people say it: "4 years 6 months"."""
    total = round(months)
    years, rest = divmod(total, 12)
    year_text = ngettext("%(num)d year", "%(num)d years", years)
    month_text = ngettext("%(num)d month", "%(num)d months", rest)
    if years and rest:
        return gettext("%(years)s %(months)s", years=year_text, months=month_text)
    return year_text if years else month_text


def format_value(result: AssessmentResult) -> str:
    """The value as shown in tables: an age equivalent in years and months, else the number."""
    if result.score_type == ScoreType.AGE_EQUIVALENT:
        return format_age(result.value)
    return format_decimal(result.value)


def score_text(result: AssessmentResult) -> str:
    value = format_value(result)
    kind = _score_type(result.score_type)
    if kind is ScoreType.STANDARD:
        return gettext("standard score %(value)s", value=value)
    if kind is ScoreType.SCALED:
        return gettext("scaled score %(value)s", value=value)
    if kind is ScoreType.PERCENTILE:
        return gettext("percentile %(value)s", value=value)
    if kind is ScoreType.AGE_EQUIVALENT:
        return gettext("age equivalent %(value)s", value=value)
    return gettext("raw score %(value)s", value=value)


def describe(result: AssessmentResult) -> str:
    """One line naming the result, e.g. "Beery VMI · Visual perception · standard score 92
    (Tue, Mar 3, 2026)"."""
    day = format_when(result.taken_on)
    if result.subtest:
        return gettext(
            "%(instrument)s · %(subtest)s · %(score)s (%(day)s)",
            instrument=result.instrument.name,
            subtest=result.subtest,
            score=score_text(result),
            day=day,
        )
    return gettext(
        "%(instrument)s · %(score)s (%(day)s)",
        instrument=result.instrument.name,
        score=score_text(result),
        day=day,
    )
