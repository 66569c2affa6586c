"""Exact statement counts of the pages and posts people use most (issue 22).

Each count is what the request itself runs against the database; a change that adds a
statement to Today or to a bearer-token log shows up here first.
"""

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from homeprogram.models import ApiToken, AuditEvent, CompletionLog
from homeprogram.models.base import utcnow
from homeprogram.services import adherence, logs, tokens
from homeprogram.services import today as plans
from homeprogram.services.audit import Actor
from tests.adherence_helpers import log, pause
from tests.caregiver_setup import Family, family
from tests.query_counter import count_queries


def _engine(app):
    from homeprogram.extensions import db

    with app.app_context():
        return db.engine


def _four_activities_three_logs(factory, session) -> Family:
    fam = family(factory)
    for title in ("Scissor snips", "Bead threading"):
        factory.assignment(
            fam.child, factory.activity(title=title), start_date=fam.today - timedelta(days=3)
        )
    for assignment in (fam.morning, fam.bedtime, fam.bedtime):
        logs.record_log(
            session,
            Actor(fam.caregiver.id),
            client_id=str(uuid.uuid4()),
            assignment_id=assignment.id,
            occurred_at=_moment(fam),
            user_id=fam.caregiver.id,
            child_id=fam.child.id,
        )
    session.commit()
    return fam


def _moment(fam: Family) -> datetime:
    # A moment ago, but never before the family's local midnight.
    midnight = datetime.combine(fam.today, time.min, tzinfo=ZoneInfo(fam.child.timezone))
    return max(utcnow() - timedelta(minutes=2), midnight.astimezone(UTC))


def test_today_with_four_activities_and_three_logs_runs_few_statements(
    app, client, factory, session, login
):
    """Today reads the user, the children, the plan (assignments with pauses and
    activities, the day's logs), the notes, the videos and the adherence engine once."""
    fam = _four_activities_three_logs(factory, session)
    login(fam.caregiver.email)
    client.get("/today")  # fills the adherence cache and the session's last-seen time
    with count_queries(_engine(app)) as counter:
        page = client.get("/today")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Scissor snips" in text and "Bead threading" in text
    # Two weeks of nothing before today: the prompt is up, from the same engine run.
    assert "What got in the way?" in text
    kinds = [s.split()[0] for s in counter.statements]
    assert kinds == ["SELECT"] * 8, "\n".join(counter.statements)
    tables = [re.findall(r"^FROM (\w+)", s, re.MULTILINE)[-1] for s in counter.statements]
    assert tables == [
        "user_account",  # the signed-in user, session, membership and roles
        "child",  # the caregiver's children (the switcher)
        "assignment",  # every version with activity and pauses: plan and engine
        "completion_log",  # today's logs (cards and details)
        "completion_log",  # day counts for the week and streak (the engine, once)
        "coaching_note",
        "barrier",  # asked lately? only read because a flag is up
        "assignment",  # therapists' videos (media_clip of the activities in the program)
    ], "\n".join(counter.statements)


# --- Today's flags come from its own engine run, and say what the dashboard's rule says -----

MON = date(2026, 3, 2)  # a Monday
DAY = timedelta(days=1)


def _scenarios(factory, session):
    """Children whose flags differ: each (child, today)."""
    org = factory.org()
    therapist = factory.therapist(org)

    def child(name):
        return factory.child(org, therapist=therapist, timezone="UTC", name=name)

    today = MON + 20 * DAY
    steady = child("Steady")  # logs every day: no flag
    a = factory.assignment(steady, start_date=MON)
    for d in range(20):
        log(session, a, MON + d * DAY)
    low = child("Low")  # one day in three, and lately: low adherence only
    a = factory.assignment(low, start_date=MON)
    for d in range(0, 20, 3):
        log(session, a, MON + d * DAY)
    quiet = child("Quiet")  # nothing for a week: low adherence and quiet
    a = factory.assignment(quiet, start_date=MON)
    for d in range(12):
        log(session, a, MON + d * DAY)
    fresh = child("Fresh")  # a program two days old: not quiet yet
    factory.assignment(fresh, start_date=today - 2 * DAY)
    classroom = child("Classroom")  # only a classroom strategy logged lately
    home = factory.assignment(classroom, start_date=MON)
    school = factory.assignment(classroom, start_date=MON, setting="classroom")
    for d in range(10):
        log(session, home, MON + d * DAY)
    log(session, school, today - DAY)
    paused = child("Paused")  # paused for the last week: nothing expected, nothing quiet
    a = factory.assignment(paused, start_date=MON)
    pause(session, a, today - 7 * DAY, None)
    session.commit()
    return [(c, today) for c in (steady, low, quiet, fresh, classroom, paused)]


