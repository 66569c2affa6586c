"""Issue 20: structured safety, classroom wording and rationale, from the data files to
the pages each reader sees; the picker's age warning; `homeprogram library stats`."""

import json
import re
import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import select

from homeprogram.extensions import db
from homeprogram.models import Activity, Assignment, AuditEvent
from homeprogram.models.base import utcnow
from homeprogram.services import library, library_stats, schedule
from homeprogram.services.library import BUILTIN_DIR, LibraryDataError, load_builtin

STANDARD_STOP = "Stop if your child is upset or in pain."
# Translated strings are safe markup: their apostrophes are not escaped, data lines' are.
SMALL_PARTS = "Small parts: a choking risk for children under 3. Stay within arm's reach."
SHOW_FIRST = "Your therapist will show you this first."
DIG = "treasure-dig-sensory-bin"  # small parts, arm's reach, classroom wording
WHEELBARROW = "wheelbarrow-walk"  # the therapist shows it first


def _today(child: Any) -> date:
    return schedule.local_date(utcnow(), child.timezone)


def _raw(slug: str) -> dict[str, Any]:
    for path in BUILTIN_DIR.glob("*.json"):
        for item in json.loads(path.read_text(encoding="utf-8")):
            if item["slug"] == slug:
                return item
    raise LookupError(slug)


@pytest.fixture
def builtins(app) -> dict[str, Activity]:
    """The shipped library in the database, by slug."""
    with app.app_context(), db.transaction() as s:
        library.sync_builtin(s)
    with app.app_context():
        rows = db.session.scalars(select(Activity).where(Activity.slug.is_not(None)))
        found = {a.slug: a for a in rows}
        db.session.expunge_all()
    return found


# Loading the data files ---------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "activities"
    shutil.copytree(BUILTIN_DIR, target)
    return target


def _edit(data_dir: Path, slug: str, change: Any) -> None:
    for path in data_dir.glob("*.json"):
        items = json.loads(path.read_text())
        for item in items:
            if item["slug"] == slug:
                change(item)
                path.write_text(json.dumps(items))
                return
    raise LookupError(slug)


def _refused(data_dir: Path) -> str:
    with pytest.raises(LibraryDataError) as caught:
        load_builtin(data_dir)
    return str(caught.value)


def test_loader_refuses_small_parts_under_3(data_dir):
    _edit(data_dir, DIG, lambda item: item.update(age_min=2))
    message = _refused(data_dir)
    assert DIG in message and "small parts, so age_min must be at least 3" in message


def test_loader_refuses_balloons_under_8(data_dir):
    _edit(data_dir, DIG, lambda item: item["safety"].update(balloons=True))
    message = _refused(data_dir)
    assert DIG in message and "balloons, so age_min must be at least 8" in message


def test_loader_refuses_a_classroom_activity_without_classroom_wording(data_dir):
    _edit(data_dir, DIG, lambda item: item.pop("classroom"))
    assert "classroom_ok activities need classroom wording" in _refused(data_dir)


def test_loader_refuses_classroom_wording_on_a_home_activity(data_dir):
    _edit(data_dir, DIG, lambda item: item.update(classroom_ok=False))
    assert "classroom wording is only for classroom_ok activities" in _refused(data_dir)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda item: item["safety"].update(supervision="sometimes"), "safety.supervision"),
        (lambda item: item["safety"].pop("show_first"), "safety: missing show_first"),
        (lambda item: item["safety"].update(extra=1), "safety: unknown extra"),
        (lambda item: item["safety"].update(small_parts="yes"), "safety.small_parts must be"),
        (lambda item: item.update(rationale=""), "rationale: must not be empty"),
        (lambda item: item.pop("safety"), "missing field(s) safety"),
        (lambda item: item["classroom"].update(steps=[]), "classroom.steps"),
    ],
    ids=["supervision", "missing-key", "unknown-key", "type", "rationale", "no-safety", "steps"],
)
def test_loader_refuses_bad_safety_and_wording(data_dir, change, message):
    _edit(data_dir, DIG, change)
    assert message in _refused(data_dir)


def test_loaded_activity_keeps_its_safety_and_wording(builtins):
    raw, activity = _raw(DIG), builtins[DIG]
    assert activity.safety == raw["safety"]
    assert activity.classroom_summary == raw["classroom"]["summary"]
    assert activity.classroom_steps == raw["classroom"]["steps"]
    assert activity.rationale == raw["rationale"]


