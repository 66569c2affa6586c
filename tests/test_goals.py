"""Goals: create and edit, Goal Attainment Scaling, measurements, caregivers' plain-words view."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from homeprogram.models import AuditEvent, Goal, GoalMeasurement, Organization
from homeprogram.models.base import utcnow
from homeprogram.services.adherence import local_today
from tests.db_state import contents


@pytest.fixture
def team(factory):
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist, name="Mia")
    parent = factory.caregiver(child, email="parent@example.org")
    assignment = factory.assignment(
        child,
        factory.activity(title="Button board"),
        start_date=local_today(child.timezone, utcnow()),
    )
    return child, therapist, parent, assignment


def _today(child):
    return local_today(child.timezone, utcnow())


GOAL = {
    "statement": "Mia buttons her coat on her own",
    "measure": "buttons done in 2 minutes",
    "unit": "buttons",
    "baseline": "1",
    "target": "5",
    "target_date": "",
}


LEVELS = ["Spills daily", "Spills weekly twice", "Spills weekly once", "No spill", "Pours for all"]


def _goal(session, child, **kw) -> Goal:
    goal = Goal(
        child_id=child.id,
        statement=kw.get("statement", "Pours a drink without spilling"),
        measure="spills per week",
        unit="spills",
        baseline=kw.get("baseline", 4),
        target=kw.get("target", 0),
        gas_levels=kw.get("gas_levels", LEVELS),
        gas_baseline=kw.get("gas_baseline", -1),
    )
    session.add(goal)
    session.commit()
    return goal


def test_therapist_creates_goal_with_linked_activity(client, login, session, team):
    """A therapist adds a goal linked to an assignment; it shows on the progress page."""
    child, _, _, assignment = team
    login("ot@example.org")
    data = {**GOAL, "assignment_ids": [str(assignment.id)], "shared_with_school": "y"}
    response = client.post(f"/children/{child.id}/goals/new", data=data)
    assert response.status_code == 302
    goal = session.scalar(select(Goal))
    assert goal.statement == GOAL["statement"]
    assert [a.id for a in goal.assignments] == [assignment.id]
    assert goal.shared_with_school is True
    page = client.get(f"/children/{child.id}/progress").get_data(as_text=True)
    assert "Mia buttons her coat on her own" in page
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "goal.created"))


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"statement": ""}, "statement", "Describe the goal"),
        ({"measure": ""}, "measure", "Say what is measured"),
        ({"baseline": "many"}, "baseline", "Not a valid decimal value"),
        ({"target": "1"}, "target", "must differ from the baseline"),
        ({"target_date": "2001-01-01"}, "target_date", "cannot be in the past"),
        ({"assignment_ids": ["999999"]}, "assignment_ids", "not a valid choice"),
    ],
)
def test_bad_goal_input_shows_message_and_saves_nothing(
    client, login, session, team, change, field, message
):
    """Bad goal input re-renders the form with the message at the field, status 400, and
    changes nothing."""
    child, *_ = team
    login("ot@example.org")
    before = contents(session)
    response = client.post(f"/children/{child.id}/goals/new", data={**GOAL, **change})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html or 'class="error"' in html
    assert contents(session) == before


def test_edit_goal(client, login, session, team):
    """A therapist edits a goal's target."""
    child, *_ = team
    goal = _goal(session, child)
    login("ot@example.org")
    data = {**GOAL, "statement": goal.statement, "baseline": "4", "target": "1"}
    response = client.post(f"/children/{child.id}/goals/{goal.id}/edit", data=data)
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Goal, goal.id).target == 1


def test_bad_goal_edit_changes_nothing(client, login, session, team):
    """An edit with one bad field is refused with its message; the goal keeps every value
    it had, the good fields of the refused form included."""
    child, _, _, assignment = team
    goal = _goal(session, child)
    login("ot@example.org")
    before = contents(session)
    data = {
        **GOAL,
        "statement": "A new statement",
        "baseline": "4",
        "target": "4",
        "assignment_ids": [str(assignment.id)],
    }
    response = client.post(f"/children/{child.id}/goals/{goal.id}/edit", data=data)
    assert response.status_code == 400
    assert "must differ from the baseline" in response.get_data(as_text=True)
    assert contents(session) == before


@pytest.mark.parametrize("level", ["-2", "0", "2"])
def test_gas_levels_accepted(client, login, session, team, level):
    """A therapist rates Goal Attainment Scaling from -2 to +2."""
    child, *_ = team
    goal = _goal(session, child)
    login("ot@example.org")
    day = _today(child).isoformat()
    response = client.post(
        f"/children/{child.id}/goals/{goal.id}/gas", data={"gas_level": level, "rated_on": day}
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Goal, goal.id).gas_latest.level == int(level)


@pytest.mark.parametrize("level", ["3", "-3", "", "high"])
def test_gas_outside_range_rejected(client, login, session, team, level):
    """Levels outside -2..+2 are refused with a message; nothing is stored."""
    child, *_ = team
    goal = _goal(session, child)
    login("ot@example.org")
    before = contents(session)
    response = client.post(
        f"/children/{child.id}/goals/{goal.id}/gas",
        data={"gas_level": level, "rated_on": _today(child).isoformat()},
    )
    assert response.status_code == 400
    assert contents(session) == before


def test_caregiver_cannot_rate_gas_or_create_goals(client, login, session, team):
    """GAS and goal editing are for therapists: a caregiver gets 404, and nothing changes."""
    child, *_ = team
    goal = _goal(session, child)
    login("parent@example.org")
    before = contents(session)
    assert (
        client.post(
            f"/children/{child.id}/goals/{goal.id}/gas", data={"gas_level": "1"}
        ).status_code
        == 404
    )
    assert client.post(f"/children/{child.id}/goals/new", data=GOAL).status_code == 404
    edit = {**GOAL, "baseline": "4", "target": "1"}
    assert client.post(f"/children/{child.id}/goals/{goal.id}/edit", data=edit).status_code == 404
    assert client.post(f"/children/{child.id}/goals/{goal.id}/archive").status_code == 404
    assert contents(session) == before


