"""Levels that step up and down: the suggestion rules at their edges, applying and dismissing
a suggestion, the organisation's thresholds, and what families, teachers and therapists see."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from homeprogram.models import (
    Assignment,
    AuditEvent,
    CompletionLog,
    LevelSuggestionDismissal,
    Organization,
)
from homeprogram.models.base import utcnow
from homeprogram.services import levels, programs
from homeprogram.services.adherence import local_today
from homeprogram.services.audit import Actor
from homeprogram.services.errors import ValidationFailed
from homeprogram.services.levels import STEP_DOWN, STEP_UP, Rated, Settings, suggestion_for
from tests.adherence_helpers import log
from tests.query_counter import count_queries

DEFAULTS = Settings()  # 3 "hard" of the last 4 sessions; 5 "easy" in a row
NEWEST = date(2026, 3, 20)
EASIER = "Use a bigger ball."
HARDER = "Catch with one hand."


def _said(*responses: str | None) -> list[Rated]:
    """Sessions newest first, one a day back from NEWEST."""
    return [Rated(NEWEST - timedelta(days=i), r) for i, r in enumerate(responses)]


# --- the rules, pure ------------------------------------------------------------------------


def test_two_hard_of_four_suggests_nothing():
    """2 "hard" of the last 4 is under the threshold."""
    assert suggestion_for(_said("hard", "easy", "hard", "just_right"), DEFAULTS) is None


def test_three_hard_of_four_suggests_a_step_down_since_the_oldest_counted():
    """3 of the last 4: step down to easier; the evidence starts at the 4th newest session."""
    s = suggestion_for(_said("hard", "just_right", "hard", "hard", "easy"), DEFAULTS)
    assert s is not None
    assert (s.kind, s.to_level, s.count, s.of) == (STEP_DOWN, "easier", 3, 4)
    assert s.since == NEWEST - timedelta(days=3)


def test_a_hard_session_outside_the_window_does_not_count():
    """The third "hard" is the 5th newest session: outside the last 4."""
    assert suggestion_for(_said("hard", "easy", "hard", "easy", "hard"), DEFAULTS) is None


def test_fewer_sessions_than_the_window_count_as_they_are():
    """3 "hard" of the only 3 sessions is already 3 "hard" (of 3)."""
    s = suggestion_for(_said("hard", "hard", "hard"), DEFAULTS)
    assert s is not None and (s.count, s.of) == (3, 3)
    assert suggestion_for(_said("hard", "hard"), DEFAULTS) is None


def test_sessions_without_a_response_are_skipped():
    """Unrated sessions neither fill the window nor break a streak."""
    s = suggestion_for(_said("hard", None, "easy", None, "hard", "hard", "easy"), DEFAULTS)
    assert s is not None and (s.kind, s.count, s.of) == (STEP_DOWN, 3, 4)
    assert s.since == NEWEST - timedelta(days=5)  # the 4th rated one
    up = suggestion_for(_said("easy", None, "easy", "easy", None, "easy", "easy"), DEFAULTS)
    assert up is not None and up.kind == STEP_UP
    assert up.since == NEWEST - timedelta(days=6)


def test_four_easy_in_a_row_is_not_enough_five_is():
    """4 "easy": nothing yet; the 5th makes it "Ready for harder?"."""
    assert suggestion_for(_said("easy", "easy", "easy", "easy", "hard"), DEFAULTS) is None
    s = suggestion_for(_said("easy", "easy", "easy", "easy", "easy", "hard"), DEFAULTS)
    assert s is not None
    assert (s.kind, s.to_level, s.count, s.of) == (STEP_UP, "harder", 5, 5)
    assert s.since == NEWEST - timedelta(days=4)


def test_just_right_breaks_the_easy_streak():
    """5 "easy" with a "just right" in between are not 5 in a row."""
    responses = ("easy", "easy", "just_right", "easy", "easy", "easy")
    assert suggestion_for(_said(*responses), DEFAULTS) is None


def test_no_step_beyond_the_ends():
    """Already easier: no step down; already harder: no step up. One step from there."""
    hard = _said("hard", "hard", "hard", "hard")
    easy = _said(*["easy"] * 5)
    assert suggestion_for(hard, DEFAULTS, level="easier") is None
    assert suggestion_for(easy, DEFAULTS, level="harder") is None
    down = suggestion_for(hard, DEFAULTS, level="harder")
    up = suggestion_for(easy, DEFAULTS, level="easier")
    assert down is not None and (down.kind, down.to_level) == (STEP_DOWN, "standard")
    assert up is not None and (up.kind, up.to_level) == (STEP_UP, "standard")


def test_no_step_to_a_level_the_activity_has_no_variation_for():
    """Without an easier variation there is nothing to step down to."""
    only_harder = {"standard", "harder"}
    hard = _said("hard", "hard", "hard")
    assert suggestion_for(hard, DEFAULTS, available=only_harder) is None
    assert suggestion_for(_said(*["easy"] * 5), DEFAULTS, available={"standard"}) is None


def test_thresholds_come_from_the_organisation():
    """2 of 2 and 2 in a row, where the organisation says so; not with the defaults."""
    quick = Settings(level_hard_count=2, level_hard_window=2, level_easy_streak=2)
    assert suggestion_for(_said("hard", "hard"), DEFAULTS) is None
    assert suggestion_for(_said("hard", "hard"), quick).kind == STEP_DOWN  # type: ignore[union-attr]
    assert suggestion_for(_said("easy", "easy"), quick).kind == STEP_UP  # type: ignore[union-attr]
    assert suggestion_for(_said("easy", "hard", "hard"), quick) is None  # 1 of the last 2


def test_step_down_wins_when_both_rules_hold():
    """With 1 of 20 and 2 in a row, "easy, easy, hard" meets both: the struggle comes first."""
    loose = Settings(level_hard_count=1, level_hard_window=20, level_easy_streak=2)
    s = suggestion_for(_said("easy", "easy", "hard"), loose)
    assert s is not None and s.kind == STEP_DOWN


def test_the_evidence_names_the_counts_and_the_first_day(app):
    """ "hard on 3 of the last 4 sessions since Thu, Mar 12"."""
    with app.test_request_context():
        down = levels.Suggestion(STEP_DOWN, "easier", 3, 4, date(2026, 3, 12))
        up = levels.Suggestion(STEP_UP, "harder", 5, 5, date(2026, 3, 12))
        assert down.evidence == "hard on 3 of the last 4 sessions since Thu, Mar 12"
        assert down.headline == "Suggest: step down to easier"
        assert up.evidence == "easy on the last 5 sessions in a row since Thu, Mar 12"
        assert up.headline == "Ready for harder?"


# --- a caseload, from the database ------------------------------------------------------------


@pytest.fixture
def team(factory):
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist, name="Mia")
    parent = factory.caregiver(child, email="parent@example.org")
    activity = factory.activity(
        org,
        title="Ball catch",
        summary="Catching builds timing and two-handed coordination.",
        easier=EASIER,
        harder=HARDER,
    )
    today = local_today(child.timezone, utcnow())
    assignment = factory.assignment(child, activity, start_date=today - timedelta(days=20))
    return {
        "org": org,
        "therapist": therapist,
        "child": child,
        "parent": parent,
        "assignment": assignment,
        "today": today,
    }


def _actor(team):
    return Actor(team["therapist"].id, "127.0.0.1", team["org"].id)


def _log_days(session, assignment, today, *responses):
    """Logs newest first: the first response yesterday, then one a day further back."""
    for i, response in enumerate(responses):
        log(session, assignment, today - timedelta(days=1 + i), response=response)


def _found(session, team, day=None):
    return levels.suggestions(session, [team["child"].id], day or team["today"]).get(
        team["child"].id, []
    )


def test_caseload_suggestion_names_the_assignment(session, team, app):
    """Three "hard" of the last four logged sessions: the child's list has the step down."""
    a = team["assignment"]
    _log_days(session, a, team["today"], "hard", "hard", "easy", "hard", "easy")
    log(session, a, team["today"] - timedelta(days=2), response="hard", deleted=True)  # undone
    [s] = _found(session, team)
    assert (s.assignment_id, s.child_id, s.title, s.kind) == (
        a.id,
        a.child_id,
        "Ball catch",
        "easier",
    )
    assert s.since == team["today"] - timedelta(days=4)


