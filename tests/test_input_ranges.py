"""Numbers beyond the database's integers and dates at the ends of the calendar are refused
(400/404/422: a form error on pages, problem details on the API), never a server error."""

import uuid

import pytest
from sqlalchemy import func, select

from homeprogram.models import Assignment, CompletionLog
from homeprogram.services import tokens
from homeprogram.services.audit import Actor
from tests.caregiver_setup import family

PROBLEM = "application/problem+json"
INT8_OVERFLOW = 2**63  # one past the largest BIGINT (and SQLite INTEGER)
HUGE = "99999999999999999999999"
CALENDAR_ENDS = ["9999-12-31", "0001-01-01"]


def _bearer(session, user) -> dict[str, str]:
    _row, plain = tokens.create_token(session, Actor(user.id), user_id=user.id, name="script")
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("assignment_id", [INT8_OVERFLOW, 2**31, -(2**63) - 1, 10**30])
def test_api_log_with_an_id_beyond_the_database_is_refused(client, factory, session, assignment_id):
    """POST /api/v1/logs with an assignment id no column can hold answers 422, stores nothing."""
    fam = family(factory)
    response = client.post(
        "/api/v1/logs",
        headers=_bearer(session, fam.caregiver),
        json={
            "client_id": str(uuid.uuid4()),
            "assignment_id": assignment_id,
            "occurred_at": "2026-01-01T10:00:00+00:00",
        },
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    assert "assignment_id" in response.json["errors"]
    assert _count(session, CompletionLog) == 0


def test_done_with_a_huge_assignment_id_is_refused(client, factory, login, session):
    """The caregiver's "Done" with an assignment id beyond any integer column is a 400."""
    fam = family(factory)
    login(fam.caregiver.email)
    response = client.post(
        f"/children/{fam.child.id}/logs",
        data={"assignment_id": HUGE, "client_id": str(uuid.uuid4()), "occurred_at": ""},
    )
    assert response.status_code == 400
    assert _count(session, CompletionLog) == 0


def test_applying_a_template_with_a_huge_id_is_a_form_error(client, factory, login, session):
    """Applying a template whose id is beyond any integer column shows a form error."""
    fam = family(factory)
    login(fam.therapist.email)
    before = _count(session, Assignment)
    response = client.post(
        f"/children/{fam.child.id}/templates/apply",
        data={"apply-template_id": HUGE, "apply-start_date": fam.today.isoformat()},
    )
    assert response.status_code in {400, 404}
    assert _count(session, Assignment) == before


@pytest.mark.parametrize("day", [*CALENDAR_ENDS, "2026-13-01", ""])
def test_api_week_and_day_refuse_dates_at_the_ends_of_the_calendar(client, factory, session, day):
    """GET the API's week or day at the calendar's last or first day (or an empty date=):
    422 problem naming ``date``."""
    fam = family(factory)
    headers = _bearer(session, fam.caregiver)
    for view in ("week", "today"):
        response = client.get(
            f"/api/v1/children/{fam.child.id}/{view}",
            query_string={"date": day},
            headers=headers,
        )
        assert response.status_code == 422, (view, response.get_data(as_text=True))
        assert response.content_type == PROBLEM
        assert "date" in response.json["errors"]


@pytest.mark.parametrize("start", CALENDAR_ENDS)
def test_week_page_at_the_ends_of_the_calendar_shows_an_error(client, factory, login, start):
    """The caregiver's week with ?start= at the calendar's first or last day says the date
    cannot be shown (400) instead of failing."""
    fam = family(factory)
    login(fam.caregiver.email)
    response = client.get(f"/children/{fam.child.id}/week", query_string={"start": start})
    assert response.status_code == 400
    assert "date" in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("bound", ["from", "to"])
@pytest.mark.parametrize("day", CALENDAR_ENDS)
def test_api_adherence_refuses_dates_at_the_ends_of_the_calendar(
    client, factory, session, bound, day
):
    """The adherence API refuses a range touching the calendar's ends (400 naming it)."""
    fam = family(factory)
    query = {"from": fam.today.isoformat(), "to": fam.today.isoformat(), bound: day}
    response = client.get(
        f"/api/v1/children/{fam.child.id}/adherence",
        query_string=query,
        headers=_bearer(session, fam.caregiver),
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    assert bound in response.json["errors"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/children/{huge}/week",
        "/api/v1/logs/{huge}",
        "/children/{huge}/week",
        "/children/{huge}/today",
    ],
)
def test_a_huge_id_in_a_path_is_404(client, factory, login, path):
    """An id beyond any integer column in a URL answers 404, like any unknown id."""
    fam = family(factory)
    login(fam.caregiver.email)
    response = client.get(path.format(huge=HUGE))
    assert response.status_code == 404


def _prescription(activity_id: int, start: str) -> dict[str, object]:
    return {
        "activity_id": str(activity_id),
        "start_date": start,
        "dose_amount": "10",
        "dose_unit": "reps",
        "minutes_per_session": "5",
        "days_of_week": ["0", "2", "4"],
        "times_per_day": "1",
        "setting": "home",
        "anchor": "morning",
        "measure_direction": "higher",
    }


@pytest.mark.parametrize("day", CALENDAR_ENDS)
def test_a_first_day_at_the_ends_of_the_calendar_is_a_form_error(
    client, factory, login, session, day
):
    """Adding an activity that starts on the calendar's first or last day shows the date
    rule next to the field (400) and adds nothing; the live estimate leaves the date out."""
    fam = family(factory)
    login(fam.therapist.email)
    before = _count(session, Assignment)
    activity = factory.activity(title="Wall push-ups")
    data = _prescription(activity.id, day)
    response = client.post(f"/children/{fam.child.id}/program", data=data)
    assert response.status_code == 400
    assert "Enter a date from" in response.get_data(as_text=True)
    preview = client.post(f"/children/{fam.child.id}/program/estimate", data=data)
    assert preview.status_code == 200
    assert "With this activity" in preview.get_data(as_text=True)
    assert _count(session, Assignment) == before


@pytest.mark.parametrize("day", CALENDAR_ENDS)
def test_report_and_audit_dates_at_the_ends_of_the_calendar_are_form_errors(
    client, factory, login, day
):
    """A report or an audit filter reaching the calendar's ends says which dates it takes."""
    org = factory.org()
    admin = factory.therapist(org, admin=True)
    child = factory.child(org, therapist=admin)
    login(admin.email)
    report = client.post(f"/children/{child.id}/report", data={"start": day, "end": day})
    assert report.status_code == 400
    assert "Enter a date from" in report.get_data(as_text=True)
    audit = client.get("/org/audit", query_string={"date_from": day, "date_to": day})
    assert audit.status_code == 400
    assert "Enter a date from" in audit.get_data(as_text=True)
