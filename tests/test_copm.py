"""COPM: the family's problems (at most five), performance and satisfaction ratings at the
first assessment and each reassessment, averages, and the change against the first
assessment (2 points or more is clinically meaningful)."""

import re
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import select

from homeprogram.models import (
    AuditEvent,
    CopmAssessment,
    CopmProblem,
    CopmScore,
    Organization,
)
from homeprogram.models.base import utcnow
from homeprogram.services import copm
from homeprogram.services.adherence import local_today
from homeprogram.services.audit import Actor
from homeprogram.services.errors import ValidationFailed
from tests.db_state import contents


@pytest.fixture
def team(factory):
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist, name="Mia")
    factory.caregiver(child, email="parent@example.org")
    factory.teacher(child, email="teacher@example.org")
    factory.therapist(factory.org(), email="elsewhere@example.org")
    return child, therapist, Actor(therapist.id, None, org.id)


def _today(child) -> date:
    return local_today(child.timezone, utcnow())


def _problems(session, child, actor, n: int) -> list[CopmProblem]:
    return [
        copm.add_problem(
            session, actor, child_id=child.id, description=f"Problem {i}", importance=5 + i % 5
        )
        for i in range(1, n + 1)
    ]


def _assess(session, child, actor, day: date, perf: list[int], sat: list[int] | None = None):
    problems = copm.active_problems(session, child.id)
    sat = sat or perf
    scores = {p.id: (perf[i], sat[i]) for i, p in enumerate(problems)}
    a = copm.record_assessment(
        session, actor, child, assessed_on=day, scores=scores, note="", today=_today(child)
    )
    session.commit()
    return a


# --- the service ---------------------------------------------------------------------------


def test_a_change_of_exactly_two_is_clinically_meaningful(session, team):
    """Averages 1.8 and 3.8 over five problems differ by exactly 2 (in floating point,
    19/5 - 9/5 is 1.9999999999999998): meaningful, better, shown as 2.0."""
    child, _, actor = team
    assert 19 / 5 - 9 / 5 < 2  # the trap exact fractions avoid
    _problems(session, child, actor, 5)
    today = _today(child)
    _assess(session, child, actor, today - timedelta(days=60), [1, 1, 2, 2, 3])
    _assess(session, child, actor, today, [3, 3, 4, 4, 5])
    s = copm.summary(session, child.id)
    first, latest = s.assessments
    assert first.performance == Fraction(9, 5) and latest.performance == Fraction(19, 5)
    assert first.performance_change is None
    change = latest.performance_change
    assert change.value == 2
    assert change.meaningful and change.direction == "better"
    assert change.shown == Decimal("2.0")


def test_a_change_of_one_point_nine_is_not_meaningful(session, team):
    """Two problems at first (average 3/2), five at the reassessment (average 17/5): the
    change is 19/10, under 2, whatever the rounding."""
    child, _, actor = team
    _problems(session, child, actor, 2)
    today = _today(child)
    _assess(session, child, actor, today - timedelta(days=30), [1, 2])
    _problems(session, child, actor, 3)
    _assess(session, child, actor, today, [3, 3, 3, 4, 4])
    latest = copm.summary(session, child.id).latest
    assert latest.performance == Fraction(17, 5)  # averaged over the five scored that day
    assert latest.performance_change.value == Fraction(19, 10)
    assert not latest.performance_change.meaningful
    assert latest.performance_change.shown == Decimal("1.9")


def test_a_decline_of_two_is_meaningful_and_worse(session, team):
    """A drop of 2 points is clinically meaningful, and worse; a drop of 0.5 is not."""
    child, _, actor = team
    _problems(session, child, actor, 2)
    today = _today(child)
    _assess(session, child, actor, today - timedelta(days=30), [7, 7], [6, 8])
    _assess(session, child, actor, today, [5, 5], [6, 7])
    latest = copm.summary(session, child.id).latest
    assert latest.performance_change.value == -2
    assert latest.performance_change.meaningful
    assert latest.performance_change.direction == "worse"
    assert latest.satisfaction_change.value == Fraction(-1, 2)
    assert not latest.satisfaction_change.meaningful


