"""The therapist dashboard: order, content, access, and a query count that does not grow."""

import re
from datetime import date, timedelta

import pytest

from homeprogram.models import Barrier
from homeprogram.models.base import utcnow
from homeprogram.services.adherence import local_today
from tests.adherence_helpers import log
from tests.query_counter import count_queries

DAY = timedelta(days=1)


def _today(tz: str = "America/Chicago") -> date:
    return local_today(tz, utcnow())


@pytest.fixture
def clinic(factory):
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    return org, therapist


def _kid(factory, session, org, therapist, name, done_days, *, hard=0):
    """A child with a daily assignment for 60 days, logged on ``done_days`` days ago."""
    child = factory.child(org, therapist=therapist, name=name)
    a = factory.assignment(
        child, factory.activity(title=f"{name}'s task"), start_date=_today() - 60 * DAY
    )
    for i in done_days:
        log(session, a, _today() - i * DAY, response="hard" if i <= hard else "easy")
    return child


def _names(html: str) -> list[str]:
    return re.findall(r'class="child-link"[^>]*>([^<]+)<', html)


def test_flagged_children_come_first_then_lowest_adherence(factory, session, client, login, clinic):
    """Flags first, then lowest 7-day adherence; a child without a plan comes last."""
    org, therapist = clinic
    _kid(factory, session, org, therapist, "Ana", range(1, 29))  # all done
    _kid(factory, session, org, therapist, "Ben", [1, 3, 5, 6, 8, 10, 12, 13, 15, 17])
    _kid(factory, session, org, therapist, "Cal", [7, 8, 9, 10, 11, 12, 13])  # quiet 6 days
    factory.child(org, therapist=therapist, name="Dee")  # no plan
    _kid(factory, session, org, therapist, "Eve", range(1, 29), hard=3)  # often hard
    login("ot@example.org")
    html = client.get("/dashboard").get_data(as_text=True)
    names = _names(html)
    assert names[:2] == ["Cal", "Eve"]
    assert names[2:] == ["Ben", "Ana", "Dee"]
    assert "No log for 5 days" in html
    assert "Often hard: Eve&#39;s task" in html or "Often hard: Eve's task" in html
    assert "no plan" in html


def test_dashboard_is_the_staff_landing_page(client, login, clinic):
    """After login a therapist lands on the dashboard, with a nav link to it."""
    response = login("ot@example.org")
    assert response.headers["Location"].endswith("/dashboard")
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/dashboard" aria-current="page"' in html
    assert client.get("/caseload").status_code == 200


def test_dashboard_shows_sparkline_with_text_alternative(factory, session, client, login, clinic):
    """The 8-week trend is an inline SVG with the weekly figures as text."""
    org, therapist = clinic
    _kid(factory, session, org, therapist, "Ana", range(1, 29))
    login("ot@example.org")
    html = client.get("/dashboard").get_data(as_text=True)
    assert '<svg class="sparkline"' in html
    assert "Weekly adherence, oldest first:" in html
    assert "100%, 100%, 100%, 100%" in html


def test_caregivers_and_teachers_cannot_open_the_dashboard(factory, client, login):
    """The dashboard is for staff only (404 for others)."""
    org = factory.org()
    child = factory.child(org)
    parent = factory.caregiver(child, email="p@example.org")
    login(parent.email)
    assert client.get("/dashboard").status_code == 404


def test_barrier_answer_shows_beside_flag(factory, session, client, login, clinic):
    """A caregiver's answer to "what got in the way" appears on the dashboard row."""
    org, therapist = clinic
    child = _kid(factory, session, org, therapist, "Cal", [9])
    session.add(Barrier(child_id=child.id, reason="no_time", note="New baby", local_date=_today()))
    session.commit()
    login("ot@example.org")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Family says:" in html and "No time" in html and "New baby" in html


def test_other_therapists_children_are_not_listed(factory, session, client, login, clinic):
    """Only the therapist's own caseload appears."""
    org, therapist = clinic
    other = factory.therapist(org)
    _kid(factory, session, org, other, "Zed", [1])
    _kid(factory, session, org, therapist, "Ana", [1])
    login("ot@example.org")
    assert _names(client.get("/dashboard").get_data(as_text=True)) == ["Ana"]


def _queries(client, app, url: str, status: int = 200) -> int:
    from homeprogram.extensions import db

    with app.app_context():
        engine = db.engine
    with count_queries(engine) as counter:
        response = client.get(url)
    assert response.status_code == status
    return counter.count


