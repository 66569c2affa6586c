"""A child's record as a FHIR R4 Bundle: valid R4 (checked with fhir.resources' R4B models),
self-contained, nothing identifying, no invented codes, adherence as the engine counts it;
downloaded by the child's staff only (page and API), and audited."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select

from homeprogram.models import (
    AssessmentResult,
    Assignment,
    AuditEvent,
    Child,
    CopmAssessment,
    CopmProblem,
    CopmScore,
    GasRating,
    Goal,
    GoalMeasurement,
    Instrument,
    Organization,
    User,
)
from homeprogram.models.base import utcnow
from homeprogram.services import adherence, fhir, gas, tokens
from homeprogram.services.audit import Actor
from tests.adherence_helpers import log, pause

CERTAIN = {
    "http://terminology.hl7.org/CodeSystem/goal-achievement",
    "http://terminology.hl7.org/CodeSystem/observation-category",
    "http://unitsofmeasure.org",
}
LEVELS = [
    "Buttons none",
    "Buttons 1-2 with help",
    "Buttons 3 alone",
    "Buttons 4 alone",
    "Buttons whole coat",
]
V1_START, V1_END, V2_START = date(2026, 10, 5), date(2026, 11, 1), date(2026, 11, 2)


@dataclass
class Record:
    org: Organization
    therapist: User
    child: Child
    parent: User
    teacher: User
    v1: Assignment
    v2: Assignment
    later: Assignment
    goal: Goal
    done_goal: Goal


def _week_logs(session: Any, v1: Assignment, v2: Assignment) -> None:
    """Week of 26 Oct (v1, Mon/Wed/Fri once): Mon and Wed done. Week of 2 Nov (v2, daily,
    twice): Mon three times (one extra), Tue once, Thu twice."""
    for day in (date(2026, 10, 26), date(2026, 10, 28)):
        log(session, v1, day)
    for day, n in ((date(2026, 11, 2), 3), (date(2026, 11, 3), 1), (date(2026, 11, 5), 2)):
        for _ in range(n):
            log(session, v2, day)
    log(session, v2, date(2026, 11, 4), deleted=True)  # undone: never counts


@pytest.fixture
def record(factory: Any, session: Any) -> Record:
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org", name="Olivia Tran")
    child = factory.child(org, therapist=therapist, name="Mia")
    parent = factory.caregiver(child, email="parent@example.org", name="Pat Parent")
    teacher = factory.teacher(child, email="teacher@example.org", name="Tess Teacher")
    board = factory.activity(title="Button board")
    v1 = factory.assignment(
        child,
        board,
        start_date=V1_START,
        end_date=V1_END,
        days_of_week=[0, 2, 4],
        times_per_day=1,
        dose_unit="reps",
        dose_amount=10,
        anchor="after school",
        created_by_id=therapist.id,
    )
    v2 = factory.assignment(
        child,
        board,
        start_date=V2_START,
        previous_id=v1.id,
        times_per_day=2,
        dose_unit="minutes",
        dose_amount=5,
        created_by_id=therapist.id,
    )
    later = factory.assignment(
        child, factory.activity(title="Bedtime stretch"), start_date=date(2026, 12, 7)
    )
    _week_logs(session, v1, v2)
    pause(session, v2, date(2026, 11, 9), date(2026, 11, 10))
    goal = Goal(
        child_id=child.id,
        statement="Mia buttons her coat on her own",
        measure="buttons done in 2 minutes",
        unit="buttons",
        baseline=1,
        target=5,
        target_date=date(2027, 3, 1),
        gas_levels=LEVELS,
        gas_baseline=-1,
        created_by_id=therapist.id,
        created_at=datetime(2026, 10, 1, 15, 0, tzinfo=UTC),
    )
    goal.assignments.append(session.get(Assignment, v2.id))
    done_goal = Goal(
        child_id=child.id,
        statement="Pours a drink without spilling",
        measure="spills per week",
        unit="spills",
        baseline=4,
        target=0,
        archived_at=utcnow(),
    )
    session.add_all([goal, done_goal])
    session.commit()
    session.add_all(
        [
            GoalMeasurement(goal_id=goal.id, value=2, measured_on=date(2026, 10, 10)),
            GoalMeasurement(
                goal_id=goal.id, value=3, measured_on=date(2026, 11, 10), note="Top two buttons"
            ),
            GoalMeasurement(goal_id=done_goal.id, value=0, measured_on=date(2026, 11, 1)),
            GasRating(goal_id=goal.id, level=0, rated_on=date(2026, 11, 10), by_id=therapist.id),
            GasRating(goal_id=goal.id, level=1, rated_on=date(2026, 11, 20), note="Did it twice"),
        ]
    )
    coat = CopmProblem(child_id=child.id, description="Buttoning the coat", importance=8)
    scissors = CopmProblem(child_id=child.id, description="Cutting with scissors", importance=6)
    session.add_all([coat, scissors])
    session.commit()
    for day, scores in (
        (date(2026, 9, 15), ((coat, 3, 2), (scissors, 4, 3))),
        (date(2026, 11, 15), ((coat, 6, 7), (scissors, 5, 6))),
    ):
        assessment = CopmAssessment(child_id=child.id, assessed_on=day, by_id=therapist.id)
        assessment.scores = [
            CopmScore(problem_id=p.id, performance=perf, satisfaction=sat)
            for p, perf, sat in scores
        ]
        session.add(assessment)
    vmi = Instrument(organization_id=org.id, name="Beery VMI")
    session.add(vmi)
    session.commit()
    session.add_all(
        [
            AssessmentResult(
                child_id=child.id,
                instrument_id=vmi.id,
                taken_on=date(2026, 9, 10),
                score_type="standard",
                value=85,
            ),
            AssessmentResult(
                child_id=child.id,
                instrument_id=vmi.id,
                taken_on=date(2026, 9, 10),
                score_type="age_equivalent",
                subtest="Visual perception",
                value=62,
            ),
        ]
    )
    session.commit()
    return Record(org, therapist, child, parent, teacher, v1, v2, later, goal, done_goal)


def _bundle(session: Any, child: Child, now: datetime | None = None) -> dict[str, Any]:
    data = fhir.child_bundle(session, session.get(Child, child.id), now or utcnow())
    return json.loads(json.dumps(data))  # exactly what is sent


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _observations(bundle: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [o for o in _resources(bundle, "Observation") if o["code"]["text"] == code]


def _walk(value: Any) -> Any:
    """Every object in a JSON value, depth first."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _by_url(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def test_bundle_and_every_resource_are_valid_r4(session, record):
    """The Bundle validates as a FHIR Bundle, and each entry as its own resource type; every
    resource type of the issue is there."""
    now = datetime(2026, 11, 25, 17, 0, 5, 250, tzinfo=UTC)
    bundle = _bundle(session, record.child, now)
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    assert bundle["type"] == "collection"
    assert bundle["timestamp"] == "2026-11-25T17:00:05Z"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds == {"Patient", "Practitioner", "CarePlan", "Goal", "Observation"}
    codes = {o["code"]["text"] for o in _resources(bundle, "Observation")}
    assert {
        "buttons done in 2 minutes",
        "spills per week",
        "Goal Attainment Scaling level",
        "Goal Attainment Scaling T-score",
        "Canadian Occupational Performance Measure (COPM)",
        "Beery VMI (standard score)",
        "Beery VMI: Visual perception (age equivalent)",
        "Home program adherence",
    } == codes
    assert len({e["fullUrl"] for e in bundle["entry"]}) == len(bundle["entry"])