def test_a_sixth_current_problem_is_refused_and_an_archived_one_makes_room(session, team):
    """Five current problems at most; archiving one lets another be added."""
    child, _, actor = team
    problems = _problems(session, child, actor, 5)
    session.commit()
    before = contents(session)
    with pytest.raises(ValidationFailed) as refused:
        copm.add_problem(session, actor, child_id=child.id, description="Sixth", importance=5)
    assert "At most 5 problems" in refused.value.errors["problems"]
    session.rollback()
    assert contents(session) == before
    copm.archive_problem(session, actor, problems[0])
    copm.add_problem(session, actor, child_id=child.id, description="Sixth", importance=5)
    session.commit()
    assert len(copm.active_problems(session, child.id)) == 5


@pytest.mark.parametrize(
    ("description", "importance", "field"),
    [
        ("", 5, "description"),
        ("   ", 5, "description"),
        ("x" * 201, 5, "description"),
        ("Dressing", 0, "importance"),
        ("Dressing", 11, "importance"),
        ("Dressing", None, "importance"),
        ("Dressing", True, "importance"),
    ],
)
def test_problem_needs_a_description_and_importance_1_to_10(
    session, team, description, importance, field
):
    """A problem needs a description of at most 200 characters and an importance from 1 to 10."""
    child, _, actor = team
    before = contents(session)
    with pytest.raises(ValidationFailed) as refused:
        copm.add_problem(
            session, actor, child_id=child.id, description=description, importance=importance
        )
    assert set(refused.value.errors) == {field}
    assert contents(session) == before


@pytest.mark.parametrize("bad", [0, 11, None, 2.5, "5", True])
def test_ratings_outside_1_to_10_are_refused_per_problem(session, team, bad):
    """A rating that is not a whole number from 1 to 10 is refused with a message naming
    the problem; nothing is stored."""
    child, _, actor = team
    first, second = _problems(session, child, actor, 2)
    session.commit()
    before = contents(session)
    with pytest.raises(ValidationFailed) as refused:
        copm.record_assessment(
            session,
            actor,
            child,
            assessed_on=_today(child),
            scores={first.id: (5, 5), second.id: (bad, 5)},
            note="",
            today=_today(child),
        )
    assert refused.value.errors == {
        f"performance_{second.id}": "Rate the performance of “Problem 2” from 1 to 10."
    }
    session.rollback()
    assert contents(session) == before


def test_every_current_problem_must_be_scored(session, team):
    """An assessment that leaves a current problem unscored is refused, naming the problem."""
    child, _, actor = team
    first, second = _problems(session, child, actor, 2)
    session.commit()
    before = contents(session)
    with pytest.raises(ValidationFailed) as refused:
        copm.record_assessment(
            session,
            actor,
            child,
            assessed_on=_today(child),
            scores={first.id: (5, 5)},
            note="",
            today=_today(child),
        )
    assert set(refused.value.errors) == {f"performance_{second.id}", f"satisfaction_{second.id}"}
    assert "Problem 2" in refused.value.errors[f"satisfaction_{second.id}"]
    session.rollback()
    assert contents(session) == before


@pytest.mark.parametrize(
    ("offset", "message"),
    [(1, "cannot be in the future"), (None, "Enter the date")],
)
def test_assessment_date_is_required_and_not_in_the_future(session, team, offset, message):
    """The assessment date is required and may not be after the child's today."""
    child, _, actor = team
    (p,) = _problems(session, child, actor, 1)
    session.commit()
    before = contents(session)
    day = None if offset is None else _today(child) + timedelta(days=offset)
    with pytest.raises(ValidationFailed) as refused:
        copm.record_assessment(
            session,
            actor,
            child,
            assessed_on=day,
            scores={p.id: (5, 5)},
            note="",
            today=_today(child),
        )
    assert message in refused.value.errors["assessed_on"]
    session.rollback()
    assert contents(session) == before


def test_an_assessment_needs_a_problem_and_a_date_of_its_own(session, team):
    """No problem, nothing to score; a second assessment on the same date is refused (most
    often the same form sent twice)."""
    child, _, actor = team
    with pytest.raises(ValidationFailed) as refused:
        copm.record_assessment(
            session,
            actor,
            child,
            assessed_on=_today(child),
            scores={},
            note="",
            today=_today(child),
        )
    assert "at least one problem" in refused.value.errors["problems"]
    _problems(session, child, actor, 1)
    _assess(session, child, actor, _today(child), [4])
    with pytest.raises(ValidationFailed) as refused:
        _assess(session, child, actor, _today(child), [6])
    assert "already recorded" in refused.value.errors["assessed_on"]