def _dashboard_queries(client, app) -> int:
    """The dashboard's own queries. What every page costs (loading the signed-in user,
    context processors of base.html) is measured on a 404 page, which renders base.html
    and queries nothing of its own, and taken off."""
    every_page = _queries(client, app, "/no-such-page", status=404)
    return _queries(client, app, "/dashboard") - every_page


def test_dashboard_query_count_does_not_grow(factory, session, client, login, clinic, app):
    """2 or 20 children, few or many logs: the dashboard runs the same number of queries."""
    org, therapist = clinic
    for i in range(2):
        _kid(factory, session, org, therapist, f"Kid{i}", [1, 2])
    login("ot@example.org")
    small = [_dashboard_queries(client, app) for _ in ("cold", "warm")]
    for i in range(2, 20):
        _kid(factory, session, org, therapist, f"Kid{i}", range(1, 40, 2), hard=5)
    large = [_dashboard_queries(client, app) for _ in ("cold", "warm")]
    # caseload (2) + adherence figures and flags (3; two more when a child has logged
    # nothing for QUIET_DAYS days) + barrier answers (1) + level suggestions (1); the first
    # view also fills the per-day cache: a lock, the engine's four queries and an insert.
    assert small == large == [13, 7]


def _row(html: str, name: str) -> str:
    """The dashboard row of the child called ``name``."""
    rows = [r for r in re.findall(r"<tr[ >].*?</tr>", html, re.S) if f">{name}</a>" in r]
    assert len(rows) == 1, f"one row for {name}"
    return rows[0]


def test_a_paused_classroom_only_activity_keeps_the_dashboard_up(
    factory, session, client, login, clinic
):
    """A therapist pauses a classroom-only activity, then resumes it: the dashboard still
    shows every child, the family's figures untouched by the classroom strategy."""
    org, therapist = clinic
    ana = _kid(factory, session, org, therapist, "Ana", range(1, 29))
    _kid(factory, session, org, therapist, "Ben", [1])
    school = factory.assignment(ana, start_date=_today() - 30 * DAY, setting="classroom")
    login("ot@example.org")
    base = f"/children/{ana.id}/program/{school.id}"
    assert client.post(f"{base}/pause").status_code == 302
    html = client.get("/dashboard").get_data(as_text=True)
    assert _names(html) == ["Ben", "Ana"]
    assert re.findall(r'<td class="num">(\d+)%</td>', _row(html, "Ana")) == ["100", "100"]
    resume_on = (_today() + DAY).isoformat()
    assert client.post(f"{base}/resume", data={"day": resume_on}).status_code == 302
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.findall(r'<td class="num">(\d+)%</td>', _row(html, "Ana")) == ["100", "100"]


POISONS = {
    # Written with SQL, as an old import or a hand edit could leave them.
    "unknown time zone": "UPDATE child SET timezone = 'Mars/Olympus' WHERE id = :child",
    "days of the week not a list": (
        "UPDATE assignment SET days_of_week = '\"weekdays\"' WHERE child_id = :child"
    ),
}


@pytest.mark.parametrize("poison", POISONS)
def test_one_childs_bad_data_costs_only_that_childs_row(
    factory, session, client, login, clinic, caplog, poison
):
    """A child whose figures cannot be computed shows "figures unavailable", the failure is
    logged with the child's id, and every other child keeps their figures."""
    from sqlalchemy import text

    org, therapist = clinic
    _kid(factory, session, org, therapist, "Ana", range(1, 29))
    ben = _kid(factory, session, org, therapist, "Ben", range(1, 29))
    _kid(factory, session, org, therapist, "Cal", [1, 2, 3])
    session.execute(text(POISONS[poison]), {"child": ben.id})
    login("ot@example.org")
    response = client.get("/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _names(html) == ["Ben", "Cal", "Ana"]  # unknown figures first, then as usual
    assert "Figures unavailable" in _row(html, "Ben")
    assert "%" not in _row(html, "Ben")
    assert re.findall(r'<td class="num">(\d+)%</td>', _row(html, "Ana")) == ["100", "100"]
    assert re.findall(r'<td class="num">(\d+)%</td>', _row(html, "Cal")) == ["43", "11"]
    assert "Figures unavailable" not in _row(html, "Ana") + _row(html, "Cal")
    [failure] = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert failure.startswith(f"dashboard figures: skipped child {ben.id} (")
