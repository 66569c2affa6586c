"""Goal Attainment Scaling: the T-score against the published formula's worked figures, the
scale's rules, dated follow-up ratings, and old single ratings kept by the migration."""

import math
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, inspect, select, text

from homeprogram.migrations_runner import downgrade, upgrade
from homeprogram.models import AuditEvent, GasRating, Goal
from homeprogram.models.base import utcnow
from homeprogram.services import gas
from homeprogram.services.adherence import local_today
from tests.db_state import contents

LEVELS = ["Needs full help", "Needs a reminder", "Does it alone", "Helps a sibling", "Teaches it"]


# --- the T-score ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goals", "expected"),
    [
        # Unweighted goals all at -1 (a usual baseline): with rho 0.3 the formula reduces to
        # 50 + 10 Σx / √(0.7 n + 0.3 n²), the figures tabulated for baseline T-scores.
        (1, 40.0),
        (2, 37.60),
        (3, 36.31),
        (4, 35.49),
        (5, 34.92),
    ],
)
def test_unweighted_baseline_t_scores(goals, expected):
    assert gas.t_score([(-1, 1.0)] * goals) == pytest.approx(expected, abs=0.005)


def test_expected_levels_give_50_and_one_goal_moves_by_ten_per_level():
    assert gas.t_score([(0, 1.0)] * 4) == 50
    for level in gas.LEVELS:
        assert gas.t_score([(level, 1.0)]) == pytest.approx(50 + 10 * level)


def test_weighted_t_score_worked_by_hand():
    """Weights as importance × difficulty: goals at +1 (w 6), 0 (w 4), -1 (w 2).
    Σwx = 4; Σw² = 56; Σw = 12; √(0.7·56 + 0.3·144) = √82.4; T = 50 + 40/√82.4 = 54.41."""
    assert gas.t_score([(1, 6.0), (0, 4.0), (-1, 2.0)]) == pytest.approx(50 + 40 / math.sqrt(82.4))
    assert gas.t_score([(1, 6.0), (0, 4.0), (-1, 2.0)]) == pytest.approx(54.41, abs=0.005)


def test_correlation_is_a_parameter():
    """With rho 0 the goals are independent: n goals at +1 give 50 + 10·√n."""
    assert gas.t_score([(1, 1.0)] * 4, rho=0.0) == pytest.approx(70.0)
    assert gas.t_score([]) is None


def _goal(**kw) -> Goal:
    goal = Goal(
        statement="s",
        measure="m",
        baseline=0,
        target=1,
        gas_levels=kw.get("levels", LEVELS),
        gas_baseline=kw.get("baseline", -1),
        gas_weight=kw.get("weight"),
    )
    goal.gas_ratings = [GasRating(level=lv, rated_on=d) for d, lv in kw.get("ratings", [])]
    return goal


def test_t_scores_at_baseline_and_each_follow_up():
    """One T-score at baseline and one per follow-up day; a goal not yet rated on a day
    counts at its baseline; an unscaled goal does not count."""
    d1, d2 = date(2027, 1, 10), date(2027, 3, 10)
    goals = [
        _goal(ratings=[(d1, 0), (d2, 1)]),
        _goal(baseline=-2, ratings=[(d2, 0)]),
        _goal(levels=[], baseline=None, ratings=[(d1, 2)]),  # not scaled: left out
    ]
    scores = gas.t_scores(goals)
    assert [(t.day, t.goals, t.rated) for t in scores] == [(None, 2, 0), (d1, 2, 1), (d2, 2, 2)]
    assert scores[0].score == pytest.approx(gas.t_score([(-1, 1), (-2, 1)]))
    assert scores[1].score == pytest.approx(gas.t_score([(0, 1), (-2, 1)]))
    assert scores[2].score == pytest.approx(gas.t_score([(1, 1), (0, 1)]))
    assert [t.day for t in gas.t_scores(goals, until=d2 - timedelta(days=1))] == [None, d1]
    assert gas.t_scores([_goal(levels=[], baseline=None)]) == []