def test_todays_flags_equal_the_dashboards_rule(factory, session):
    """The flags Today computes from its one engine run (for the "what got in the way?"
    prompt) are those ``adherence_flags_on`` reads, child by child."""
    seen = set()
    for child, today in _scenarios(factory, session):
        page = plans.today_page(session, child, today, user_id=0)
        expected = adherence.adherence_flags_on(session, child.id, today)
        assert (child.display_name, page.flags) == (child.display_name, expected)
        seen.add(tuple(expected))
    assert len(seen) >= 3  # the scenarios do differ


def test_today_shows_the_same_week_and_streak_as_the_week_page(factory, session):
    """Today's week and streak, from the engine run shared with the flags, equal what
    ``week_and_streak`` computes on its own."""
    for child, today in _scenarios(factory, session):
        page = plans.today_page(session, child, today, user_id=0)
        week, streak = plans.week_and_streak(session, child, today, today=today)
        assert (page.week, page.streak) == (week, streak)


# --- a bearer token, resolved in the request's own transaction ------------------------------


def _bearer(session, user) -> dict[str, str]:
    _row, plain = tokens.create_token(session, Actor(user.id), user_id=user.id, name="phone")
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _log_body(fam: Family) -> dict[str, str | int]:
    return {
        "client_id": str(uuid.uuid4()),
        "assignment_id": fam.morning.id,
        "occurred_at": _moment(fam).isoformat(),
    }


def test_a_token_post_records_last_use_with_the_log_at_most_once_a_minute(
    client, factory, session, clock
):
    """The token's last use is stored with the first post, not again within the minute,
    and again after it; the log and its audit row are stored each time."""
    fam = family(factory)
    headers = _bearer(session, fam.caregiver)
    assert client.post("/api/v1/logs", json=_log_body(fam), headers=headers).status_code == 201
    session.expire_all()
    first = session.scalar(select(ApiToken.last_used_at))
    assert first is not None
    clock.advance(timedelta(seconds=30))
    assert client.post("/api/v1/logs", json=_log_body(fam), headers=headers).status_code == 201
    session.expire_all()
    assert session.scalar(select(ApiToken.last_used_at)) == first
    clock.advance(timedelta(seconds=61))
    assert client.post("/api/v1/logs", json=_log_body(fam), headers=headers).status_code == 201
    session.expire_all()
    assert session.scalar(select(ApiToken.last_used_at)) > first
    assert session.scalar(select(func.count()).select_from(CompletionLog)) == 3
    created = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "log.created")
    assert session.scalar(created) == 3


def test_a_deactivated_users_token_writes_nothing(client, factory, session):
    """A token whose user was deactivated is refused with 401; nothing is stored."""
    fam = family(factory)
    headers = _bearer(session, fam.caregiver)
    fam.caregiver.active = False
    session.commit()
    response = client.post("/api/v1/logs", json=_log_body(fam), headers=headers)
    assert response.status_code == 401
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(CompletionLog)) == 0
    assert session.scalar(select(ApiToken.last_used_at)) is None


# --- the health check and static files skip what does not apply to them ----------------------

SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy")


@pytest.mark.parametrize("app_config", [{"HSTS_ENABLED": True}])
@pytest.mark.parametrize("path", ["/healthz", "/static/css/app.css"])
def test_health_check_and_static_files_keep_headers_and_set_no_cookie(
    client, factory, login, path, app_config
):
    """Anonymous or signed in, over http or https: the security headers (HSTS on https),
    and never a session cookie."""

    def get(**kwargs):
        response = client.get(path, **kwargs)
        response.close()  # a static file's body is the open file
        return response

    anonymous = get()
    assert anonymous.status_code == 200
    secure = get(base_url="https://homeprogram.test")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    fam = family(factory)
    login(fam.caregiver.email)
    signed_in = get()
    for response in (anonymous, secure, signed_in):
        assert all(name in response.headers for name in SECURITY_HEADERS)
        assert "Set-Cookie" not in response.headers
    assert anonymous.headers["Content-Security-Policy"].startswith("default-src 'self'")
    if path == "/healthz":
        assert client.get(path).json == {"status": "ok", "database": "ok"}
        assert anonymous.headers["Cache-Control"] == "no-store"