def test_caseload_uses_the_organisations_thresholds(session, team):
    """An organisation asking for 4 "hard" sees nothing at 3."""
    _log_days(session, team["assignment"], team["today"], "hard", "hard", "easy", "hard")
    team["org"].level_hard_count = 4
    session.commit()
    assert _found(session, team) == []


def test_sessions_before_a_new_version_do_not_count(session, team):
    """3 "hard" of the last 4, but one was logged under the version before a level change:
    nothing; a third "hard" under the new version brings it back."""
    today = team["today"]
    old = team["assignment"]
    old.end_date = today - timedelta(days=4)
    session.commit()
    new = Assignment(
        child_id=old.child_id,
        activity_id=old.activity_id,
        previous_id=old.id,
        start_date=today - timedelta(days=3),
        level="harder",
    )
    session.add(new)
    session.commit()
    log(session, old, today - timedelta(days=4), response="hard")
    _log_days(session, new, today, "hard", "easy", "hard")
    assert _found(session, team) == []
    log(session, new, today, response="hard")
    [s] = _found(session, team)
    assert (s.assignment_id, s.kind, s.to_level, s.count, s.of) == (
        new.id,
        "easier",
        "standard",
        3,
        4,
    )


def test_sessions_older_than_the_lookback_do_not_count(session, team):
    """Evidence from more than six weeks ago suggests nothing."""
    a = team["assignment"]
    a.start_date = team["today"] - timedelta(days=90)
    session.commit()
    far = team["today"] - timedelta(days=levels.LOOKBACK_DAYS + 1)
    for i in range(3):
        log(session, a, far - timedelta(days=i), response="hard")
    assert _found(session, team) == []