# What families see ------------------------------------------------------------------------


def _family(factory, builtins, *slugs: str, setting: str = "home") -> Any:
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist, name="Ada")
    parent = factory.caregiver(child, email="parent@example.org")
    teacher = factory.teacher(child, email="teach@example.org")
    start = _today(child) - timedelta(days=5)
    for slug in slugs:
        factory.assignment(child, builtins[slug], start_date=start, setting=setting)
    return child, parent, teacher


def test_today_card_and_steps_show_the_safety_lines(client, login, factory, builtins):
    """The card carries one safety line; its Steps list the other lines and the stop lines."""
    _family(factory, builtins, DIG, WHEELBARROW)
    login("parent@example.org")
    html = client.get("/today").get_data(as_text=True)
    dig = html[html.index(_raw(DIG)["title"]) :]
    dig = dig[: dig.index("</article>")]
    card, steps = dig.split('<details class="steps">', 1)
    assert '<p class="safety-line">' in card and SMALL_PARTS in card
    assert STANDARD_STOP in steps
    assert SMALL_PARTS not in steps  # said once, on the card's line above the steps
    for line in _raw(DIG)["safety"]["stop_if"] + _raw(DIG)["safety"]["notes"]:
        assert str(escape(line)) in steps, line
    wheel = html[html.index(_raw(WHEELBARROW)["title"]) :]
    assert SHOW_FIRST in wheel[: wheel.index("</article>")]


def test_handout_shows_the_safety_lines(client, login, factory, builtins):
    child, _parent, _teacher = _family(factory, builtins, DIG, WHEELBARROW)
    login("ot@example.org")
    html = client.get(f"/children/{child.id}/handout").get_data(as_text=True)
    assert html.count(STANDARD_STOP) == 2
    assert SMALL_PARTS in html and SHOW_FIRST in html
    assert str(escape(_raw(DIG)["safety"]["stop_if"][0])) in html


def test_teachers_read_the_classroom_wording(client, login, factory, builtins):
    """The teacher's list and sheets show the classroom wording, never the parent text."""
    child, _parent, _teacher = _family(factory, builtins, DIG, setting="classroom")
    raw = _raw(DIG)
    login("teach@example.org")
    for url in ("/students", "/students/sheet", f"/students/{child.id}/sheet"):
        html = client.get(url).get_data(as_text=True)
        assert str(escape(raw["classroom"]["summary"])) in html, url
        for step in raw["classroom"]["steps"]:
            assert str(escape(step)) in html, (url, step)
        for step in raw["steps"]:
            assert str(escape(step)) not in html, (url, step)
        assert str(escape(raw["summary"])) not in html, url


def test_library_page_shows_rationale_evidence_and_safety(client, login, factory, builtins):
    org = factory.org()
    login(factory.therapist(org).email)
    activity, raw = builtins[DIG], _raw(DIG)
    html = client.get(f"/library/{activity.id}").get_data(as_text=True)
    assert str(escape(raw["rationale"])) in html
    assert str(escape(library.focus_area_note("sensory"))) in html
    assert "Evidence: Sensory and regulation" in html
    assert SMALL_PARTS in html and str(escape(raw["classroom"]["summary"])) in html


def test_custom_activity_takes_safety_and_rationale(client, login, factory, session):
    org = factory.org()
    login(factory.therapist(org).email)
    form = {
        "title": "Bead stringing",
        "focus_area": "fine_motor",
        "age_min": "4",
        "age_max": "9",
        "steps": "Thread a bead.\nThread another.",
        "default_minutes": "5",
        "small_parts": "y",
        "supervision": "arms_reach",
        "stop_if": "Stop if your child puts a bead in the mouth.",
        "rationale": "Bilateral manipulation with graded object size.",
    }
    response = client.post("/library/new", data=form)
    assert response.status_code == 302
    activity = session.scalar(select(Activity).where(Activity.title == "Bead stringing"))
    assert activity.safety == {
        "small_parts": True,
        "balloons": False,
        "supervision": "arms_reach",
        "show_first": False,
        "stop_if": ["Stop if your child puts a bead in the mouth."],
        "notes": [],
    }
    assert activity.rationale == "Bilateral manipulation with graded object size."
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Stop if your child puts a bead in the mouth." in html
    # The form's default: an adult nearby.
    new_form = client.get("/library/new").get_data(as_text=True)
    assert re.search(
        r'<option[^>]*selected[^>]*value="nearby"|value="nearby"[^>]*selected', new_form
    )