def test_archived_problems_keep_their_scores_in_the_history(session, team):
    """An archived problem is no longer scored, but its past scores stay in the history."""
    child, _, actor = team
    first, _ = _problems(session, child, actor, 2)
    today = _today(child)
    _assess(session, child, actor, today - timedelta(days=40), [2, 4])
    copm.archive_problem(session, actor, first)
    session.commit()
    _assess(session, child, actor, today, [8])
    s = copm.summary(session, child.id)
    assert [p.description for p in s.problems] == ["Problem 2"]
    assert [(x.description, x.archived) for x in s.first.scores] == [
        ("Problem 1", True),
        ("Problem 2", False),
    ]
    assert s.first.performance == 3 and s.latest.performance == 8
    assert s.latest.performance_change.value == 5


def test_report_summary_gives_first_latest_and_change(session, team):
    """The progress report gets the first and latest assessments and the change, up to its end."""
    child, _, actor = team
    assert copm.copm_summary_for_report(session, child.id) is None
    _problems(session, child, actor, 3)
    today = _today(child)
    _assess(session, child, actor, today - timedelta(days=90), [2, 3, 4], [1, 1, 1])
    only = copm.copm_summary_for_report(session, child.id)
    assert not only.reassessed and only.performance_change is None
    _assess(session, child, actor, today - timedelta(days=45), [3, 3, 4])
    _assess(session, child, actor, today, [5, 6, 7], [4, 4, 5])
    report = copm.copm_summary_for_report(session, child.id)
    assert report.first.performance == 3 and report.latest.performance == 6
    assert report.performance_change.value == 3 and report.performance_change.meaningful
    assert report.satisfaction_change.value == Fraction(10, 3)
    assert report.satisfaction_change.shown == Decimal("3.3")
    until = copm.copm_summary_for_report(session, child.id, until=today - timedelta(days=1))
    assert until.latest.assessed_on == today - timedelta(days=45)


def test_delete_assessment_removes_its_scores_and_is_audited(session, team):
    """Deleting a mistaken assessment removes its scores and writes an audit row."""
    child, _, actor = team
    _problems(session, child, actor, 2)
    a = _assess(session, child, actor, _today(child), [4, 5])
    copm.delete_assessment(session, actor, a)
    session.commit()
    assert session.scalar(select(CopmAssessment)) is None
    assert session.scalar(select(CopmScore)) is None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "copm.assessment_deleted"))
    assert event.child_id == child.id and event.target_id == a.id


# --- the pages -----------------------------------------------------------------------------


def _page(client, child) -> str:
    response = client.get(f"/children/{child.id}/copm")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _scores(problems, perf: list[int], sat: list[int]) -> dict[str, str]:
    data = {}
    for p, x, y in zip(problems, perf, sat, strict=True):
        data[f"performance_{p.id}"] = str(x)
        data[f"satisfaction_{p.id}"] = str(y)
    return data


