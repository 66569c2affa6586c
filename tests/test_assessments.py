"""Standardised assessment results (scores only) and each organisation's instrument list."""

import importlib.util
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from homeprogram.extensions import db
from homeprogram.models import AssessmentResult, AuditEvent, Goal, Instrument, Organization
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, assessments, instruments
from homeprogram.services.adherence import local_today
from homeprogram.services.audit import SYSTEM
from tests.db_state import contents
from tests.factories import TEST_PASSWORD

VMI = instruments.SEEDED[0]


@pytest.fixture
def team(factory, session):
    org = factory.org()
    instruments.seed(session, org.id)
    session.commit()
    therapist = factory.therapist(org, email="ot@example.org")
    admin = factory.therapist(org, admin=True, email="admin@example.org")
    child = factory.child(org, therapist=therapist, name="Mia")
    return org, therapist, admin, child


def _instrument(session, org, name=VMI) -> Instrument:
    return session.scalar(
        select(Instrument).where(Instrument.organization_id == org.id, Instrument.name == name)
    )


def _today(child):
    return local_today(child.timezone, utcnow())


def _result_form(session, org, child, **change):
    return {
        "instrument_id": str(_instrument(session, org).id),
        "taken_on": _today(child).isoformat(),
        "score_type": "standard",
        "value": "92",
        "subtest": "Visual perception",
        "notes": "",
        **change,
    }


def _url(child) -> str:
    return f"/children/{child.id}/assessments"


def _add(client, session, org, child, **change):
    return client.post(_url(child), data=_result_form(session, org, child, **change))


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "100", "55.5"])
def test_percentile_bounds_accepted(client, login, session, team, value):
    """A percentile of 0, 100 or in between is saved."""
    org, _, _, child = team
    login("ot@example.org")
    response = _add(client, session, org, child, score_type="percentile", value=value)
    assert response.status_code == 302
    assert session.scalar(select(AssessmentResult.value)) == float(value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"score_type": "percentile", "value": "100.1"}, "A percentile is from 0 to 100."),
        ({"score_type": "percentile", "value": "-1"}, "A percentile is from 0 to 100."),
        ({"score_type": "standard", "value": "201"}, "A standard score is from 0 to 200."),
        ({"score_type": "scaled", "value": "41"}, "A scaled score is from 0 to 40."),
        ({"score_type": "raw", "value": "100001"}, "A raw score is from 0 to 100,000."),
        (
            {"score_type": "age_equivalent", "value": "301"},
            "An age equivalent is from 0 to 300 months.",
        ),
        ({"score_type": "age_equivalent", "value": "54.5"}, "whole months"),
        ({"value": "NaN"}, "Enter a smaller number."),
        ({"value": "1e400"}, "Enter a smaller number."),
        ({"value": ""}, "Enter the score as a number."),
        ({"value": "lots"}, "Not a valid decimal value"),
        ({"score_type": "z-score"}, "Choose a score type."),
        ({"score_type": ""}, "Choose a score type."),
        ({"instrument_id": ""}, "Choose an instrument."),
        ({"instrument_id": "99999999999999"}, "Choose an instrument."),
        ({"instrument_id": "2147483000"}, "Choose an instrument from your organization"),
        ({"taken_on": ""}, "Enter the date."),
        ({"subtest": "x" * 121}, "Use at most 120 characters."),
        ({"notes": "x" * 1001}, "Use at most 1000 characters."),
    ],
)
def test_bad_result_refused_with_message(client, login, session, team, change, message):
    """Bad input shows its message on the form, answers 400 and stores nothing."""
    org, _, _, child = team
    login("ot@example.org")
    before = contents(session)
    response = _add(client, session, org, child, **change)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert contents(session) == before


def test_future_date_refused_today_accepted(client, login, session, team):
    """A result dated after the child's today is refused; today itself is fine."""
    org, _, _, child = team
    login("ot@example.org")
    before = contents(session)
    tomorrow = (_today(child) + timedelta(days=1)).isoformat()
    response = _add(client, session, org, child, taken_on=tomorrow)
    assert response.status_code == 400
    assert "The date cannot be in the future." in response.get_data(as_text=True)
    assert contents(session) == before
    assert _add(client, session, org, child).status_code == 302