def test_dismissed_is_silent_for_fourteen_days_then_back(session, team):
    """Dismissed today: nothing up to 13 days on; on the 14th day it is back."""
    today = team["today"]
    _log_days(session, team["assignment"], today, *["easy"] * 5)
    assert [s.kind for s in _found(session, team)] == ["harder"]
    levels.dismiss(session, _actor(team), team["assignment"], "harder", today)
    session.commit()
    assert _found(session, team) == []
    assert _found(session, team, today + timedelta(days=13)) == []
    assert [s.kind for s in _found(session, team, today + timedelta(days=14))] == ["harder"]
    audited = select(AuditEvent.detail).where(
        AuditEvent.action == "assignment.level_suggestion_dismissed"
    )
    assert session.scalar(audited)["kind"] == "harder"


def test_dismissing_one_kind_leaves_the_other(session, team):
    """A dismissed "harder" does not silence a later "easier"."""
    today = team["today"]
    levels.dismiss(session, _actor(team), team["assignment"], "harder", today)
    session.commit()
    _log_days(session, team["assignment"], today, "hard", "hard", "hard")
    assert [s.kind for s in _found(session, team)] == ["easier"]


def test_a_caseload_costs_one_query(session, factory, team):
    """Five children with logs, or one: one statement."""
    child_ids = [team["child"].id]
    _log_days(session, team["assignment"], team["today"], "hard", "hard", "hard")
    for n in range(4):
        child = factory.child(team["org"], therapist=team["therapist"], name=f"Kid {n}")
        a = factory.assignment(child, start_date=team["today"] - timedelta(days=10))
        _log_days(session, a, team["today"], "easy", "hard", "hard", "hard")
        child_ids.append(child.id)
    with count_queries(session.get_bind()) as counter:
        found = levels.suggestions(session, child_ids, team["today"])
    assert counter.count == 1
    assert len(found) == 1  # the factory's activities have no easier variation