def test_therapist_records_problems_and_two_assessments_and_sees_the_change(
    client, login, session, team
):
    """The therapist adds two problems, records the first assessment and a reassessment,
    and reads the averages, the change and whether it is clinically meaningful."""
    child, _, _ = team
    login("ot@example.org")
    url = f"/children/{child.id}/copm"
    for description, importance in [("Dressing for school", "9"), ("Writing his name", "7")]:
        response = client.post(
            f"{url}/problems", data={"description": description, "importance": importance}
        )
        assert response.status_code == 302
    problems = list(session.scalars(select(CopmProblem).order_by(CopmProblem.id)))
    assert [(p.description, p.importance) for p in problems] == [
        ("Dressing for school", 9),
        ("Writing his name", 7),
    ]
    page = _page(client, child)
    assert "Dressing for school" in page and "Importance: 9 of 10" in page
    assert f'name="performance_{problems[0].id}"' in page
    assert "stores the scores only" in page

    today = _today(child)
    first = {"assessed_on": (today - timedelta(days=56)).isoformat(), "note": "At intake"}
    response = client.post(
        f"{url}/assessments", data={**first, **_scores(problems, [2, 3], [3, 3])}
    )
    assert response.status_code == 302
    again = {"assessed_on": today.isoformat(), "note": ""}
    response = client.post(
        f"{url}/assessments", data={**again, **_scores(problems, [5, 4], [4, 3])}
    )
    assert response.status_code == 302

    text = _text(_page(client, child))
    assert "A change of 2 points or more is clinically meaningful." in text
    assert "Average of 2 problems 2.5 3.0" in text
    assert "Average of 2 problems 4.5 3.5" in text
    assert (
        "Performance change since the first assessment: +2.0 (better), clinically meaningful"
        in text
    )
    assert (
        "Satisfaction change since the first assessment: +0.5 (better), not clinically meaningful"
        in text
    )
    assert "Note: At intake" in text
    assert "Performance: 2.5 to 4.5, change +2.0 (better), clinically meaningful" in text

    start, end = (today - timedelta(days=90)).isoformat(), today.isoformat()
    report = client.post(f"/children/{child.id}/report", data={"start": start, "end": end})
    assert report.status_code == 200
    assert (
        "Change since the first assessment +2.0 (better), clinically meaningful"
        " +0.5 (better), not clinically meaningful" in _text(report.get_data(as_text=True))
    )
    actions = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.child_id == child.id, AuditEvent.action.like("copm.%")
        )
    ).all()
    assert sorted(actions) == [
        "copm.assessed",
        "copm.assessed",
        "copm.problem_added",
        "copm.problem_added",
    ]
    assert session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "child.viewed", AuditEvent.child_id == child.id
        )
    )


def test_therapist_edits_archives_and_deletes(client, login, session, team):
    """The therapist corrects a problem (a bad edit changes nothing), archives one and
    deletes an assessment."""
    child, _, actor = team
    first, second = _problems(session, child, actor, 2)
    assessment_id = _assess(session, child, actor, _today(child), [4, 5]).id
    login("ot@example.org")
    url = f"/children/{child.id}/copm"
    before = contents(session)
    bad = {f"p{first.id}-description": "Tying shoes", f"p{first.id}-importance": "12"}
    response = client.post(f"{url}/problems/{first.id}", data=bad)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Rate the importance from 1 to 10." in html
    assert "<details open>" in html  # the edit form with the message is shown, not folded
    assert contents(session) == before
    response = client.post(
        f"{url}/problems/{first.id}",
        data={f"p{first.id}-description": "Tying shoes", f"p{first.id}-importance": "10"},
    )
    assert response.status_code == 302
    response = client.post(f"{url}/problems/{second.id}/archive")
    assert response.status_code == 302
    response = client.post(f"{url}/assessments/{assessment_id}/delete")
    assert response.status_code == 302
    session.expire_all()
    assert (first.description, first.importance) == ("Tying shoes", 10)
    assert second.archived_at is not None
    assert session.get(CopmAssessment, assessment_id) is None
    page = _page(client, child)
    assert "Tying shoes" in page and "Problem 2" not in page
    assert "No assessment recorded yet." in page
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.child_id == child.id)))
    assert {"copm.problem_updated", "copm.problem_archived", "copm.assessment_deleted"} <= actions


@pytest.mark.parametrize(
    "email", ["parent@example.org", "teacher@example.org", "elsewhere@example.org"]
)
def test_family_school_and_other_organisations_get_404(client, login, session, team, email):
    """COPM scores are for the child's staff only: a caregiver, the teacher and a therapist
    of another organisation get 404 for the page and every write, and nothing changes."""
    child, _, actor = team
    (p,) = _problems(session, child, actor, 1)
    a = _assess(session, child, actor, _today(child), [5])
    login(email)
    before = contents(session)
    url = f"/children/{child.id}/copm"
    assert client.get(url).status_code == 404
    posts = {
        f"{url}/problems": {"description": "Hidden", "importance": "5"},
        f"{url}/problems/{p.id}": {f"p{p.id}-description": "Changed", f"p{p.id}-importance": "5"},
        f"{url}/problems/{p.id}/archive": {},
        f"{url}/assessments": {"assessed_on": _today(child).isoformat()},
        f"{url}/assessments/{a.id}/delete": {},
    }
    for target, data in posts.items():
        assert client.post(target, data=data).status_code == 404, target
    assert contents(session) == before