def test_another_organizations_instrument_refused(client, login, session, factory, team):
    """An instrument of another organisation's list cannot be used."""
    org, _, _, child = team
    other = factory.org()
    instruments.seed(session, other.id)
    session.commit()
    login("ot@example.org")
    before = contents(session)
    foreign = _instrument(session, other)
    response = _add(client, session, org, child, instrument_id=str(foreign.id))
    assert response.status_code == 400
    assert "Choose an instrument from your organization" in response.get_data(as_text=True)
    assert contents(session) == before


def test_archived_instrument_refused(client, login, session, team):
    """An archived instrument cannot be used for a new result."""
    org, _, _, child = team
    instrument = _instrument(session, org)
    instrument.archived_at = utcnow()
    session.commit()
    login("ot@example.org")
    before = contents(session)
    response = _add(client, session, org, child)
    assert response.status_code == 400
    assert "is archived: choose another instrument." in response.get_data(as_text=True)
    assert contents(session) == before


# --- the page --------------------------------------------------------------------------


def test_therapist_records_two_results_and_sees_table_and_chart(client, login, session, team):
    """Two results of one instrument show in the table and as a chart; the page says that
    only scores are kept."""
    org, _, _, child = team
    login("ot@example.org")
    page = client.get(_url(child)).get_data(as_text=True)
    assert "Scores only: the app does not store test content." in page
    assert "in months" in page  # the age equivalent hint
    assert f'<option value="{_instrument(session, org).id}">' in page
    earlier = (_today(child) - timedelta(days=180)).isoformat()
    assert _add(client, session, org, child, value="84", taken_on=earlier).status_code == 302
    response = _add(client, session, org, child, value="92", notes="Attended well")
    assert response.status_code == 302
    page = client.get(_url(child)).get_data(as_text=True)
    assert ">84<" in page and ">92<" in page
    assert "Attended well" in page
    assert "Visual perception" in page
    assert page.count('class="line-chart"') == 1
    assert "2 results, first 84, latest 92." in page
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("assessment.recorded") == 2
    assert "child.viewed" in actions


def test_one_result_has_no_chart(client, login, session, team):
    """A series of a single result shows in the table without a chart."""
    org, _, _, child = team
    login("ot@example.org")
    _add(client, session, org, child, score_type="age_equivalent", value="54")
    page = client.get(_url(child)).get_data(as_text=True)
    assert "4 years 6 months" in page
    assert 'class="line-chart"' not in page


def test_age_equivalent_and_description(app):
    """Age equivalents read as years and months; a result is described in one line."""
    with app.test_request_context():
        assert assessments.format_age(54) == "4 years 6 months"
        assert assessments.format_age(12) == "1 year"
        assert assessments.format_age(5) == "5 months"
        assert assessments.format_age(13) == "1 year 1 month"
        assert assessments.format_age(0) == "0 months"
        result = AssessmentResult(
            instrument=Instrument(name="Beery VMI"),
            taken_on=date(2026, 3, 3),
            score_type="standard",
            value=92.0,
            subtest="Visual perception",
        )
        assert assessments.describe(result) == (
            "Beery VMI · Visual perception · standard score 92 (Tue, Mar 3, 2026)"
        )
        result.subtest, result.score_type, result.value = "", "age_equivalent", 30.0
        assert assessments.describe(result) == (
            "Beery VMI · age equivalent 2 years 6 months (Tue, Mar 3, 2026)"
        )


def test_series_groups_by_instrument_subtest_and_type(app, client, login, session, team):
    """Results group per (instrument, subtest, score type), oldest first; newest first in
    the list."""
    org, _, _, child = team
    login("ot@example.org")
    today = _today(child)
    for days, score_type, value in (
        (30, "standard", "80"),
        (0, "standard", "90"),
        (10, "raw", "7"),
    ):
        taken_on = (today - timedelta(days=days)).isoformat()
        _add(client, session, org, child, taken_on=taken_on, score_type=score_type, value=value)
    with app.test_request_context():
        results = assessments.results_of(db.session, child.id)
        assert [r.value for r in results] == [90, 7, 80]
        groups = assessments.series(results)
        assert [(g.score_type, [v for _, v in g.points]) for g in groups] == [
            ("standard", [80, 90]),
            ("raw", [7]),
        ]


