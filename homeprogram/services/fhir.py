"""A child's record as a FHIR R4 Bundle (type "collection"), written as plain JSON dicts.

What goes in: a Patient (display name and birth year-month only), a Practitioner (name only)
per therapist on the care team, one CarePlan with an activity per assignment version, the
Goals with their targets and achievement, and Observations: goal measurements, GAS ratings
and T-scores, COPM assessments, standardised assessment results and weekly home-program
adherence per prescription.

Entries are named ``urn:uuid:<uuid5 of NAMESPACE and "<type>/<key>">`` and refer to each
other by those names only, so the Bundle stands alone. Codes: only code systems whose codes
are certain (goal-achievement, observation-category, UCUM for "mo" and "min"); everything
else is plain text (``CodeableConcept.text``), never an invented code. The text is English
whoever downloads it: the Bundle is an interchange document, the same for every reader.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from homeprogram.models import (
    AssessmentResult,
    Assignment,
    CareRole,
    CareTeamMember,
    Child,
    CopmAssessment,
    CopmProblem,
    GasRating,
    Goal,
    GoalMeasurement,
    Setting,
    User,
)
from homeprogram.services import adherence, audit, gas, programs, schedule
from homeprogram.services import goals as goal_service
from homeprogram.services.adherence import ChainAdherence
from homeprogram.services.audit import Actor

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:homeprogram:fhir")
ADHERENCE_WEEKS = 52
ORDER = ("Patient", "Practitioner", "CarePlan", "Goal", "Observation")

GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
UCUM = "http://unitsofmeasure.org"
CERTAIN_SYSTEMS = frozenset({GOAL_ACHIEVEMENT, OBSERVATION_CATEGORY, UCUM})

ACHIEVEMENT = {
    "achieved": "Achieved",
    "improving": "Improving",
    "worsening": "Worsening",
    "no-change": "No Change",
    "in-progress": "In Progress",
}
CATEGORY = {"survey": "Survey", "activity": "Activity"}
TREND_TO_ACHIEVEMENT = {"improving": "improving", "worse": "worsening", "steady": "no-change"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SETTINGS = {
    Setting.HOME.value: "at home",
    Setting.CLASSROOM.value: "in the classroom",
    Setting.BOTH.value: "at home and in the classroom",
}
SCORE_UNITS = {
    "standard": "standard score",
    "scaled": "scaled score",
    "percentile": "percentile rank",
    "raw": "raw score",
}

GAS_LEVEL = "Goal Attainment Scaling level"
GAS_T_SCORE = "Goal Attainment Scaling T-score"
COPM = "Canadian Occupational Performance Measure (COPM)"
ADHERENCE = "Home program adherence"


def full_url(resource_type: str, key: object) -> str:
    return f"urn:uuid:{resource_id(resource_type, key)}"


def resource_id(resource_type: str, key: object) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{resource_type}/{key}"))


def _ref(resource_type: str, key: object) -> dict[str, str]:
    return {"reference": full_url(resource_type, key)}


def _pruned(value: Any) -> Any:
    """The value without None, empty text, empty lists or empty objects (FHIR allows none)."""
    if isinstance(value, dict):
        items = ((k, _pruned(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not None and v != "" and v != [] and v != {}}
    if isinstance(value, list):
        items = [_pruned(v) for v in value]
        return [v for v in items if v is not None and v != "" and v != [] and v != {}]
    if isinstance(value, str):
        return value.strip()
    return value


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _text(text: str) -> dict[str, str]:
    return {"text": text}


def _notes(*texts: str | None) -> list[dict[str, str]]:
    return [{"text": t.strip()} for t in texts if t and t.strip()]


def _category(code: str) -> list[dict[str, Any]]:
    coding = {"system": OBSERVATION_CATEGORY, "code": code, "display": CATEGORY[code]}
    return [{"coding": [coding]}]


def _quantity(value: float, unit: str | None = None) -> dict[str, Any]:
    return {"value": _number(value), "unit": unit or None}


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class _Builder:
    session: Session
    child: Child
    today: date
    entries: list[dict[str, Any]] = field(default_factory=list)
    practitioners: dict[int, User] = field(default_factory=dict)

    def add(self, resource_type: str, key: object, resource: dict[str, Any]) -> dict[str, str]:
        body = {"resourceType": resource_type, "id": resource_id(resource_type, key), **resource}
        self.entries.append({"fullUrl": full_url(resource_type, key), "resource": _pruned(body)})
        return _ref(resource_type, key)

    @property
    def patient(self) -> dict[str, str]:
        return _ref("Patient", self.child.id)

    def performer(self, user_id: int | None) -> list[dict[str, str]]:
        return [_ref("Practitioner", user_id)] if user_id in self.practitioners else []

    def local_day(self, instant: datetime) -> date:
        return adherence.local_today(self.child.timezone, instant)

    def observation(
        self, key: str, code: str, *, category: str | None = None, **fields: Any
    ) -> dict[str, str]:
        body = {
            "status": "final",
            "category": _category(category) if category else None,
            "code": _text(code),
            "subject": self.patient,
            **fields,
        }
        return self.add("Observation", key, body)


# --- loading ------------------------------------------------------------------------------


def _therapists(session: Session, child_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(CareTeamMember, CareTeamMember.user_id == User.id)
            .where(
                CareTeamMember.child_id == child_id,
                CareTeamMember.role == CareRole.THERAPIST.value,
            )
            .order_by(CareTeamMember.created_at, CareTeamMember.id)
        )
    )


def _goals(session: Session, child_id: int) -> list[Goal]:
    """Every goal of the child, archived ones too, with measurements, ratings and links."""
    return list(
        session.scalars(
            select(Goal)
            .where(Goal.child_id == child_id)
            .options(
                selectinload(Goal.measurements),
                selectinload(Goal.gas_ratings),
                selectinload(Goal.assignments),
                selectinload(Goal.baseline_result),
            )
            .order_by(Goal.created_at, Goal.id)
        )
    )


def _copm(session: Session, child_id: int) -> tuple[dict[int, CopmProblem], list[CopmAssessment]]:
    problems = session.scalars(
        select(CopmProblem).where(CopmProblem.child_id == child_id).order_by(CopmProblem.id)
    )
    assessments = session.scalars(
        select(CopmAssessment)
        .where(CopmAssessment.child_id == child_id)
        .options(selectinload(CopmAssessment.scores))
        .order_by(CopmAssessment.assessed_on, CopmAssessment.id)
    )
    return {p.id: p for p in problems}, list(assessments)


def _results(session: Session, child_id: int) -> list[AssessmentResult]:
    return list(
        session.scalars(
            select(AssessmentResult)
            .where(AssessmentResult.child_id == child_id)
            .order_by(AssessmentResult.taken_on, AssessmentResult.id)
        )
    )


# --- Patient, Practitioners ---------------------------------------------------------------


def _add_people(b: _Builder) -> None:
    child = b.child
    b.add(
        "Patient",
        child.id,
        {
            "name": [{"given": [child.display_name]}],
            "birthDate": f"{child.birth_year:04d}-{child.birth_month:02d}",
        },
    )
    for user in _therapists(b.session, child.id):
        b.practitioners[user.id] = user
        b.add("Practitioner", user.id, {"name": [_text(user.name)]})


# --- weekly adherence ---------------------------------------------------------------------


@dataclass(frozen=True)
class WeekObservation:
    chain: ChainAdherence
    monday: date
    ref: dict[str, str]


def adherence_weeks(
    session: Session, child: Child, today: date, assignments: Sequence[Assignment]
) -> tuple[adherence.ChildAdherence | None, list[date]]:
    """The engine's figures over the whole Monday-to-Sunday weeks up to yesterday (at most
    ``ADHERENCE_WEEKS``, none before the first assignment), and those weeks' Mondays."""
    yesterday = today - timedelta(days=1)
    last_sunday = yesterday - timedelta(days=(yesterday.weekday() + 1) % 7)
    first = last_sunday - timedelta(days=7 * ADHERENCE_WEEKS - 1)
    if assignments:
        first = max(first, _monday(min(a.start_date for a in assignments)))
    if not assignments or first > last_sunday:
        return None, []
    data = adherence.child_adherence(session, child.id, first, last_sunday)
    mondays = [first + timedelta(days=7 * i) for i in range((last_sunday - first).days // 7 + 1)]
    return data, mondays


def _add_adherence(
    b: _Builder, assignments: Sequence[Assignment], care_plan: dict[str, str]
) -> list[WeekObservation]:
    data, mondays = adherence_weeks(b.session, b.child, b.today, assignments)
    if data is None:
        return []
    weeks = []
    for chain in data.chains:
        for monday in mondays:
            sunday = monday + timedelta(days=6)
            tally = chain.between(monday, sunday)
            if tally.expected == 0:
                continue  # "no plan": not 0% and not 100%, so no observation
            ref = b.observation(
                f"adherence-{chain.chain_id}-{monday.isoformat()}",
                ADHERENCE,
                category="activity",
                focus=[care_plan],
                effectivePeriod={"start": monday.isoformat(), "end": sunday.isoformat()},
                valueRatio={
                    "numerator": {"value": tally.done, "unit": "sessions done"},
                    "denominator": {"value": tally.expected, "unit": "sessions expected"},
                },
                component=[
                    {"code": _text("Activity"), "valueString": chain.activity_title},
                    {"code": _text("Extra sessions"), "valueInteger": tally.extra},
                ],
            )
            weeks.append(WeekObservation(chain, monday, ref))
    return weeks


# --- CarePlan -----------------------------------------------------------------------------


def _dose(a: Assignment) -> str:
    if a.dose_unit == "reps" and a.dose_amount:
        return f"{a.dose_amount} repetition{'s' if a.dose_amount != 1 else ''}"
    if a.dose_unit == "minutes" and a.dose_amount:
        return f"{a.dose_amount} minute{'s' if a.dose_amount != 1 else ''}"
    return a.dose_text.strip()


def _status(a: Assignment, today: date, replaced: bool) -> str:
    if a.start_date > today:
        return "not-started"
    if a.end_date is not None and a.end_date < today:
        # A newer version took over (stopped), or the prescription ran its course.
        return "stopped" if replaced else "completed"
    if schedule.is_paused(a, today):
        return "on-hold"
    return "in-progress"


def _timing(a: Assignment) -> dict[str, Any]:
    minutes = a.dose_amount if a.dose_unit == "minutes" and a.dose_amount else None
    minutes = minutes or a.minutes_per_session or None
    repeat = {
        "boundsPeriod": {
            "start": a.start_date.isoformat(),
            "end": a.end_date.isoformat() if a.end_date else None,
        },
        "frequency": a.times_per_day or None,
        "period": 1,
        "periodUnit": "d",
        "dayOfWeek": [WEEKDAYS[d] for d in sorted(set(a.days_of_week))],
        "duration": minutes,
        "durationUnit": "min" if minutes else None,
    }
    return {"repeat": repeat}


def _versions(assignments: Sequence[Assignment]) -> dict[int, tuple[int, int, Assignment | None]]:
    """Per assignment: its version number, the number of versions of its prescription
    (the chain linked by ``previous_id``), and the version it replaced."""
    by_id = {a.id: a for a in assignments}
    after = {a.previous_id: a for a in assignments if a.previous_id in by_id}
    out: dict[int, tuple[int, int, Assignment | None]] = {}
    for first in assignments:
        if first.previous_id in by_id:
            continue
        chain = [first]
        while chain[-1].id in after and after[chain[-1].id] not in chain:
            chain.append(after[chain[-1].id])
        for i, version in enumerate(chain):
            out[version.id] = (i + 1, len(chain), chain[i - 1] if i else None)
    for a in assignments:  # rows in a loop of previous_id (bad data) stand alone
        out.setdefault(a.id, (1, 1, None))
    return out


def _description(a: Assignment, number: int, total: int, previous: Assignment | None) -> str:
    parts = [a.activity.title]
    dose = _dose(a)
    if dose:
        parts.append(f": {dose}")
    parts.append(f", {SETTINGS.get(a.setting, a.setting)}")
    if a.anchor.strip():
        parts.append(f" ({a.anchor.strip()})")
    parts.append(".")
    if total > 1:
        parts.append(f" Prescription version {number} of {total}")
        if previous is not None:
            parts.append(f", replacing the version of {previous.start_date.isoformat()}")
            if previous.end_date is not None:
                parts.append(f" to {previous.end_date.isoformat()}")
        parts.append(".")
    return "".join(parts)


def _pause_notes(a: Assignment) -> list[dict[str, str]]:
    return [
        _text(
            f"Paused from {p.start_date.isoformat()}"
            + (f" to {p.end_date.isoformat()}." if p.end_date else " (still paused).")
        )
        for p in a.pauses
    ]


def _activity(
    b: _Builder,
    a: Assignment,
    version: tuple[int, int, Assignment | None],
    replaced: bool,
    goals_of: dict[int, list[dict[str, str]]],
    weeks: Sequence[WeekObservation],
) -> dict[str, Any]:
    number, total, previous = version
    last = a.end_date or date.max
    outcomes = [
        w.ref
        for w in weeks
        if a.id in w.chain.assignment_ids
        and w.monday <= last
        and w.monday + timedelta(days=6) >= a.start_date
    ]
    detail = {
        "status": _status(a, b.today, replaced),
        "description": _description(a, number, total, previous),
        "scheduledTiming": _timing(a),
        "goal": goals_of.get(a.id, []),
    }
    if a.dose_unit == "reps" and a.dose_amount:
        detail["quantity"] = {"value": a.dose_amount, "unit": "repetitions"}
    return {"outcomeReference": outcomes, "progress": _pause_notes(a), "detail": detail}


def _add_care_plan(
    b: _Builder,
    assignments: Sequence[Assignment],
    goals: Sequence[Goal],
    weeks: Sequence[WeekObservation],
) -> None:
    versions = _versions(assignments)
    replaced = {a.previous_id for a in assignments if a.previous_id is not None}
    goals_of: dict[int, list[dict[str, str]]] = {}
    for goal in goals:
        for a in goal.assignments:
            goals_of.setdefault(a.id, []).append(_ref("Goal", goal.id))
    authors = [a.created_by_id for a in assignments if a.created_by_id in b.practitioners]
    author = authors[0] if authors else next(iter(b.practitioners), None)
    starts = [a.start_date for a in assignments]
    b.add(
        "CarePlan",
        b.child.id,
        {
            "status": "active",
            "intent": "plan",
            "title": "Home program",
            "subject": b.patient,
            "period": {"start": min(starts).isoformat()} if starts else None,
            "author": _ref("Practitioner", author) if author is not None else None,
            "contributor": [_ref("Practitioner", uid) for uid in b.practitioners],
            "goal": [_ref("Goal", g.id) for g in goals],
            "activity": [
                _activity(b, a, versions[a.id], a.id in replaced, goals_of, weeks)
                for a in assignments
            ],
        },
    )


# --- Goals and their observations ---------------------------------------------------------


def achievement(goal: Goal) -> str:
    """The goal-achievement code of the goal's progress: achieved when the latest
    measurement reaches the target, else the trend of the last two measurements."""
    progress = goal_service.progress(goal)
    latest = progress.latest
    if latest is not None:
        reached = (
            latest.value >= goal.target if goal.higher_is_better else latest.value <= goal.target
        )
        if reached:
            return "achieved"
    return TREND_TO_ACHIEVEMENT.get(progress.trend, "in-progress")


def _lifecycle(goal: Goal, achieved: bool) -> str:
    if goal.archived_at is None:
        return "active"
    return "completed" if achieved else "cancelled"


def _goal_notes(goal: Goal) -> list[dict[str, str]]:
    unit = f" {goal.unit.strip()}" if goal.unit.strip() else ""
    texts = [f"Baseline: {_number(goal.baseline)}{unit}."]
    if goal.baseline_result is not None:
        r = goal.baseline_result
        texts.append(f"Baseline result: {_result_name(r)} on {r.taken_on.isoformat()}.")
    if goal.gas_scaled:
        levels = "; ".join(
            f"{_level(level)}: {text}"
            for level, text in zip(gas.LEVELS, goal.gas_levels, strict=True)
        )
        texts.append(f"Goal Attainment Scaling levels: {levels}.")
        baseline, weight = _level(goal.gas_baseline or 0), gas.weight_of(goal)
        texts.append(f"GAS level at baseline: {baseline}; weight {weight:g}.")
    return _notes(*texts)


def _add_goal(b: _Builder, goal: Goal) -> None:
    outcomes = [_add_measurement(b, goal, m) for m in goal.measurements]
    outcomes += [_add_gas_rating(b, goal, r) for r in goal.gas_ratings]
    code = achievement(goal)
    targets = [
        {
            "measure": _text(goal.measure),
            "detailQuantity": _quantity(goal.target, goal.unit),
            "dueDate": goal.target_date.isoformat() if goal.target_date else None,
        }
    ]
    if goal.gas_scaled:
        targets.append({"measure": _text(GAS_LEVEL), "detailInteger": 0})
    b.add(
        "Goal",
        goal.id,
        {
            "lifecycleStatus": _lifecycle(goal, code == "achieved"),
            "statusDate": b.local_day(goal.archived_at).isoformat() if goal.archived_at else None,
            "achievementStatus": {
                "coding": [{"system": GOAL_ACHIEVEMENT, "code": code, "display": ACHIEVEMENT[code]}]
            },
            "description": _text(goal.statement),
            "subject": b.patient,
            "startDate": b.local_day(goal.created_at).isoformat(),
            "expressedBy": next(iter(b.performer(goal.created_by_id)), None),
            "target": targets,
            "note": _goal_notes(goal),
            "outcomeReference": outcomes,
        },
    )


def _add_measurement(b: _Builder, goal: Goal, m: GoalMeasurement) -> dict[str, str]:
    return b.observation(
        f"goal-measurement-{m.id}",
        goal.measure,
        focus=[_ref("Goal", goal.id)],
        effectiveDateTime=m.measured_on.isoformat(),
        performer=b.performer(m.by_id),
        valueQuantity=_quantity(m.value, goal.unit),
        note=_notes(m.note),
    )


def _add_gas_rating(b: _Builder, goal: Goal, rating: GasRating) -> dict[str, str]:
    levels = goal.gas_levels or []
    written = levels[rating.level + 2] if len(levels) == 5 and -2 <= rating.level <= 2 else ""
    return b.observation(
        f"gas-rating-{rating.id}",
        GAS_LEVEL,
        category="survey",
        focus=[_ref("Goal", goal.id)],
        effectiveDateTime=rating.rated_on.isoformat(),
        performer=b.performer(rating.by_id),
        valueInteger=rating.level,
        note=_notes(f"Level {_level(rating.level)}: {written}" if written else None, rating.note),
    )


def _level(level: int) -> str:
    return f"{level:+d}" if level else "0"


def _add_t_scores(b: _Builder, goals: Sequence[Goal]) -> None:
    """The child's T-scores as the pages show them (current goals): at baseline, dated the
    day the first scaled goal was written (never after the first follow-up), then one per
    follow-up day."""
    current = [g for g in goals if g.archived_at is None]
    scaled = [g for g in current if g.gas_scaled]
    if not scaled:
        return
    days = [b.local_day(g.created_at) for g in scaled]
    days += [r.rated_on for g in scaled for r in g.gas_ratings]
    for t in gas.t_scores(current):
        if t.day is None:
            key, day, label = "baseline", min(days), f"Baseline (goals counted: {t.goals})."
        else:
            key, day = t.day.isoformat(), t.day
            label = f"Follow-up (goals rated: {t.rated} of {t.goals})."
        b.observation(
            f"gas-t-score-{b.child.id}-{key}",
            GAS_T_SCORE,
            category="survey",
            focus=[_ref("Goal", g.id) for g in scaled],
            effectiveDateTime=day.isoformat(),
            valueQuantity=_quantity(round(t.score, 1)),
            note=_notes(label),
        )


# --- COPM and standardised assessments ----------------------------------------------------


def _mean(values: Iterable[int]) -> float | None:
    found = list(values)
    return round(sum(found) / len(found), 2) if found else None


def _add_copm(b: _Builder, problems: dict[int, CopmProblem], a: CopmAssessment) -> None:
    components: list[dict[str, Any]] = []
    performance = _mean(s.performance for s in a.scores)
    satisfaction = _mean(s.satisfaction for s in a.scores)
    if performance is not None and satisfaction is not None:
        components += [
            {
                "code": _text("COPM performance score (mean)"),
                "valueQuantity": _quantity(performance),
            },
            {
                "code": _text("COPM satisfaction score (mean)"),
                "valueQuantity": _quantity(satisfaction),
            },
        ]
    for score in a.scores:
        problem = problems.get(score.problem_id)
        if problem is None:
            continue
        name = problem.description
        components += [
            {"code": _text(f"Importance: {name}"), "valueInteger": problem.importance},
            {"code": _text(f"Performance: {name}"), "valueInteger": score.performance},
            {"code": _text(f"Satisfaction: {name}"), "valueInteger": score.satisfaction},
        ]
    b.observation(
        f"copm-assessment-{a.id}",
        COPM,
        category="survey",
        effectiveDateTime=a.assessed_on.isoformat(),
        performer=b.performer(a.by_id),
        component=components,
        note=_notes(a.note),
    )


def _result_name(r: AssessmentResult) -> str:
    name = r.instrument.name
    if r.subtest.strip():
        name = f"{name}: {r.subtest.strip()}"
    kind = "age equivalent" if r.score_type == "age_equivalent" else SCORE_UNITS.get(r.score_type)
    return f"{name} ({kind or r.score_type})"


def _add_result(b: _Builder, r: AssessmentResult) -> None:
    if r.score_type == "age_equivalent":
        value = {"value": _number(r.value), "unit": "months", "system": UCUM, "code": "mo"}
    else:
        value = _quantity(r.value, SCORE_UNITS.get(r.score_type, r.score_type))
    b.observation(
        f"assessment-result-{r.id}",
        _result_name(r),
        category="survey",
        effectiveDateTime=r.taken_on.isoformat(),
        performer=b.performer(r.by_id),
        valueQuantity=value,
        note=_notes(r.notes),
    )


# --- the Bundle ---------------------------------------------------------------------------


def child_bundle(session: Session, child: Child, now: datetime) -> dict[str, Any]:
    """The child's record as a FHIR R4 Bundle of type "collection" (a JSON-ready dict)."""
    b = _Builder(session, child, adherence.local_today(child.timezone, now))
    _add_people(b)
    assignments = programs.child_assignments(session, child.id)
    goals = _goals(session, child.id)
    care_plan = _ref("CarePlan", child.id)
    counted = [a for a in assignments if a.setting != Setting.CLASSROOM]
    weeks = _add_adherence(b, counted, care_plan)
    _add_care_plan(b, assignments, goals, weeks)
    for goal in goals:
        _add_goal(b, goal)
    _add_t_scores(b, goals)
    problems, copm_assessments = _copm(session, child.id)
    for assessment in copm_assessments:
        _add_copm(b, problems, assessment)
    for result in _results(session, child.id):
        _add_result(b, result)
    entries = sorted(b.entries, key=lambda e: ORDER.index(e["resource"]["resourceType"]))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "entry": entries,
    }


def record_export(
    session: Session, actor: Actor, child: Child, bundle: dict[str, Any], *, via: str
) -> None:
    """The download of a child's Bundle, in the audit trail (``via``: "page" or "api")."""
    audit.record(
        session,
        actor,
        "export.fhir",
        child_id=child.id,
        target_type="child",
        target_id=child.id,
        via=via,
        entries=len(bundle["entry"]),
    )
