"""Progress page, print-ready report, CSV exports (formula-injection safe), barrier prompt."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from homeprogram.models import AuditEvent, Barrier, Goal, GoalMeasurement
from homeprogram.models.base import utcnow
from homeprogram.services import barriers
from homeprogram.services.adherence import local_today
from homeprogram.services.exports import safe_cell
from tests.adherence_helpers import log
from tests.outcomes import record_outcomes

DAY = timedelta(days=1)


@pytest.fixture
def team(factory, session):
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org", name="Olga OT")
    child = factory.child(org, therapist=therapist, name="Leo")
    parent = factory.caregiver(child, email="parent@example.org", name="Pat")
    today = local_today(child.timezone, utcnow())
    a = factory.assignment(
        child,
        factory.activity(title="Shoe tying"),
        start_date=today - 30 * DAY,
        measure_name="seconds to put on shoes",
        measure_unit="s",
    )
    return child, therapist, parent, a, today


def test_progress_page_heatmap_spread_notes_and_measures(client, login, session, team):
    """The progress page shows the calendar in words, the response spread, notes and measures."""
    child, _, parent, a, today = team
    log(
        session,
        a,
        today - 1 * DAY,
        response="hard",
        note="Cried at first",
        by=parent.id,
        measure=40,
    )
    log(session, a, today - 2 * DAY, response="easy", measure=35)
    login("ot@example.org")
    html = client.get(f"/children/{child.id}/progress").get_data(as_text=True)
    assert "Shoe tying" in html
    assert "done</span>" in html and "missed</span>" in html  # text, not colour alone
    assert "not scheduled" in html  # legend
    assert "easy 1" in html and "hard 1" in html
    assert "Cried at first" in html and "Pat" in html
    assert "seconds to put on shoes: 2 values, first 35, latest 40 s." in html
    assert '<svg class="line-chart"' in html


def test_progress_page_is_staff_only(factory, client, login, team):
    """Caregivers and other therapists get 404 for the progress page."""
    child, *_ = team
    login("parent@example.org")
    assert client.get(f"/children/{child.id}/progress").status_code == 404
    stranger = factory.therapist(factory.org())
    login(stranger.email)
    assert client.get(f"/children/{child.id}/progress").status_code == 404


def test_report_contains_goals_outcomes_adherence_and_comment(client, login, session, team):
    """The report lists each goal's baseline, latest, target, trend and GAS levels in words,
    the GAS T-scores, the COPM change, assessment results over time, adherence per activity
    and the comment."""
    child, therapist, _, a, today = team
    record_outcomes(session, child, therapist, today)
    for i in range(1, 8):
        log(session, a, today - i * DAY)
    login("ot@example.org")
    start, end = (today - 27 * DAY).isoformat(), (today - DAY).isoformat()
    response = client.post(
        f"/children/{child.id}/report",
        data={"start": start, "end": end, "comment": "Great effort at home.", "language": "en"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Leo ties his shoes" in html
    for part in ("Baseline", "90", "Latest", "60", "Target", "30", "improving"):
        assert part in text
    assert "GAS at baseline -1: Starts the knot" in text
    assert "GAS latest +1: Ties in 30 s" in text
    # T-scores of one goal: -1 at baseline, then 0 and +1.
    assert "Baseline 40 1" in text and "50 1 of 1" in text and "60 1 of 1" in text
    assert "Performance Satisfaction" in text
    meaningful = "+3.0 (better), clinically meaningful"
    assert f"Change since the first assessment {meaningful} {meaningful}" in text
    # Results over time, the one after the report's end left out.
    results = text.split("Standardised assessment results")[1].split("Home practice")[0]
    assert "(Beery VMI) · Visual-motor integration" in results
    assert "standard score 78" in results and "standard score 84" in results
    assert "88" not in results  # taken today, after the report's end
    assert "Shoe tying" in html and "7 of 27 sessions (26%)" in html
    assert "Great effort at home." in html
    assert 'media="print"' in html
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "report.viewed"))
    assert event.child_id == child.id and event.actor_id == therapist.id


def test_report_prints_in_the_family_language_when_chosen(client, login, session, team):
    """The form offers the family's language; the report is then printed in it, while the
    form itself stays in the therapist's language."""
    child, therapist, _, _, today = team
    child.family_language = "es"
    session.commit()
    record_outcomes(session, child, therapist, today)
    login("ot@example.org")
    form = client.get(f"/children/{child.id}/report").get_data(as_text=True)
    assert "Language of the report" in form
    assert re.search(r'<option selected value="es">|<option value="es" selected', form)
    start, end = (today - 27 * DAY).isoformat(), (today - DAY).isoformat()
    html = client.post(
        f"/children/{child.id}/report", data={"start": start, "end": end, "language": "es"}
    ).get_data(as_text=True)
    assert 'lang="es"' in html
    assert "Leo ties his shoes" in html  # the therapist's own words stay as written
    assert "Goal Attainment Scaling T-score" not in html
    english = client.post(
        f"/children/{child.id}/report", data={"start": start, "end": end, "language": "en"}
    ).get_data(as_text=True)
    assert "Goal Attainment Scaling T-score" in english