def test_a_missing_static_file_is_a_plain_404(client):
    """A static path that names no file answers the 404 page (it has a session for its
    CSRF token, like any page), not an error."""
    response = client.get("/static/css/no-such-file.css")
    response.close()
    assert response.status_code == 404
    assert "Content-Security-Policy" in response.headers


def test_the_health_check_is_not_rate_limited(client):
    """However often a monitor asks, the health check answers."""
    statuses = {client.get("/healthz").status_code for _ in range(30)}
    assert statuses == {200}


def _edge_scenarios(factory, session):
    """Children at the edges of the flag rules, and with every field of a version that the
    engine reads: a rate of exactly 50%, a program that began exactly five days ago, a
    classroom session exactly five days ago, a changed prescription, an ended one, a
    measured one and a pause that ended."""
    org = factory.org()
    therapist = factory.therapist(org)

    def child(name: str):
        return factory.child(org, therapist=therapist, name=name)

    today = MON + 20 * DAY
    half = child("Half")  # every other day up to yesterday: 7 of the last 14, not low
    a = factory.assignment(half, start_date=MON)
    for d in range(7, 20, 2):
        log(session, a, MON + d * DAY)
    five = child("Five")  # began exactly five days ago, nothing logged: quiet
    factory.assignment(five, start_date=today - 5 * DAY)
    school = child("School")  # the last session, in class, exactly five days ago
    home = factory.assignment(school, start_date=MON)
    lesson = factory.assignment(school, start_date=MON, setting="classroom")
    log(session, home, MON + 2 * DAY)
    log(session, lesson, today - 5 * DAY)
    versions = child("Versions")  # changed, ended, measured and paused
    first = factory.assignment(versions, start_date=MON, end_date=MON + 9 * DAY)
    factory.assignment(
        versions,
        first.activity,
        start_date=MON + 10 * DAY,
        previous_id=first.id,
        times_per_day=2,
        measure_name="Buttons done",
        measure_unit="buttons",
    )
    ended = factory.assignment(versions, start_date=MON, end_date=MON + 15 * DAY)
    pause(session, ended, MON + 3 * DAY, MON + 5 * DAY)
    for d in range(0, 20, 2):
        log(session, first if d < 10 else ended, MON + d * DAY)
    session.commit()
    return [(c, today) for c in (half, five, school, versions)]


def test_flags_from_any_range_of_figures_equal_the_engines_own(factory, session):
    """However short or long the range of figures handed over (too short: the database is
    read instead), the flags equal ``adherence_flags_on``'s, at the rules' edges too."""
    seen = set()
    for child, today in _scenarios(factory, session) + _edge_scenarios(factory, session):
        rows = [adherence.schedule_row(a) for a in plans.counted_assignments(session, child.id)]
        expected = adherence.adherence_flags_on(session, child.id, today)
        seen.add(tuple(expected))
        ranges = [
            (today - 3 * DAY, today),  # too short: read from the database
            (today - 14 * DAY, today - DAY),  # just long enough
            (today - 13 * DAY, today + DAY),  # a day short at the start
            (today - 90 * DAY, today + 6 * DAY),  # Today's own: the streak and the week
        ]
        for start, end in ranges:
            data = adherence.adherence_of(session, {child.id: child.timezone}, rows, start, end)
            flags = adherence.adherence_flags_from(session, data[child.id], today)
            assert (child.display_name, start, flags) == (child.display_name, start, expected)
    assert len(seen) >= 3  # the scenarios do differ


def test_todays_rows_give_the_engines_own_figures(factory, session):
    """The rows Today hands the engine (``schedule_row``) give the figures the engine reads
    for itself: versions joined, ends, measures and pauses kept."""
    for child, today in _edge_scenarios(factory, session):
        rows = [adherence.schedule_row(a) for a in plans.counted_assignments(session, child.id)]
        start, end = MON, today + 6 * DAY
        own = adherence.child_adherence(session, child.id, start, end)
        handed = adherence.adherence_of(session, {child.id: child.timezone}, rows, start, end)
        assert handed[child.id].chains == own.chains, child.display_name