# --- applying --------------------------------------------------------------------------------


def test_apply_starts_a_new_version_today_and_leaves_the_past_alone(session, team):
    """A step down: the old version ends yesterday at its level with its logs; the new one
    starts today at the easier level; the suggestion is gone (the new version starts afresh)."""
    today = team["today"]
    old = team["assignment"]
    _log_days(session, old, today, "hard", "hard", "hard", "easy")
    current = levels.apply(session, _actor(team), old, "easier", today)
    session.commit()
    session.expire_all()
    assert current.id != old.id
    assert (current.previous_id, current.start_date, current.level) == (old.id, today, "easier")
    assert (old.end_date, old.level) == (today - timedelta(days=1), "standard")
    assert (current.dose_unit, current.days_of_week) == (old.dose_unit, old.days_of_week)
    on_old = session.scalar(
        select(func.count()).select_from(CompletionLog).where(CompletionLog.assignment_id == old.id)
    )
    assert on_old == 4
    assert _found(session, team) == []
    detail = session.scalar(
        select(AuditEvent.detail).where(AuditEvent.action == "assignment.level_changed")
    )
    assert detail["before"] == "standard" and detail["after"] == "easier"


def test_apply_refuses_beyond_the_ends_and_missing_variations(session, factory, team):
    """Already easier: no further down; an activity without a harder variation: no up."""
    today = team["today"]
    a = team["assignment"]
    a.level = "easier"
    session.commit()
    with pytest.raises(ValidationFailed) as failed:
        levels.apply(session, _actor(team), a, "easier", today)
    assert "already at the easier level" in failed.value.errors["kind"]
    plain = factory.assignment(team["child"], start_date=today - timedelta(days=5))
    with pytest.raises(ValidationFailed) as failed:
        levels.apply(session, _actor(team), plain, "harder", today)
    assert "no harder variation" in failed.value.errors["level"]
    with pytest.raises(ValidationFailed):
        levels.apply(session, _actor(team), plain, "sideways", today)


# --- pages -----------------------------------------------------------------------------------