def test_report_default_range_ends_yesterday_like_the_progress_page(client, login, session, team):
    """The report's suggested range ends yesterday: today's session, not done yet, is not
    counted as missed, and the report agrees with the progress page."""
    child, _, _, a, today = team
    for i in range(1, 31):  # every day since the start, except today (still to do)
        log(session, a, today - i * DAY)
    login("ot@example.org")
    form = client.get(f"/children/{child.id}/report").get_data(as_text=True)
    values = dict(re.findall(r'name="(start|end)"[^>]*value="([^"]*)"', form))
    response = client.post(f"/children/{child.id}/report", data=values)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "of 31 sessions" not in html
    assert "30 of 30 sessions (100%)" in html
    assert values["end"] == (today - DAY).isoformat()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start": "", "end": "2026-01-01"}, "Enter a start date."),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "on or after the start date"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "at most 366 days"),
        ({"start": "2026-13-01", "end": "2026-01-01"}, "Not a valid date value"),
    ],
)
def test_report_bad_range(client, login, session, team, data, message):
    """A bad report range re-renders the form with the message; nothing is audited."""
    child, *_ = team
    login("ot@example.org")
    response = client.post(f"/children/{child.id}/report", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).where(AuditEvent.action == "report.viewed")) == 0


def test_print_css_sets_page_and_prevents_overflow(app):
    """The print stylesheet sets @page margins for A4 and Letter and keeps content in the page."""
    from homeprogram import paths

    css = (paths.STATIC_DIR / "css" / "print.css").read_text()
    assert "@page" in css and "size: auto" in css
    assert "max-width: 100%" in css and "table-layout: fixed" in css


def _csv(response) -> list[list[str]]:
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8"))))


def test_logs_csv_header_rows_and_formula_injection(client, login, session, team):
    """Log export: a header, one row per log, dangerous cells quoted, undone logs left out."""
    child, _, parent, a, today = team
    log(session, a, today - 2 * DAY, note='=HYPERLINK("http://x")', by=parent.id, measure=-3)
    log(session, a, today - DAY, note="+1 café ☕", response="hard")
    log(session, a, today - DAY, note="@SUM(A1)")
    log(session, a, today - DAY, note="-2+3")
    log(session, a, today - DAY, note="\tTab")
    log(session, a, today - DAY, note="gone", deleted=True)
    login("ot@example.org")
    q = {"start": (today - 7 * DAY).isoformat(), "end": today.isoformat()}
    response = client.get(f"/children/{child.id}/export/logs.csv", query_string=q)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][0] == "local_date" and "note" in rows[0]
    assert len(rows) == 1 + 5
    notes = [r[rows[0].index("note")] for r in rows[1:]]
    assert notes == ['\'=HYPERLINK("http://x")', "'+1 café ☕", "'@SUM(A1)", "'-2+3", "'\tTab"]
    assert rows[1][rows[0].index("measure_value")] == "-3"  # numbers stay numbers
    assert rows[1][rows[0].index("logged_by")] == "Pat"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.csv"))
    assert event.detail["kind"] == "logs" and event.detail["rows"] == 5


def test_measurements_csv(client, login, session, team):
    """Goal-measurement export: header and one row per measurement in the range."""
    child, *_, today = team
    goal = Goal(child_id=child.id, statement="=evil()", measure="m", unit="u", baseline=1, target=2)
    session.add(goal)
    session.commit()
    session.add(GoalMeasurement(goal_id=goal.id, value=1.5, measured_on=today, note="ok"))
    session.add(GoalMeasurement(goal_id=goal.id, value=2, measured_on=today - 400 * DAY))
    session.commit()
    login("ot@example.org")
    q = {"start": (today - 30 * DAY).isoformat(), "end": today.isoformat()}
    rows = _csv(client.get(f"/children/{child.id}/export/measurements.csv", query_string=q))
    assert rows == [
        ["measured_on", "goal", "measure", "value", "unit", "by", "note"],
        [today.isoformat(), "'=evil()", "m", "1.5", "u", "", "ok"],
    ]


@pytest.mark.parametrize(
    "query",
    [{}, {"start": "x", "end": "2026-01-01"}, {"start": "2026-02-01", "end": "2026-01-01"}],
)
def test_export_bad_range_is_400(client, login, session, team, query):
    """An export with a missing or bad range is refused and not audited."""
    child, *_ = team
    login("ot@example.org")
    response = client.get(f"/children/{child.id}/export/logs.csv", query_string=query)
    assert response.status_code == 400
    assert session.scalar(select(func.count()).where(AuditEvent.action == "export.csv")) == 0