def test_deleting_a_goals_baseline_result_unlinks_the_goal(client, login, session, team):
    """Deleting a result that a goal uses as its baseline keeps the goal, without the link."""
    org, _, _, child = team
    login("ot@example.org")
    _add(client, session, org, child)
    result = session.scalar(select(AssessmentResult))
    goal = Goal(
        child_id=child.id,
        statement="Copies shapes",
        measure="standard score",
        baseline=92,
        target=100,
        baseline_result_id=result.id,
    )
    session.add(goal)
    session.commit()
    page = client.get(_url(child)).get_data(as_text=True)
    assert "Baseline of a goal" in page
    response = client.post(f"{_url(child)}/{result.id}/delete", follow_redirects=True)
    assert response.status_code == 200
    assert "It was the baseline result of a goal" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(AssessmentResult)) is None
    kept = session.get(Goal, goal.id)
    assert kept is not None and kept.baseline_result_id is None and kept.baseline == 92
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "assessment.deleted"))


def test_foreign_key_clears_baseline_on_delete(session, team):
    """The database itself clears a goal's baseline link when its result is deleted."""
    org, _, _, child = team
    result = AssessmentResult(
        child_id=child.id,
        instrument_id=_instrument(session, org).id,
        taken_on=date(2026, 1, 5),
        score_type="raw",
        value=10,
    )
    session.add(result)
    session.commit()
    goal = Goal(
        child_id=child.id,
        statement="Copies shapes",
        measure="raw",
        baseline=10,
        target=20,
        baseline_result_id=result.id,
    )
    session.add(goal)
    session.commit()
    session.execute(AssessmentResult.__table__.delete())
    session.commit()
    session.expire_all()
    assert session.get(Goal, goal.id).baseline_result_id is None


def test_result_of_another_child_cannot_be_deleted(client, login, session, factory, team):
    """A result id of another child (same therapist) is 404 under this child's URL."""
    org, therapist, _, child = team
    sibling = factory.child(org, therapist=therapist, name="Leo")
    login("ot@example.org")
    _add(client, session, org, sibling)
    result = session.scalar(select(AssessmentResult))
    before = contents(session)
    assert client.post(f"{_url(child)}/{result.id}/delete").status_code == 404
    assert contents(session) == before


# --- access ----------------------------------------------------------------------------


def test_people_off_the_care_team_get_404(client, login, session, factory, team):
    """Caregivers, teachers and a therapist of another organisation cannot see or change a
    child's results."""
    org, _, _, child = team
    login("ot@example.org")
    _add(client, session, org, child)
    result = session.scalar(select(AssessmentResult))
    client.post("/logout")
    factory.caregiver(child, email="parent@example.org")
    factory.teacher(child, email="teacher@example.org")
    factory.therapist(factory.org(), admin=True, email="elsewhere@example.org")
    for email in ("parent@example.org", "teacher@example.org", "elsewhere@example.org"):
        c = client.application.test_client()
        login(email, c=c)
        assert c.get(_url(child)).status_code == 404, email
        data = _result_form(session, org, child)
        assert c.post(_url(child), data=data).status_code == 404, email
        assert c.post(f"{_url(child)}/{result.id}/delete").status_code == 404, email
    session.expire_all()
    assert session.scalars(select(AssessmentResult.id)).all() == [result.id]


# --- the instrument list ---------------------------------------------------------------