def test_a_child_with_nothing_recorded_is_a_valid_bundle(factory, session):
    """A new child: Patient and an empty CarePlan, still valid (no empty lists or texts)."""
    child = factory.child(factory.org(), name="Leo")
    bundle = _bundle(session, child)
    Bundle.model_validate(bundle)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient", "CarePlan"]


def test_every_reference_resolves_inside_the_bundle(session, record):
    """Every Reference.reference names an entry of the Bundle (urn:uuid), none a server."""
    bundle = _bundle(session, record.child)
    urls = set(_by_url(bundle))
    refs = [o["reference"] for o in _walk(bundle) if "reference" in o]
    assert len(refs) > 40
    assert set(refs) <= urls
    assert all(r.startswith("urn:uuid:") for r in refs)


def test_patient_and_practitioner_carry_nothing_identifying(session, record):
    """Patient: the display name and birth year-month only; Practitioner: the name only. No
    email, no caregiver or teacher, nothing from the organization."""
    bundle = _bundle(session, record.child)
    (patient,) = _resources(bundle, "Patient")
    assert set(patient) == {"resourceType", "id", "name", "birthDate"}
    assert patient["name"] == [{"given": ["Mia"]}]
    assert patient["birthDate"] == "2018-05"
    (practitioner,) = _resources(bundle, "Practitioner")
    assert set(practitioner) == {"resourceType", "id", "name"}
    assert practitioner["name"] == [{"text": "Olivia Tran"}]
    text = json.dumps(bundle)
    for leak in ("example.org", "Pat Parent", "Tess Teacher", record.org.name, "identifier"):
        assert leak not in text


