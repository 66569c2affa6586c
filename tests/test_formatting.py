"""One date and time helper per locale: the kinds, the time zone each uses, and every page
showing dates only in those kinds (no ISO dates, no other hand-built formats)."""

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import url_for
from flask_babel import force_locale

from homeprogram.formatting import KINDS, format_when
from homeprogram.models import CoachingNote, GoalMeasurement
from tests.page_text import visible_text
from tests.route_table import PUBLIC, TABLE
from tests.world import PERSONAS, build_world, signed_in_client

WEDNESDAY = date(2026, 11, 25)
AT_17_10_UTC = datetime(2026, 11, 25, 17, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "english", "spanish"),
    [
        ("day", "Wed, Nov 25, 2026", "mié, 25 nov 2026"),
        ("day_short", "Wed, Nov 25", "mié, 25 nov"),
        ("day_long", "Wednesday, November 25, 2026", "miércoles, 25 de noviembre de 2026"),
        ("weekday", "Wednesday", "miércoles"),
        ("weekday_initial", "W", "X"),
        ("month", "Nov 2026", "nov 2026"),
    ],
)
def test_day_kinds_in_two_locales(app, kind, english, spanish):
    """A calendar day reads the locale's way (Spanish works from Babel's data, no catalog)."""
    with app.test_request_context():
        assert format_when(WEDNESDAY, kind) == english
        with force_locale("es"):
            assert format_when(WEDNESDAY, kind) == spanish


def test_moment_and_time_in_two_locales(app):
    with app.test_request_context():
        assert (
            format_when(AT_17_10_UTC, "moment", tz="Europe/Madrid") == "Nov 25, 2026, 6:10\u202fPM"
        )
        assert format_when(AT_17_10_UTC, "time", tz="Europe/Madrid") == "6:10\u202fPM"
        with force_locale("es"):
            assert format_when(AT_17_10_UTC, "moment", tz="Europe/Madrid") == "25 nov 2026, 18:10"
            assert format_when(AT_17_10_UTC, "time", tz="Europe/Madrid") == "18:10"


def test_a_day_is_never_converted_to_another_time_zone(app):
    """A child's day stays the child's day whatever zone the viewer or ``tz`` is in."""
    with app.test_request_context():
        for tz in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"):
            assert format_when(WEDNESDAY, "day", tz=tz) == "Wed, Nov 25, 2026"


def test_an_instant_shown_as_a_day_is_the_viewers_calendar_day(app):
    late_evening_in_chicago = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)
    with app.test_request_context():
        assert format_when(late_evening_in_chicago, "day", tz="America/Chicago") == (
            "Wed, Nov 25, 2026"
        )
        assert format_when(late_evening_in_chicago, "day", tz="Europe/Berlin") == (
            "Thu, Nov 26, 2026"
        )


def test_moments_follow_daylight_saving_changes(app):
    """Chicago springs forward at 2:00 on Sunday 8 March 2026: a minute apart in UTC, an hour
    and a minute apart on the wall clock."""
    before = datetime(2026, 3, 8, 7, 59, tzinfo=UTC)
    after = datetime(2026, 3, 8, 8, 0, tzinfo=UTC)
    with app.test_request_context():
        assert format_when(before, "moment", tz="America/Chicago") == "Mar 8, 2026, 1:59\u202fAM"
        assert format_when(after, "moment", tz="America/Chicago") == "Mar 8, 2026, 3:00\u202fAM"
        autumn = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # Europe falls back at 01:00 UTC
        assert format_when(autumn, "time", tz="Europe/London") == "1:30\u202fAM"


def test_without_a_signed_in_viewer_moments_use_the_apps_default_zone(app):
    """Scheduler jobs, e-mails and anonymous pages: ``DEFAULT_TIMEZONE`` (New York here)."""
    with app.test_request_context():
        assert app.config["DEFAULT_TIMEZONE"] == "America/New_York"
        assert format_when(AT_17_10_UTC, "time") == "12:10\u202fPM"


def test_unknown_kinds_and_missing_values(app):
    with app.test_request_context():
        assert format_when(None, "moment") == ""
        with pytest.raises(ValueError, match="unknown date kind"):
            format_when(WEDNESDAY, "medium")
        with pytest.raises(TypeError):
            format_when(WEDNESDAY, "moment")
        assert set(KINDS) >= {"day", "day_short", "moment", "time"}