def test_child_page_and_dashboard_offer_the_suggestion_and_apply_it(client, login, session, team):
    """The therapist sees the step down with its evidence on the child page and the
    dashboard; Apply from the dashboard returns there, and the program shows the level."""
    child, a, today = team["child"], team["assignment"], team["today"]
    _log_days(session, a, today, "hard", "hard", "just_right", "hard")
    login("ot@example.org")
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "Suggest: step down to easier" in page
    assert "hard on 3 of the last 4 sessions since" in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Suggest: step down to easier" in dashboard and "Ball catch" in dashboard
    response = client.post(
        f"/children/{child.id}/program/{a.id}/level/apply",
        data={"kind": "easier", "back": "dashboard"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "Suggest: step down" not in page
    assert "easier level" in page  # the chip on the program list
    assert "was standard, now easier" in page  # the history


def test_dismiss_from_the_child_page(client, login, session, team):
    """Dismiss hides it and says for how long; the page shows it no more."""
    child, a = team["child"], team["assignment"]
    _log_days(session, a, team["today"], *["easy"] * 5)
    login("ot@example.org")
    assert "Ready for harder?" in client.get(f"/children/{child.id}").get_data(as_text=True)
    response = client.post(
        f"/children/{child.id}/program/{a.id}/level/dismiss", data={"kind": "harder"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "dismissed for two weeks" in page and "Ready for harder?" not in page
    assert session.scalar(select(func.count()).select_from(LevelSuggestionDismissal)) == 1


def test_bad_kind_is_refused_with_a_message_and_changes_nothing(client, login, session, team):
    """A step that does not exist: 400, a message, no new version."""
    child, a = team["child"], team["assignment"]
    login("ot@example.org")
    response = client.post(
        f"/children/{child.id}/program/{a.id}/level/apply", data={"kind": "sideways"}
    )
    assert response.status_code == 400
    assert "Choose a step down or a step up." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Assignment)) == 1


@pytest.mark.parametrize("action", ["apply", "dismiss"])
@pytest.mark.parametrize("who", ["parent", "teacher", "other_org", "other_child"])
def test_others_get_404_on_the_post_routes(client, login, session, factory, team, action, who):
    """Caregiver, teacher, a therapist of another organisation, or the wrong child: 404."""
    child, a = team["child"], team["assignment"]
    _log_days(session, a, team["today"], "hard", "hard", "hard")
    url = f"/children/{child.id}/program/{a.id}/level/{action}"
    if who == "parent":
        login("parent@example.org")
    elif who == "teacher":
        factory.teacher(child, email="teacher@example.org")
        login("teacher@example.org")
    elif who == "other_org":
        factory.therapist(factory.org(), admin=True, email="x@b.test")
        login("x@b.test")
    else:
        other = factory.child(team["org"], therapist=team["therapist"], name="Zed")
        url = f"/children/{other.id}/program/{a.id}/level/{action}"
        login("ot@example.org")
    assert client.post(url, data={"kind": "easier"}).status_code == 404
    assert session.scalar(select(func.count()).select_from(Assignment)) == 1
    assert session.scalar(select(func.count()).select_from(LevelSuggestionDismissal)) == 0


# --- the assign and change forms -------------------------------------------------------------


def _rx(today, **kw):
    return {
        "dose_amount": "10",
        "dose_unit": "reps",
        "minutes_per_session": "5",
        "days_of_week": ["0", "1", "2", "3", "4"],
        "times_per_day": "1",
        "setting": "home",
        "anchor": "",
        "measure_direction": "higher",
        **kw,
    }


def test_assign_form_sets_the_level_and_refuses_a_missing_variation(
    client, login, session, factory, team
):
    """Easier is saved when the activity has it; harder without a variation: 400 and a
    message; the form shows the variations as help."""
    child, today = team["child"], team["today"]
    plain = factory.activity(team["org"], title="Plain thing", easier="Go slowly.")
    login("ot@example.org")
    form = client.get(f"/children/{child.id}/program/add?activity_id={plain.id}")
    assert "Easier: Go slowly." in form.get_data(as_text=True)
    data = _rx(today, activity_id=str(plain.id), start_date=today.isoformat(), level="harder")
    refused = client.post(f"/children/{child.id}/program", data=data)
    assert refused.status_code == 400
    assert "no harder variation" in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Assignment)) == 1
    ok = client.post(f"/children/{child.id}/program", data={**data, "level": "easier"})
    assert ok.status_code == 302
    made = session.scalar(select(Assignment).where(Assignment.activity_id == plain.id))
    assert made.level == "easier"