# The picker's warning -----------------------------------------------------------------------


def _add(activity_id: int, day: date, **extra: str) -> dict[str, Any]:
    return {
        "activity_id": str(activity_id),
        "dose_unit": "minutes",
        "dose_amount": "5",
        "minutes_per_session": "5",
        "days_of_week": ["0", "2", "4"],
        "times_per_day": "1",
        "start_date": day.isoformat(),
        "setting": "home",
        "anchor": "",
        "measure_direction": "higher",
        **extra,
    }


@pytest.fixture
def toddler(factory, login) -> Any:
    """Two years old on the pinned day (born May 2024), with a therapist logged in."""
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist, name="Bo", birth_year=2024)
    login("ot@example.org")
    return child


def test_picker_warns_before_adding_a_small_parts_activity_for_a_toddler(
    client, session, toddler, builtins
):
    activity = builtins[DIG]
    form = client.get(f"/children/{toddler.id}/program/add?activity_id={activity.id}")
    html = form.get_data(as_text=True)
    assert "Check before adding:" in html
    assert "This activity is for ages 3 and up; Bo is 2." in html
    assert "small parts, a choking risk for children under 3; Bo is 2." in html
    assert 'name="confirm_suitability"' in html


def test_picker_refuses_to_add_until_the_warning_is_confirmed(client, session, toddler, builtins):
    activity = builtins[DIG]
    today = _today(toddler)
    refused = client.post(f"/children/{toddler.id}/program", data=_add(activity.id, today))
    assert refused.status_code == 400
    assert "tick the box to add it anyway" in refused.get_data(as_text=True)
    assert session.scalars(select(Assignment)).all() == []

    added = client.post(
        f"/children/{toddler.id}/program",
        data=_add(activity.id, today, confirm_suitability="y"),
    )
    assert added.status_code == 302
    (assignment,) = session.scalars(select(Assignment)).all()
    assert assignment.activity_id == activity.id
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "assignment.created"))
    assert event is not None and "small_parts" in json.dumps(event.detail)


def test_picker_has_no_warning_when_the_activity_suits_the_child(
    client, session, factory, login, builtins
):
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist, name="Ada")  # 8 years old
    login("ot@example.org")
    activity = builtins[DIG]
    html = client.get(f"/children/{child.id}/program/add?activity_id={activity.id}").get_data(
        as_text=True
    )
    assert "Check before adding:" not in html
    added = client.post(f"/children/{child.id}/program", data=_add(activity.id, _today(child)))
    assert added.status_code == 302


def test_picker_shows_the_rationale(client, toddler, builtins):
    activity = builtins[DIG]
    html = client.get(f"/children/{toddler.id}/program/add?activity_id={activity.id}").get_data(
        as_text=True
    )
    assert "Rationale and evidence" in html
    assert str(escape(_raw(DIG)["rationale"])) in html


# `homeprogram library stats` --------------------------------------------------------------


def test_library_stats_prints_the_table(runner):
    items = [json.loads(p.read_text()) for p in sorted(BUILTIN_DIR.glob("*.json"))]
    flat = [item for items_of_file in items for item in items_of_file]
    result = runner.invoke(args=["library", "stats"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    head = next(line for line in lines if line.startswith("focus area"))
    assert head.split() == ["focus", "area", "0-2", "3-5", "6-8", "9-11", "12-18", "total"]
    fine = [i for i in flat if i["focus_area"] == "fine_motor"]
    expected = [
        sum(1 for i in fine if i["age_min"] <= high and i["age_max"] >= low)
        for low, high in library_stats.AGE_BANDS
    ]
    row = next(line for line in lines if line.startswith("fine_motor "))
    assert row.split()[1:] == [str(n) for n in [*expected, len(fine)]]
    assert next(line for line in lines if line.startswith("executive_function "))
    assert f"Total: {len(flat)} activities" in lines
    assert f"Per language: en {len(flat)}" in lines


def test_library_stats_counts_every_band_an_activity_covers():
    item = load_builtin()[0]
    wide = library.BuiltinActivity("wide", "en", replace(item.values, age_min=2, age_max=7))
    stats = library_stats.compute([wide])
    assert [stats.cells.get((item.values.focus_area, i), 0) for i in range(5)] == [1, 1, 1, 0, 0]
    assert stats.total == 1 and stats.per_language == {"en": 1}