def test_a_moment_on_a_page_is_in_the_viewers_own_time_zone(app, factory, session):
    """The same coaching note reads 11:00 AM to a therapist in Chicago, 6:00 PM in Madrid."""
    org = factory.org()
    chicago = factory.therapist(org, email="chi@example.org", timezone="America/Chicago")
    madrid = factory.therapist(org, email="mad@example.org", timezone="Europe/Madrid")
    child = factory.child(org, therapist=chicago)
    factory.member(child, madrid, "therapist")
    note_time = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    session.add(
        CoachingNote(child_id=child.id, author_id=chicago.id, body="Hi", created_at=note_time)
    )
    session.commit()
    pages = {}
    for user in (chicago, madrid):
        client = signed_in_client(app, session, user)
        pages[user.timezone] = client.get(f"/children/{child.id}").get_data(True)
    assert "Nov 25, 2026, 11:00\u202fAM" in pages["America/Chicago"]
    assert "Nov 25, 2026, 6:00\u202fPM" in pages["Europe/Madrid"]


# --- Every page: dates only in the kinds above -------------------------------------------

MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
WEEKDAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
LEFTOVERS = [
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # ISO dates
    re.compile(rf"\b\d{{1,2}} (?:{MONTHS})[a-z]* \d{{4}}\b"),  # "25 Nov 2026"
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),  # "11/25/26"
    re.compile(r"\b\d{2}:\d{2}:\d{2}\b"),  # seconds
]
# "Nov 25, 2026" is a leftover unless it is a `day` (weekday first) or a `moment` (time after).
MONTH_DAY_YEAR = re.compile(
    rf"(?P<weekday>(?:{WEEKDAYS}), )?(?:{MONTHS}) \d{{1,2}}, \d{{4}}(?P<time>, \d{{1,2}}:\d\d)?"
)


def date_format_leftovers(text: str) -> list[str]:
    found = [m.group(0) for pattern in LEFTOVERS for m in pattern.finditer(text)]
    for m in MONTH_DAY_YEAR.finditer(text):
        if not m.group("weekday") and not m.group("time"):
            found.append(m.group(0))
    return found


def test_the_leftover_check_catches_the_old_formats():
    assert date_format_leftovers("from 2026-11-08, Nov 28, 2026 and 29 Nov 2026, 18:10") == [
        "2026-11-08",
        "29 Nov 2026",
        "Nov 28, 2026",
    ]
    assert date_format_leftovers("Wed, Nov 25, 2026 · Nov 25, 2026, 6:10 PM · Wed, Nov 25") == []


def _pages(world: Any) -> list[tuple[str, str]]:
    pages = []
    for endpoint, entry in sorted(TABLE.items()):
        if "GET" not in entry.methods or entry.json:
            continue
        persona = "anonymous" if entry.who == PUBLIC else sorted(entry.who & set(PERSONAS))[0]
        pages.append((endpoint, persona))
    return pages


def test_no_page_shows_a_date_in_another_format(app, factory, session):
    """Every HTML page of the route table, as its rightful user, with dates of every sort
    in the world (logs, notes, goals and measurements, invites, sessions, devices)."""
    world = build_world(factory, session, app)
    goal = world["goal"]
    goal.target_date = date(2027, 3, 1)
    session.add(GoalMeasurement(goal_id=goal.id, measured_on=world["today"], value=90))
    session.commit()
    clients: dict[str, Any] = {"anonymous": app.test_client()}
    checked, dated, problems = 0, set(), {}
    for endpoint, persona in _pages(world):
        if persona not in clients:
            clients[persona] = signed_in_client(app, session, world.users[persona])
        with app.test_request_context():
            url = url_for(endpoint, **TABLE[endpoint].args(world))
        if url.startswith("/api/"):
            continue
        response = clients[persona].get(url, headers=TABLE[endpoint].headers)
        body = response.get_data()
        response.close()  # file responses (pictures) hold the file open until closed
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        checked += 1
        text = visible_text(body.decode())
        if MONTH_DAY_YEAR.search(text):
            dated.add(endpoint)
        leftovers = date_format_leftovers(text)
        if leftovers:
            problems[f"{url} as {persona}"] = leftovers
    assert checked > 30
    assert len(dated) >= 10, sorted(dated)  # the check saw dates on many pages
    assert not problems, problems


def test_templates_format_dates_only_through_the_helper():
    """``format_date``/``format_datetime``/``strftime`` with a pattern of their own would
    bring back a second format; the kinds above are the only way in."""
    from homeprogram import paths

    offenders = [
        str(path.relative_to(paths.TEMPLATES_DIR))
        for path in sorted(paths.TEMPLATES_DIR.rglob("*.html"))
        if re.search(r"format_date\(|format_datetime\(|format_time\(|strftime", path.read_text())
    ]
    assert not offenders