def test_weights_enter_the_t_score():
    goals = [_goal(weight=3.0, ratings=[(date(2027, 1, 1), 2)]), _goal(ratings=[])]
    assert gas.t_scores(goals)[-1].score == pytest.approx(gas.t_score([(2, 3.0), (-1, 1.0)]))


# --- the scale's rules ---------------------------------------------------------------------


def test_a_scale_is_all_five_levels_and_a_baseline_or_nothing():
    assert gas.validate_scale([""] * 5, None, None) == {}
    assert gas.validate_scale([""] * 5, -1, None) == {}  # clearing the levels drops the scale
    assert gas.validate_scale(LEVELS, -1, None) == {}
    assert gas.validate_scale(LEVELS, -2, 2.5) == {}
    errors = gas.validate_scale(["a", "", "c", "", "e"], None, None)
    assert set(errors) == {"gas_1", "gas_3", "gas_baseline"}
    assert set(gas.validate_scale(LEVELS, 0, None)) == {"gas_baseline"}
    assert set(gas.validate_scale(LEVELS, -1, 0.0)) == {"gas_weight"}
    assert set(gas.validate_scale(LEVELS, -1, 101.0)) == {"gas_weight"}
    assert set(gas.validate_scale(LEVELS, -1, float("nan"))) == {"gas_weight"}


# --- pages ---------------------------------------------------------------------------------


@pytest.fixture
def team(factory):
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist, name="Mia")
    factory.caregiver(child, email="parent@example.org")
    return child, therapist


def _today(child) -> date:
    return local_today(child.timezone, utcnow())


GOAL_FORM = {
    "statement": "Mia buttons her coat on her own",
    "measure": "buttons done in 2 minutes",
    "unit": "buttons",
    "baseline": "1",
    "target": "5",
    **{f"gas_{i}": text for i, text in enumerate(LEVELS)},
    "gas_baseline": "-1",
    "gas_weight": "",
}


def test_therapist_writes_a_scale_rates_twice_and_sees_the_t_scores(client, login, session, team):
    child, therapist = team
    login("ot@example.org")
    response = client.post(f"/children/{child.id}/goals/new", data=GOAL_FORM)
    assert response.status_code == 302
    goal = session.scalar(select(Goal))
    assert goal.gas_levels == LEVELS and goal.gas_baseline == -1 and goal.gas_scaled
    today = _today(child)
    for days_ago, level in ((30, 0), (1, 1)):
        day = (today - timedelta(days=days_ago)).isoformat()
        response = client.post(
            f"/children/{child.id}/goals/{goal.id}/gas",
            data={"gas_level": str(level), "rated_on": day, "note": "at school"},
        )
        assert response.status_code == 302
    # A second rating the same day replaces the first.
    client.post(
        f"/children/{child.id}/goals/{goal.id}/gas",
        data={"gas_level": "2", "rated_on": (today - timedelta(days=1)).isoformat()},
    )
    session.expire_all()
    assert [(r.level, r.by_id) for r in goal.gas_ratings] == [(0, therapist.id), (2, therapist.id)]
    page = client.get(f"/children/{child.id}/goals/{goal.id}").get_data(as_text=True)
    assert "Does it alone" in page and "(baseline)" in page
    progress = client.get(f"/children/{child.id}/progress").get_data(as_text=True)
    assert "Goal Attainment Scaling T-score" in progress
    for score in ("40", "50", "70"):  # baseline -1, then 0, then +2 (one goal)
        assert f'<td class="num">{score}</td>' in progress
    assert "50 means every goal reached the expected level" in progress
    events = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "goal.gas_rated")
    ).all()
    assert len(events) == 3