def test_export_denied_to_caregiver(client, login, team):
    """Exports are for staff; a caregiver gets 404."""
    child, *_ = team
    login("parent@example.org")
    q = {"start": "2026-01-01", "end": "2026-01-31"}
    assert client.get(f"/children/{child.id}/export/logs.csv", query_string=q).status_code == 404


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+x", "'+x"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (None, ""),
        (2.0, "2"),
        (-2.5, "-2.5"),
        (7, "7"),
    ],
)
def test_safe_cell(value, expected):
    """Only text that a spreadsheet would evaluate is prefixed with a quote."""
    assert safe_cell(value) == expected


# --- barriers ---------------------------------------------------------------------------


def _quiet_child(factory, session, team):
    """The team's child with no log for a week: the adherence flags are up."""
    child, _, parent, a, today = team
    log(session, a, today - 9 * DAY)
    return child, parent, today


def test_barrier_prompt_only_when_flagged_and_once(factory, session, team):
    """The prompt appears while a flag is up and not again after an answer or a skip."""
    child, parent, today = _quiet_child(factory, session, team)
    prompt = barriers.barrier_prompt_for(session, parent.id, child.id, today)
    assert prompt is not None and "no_recent_logs" in prompt.flags
    session.add(Barrier(child_id=child.id, user_id=parent.id, reason=None, local_date=today))
    session.commit()
    assert barriers.barrier_prompt_for(session, parent.id, child.id, today) is None
    assert barriers.barrier_prompt_for(session, parent.id, child.id, today + 20 * DAY) is not None


def test_no_prompt_when_on_track(factory, session, team):
    """A child practising as planned gets no prompt."""
    child, _, parent, a, today = team
    for i in range(0, 20):
        log(session, a, today - i * DAY)
    assert barriers.barrier_prompt_for(session, parent.id, child.id, today) is None


def test_partial_renders_prompt_for_flagged_child(app, factory, session, team, client, login):
    """The self-contained partial renders the question for a flagged child of the caregiver."""
    child, parent, _ = _quiet_child(factory, session, team)
    login("parent@example.org")
    from flask import render_template_string

    with app.test_request_context():
        from flask_login import login_user

        from homeprogram.auth import CurrentUser

        login_user(
            CurrentUser(parent.id, "Pat", parent.email, "en", "UTC", "t", None, None, {"caregiver"})
        )
        html = render_template_string(
            '{% with child=c %}{% include "progress/partials/barrier_prompt.html" %}{% endwith %}',
            c=child,
        )
    assert "What got in the way?" in html and "Not now" in html
    assert 'name="reason" value="no_time"' in html


def test_caregiver_answers_barrier_and_therapist_sees_it(
    app, factory, session, team, client, login
):
    """A caregiver's answer is stored once and shows beside the flag on the dashboard."""
    child, parent, _today = _quiet_child(factory, session, team)
    login("parent@example.org")
    response = client.post(
        f"/children/{child.id}/barrier", data={"reason": "unwell", "note": "Flu"}
    )
    assert response.status_code == 302
    b = session.scalar(select(Barrier))
    assert (b.reason, b.note, b.user_id) == ("unwell", "Flu", parent.id)
    assert "no_recent_logs" in b.flags
    staff = app.test_client()
    login("ot@example.org", c=staff)
    html = staff.get("/dashboard").get_data(as_text=True)
    assert "My child was unwell" in html and "Flu" in html


def test_caregiver_skips_barrier_via_htmx(factory, session, team, client, login):
    """ "Not now" stores a skip and answers the htmx request with a short thank-you."""
    child, *_ = _quiet_child(factory, session, team)
    login("parent@example.org")
    response = client.post(
        f"/children/{child.id}/barrier", data={"skip": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "won't ask again" in response.get_data(as_text=True)
    assert session.scalar(select(Barrier.reason)) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose one of the options"),
        ({"reason": "bored"}, "Not a valid choice"),
        ({"reason": "other", "note": ""}, "Tell us briefly"),
        ({"reason": "no_time", "note": "x" * 501}, "Field cannot be longer than 500 characters"),
    ],
)
def test_bad_barrier_answer_rejected(factory, session, team, client, login, data, message):
    """A bad answer shows the message, keeps the input, and stores nothing."""
    child, *_ = _quiet_child(factory, session, team)
    login("parent@example.org")
    response = client.post(f"/children/{child.id}/barrier", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Barrier.id))) == 0


def test_barrier_for_another_family_is_404(factory, session, team, client, login):
    """A caregiver cannot answer for a child that is not theirs."""
    other = factory.child(factory.org())
    login("parent@example.org")
    response = client.post(f"/children/{other.id}/barrier", data={"reason": "no_time"})
    assert response.status_code == 404


def test_today_page_asks_what_got_in_the_way(factory, session, team, client, login):
    """The caregiver's today page shows the prompt while flagged, and not after an answer."""
    child, *_ = _quiet_child(factory, session, team)
    login("parent@example.org")
    html = client.get(f"/children/{child.id}/today").get_data(as_text=True)
    assert "What got in the way?" in html
    assert f'href="/children/{child.id}/goals"' in html
    client.post(f"/children/{child.id}/barrier", data={"reason": "no_time"})
    html = client.get(f"/children/{child.id}/today").get_data(as_text=True)
    assert "What got in the way?" not in html