def test_change_form_level_change_is_a_new_version(client, login, session, team):
    """Changing only the level from today keeps the past days on the old version."""
    child, a, today = team["child"], team["assignment"], team["today"]
    login("ot@example.org")
    form = client.get(f"/children/{child.id}/program/{a.id}/edit").get_data(as_text=True)
    assert f"Harder: {HARDER}" in form
    rx = programs.Prescription.of(a)
    data = _rx(
        today,
        dose_amount=str(rx.dose_amount or 5),
        dose_unit=rx.dose_unit,
        minutes_per_session=str(rx.minutes_per_session),
        days_of_week=[str(d) for d in rx.days_of_week],
        times_per_day=str(rx.times_per_day),
        setting=rx.setting,
        effective_date=today.isoformat(),
        level="harder",
    )
    if rx.dose_amount is None:
        data["dose_unit"] = "minutes"
    response = client.post(f"/children/{child.id}/program/{a.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    versions = session.scalars(select(Assignment).order_by(Assignment.id)).all()
    assert [(v.level, v.start_date) for v in versions] == [
        ("standard", a.start_date),
        ("harder", today),
    ]


# --- what families and teachers read ---------------------------------------------------------


def test_family_steps_show_the_level_and_the_why(client, login, session, team):
    """The caregiver's Today shows the easier way above the steps, and the one-line why."""
    a = team["assignment"]
    a.level = "easier"
    session.commit()
    login("parent@example.org")
    page = client.get(f"/children/{team['child'].id}/today").get_data(as_text=True)
    assert "Do it the easier way:" in page and EASIER in page
    assert "Why:" in page and "two-handed coordination" in page
    assert HARDER not in page


def test_standard_level_shows_no_level_note(client, login, session, team):
    """At the standard level the family reads the steps as written."""
    login("parent@example.org")
    page = client.get(f"/children/{team['child'].id}/today").get_data(as_text=True)
    assert "Do it the" not in page and EASIER not in page


def test_handout_and_teacher_sheet_show_the_level(client, login, session, factory, team):
    """The printed handout and the teacher's strategy and sheet show the chosen way."""
    a = team["assignment"]
    a.level, a.setting = "harder", "both"
    session.commit()
    factory.teacher(team["child"], email="teacher@example.org")
    login("ot@example.org")
    handout = client.get(f"/children/{team['child'].id}/handout").get_data(as_text=True)
    assert "Do it the harder way:" in handout and HARDER in handout and "Why:" in handout
    client.post("/logout")
    login("teacher@example.org")
    students = client.get("/students").get_data(as_text=True)
    assert "Do it the harder way:" in students and HARDER in students
    sheet = client.get(f"/students/{team['child'].id}/sheet").get_data(as_text=True)
    assert "Do it the harder way:" in sheet and HARDER in sheet


# --- the organisation's thresholds -----------------------------------------------------------


@pytest.fixture
def admin(factory, team):
    return factory.therapist(team["org"], admin=True, email="admin@example.org")


def test_admin_sets_the_thresholds(client, login, session, team, admin):
    """The staff page shows the current values; saving changes and audits them."""
    login("admin@example.org")
    page = client.get("/org/staff").get_data(as_text=True)
    assert "Level suggestions" in page and 'value="3"' in page
    response = client.post(
        "/org/level-settings",
        data={"level_hard_count": "2", "level_hard_window": "3", "level_easy_streak": "6"},
    )
    assert response.status_code == 302
    session.expire_all()
    org = session.get(Organization, team["org"].id)
    assert (org.level_hard_count, org.level_hard_window, org.level_easy_streak) == (2, 3, 6)
    assert session.scalar(
        select(AuditEvent.id).where(AuditEvent.action == "organization.level_settings_changed")
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"level_hard_count": "0"}, "Enter a number from 1 to 10."),
        ({"level_hard_count": "11"}, "Enter a number from 1 to 10."),
        ({"level_hard_window": "2"}, "Enter a number from 3 to 20"),
        ({"level_hard_window": "21"}, "Enter a number from 3 to 20"),
        ({"level_easy_streak": "1"}, "Enter a number from 2 to 20."),
        ({"level_easy_streak": "21"}, "Enter a number from 2 to 20."),
        ({"level_easy_streak": ""}, "Enter a number from 2 to 20."),
        ({"level_hard_count": "many"}, "Not a valid integer value."),
    ],
)
def test_thresholds_out_of_bounds_are_refused(client, login, session, team, admin, data, message):
    """Out of bounds: 400, the message on the staff page, nothing saved."""
    login("admin@example.org")
    valid = {"level_hard_count": "3", "level_hard_window": "4", "level_easy_streak": "5"}
    response = client.post("/org/level-settings", data={**valid, **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    session.expire_all()
    org = session.get(Organization, team["org"].id)
    assert (org.level_hard_count, org.level_hard_window, org.level_easy_streak) == (3, 4, 5)


@pytest.mark.parametrize("who", ["ot@example.org", "parent@example.org"])
def test_only_admins_set_the_thresholds(client, login, session, team, who):
    """A therapist who is not an admin, or a caregiver: 404."""
    login(who)
    response = client.post(
        "/org/level-settings",
        data={"level_hard_count": "1", "level_hard_window": "1", "level_easy_streak": "2"},
    )
    assert response.status_code == 404
    session.expire_all()
    assert session.get(Organization, team["org"].id).level_hard_count == 3