def test_admin_manages_the_instrument_list(client, login, session, team):
    """An admin adds an instrument, a duplicate name (any case) is refused, and an archived
    instrument leaves the result form but can be restored."""
    org, _, _, child = team
    login("admin@example.org")
    page = client.get("/organization/instruments").get_data(as_text=True)
    assert "Sensory Profile 2" in page
    response = client.post("/organization/instruments", data={"name": "  Goal Attainment  Kit "})
    assert response.status_code == 302
    added = _instrument(session, org, "Goal Attainment Kit")
    assert added is not None
    before = contents(session)
    response = client.post("/organization/instruments", data={"name": "sensory PROFILE 2"})
    assert response.status_code == 400
    assert "Your list already has “Sensory Profile 2”." in response.get_data(as_text=True)
    response = client.post("/organization/instruments", data={"name": "x" * 121})
    assert response.status_code == 400
    assert "Use at most 120 characters." in response.get_data(as_text=True)
    response = client.post("/organization/instruments", data={"name": "   "})
    assert response.status_code == 400
    assert "Enter the instrument" in response.get_data(as_text=True)
    assert contents(session) == before

    vmi = _instrument(session, org)
    assert client.post(f"/organization/instruments/{vmi.id}/archive").status_code == 302
    form = client.get(_url(child)).get_data(as_text=True)
    assert f'<option value="{vmi.id}">' not in form
    assert f'<option value="{added.id}">' in form
    response = client.post("/organization/instruments", data={"name": VMI.upper()})
    assert response.status_code == 400
    assert "restore it instead" in response.get_data(as_text=True)
    assert client.post(f"/organization/instruments/{vmi.id}/restore").status_code == 302
    assert f'<option value="{vmi.id}">' in client.get(_url(child)).get_data(as_text=True)
    actions = session.scalars(select(AuditEvent.action)).all()
    for action in ("instrument.added", "instrument.archived", "instrument.restored"):
        assert action in actions


def test_admin_renames_an_instrument(client, login, session, team):
    """An admin renames an instrument; a rename onto another name of the list is refused
    with its message next to that instrument."""
    org, *_ = team
    login("admin@example.org")
    vmi = _instrument(session, org)
    url = f"/organization/instruments/{vmi.id}/rename"
    assert client.post(url, data={f"i{vmi.id}-name": "Beery VMI-6"}).status_code == 302
    session.expire_all()
    assert session.get(Instrument, vmi.id).name == "Beery VMI-6"
    before = contents(session)
    response = client.post(url, data={f"i{vmi.id}-name": "sensory profile 2"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="i{vmi.id}-name-error"' in html
    assert contents(session) == before
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "instrument.renamed"))
    assert event.child_id is None and event.organization_id == org.id


def test_instrument_list_is_admins_own_organization_only(client, login, session, factory, team):
    """A therapist who is not an admin gets 404; an admin of another organisation gets 404 on
    this organisation's instruments."""
    org, *_ = team
    vmi = _instrument(session, org)
    login("ot@example.org")
    assert client.get("/organization/instruments").status_code == 404
    assert client.post("/organization/instruments", data={"name": "New"}).status_code == 404
    assert client.post(f"/organization/instruments/{vmi.id}/archive").status_code == 404
    other = factory.org()
    instruments.seed(session, other.id)
    session.commit()
    factory.therapist(other, admin=True, email="boss@elsewhere.org")
    c = client.application.test_client()
    login("boss@elsewhere.org", c=c)
    page = c.get("/organization/instruments").get_data(as_text=True)
    assert page.count("Sensory Profile 2") >= 1
    before = contents(session)
    assert c.post(f"/organization/instruments/{vmi.id}/archive").status_code == 404
    assert c.post(f"/organization/instruments/{vmi.id}/restore").status_code == 404
    url = f"/organization/instruments/{vmi.id}/rename"
    assert c.post(url, data={f"i{vmi.id}-name": "Mine now"}).status_code == 404
    assert contents(session) == before


def test_new_organization_starts_with_the_seeded_list(app, session):
    """An organisation created at sign-up has the seeded instruments, once."""
    with app.test_request_context():
        s = db.session
        accounts.sign_up_therapist(
            s,
            SYSTEM,
            org_name="Riverside OT",
            name="Riley",
            email="riley@example.org",
            password=TEST_PASSWORD,
            timezone="America/Chicago",
        )
        s.commit()
        org_id = s.scalar(select(Organization.id).where(Organization.name == "Riverside OT"))
        names = [i.name for i in instruments.active(s, org_id)]
        assert sorted(names, key=str.lower) == names
        assert set(names) == set(instruments.SEEDED)
        assert instruments.seed(s, org_id) == 0
        assert len(instruments.all_of(s, org_id)) == len(instruments.SEEDED)


def test_seeded_list_matches_the_migration():
    """The service's seed list starts with the names the migration gave existing
    organisations."""
    path = Path(__file__).parent.parent / "migrations" / "versions" / "14_0015_outcomes.py"
    spec = importlib.util.spec_from_file_location("outcomes_migration", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert instruments.SEEDED[: len(module.SEEDED)] == module.SEEDED
