"""The app's one clock: tests, demos and test servers run on a pinned day."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from homeprogram import clock, create_app
from homeprogram.models.base import utcnow
from tests.conftest import DEFAULT_NOW

SATURDAY = datetime(2027, 3, 13, 22, 30, tzinfo=UTC)  # 17:30 in New York
MONDAY = datetime(2027, 3, 15, 14, 0, tzinfo=UTC)


def test_every_test_starts_at_the_pinned_instant(request):
    """Without --now the suite runs on a fixed Wednesday; the clock then runs on."""
    pinned = request.config.pinned_now
    assert pinned == clock.parse_instant(request.config.getoption("--now"))
    assert timedelta(0) <= utcnow() - pinned < timedelta(seconds=30)
    assert clock.parse_instant(DEFAULT_NOW).weekday() == 2


def test_the_clock_fixture_moves_the_app_clock(clock):
    """clock.set and clock.advance change what the app reads as now."""
    clock.set(SATURDAY)
    assert abs(utcnow() - SATURDAY) < timedelta(seconds=1)
    clock.advance(timedelta(days=2))
    assert utcnow().date() == MONDAY.date()


def test_a_caregiver_sees_the_pinned_days_plan(clock, client, login, factory):
    """Today follows the pinned day: a school-days activity is planned on Monday, not on
    Saturday."""
    org = factory.org()
    child = factory.child(org, therapist=factory.therapist(org), name="Sam")
    parent = factory.caregiver(child)
    factory.assignment(
        child,
        factory.activity(title="Button practice"),
        start_date=SATURDAY.date() - timedelta(days=7),
        days_of_week=[0, 1, 2, 3, 4],
    )
    clock.set(SATURDAY)
    login(parent.email)
    saturday = client.get("/today")
    assert saturday.status_code == 200
    assert "Button practice" not in saturday.get_data(as_text=True)
    clock.set(MONDAY)
    assert "Button practice" in client.get("/today").get_data(as_text=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03-13T22:30:00Z", SATURDAY),
        ("2027-03-13T17:30:00-05:00", SATURDAY),
        ("2027-03-13", datetime(2027, 3, 13, 12, tzinfo=UTC)),
    ],
)
def test_instants_are_read_with_their_offset(text, expected):
    assert clock.parse_instant(text) == expected


@pytest.mark.parametrize("text", ["2027-03-13T22:30:00", "next saturday", "2027-13-01"])
def test_an_instant_without_offset_or_unreadable_is_refused_by_name(text):
    with pytest.raises(ValueError, match="HOMEPROGRAM_NOW"):
        clock.parse_instant(text)


def test_a_server_process_takes_the_pinned_time_from_the_environment(
    monkeypatch, tmp_path, database_url
):
    """HOMEPROGRAM_NOW pins the clock of the process that creates the app (a test's
    gunicorn, or a demo shown on a given day)."""
    clock.unpin()
    monkeypatch.setenv("HOMEPROGRAM_NOW", "2027-03-13T22:30:00Z")
    monkeypatch.setenv("HOMEPROGRAM_INSTANCE_PATH", str(tmp_path / "instance"))
    create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x"})
    assert abs(utcnow() - SATURDAY) < timedelta(seconds=5)


def test_the_demo_runs_on_the_day_it_is_given():
    """A separate process with HOMEPROGRAM_NOW reads that day as today."""
    script = "from homeprogram import clock; clock.pin_from_environment(); print(clock.now())"
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={"HOMEPROGRAM_NOW": "2027-03-13T22:30:00Z"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("2027-03-13 22:30")