def test_therapist_records_measurement(client, login, session, team):
    """A therapist records a measurement; it appears in the goal's data table."""
    child, therapist, *_ = team
    goal = _goal(session, child)
    login("ot@example.org")
    day = (_today(child) - timedelta(days=1)).isoformat()
    response = client.post(
        f"/children/{child.id}/goals/{goal.id}/measurements",
        data={"value": "2", "measured_on": day, "note": "=cmd"},
    )
    assert response.status_code == 302
    m = session.scalar(select(GoalMeasurement))
    assert (m.value, m.by_id, m.note) == (2, therapist.id, "=cmd")
    html = client.get(f"/children/{child.id}/goals/{goal.id}").get_data(as_text=True)
    assert '<svg class="line-chart"' in html and "Measurements: spills per week" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"value": "", "measured_on": "2026-01-01"}, "Enter a number."),
        ({"value": "abc", "measured_on": "2026-01-01"}, "Not a valid decimal value"),
        ({"value": "1", "measured_on": ""}, "Enter the date."),
        ({"value": "1", "measured_on": "2999-01-01"}, "cannot be in the future"),
        ({"value": "1e99", "measured_on": "2026-01-01"}, "smaller number"),
    ],
)
def test_bad_measurement_rejected(client, login, session, team, data, message):
    """Bad measurement input: message at the field, status 400, nothing stored."""
    child, *_ = team
    goal = _goal(session, child)
    login("ot@example.org")
    before = contents(session)
    response = client.post(f"/children/{child.id}/goals/{goal.id}/measurements", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert contents(session) == before


def test_caregiver_sees_goals_in_plain_words_and_records(client, login, session, team):
    """A caregiver reads the goal in plain words and adds a measurement from home."""
    child, _, parent, _ = team
    goal = _goal(session, child)
    login("parent@example.org")
    html = client.get(f"/children/{child.id}/goals").get_data(as_text=True)
    assert "What Mia is working on" in html
    assert "At the start it was 4 spills. The aim is 0 spills" in html
    assert "GAS" not in html and "Baseline" not in html
    response = client.post(
        f"/children/{child.id}/goals/{goal.id}/family-measurements",
        data={f"g{goal.id}-value": "3", f"g{goal.id}-measured_on": _today(child).isoformat()},
    )
    assert response.status_code == 302
    m = session.scalar(select(GoalMeasurement))
    assert (m.value, m.by_id) == (3, parent.id)
    html = client.get(f"/children/{child.id}/goals").get_data(as_text=True)
    assert "Most recently" in html and "it was 3 spills" in html


def test_caregiver_bad_measurement_kept_with_message(client, login, session, team):
    """A caregiver's bad value is refused with the message and the form open."""
    child, *_ = team
    goal = _goal(session, child)
    login("parent@example.org")
    before = contents(session)
    response = client.post(
        f"/children/{child.id}/goals/{goal.id}/family-measurements",
        data={f"g{goal.id}-value": "lots", f"g{goal.id}-measured_on": _today(child).isoformat()},
    )
    assert response.status_code == 400
    assert "Not a valid decimal value" in response.get_data(as_text=True)
    assert contents(session) == before


def test_caregiver_cannot_see_another_familys_goals(factory, client, login, session, team):
    """Another family's child's goals answer 404, as do staff pages for caregivers; a
    measurement posted for them changes nothing."""
    child, *_ = team
    other = factory.child(factory.org(), name="Other")
    other_goal = _goal(session, other)
    login("parent@example.org")
    before = contents(session)
    assert client.get(f"/children/{other.id}/goals").status_code == 404
    assert (
        client.post(
            f"/children/{other.id}/goals/{other_goal.id}/family-measurements",
            data={f"g{other_goal.id}-value": "1", f"g{other_goal.id}-measured_on": "2026-01-01"},
        ).status_code
        == 404
    )
    assert client.get(f"/children/{child.id}/progress").status_code == 404
    assert contents(session) == before


def test_goal_of_another_child_is_404(factory, client, login, session, team):
    """A goal id from another child under this child's URL is 404, for reading and for
    every write, and nothing changes."""
    child, therapist, *_ = team
    sibling = factory.child(session.get(Organization, child.organization_id), therapist=therapist)
    goal = _goal(session, sibling)
    login("ot@example.org")
    assert client.get(f"/children/{sibling.id}/goals/{goal.id}").status_code == 200
    before = contents(session)
    base = f"/children/{child.id}/goals/{goal.id}"
    assert client.get(base).status_code == 404
    writes = {
        "edit": {**GOAL, "baseline": "4", "target": "1"},
        "gas": {"gas_level": "1"},
        "measurements": {"value": "2", "measured_on": _today(child).isoformat()},
        "archive": {},
    }
    for path, data in writes.items():
        assert client.post(f"{base}/{path}", data=data).status_code == 404, path
    assert contents(session) == before


def test_archived_goal_disappears(client, login, session, team):
    """Archiving removes the goal from the progress page."""
    child, *_ = team
    goal = _goal(session, child, statement="Zips the backpack")
    login("ot@example.org")
    assert client.post(f"/children/{child.id}/goals/{goal.id}/archive").status_code == 302
    assert "Zips the backpack" not in client.get(f"/children/{child.id}/progress").get_data(
        as_text=True
    )