def test_codes_only_from_certain_systems(session, record):
    """Every coding and every quantity with a system uses goal-achievement,
    observation-category or UCUM; everything else is text."""
    bundle = _bundle(session, record.child)
    systems = {o["system"] for o in _walk(bundle) if "system" in o}
    assert systems <= CERTAIN
    for o in _walk(bundle):
        for coding in o.get("coding", []):
            assert coding["system"] in CERTAIN and coding["code"]
    ucum = [o for o in _walk(bundle) if o.get("system") == "http://unitsofmeasure.org"]
    assert {o["code"] for o in ucum} == {"mo"}


def test_care_plan_has_each_prescription_version(session, record):
    """One activity per assignment version: timing from the schedule, the dose, the status
    of the day, and the newer version naming the one it replaced."""
    bundle = _bundle(session, record.child)
    (plan,) = _resources(bundle, "CarePlan")
    assert (plan["status"], plan["intent"]) == ("active", "plan")
    urls = _by_url(bundle)
    assert urls[plan["subject"]["reference"]]["resourceType"] == "Patient"
    assert urls[plan["author"]["reference"]]["name"] == [{"text": "Olivia Tran"}]
    v1, v2, later = (a["detail"] for a in plan["activity"])
    assert v1["status"] == "stopped" and v2["status"] == "in-progress"
    assert later["status"] == "not-started"
    r1, r2 = v1["scheduledTiming"]["repeat"], v2["scheduledTiming"]["repeat"]
    assert r1["dayOfWeek"] == ["mon", "wed", "fri"] and r1["frequency"] == 1
    assert r1["boundsPeriod"] == {"start": "2026-10-05", "end": "2026-11-01"}
    assert r2["dayOfWeek"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert r2["frequency"] == 2 and r2["boundsPeriod"] == {"start": "2026-11-02"}
    assert (r2["duration"], r2["durationUnit"]) == (5, "min")
    assert v1["quantity"] == {"value": 10, "unit": "repetitions"}
    assert v1["description"].startswith("Button board: 10 repetitions, at home (after school).")
    assert "version 1 of 2" in v1["description"]
    assert "version 2 of 2, replacing the version of 2026-10-05 to 2026-11-01" in v2["description"]
    assert plan["activity"][1]["progress"] == [{"text": "Paused from 2026-11-09 to 2026-11-10."}]
    assert [urls[g["reference"]]["description"]["text"] for g in v2["goal"]] == [
        "Mia buttons her coat on her own"
    ]


def test_goals_targets_and_achievement(session, record):
    """Goal: statement, target with measure and unit, due date, achievement from progress;
    an archived goal that reached its target is completed."""
    bundle = _bundle(session, record.child)
    goal, done = _resources(bundle, "Goal")
    assert goal["description"] == {"text": "Mia buttons her coat on her own"}
    assert (goal["lifecycleStatus"], goal["startDate"]) == ("active", "2026-10-01")
    assert goal["achievementStatus"]["coding"][0]["code"] == "improving"
    assert goal["target"][0] == {
        "measure": {"text": "buttons done in 2 minutes"},
        "detailQuantity": {"value": 5, "unit": "buttons"},
        "dueDate": "2027-03-01",
    }
    assert goal["target"][1] == {
        "measure": {"text": "Goal Attainment Scaling level"},
        "detailInteger": 0,
    }
    assert any("+1: Buttons 4 alone" in n["text"] for n in goal["note"])
    assert (done["lifecycleStatus"], done["achievementStatus"]["coding"][0]["code"]) == (
        "completed",
        "achieved",
    )
    urls = _by_url(bundle)
    outcomes = [urls[r["reference"]] for r in goal["outcomeReference"]]
    assert [o.get("valueQuantity", {}).get("value") for o in outcomes[:2]] == [2, 3]
    assert [o.get("valueInteger") for o in outcomes[2:]] == [0, 1]
    assert outcomes[1]["note"] == [{"text": "Top two buttons"}]
    assert outcomes[3]["note"][0] == {"text": "Level +1: Buttons 4 alone"}
    assert outcomes[2]["performer"] == [
        {"reference": fhir.full_url("Practitioner", record.therapist.id)}
    ]


def test_gas_t_scores_are_the_services(session, record):
    """Baseline and each follow-up T-score, as services.gas computes them."""
    bundle = _bundle(session, record.child)
    found = [
        (o["effectiveDateTime"], o["valueQuantity"]["value"])
        for o in _observations(bundle, "Goal Attainment Scaling T-score")
    ]
    goal = session.get(Goal, record.goal.id)
    days = ["2026-10-01", "2026-11-10", "2026-11-20"]  # the goal written, then two ratings
    assert found == [
        (day, round(t.score, 1)) for day, t in zip(days, gas.t_scores([goal]), strict=True)
    ]
    assert [v for _, v in found] == [40, 50, 60]


def test_copm_and_assessment_results(session, record):
    """COPM: the mean performance and satisfaction, and each problem's scores by name;
    results: instrument, subtest and score type, age equivalents in UCUM months."""
    bundle = _bundle(session, record.child)
    first, second = _observations(bundle, "Canadian Occupational Performance Measure (COPM)")
    parts = {
        c["code"]["text"]: c.get("valueQuantity", {}).get("value", c.get("valueInteger"))
        for c in second["component"]
    }
    assert parts["COPM performance score (mean)"] == 5.5
    assert parts["COPM satisfaction score (mean)"] == 6.5
    assert parts["Performance: Buttoning the coat"] == 6
    assert parts["Satisfaction: Cutting with scissors"] == 6
    assert parts["Importance: Buttoning the coat"] == 8
    assert first["effectiveDateTime"] == "2026-09-15"
    assert first["component"][0]["valueQuantity"] == {"value": 3.5}
    (age,) = _observations(bundle, "Beery VMI: Visual perception (age equivalent)")
    assert age["valueQuantity"] == {
        "value": 62,
        "unit": "months",
        "system": "http://unitsofmeasure.org",
        "code": "mo",
    }
    (standard,) = _observations(bundle, "Beery VMI (standard score)")
    assert standard["valueQuantity"] == {"value": 85, "unit": "standard score"}


def test_weekly_adherence_is_the_engines(session, record):
    """One Observation per prescription and whole Monday-to-Sunday week up to yesterday
    with something planned: done / expected as the adherence service counts them."""
    bundle = _bundle(session, record.child)
    weeks = {
        o["effectivePeriod"]["start"]: o for o in _observations(bundle, "Home program adherence")
    }
    # Wednesday 25 Nov: the last whole week is 16-22 Nov; the program started on 5 Oct.
    assert sorted(weeks) == [(V1_START + timedelta(days=7 * i)).isoformat() for i in range(7)]

    def figures(monday: str) -> tuple[int, int, int]:
        o = weeks[monday]
        extra = next(
            c["valueInteger"] for c in o["component"] if c["code"]["text"] == "Extra sessions"
        )
        return o["valueRatio"]["numerator"]["value"], o["valueRatio"]["denominator"]["value"], extra

    assert figures("2026-10-26") == (2, 3, 0)  # by hand: Mon and Wed of Mon/Wed/Fri
    assert figures("2026-11-02") == (5, 14, 1)  # 2 + 1 + 2 of 7 days × 2, one extra
    assert figures("2026-11-09") == (0, 10, 0)  # paused Mon and Tue
    assert figures("2026-11-16") == (0, 14, 0)
    assert weeks["2026-11-02"]["effectivePeriod"]["end"] == "2026-11-08"
    data = adherence.child_adherence(session, record.child.id, V1_START, date(2026, 11, 22))
    (chain,) = [c for c in data.chains if c.chain_id == record.v1.id]
    for monday in weeks:
        start = date.fromisoformat(monday)
        tally = chain.between(start, start + timedelta(days=6))
        assert figures(monday) == (tally.done, tally.expected, tally.extra)
    plan = _resources(bundle, "CarePlan")[0]
    for o in weeks.values():
        assert o["focus"] == [{"reference": fhir.full_url("CarePlan", record.child.id)}]
    v1, v2, _ = plan["activity"]
    urls = _by_url(bundle)
    starts = [urls[r["reference"]]["effectivePeriod"]["start"] for r in v2["outcomeReference"]]
    assert starts == ["2026-11-02", "2026-11-09", "2026-11-16"]
    assert len(v1["outcomeReference"]) == 4


def _events(session: Any) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "export.fhir")))