def test_half_written_scale_is_refused_with_messages(client, login, session, team):
    child, _ = team
    login("ot@example.org")
    before = contents(session)
    data = {**GOAL_FORM, "gas_1": "", "gas_baseline": ""}
    response = client.post(f"/children/{child.id}/goals/new", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "a scale needs all five" in html and "Mark the level the child is at today" in html
    assert contents(session) == before


def test_unscaled_goal_cannot_be_rated_and_says_why(client, login, session, team):
    child, _ = team
    goal = Goal(child_id=child.id, statement="s", measure="m", baseline=0, target=1)
    session.add(goal)
    session.commit()
    login("ot@example.org")
    page = client.get(f"/children/{child.id}/goals/{goal.id}").get_data(as_text=True)
    assert "Write the levels" in page
    before = contents(session)
    response = client.post(
        f"/children/{child.id}/goals/{goal.id}/gas",
        data={"gas_level": "1", "rated_on": _today(child).isoformat()},
    )
    assert response.status_code == 400
    assert "five levels" in response.get_data(as_text=True)
    assert contents(session) == before


@pytest.mark.parametrize(
    ("day", "message"), [(1, "cannot be in the future"), (None, "Enter the date.")]
)
def test_rating_date_is_checked(client, login, session, team, day, message):
    child, _ = team
    goal = Goal(
        child_id=child.id,
        statement="s",
        measure="m",
        baseline=0,
        target=1,
        gas_levels=LEVELS,
        gas_baseline=-1,
    )
    session.add(goal)
    session.commit()
    login("ot@example.org")
    rated_on = "" if day is None else (_today(child) + timedelta(days=day)).isoformat()
    before = contents(session)
    response = client.post(
        f"/children/{child.id}/goals/{goal.id}/gas", data={"gas_level": "1", "rated_on": rated_on}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert contents(session) == before


# --- the migration keeps the old single ratings --------------------------------------------


def _fill(conn, table: str, values: dict) -> int:
    """Inserts a row giving every required column a plain value of its type."""
    row = dict(values)
    for column in inspect(conn).get_columns(table):
        name, kind = column["name"], str(column["type"]).upper()
        if name in row or column["nullable"] or column.get("default") or name == "id":
            continue
        if "BOOL" in kind:
            row[name] = False
        elif "INT" in kind:
            row[name] = 0
        elif "DATETIME" in kind or "TIMESTAMP" in kind:
            row[name] = "2026-05-01 10:00:00"
        elif "DATE" in kind:
            row[name] = "2020-05-01"
        elif "FLOAT" in kind or "DOUBLE" in kind or "REAL" in kind or "NUMERIC" in kind:
            row[name] = 0.0
        elif "JSON" in kind:
            row[name] = "[]"
        else:
            row[name] = "x"
    names = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    result = conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id"), row)
    return result.scalar_one()


def test_migration_turns_a_gas_level_into_a_dated_rating_and_seeds_instruments(database_url):
    downgrade(database_url, "0014_media")
    try:
        engine = create_engine(database_url)
        with engine.begin() as conn:
            org = _fill(conn, "organization", {"name": "Clinic", "timezone": "UTC"})
            child = _fill(conn, "child", {"organization_id": org, "timezone": "UTC"})
            rated = _fill(
                conn,
                "goal",
                {"child_id": child, "gas_level": 1, "gas_rated_at": "2026-05-02 23:30:00"},
            )
            unrated = _fill(conn, "goal", {"child_id": child, "gas_level": None})
        engine.dispose()
    finally:
        upgrade(database_url)  # the next tests need the head schema, whatever happened
    engine = create_engine(database_url)
    with engine.connect() as conn:
        ratings = conn.execute(text("SELECT goal_id, level, rated_on FROM gas_rating")).all()
        names = list(
            conn.execute(
                text("SELECT name FROM assessment_instrument WHERE organization_id = :o"),
                {"o": org},
            ).scalars()
        )
    engine.dispose()
    assert [(g, lv, str(d)) for g, lv, d in ratings] == [(rated, 1, "2026-05-02")]
    assert unrated not in [g for g, *_ in ratings]
    assert any("Beery" in n for n in names) and len(names) >= 10