def test_another_childs_problem_is_not_found(client, login, session, factory, team):
    """A problem of another child cannot be reached through this child's URL."""
    child, therapist, actor = team
    other = factory.child(session.get(Organization, child.organization_id), therapist=therapist)
    (p,) = _problems(session, other, actor, 1)
    session.commit()
    login("ot@example.org")
    response = client.post(f"/children/{child.id}/copm/problems/{p.id}/archive")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"performance": "0"}, "Rate the performance of “Dressing” from 1 to 10."),
        ({"satisfaction": "11"}, "Rate the satisfaction with “Dressing” from 1 to 10."),
        ({"performance": "seven"}, "Rate the performance of “Dressing” from 1 to 10."),
        ({"performance": ""}, "Rate the performance of “Dressing” from 1 to 10."),
        ({"assessed_on": "tomorrow"}, "The date cannot be in the future."),
        ({"assessed_on": ""}, "Enter the date of the assessment."),
        ({"assessed_on": "9999-12-31"}, "Enter a date from"),
    ],
)
def test_bad_assessment_input_is_refused_with_its_message(
    client, login, session, team, change, message
):
    """Bad assessment input answers 400 with its message at the field and stores nothing."""
    child, _, actor = team
    dressing = copm.add_problem(
        session, actor, child_id=child.id, description="Dressing", importance=8
    )
    session.commit()
    login("ot@example.org")
    data = {"assessed_on": _today(child).isoformat(), "note": "", "performance": "5", **change}
    data.setdefault("satisfaction", "5")
    if data["assessed_on"] == "tomorrow":
        data["assessed_on"] = (_today(child) + timedelta(days=1)).isoformat()
    form = {
        "assessed_on": data["assessed_on"],
        "note": "",
        f"performance_{dressing.id}": data["performance"],
        f"satisfaction_{dressing.id}": data["satisfaction"],
    }
    before = contents(session)
    response = client.post(f"/children/{child.id}/copm/assessments", data=form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'class="error"' in html
    assert contents(session) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"description": "", "importance": "5"}, "Describe the problem"),
        ({"description": "x" * 201, "importance": "5"}, "Use at most 200 characters."),
        ({"description": "Dressing", "importance": "0"}, "Rate the importance from 1 to 10."),
        ({"description": "Dressing", "importance": "99999999999"}, "importance from 1 to 10"),
    ],
)
def test_bad_problem_input_is_refused_with_its_message(client, login, session, team, data, message):
    """Bad problem input answers 400 with its message and stores nothing."""
    child, *_ = team
    login("ot@example.org")
    before = contents(session)
    response = client.post(f"/children/{child.id}/copm/problems", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert contents(session) == before


def test_with_five_problems_the_add_form_gives_way_to_a_note(client, login, session, team):
    """With five current problems the add form gives way to a note saying why; a sixth
    is refused."""
    child, _, actor = team
    _problems(session, child, actor, 5)
    session.commit()
    login("ot@example.org")
    page = _page(client, child)
    assert f'action="/children/{child.id}/copm/problems"' not in page
    assert "Archive one to add another." in page
    before = contents(session)
    response = client.post(
        f"/children/{child.id}/copm/problems", data={"description": "Sixth", "importance": "5"}
    )
    assert response.status_code == 400
    assert "At most 5 problems" in response.get_data(as_text=True)
    assert contents(session) == before


def test_the_childs_own_day_decides_what_is_future(client, login, session, factory):
    """At 06:00 on Thursday in Auckland (still Wednesday in the Americas) a child there can
    be assessed on Thursday, and not on Friday."""
    org = factory.org()
    therapist = factory.therapist(org, email="nz@example.org")
    child = factory.child(org, therapist=therapist, timezone="Pacific/Auckland")
    actor = Actor(therapist.id, None, org.id)
    (p,) = _problems(session, child, actor, 1)
    session.commit()
    today = _today(child)
    login("nz@example.org")
    url = f"/children/{child.id}/copm/assessments"
    ratings = {f"performance_{p.id}": "4", f"satisfaction_{p.id}": "4"}
    tomorrow = {"assessed_on": (today + timedelta(days=1)).isoformat(), **ratings}
    assert client.post(url, data=tomorrow).status_code == 400
    assert client.post(url, data={"assessed_on": today.isoformat(), **ratings}).status_code == 302
    assert session.scalar(select(CopmAssessment.assessed_on)) == today