def test_page_download_is_audited(client, login, session, record):
    """The child's therapist downloads the Bundle as a file; the download is audited."""
    login("ot@example.org")
    response = client.get(f"/children/{record.child.id}/fhir.json")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="child-{record.child.id}-fhir-2026-11-25.json"'
    )
    Bundle.model_validate(response.get_json(force=True))
    (event,) = _events(session)
    assert (event.actor_id, event.child_id) == (record.therapist.id, record.child.id)
    assert event.detail["via"] == "page"


@pytest.mark.parametrize("who", ["parent", "teacher", "stranger"])
def test_page_download_is_404_for_others(client, login, factory, session, record, who):
    """A caregiver, a teacher and another organization's therapist get 404, unaudited."""
    if who == "stranger":
        factory.therapist(factory.org(), email="stranger@example.org")
    login(f"{who}@example.org")
    assert client.get(f"/children/{record.child.id}/fhir.json").status_code == 404
    assert _events(session) == []


def _token(session: Any, user: User) -> dict[str, str]:
    _row, plain = tokens.create_token(session, Actor(user.id), user_id=user.id, name="ehr")
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_api_gives_staff_the_bundle_and_caregivers_404(client, session, record):
    """GET /api/v1/children/{id}/fhir: the Bundle for a staff token (audited), 404 for a
    caregiver's token."""
    url = f"/api/v1/children/{record.child.id}/fhir"
    response = client.get(url, headers=_token(session, record.therapist))
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    bundle = response.get_json(force=True)
    Bundle.model_validate(bundle)
    assert bundle["entry"][0]["resource"]["name"] == [{"given": ["Mia"]}]
    assert [e.detail["via"] for e in _events(session)] == ["api"]
    denied = client.get(url, headers=_token(session, record.parent))
    assert denied.status_code == 404
    assert denied.mimetype == "application/problem+json"
    assert (
        session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "export.fhir")
        )
        == 1
    )
