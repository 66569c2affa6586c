"""The therapist's child page: a header that says who the child is, primary actions first and
the rest in a menu, the program as a compact list with adherence and how the child finds
each activity, the family's load in one line, and Program / Progress as two tabs."""

import re
from datetime import timedelta

import pytest

from homeprogram.models.base import utcnow
from homeprogram.services import schedule
from tests.adherence_helpers import log
from tests.page_text import visible_text


@pytest.fixture
def family(factory):
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org", name="Jordan Lee")
    child = factory.child(org, therapist=therapist, name="Sam", birth_year=2019)
    factory.caregiver(child, email="parent@example.org", name="Maria", locale="es")
    factory.teacher(child, email="teacher@example.org", name="Ms. Rivera")
    today = schedule.local_date(utcnow(), child.timezone)
    return org, therapist, child, today


def _page(client, login, child, path=""):
    login("ot@example.org")
    response = client.get(f"/children/{child.id}{path}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_header_says_who_the_child_is_and_who_cares_for_them(client, login, family):
    _org, _therapist, child, _today = family
    text = visible_text(_page(client, login, child))
    assert "7 years old (born May 2019)" in text  # pinned clock: November 2026
    assert "Family language: Spanish" in text
    assert "Care team: Maria (caregiver), Ms. Rivera (teacher), Jordan Lee (therapist)" in text


def test_primary_actions_first_and_the_rest_in_a_menu(client, login, family):
    _org, _therapist, child, _today = family
    html = _page(client, login, child)
    head = html[html.index('class="child-head"') : html.index('class="tabs"')]
    primary = head[: head.index('<details class="menu"')]
    menu = head[head.index('<details class="menu"') :]
    assert "Add activity" in primary and "Print handout" in primary
    assert "Edit details" not in primary
    for secondary in ("Edit details", "Progress report", "Invite a caregiver or teacher"):
        assert secondary in menu
    assert "Export or delete this child's data" in menu


def test_program_and_progress_are_tabs_of_the_child_page(client, login, family):
    _org, _therapist, child, _today = family
    program = _page(client, login, child)
    progress = client.get(f"/children/{child.id}/progress").get_data(as_text=True)
    current = r'<a class="tabs__tab" href="([^"]+)" aria-current="page">([^<]+)</a>'
    assert re.findall(current, program) == [(f"/children/{child.id}", "Program")]
    assert re.findall(current, progress) == [(f"/children/{child.id}/progress", "Progress")]
    assert "Family language: Spanish" in progress  # the same header on both tabs


def test_each_activity_shows_dose_schedule_adherence_and_how_it_feels(
    client, login, session, factory, family
):
    org, _therapist, child, today = family
    a = factory.assignment(
        child,
        factory.activity(org, title="Sock-on race"),
        start_date=today - timedelta(days=20),
    )
    for days_ago in (1, 2, 3):
        log(session, a, today - timedelta(days=days_ago), response="just_right")
    log(session, a, today - timedelta(days=4), response="hard")
    text = visible_text(_page(client, login, child))
    row = text[text.index("Sock-on race") :]
    assert "every day" in row
    assert "29% done (4 of 14, last 2 weeks)" in row
    assert "mostly just right (4 responses)" in row


def test_a_heavy_program_is_one_line_with_the_seven_days_on_demand(client, login, factory, family):
    org, _therapist, child, today = family
    weekend = [5, 6]  # Saturday and Sunday only: the rest of the week stays light
    for i in range(5):
        factory.assignment(
            child,
            factory.activity(org, title=f"Task {i}"),
            start_date=today,
            days_of_week=weekend,
        )
    html = _page(client, login, child)
    warning = re.search(r'<p class="warning[^"]*"[^>]*>(.*?)</p>', html, re.S)
    assert warning is not None
    assert "Heavy days for the family: Saturday, Sunday." in visible_text(warning.group(1))
    days = html[html.index('<details class="estimate-days"') :]
    days = days[: days.index("</details>")]
    assert days.count('<tr class="is-heavy">') == 2
    assert "5 activities (more than 4)" in days


def test_dashboard_rows_open_the_child_page(client, login, family):
    _org, _therapist, child, _today = family
    login("ot@example.org")
    html = client.get("/dashboard").get_data(as_text=True)
    assert f'<a class="child-link" href="/children/{child.id}">Sam</a>' in html
