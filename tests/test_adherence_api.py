"""GET /api/v1/children/{id}/adherence: shape, null rate, access, bad input."""

from datetime import date, timedelta

import pytest

from tests.adherence_helpers import log

MON = date(2026, 3, 2)
URL = "/api/v1/children/{}/adherence"


@pytest.fixture
def setup(factory, session):
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist)
    activity = factory.activity(title="Threading beads")
    old = factory.assignment(child, activity, start_date=MON, end_date=MON + timedelta(days=2))
    new = factory.assignment(
        child, activity, start_date=MON + timedelta(days=3), times_per_day=2, previous_id=old.id
    )
    log(session, old, MON)
    log(session, new, MON + timedelta(days=3))
    log(session, new, MON + timedelta(days=3))
    log(session, new, MON + timedelta(days=3))  # extra
    return child, old, new


def test_adherence_shape_per_assignment_and_overall(factory, session, client, login, setup):
    """The API returns expected, done, extra and rate overall and per prescription; extra
    sessions never count as done, per prescription as overall."""
    child, old, new = setup
    beads = factory.assignment(
        child, factory.activity(title="Ball toss"), start_date=MON, days_of_week=[0, 2, 4]
    )
    log(session, beads, MON + timedelta(days=2))
    log(session, beads, MON + timedelta(days=2))  # extra: Wednesday asks for one
    log(session, beads, MON + timedelta(days=5))  # extra: nothing planned on Saturday
    login("ot@example.org")
    response = client.get(
        URL.format(child.id), query_string={"from": "2026-03-02", "to": "2026-03-08"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["from"] == "2026-03-02" and body["to"] == "2026-03-08"
    assert body["timezone"] == "America/Chicago"
    assert body["overall"] == {"expected": 11 + 3, "done": 3 + 1, "extra": 1 + 2, "rate": 4 / 14}
    threading, ball = body["assignments"]
    assert threading["assignment_id"] == new.id
    assert threading["assignment_ids"] == [old.id, new.id]
    assert threading["activity_title"] == "Threading beads"
    tally = ("expected", "done", "extra", "rate")
    assert {k: threading[k] for k in tally} == {
        "expected": 11,
        "done": 3,
        "extra": 1,
        "rate": 3 / 11,
    }
    assert ball["assignment_ids"] == [beads.id]
    assert {k: ball[k] for k in tally} == {"expected": 3, "done": 1, "extra": 2, "rate": 1 / 3}


def test_rate_is_null_when_nothing_expected(client, login, setup):
    """A range without a plan answers rate null, not 0."""
    child, *_ = setup
    login("ot@example.org")
    body = client.get(
        URL.format(child.id), query_string={"from": "2026-01-01", "to": "2026-01-31"}
    ).get_json()
    assert body["overall"] == {"expected": 0, "done": 0, "extra": 0, "rate": None}
    assert body["assignments"] == []


def test_caregiver_sees_own_child_only(factory, client, login, setup):
    """A caregiver reads their own child's adherence; another family's child is 404."""
    child, *_ = setup
    parent = factory.caregiver(child, email="parent@example.org")
    other = factory.child(factory.org())
    login(parent.email)
    q = {"from": "2026-03-02", "to": "2026-03-08"}
    assert client.get(URL.format(child.id), query_string=q).status_code == 200
    response = client.get(URL.format(other.id), query_string=q)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert client.get(URL.format(999999), query_string=q).status_code == 404


def test_teacher_gets_404(factory, client, login, setup):
    """Teachers do not see adherence figures."""
    child, *_ = setup
    teacher = factory.teacher(child, email="t@example.org")
    login(teacher.email)
    q = {"from": "2026-03-02", "to": "2026-03-08"}
    assert client.get(URL.format(child.id), query_string=q).status_code == 404


def test_anonymous_gets_401_problem(client, setup):
    """Without a login the API answers 401 problem+json."""
    child, *_ = setup
    response = client.get(
        URL.format(child.id), query_string={"from": "2026-03-02", "to": "2026-03-08"}
    )
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "2026-03-08"}, "from"),
        ({"from": "2026-03-02"}, "to"),
        ({"from": "2026-3-2", "to": "2026-03-08"}, "from"),
        ({"from": "2026-02-30", "to": "2026-03-08"}, "from"),
        ({"from": "yesterday", "to": "2026-03-08"}, "from"),
        ({"from": "2026-03-08", "to": "2026-03-02"}, "to"),
        ({"from": "2024-01-01", "to": "2026-03-08"}, "to"),
    ],
)
def test_bad_dates_answer_problem_json(client, login, setup, query, field):
    """Missing, malformed, reversed or too long ranges are 400 problem+json naming the field."""
    child, *_ = setup
    login("ot@example.org")
    response = client.get(URL.format(child.id), query_string=query)
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_openapi_fragments_are_exported():
    """The blueprint module exports its paths and schemas for the OpenAPI document."""
    from homeprogram.blueprints.api_adherence import routes

    assert "/api/v1/children/{child_id}/adherence" in routes.OPENAPI_PATHS
    ref = routes.OPENAPI_PATHS["/api/v1/children/{child_id}/adherence"]["get"]["responses"]["200"]
    assert ref["content"]["application/json"]["schema"]["$ref"].endswith("/Adherence")
    assert {"Adherence", "AdherenceTally", "AssignmentAdherence"} <= set(routes.OPENAPI_SCHEMAS)
    assert routes.bp.name.startswith("api")


def test_personal_api_token_works(factory, session, client, setup):
    """An integration reads adherence with a personal bearer token, no cookie."""
    from homeprogram.services import tokens
    from homeprogram.services.audit import Actor

    child, *_ = setup
    parent = factory.caregiver(child, email="token-parent@example.org")
    _row, plain = tokens.create_token(session, Actor(parent.id), user_id=parent.id, name="sheet")
    session.commit()
    response = client.get(
        URL.format(child.id),
        query_string={"from": "2026-03-02", "to": "2026-03-08"},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code == 200
    assert response.get_json()["overall"]["expected"] == 11
    bad = client.get(URL.format(child.id), headers={"Authorization": "Bearer hp_nope"})
    assert bad.status_code == 401


def test_adherence_is_in_the_openapi_document(client):
    """/api/v1/openapi.json documents the adherence endpoint and its schemas."""
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "get" in doc["paths"]["/api/v1/children/{child_id}/adherence"]
    assert "Adherence" in doc["components"]["schemas"]


def test_a_paused_classroom_only_strategy_keeps_the_figures(factory, session, client, login, setup):
    """A paused classroom-only strategy answers 200 with the family's figures alone."""
    from tests.adherence_helpers import pause

    child, _old, new = setup
    school = factory.assignment(child, start_date=MON, setting="classroom")
    pause(session, school, MON + timedelta(days=1), None)
    login("ot@example.org")
    response = client.get(
        URL.format(child.id), query_string={"from": "2026-03-02", "to": "2026-03-08"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["overall"] == {"expected": 11, "done": 3, "extra": 1, "rate": 3 / 11}
    assert [item["assignment_id"] for item in body["assignments"]] == [new.id]
