"""The built-in library's content meets the bar a pediatric OT would trust (issue 20).

Every activity of the data files is checked on its own, so a failure names the file and
slug: all fields present, short parent steps, parent text at or below a 6th-grade reading
level, the age rules for small parts and balloons, classroom wording for classroom
activities, nothing that needs training to be safe and nothing trademarked. The Spanish
versions (``es/``): short steps and Spanish reading ease.
Then the library as a whole: no duplicate slugs or titles, enough activities for every
focus area, for the under-3s and for teenagers, and (once built-in pictures ship) a
picture for each.
"""

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import textstat

from homeprogram.models import FocusArea
from homeprogram.services.library import BUILTIN_DIR, load_builtin
from homeprogram.services.safety import (
    BALLOONS_MIN_AGE,
    SMALL_PARTS_MIN_AGE,
    SUPERVISION_LEVELS,
)

# Built-in pictures are a later issue: once this folder exists, every activity needs one.

KEYS = [
    "slug",
    "title",
    "focus_area",
    "language",
    "age_min",
    "age_max",
    "summary",
    "steps",
    "materials",
    "easier",
    "harder",
    "default_dose",
    "default_minutes",
    "classroom_ok",
    "safety",
    "rationale",
]
SAFETY_KEYS = {"small_parts", "balloons", "supervision", "show_first", "stop_if", "notes"}
MAX_STEP_WORDS = 25
MAX_GRADE = 6.0
# Techniques that need training to be safe, and trademarked programme names.
BANNED = re.compile(
    r"zones of regulation|alert program|handwriting without tears|brain gym|wilbarger"
    r"|trampoline|weighted (?:vest|blanket)|brushing protocol|oral[- ]motor"
    r"|swallowing (?:exercise|therapy)|joint compression",
    re.IGNORECASE,
)


def _activities(folder: Path = BUILTIN_DIR) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(folder.glob("*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")):
            found.append((path, item))
    return found


ACTIVITIES = _activities()
IDS = [f"{path.stem}:{item.get('slug')}:{item.get('language')}" for path, item in ACTIVITIES]
each_activity = pytest.mark.parametrize(("path", "item"), ACTIVITIES, ids=IDS)
# The Spanish versions (data/activities/es/): their own reading bar, Spanish's formula.
SPANISH = _activities(BUILTIN_DIR / "es")
each_spanish = pytest.mark.parametrize(
    ("path", "item"), SPANISH, ids=[f"es/{p.stem}:{i.get('slug')}" for p, i in SPANISH]
)
# Fernández-Huerta's Spanish reading ease: 80 and over reads as "easy" (about 6th grade).
MIN_SPANISH_EASE = 80


def parent_text(item: dict[str, Any]) -> str:
    safety = item.get("safety", {})
    return " ".join(
        [
            item["summary"],
            *item["steps"],
            item["easier"],
            item["harder"],
            *safety.get("stop_if", []),
            *safety.get("notes", []),
        ]
    )


@each_activity
def test_every_field_is_present_and_filled(path: Path, item: dict[str, Any]) -> None:
    missing = [key for key in KEYS if key not in item]
    assert not missing, f"missing {missing}"
    for key in ("title", "summary", "easier", "harder", "default_dose", "rationale"):
        assert isinstance(item[key], str) and item[key].strip(), f"{key} is empty"
    assert 3 <= len(item["steps"]) <= 6
    assert item["materials"]
    assert set(item["safety"]) == SAFETY_KEYS
    assert item["safety"]["supervision"] in SUPERVISION_LEVELS
    assert 1 <= len(item["safety"]["stop_if"]) <= 3
    assert len(item["safety"]["notes"]) <= 3


@each_activity
def test_parent_steps_are_short(path: Path, item: dict[str, Any]) -> None:
    long = [step for step in item["steps"] if len(step.split()) > MAX_STEP_WORDS]
    assert not long, f"steps over {MAX_STEP_WORDS} words: {long}"


@each_activity
def test_parent_text_reads_at_grade_6_or_below(path: Path, item: dict[str, Any]) -> None:
    grade = textstat.flesch_kincaid_grade(parent_text(item))
    assert grade <= MAX_GRADE, f"Flesch-Kincaid grade {grade}"


@each_activity
def test_ages_suit_the_materials(path: Path, item: dict[str, Any]) -> None:
    """Small parts never under 3 and with an adult within reach; balloons never under 8."""
    assert 0 <= item["age_min"] <= item["age_max"] <= 18
    safety = item["safety"]
    if safety["small_parts"]:
        assert item["age_min"] >= SMALL_PARTS_MIN_AGE
        assert safety["supervision"] in ("hands_on", "arms_reach")
    if safety["balloons"]:
        assert item["age_min"] >= BALLOONS_MIN_AGE


@each_activity
def test_classroom_activities_have_teacher_wording(path: Path, item: dict[str, Any]) -> None:
    if not item["classroom_ok"]:
        assert "classroom" not in item
        return
    classroom = item.get("classroom")
    assert classroom, "classroom_ok without classroom wording"
    assert classroom["summary"].strip() and classroom["steps"]
    wording = " ".join([classroom["summary"], *classroom["steps"]]).lower()
    assert "your child" not in wording


@each_activity
def test_nothing_needs_training_or_is_trademarked(path: Path, item: dict[str, Any]) -> None:
    found = BANNED.search(json.dumps(item))
    assert found is None, f"banned term {found.group(0)!r}" if found else ""


@each_spanish
def test_spanish_parent_text_is_short_and_easy_to_read(path: Path, item: dict[str, Any]) -> None:
    long = [step for step in item["steps"] if len(step.split()) > MAX_STEP_WORDS]
    assert not long, f"steps over {MAX_STEP_WORDS} words: {long}"
    textstat.set_lang("es")
    try:
        ease = textstat.fernandez_huerta(parent_text(item))
    finally:
        textstat.set_lang("en_US")
    assert ease >= MIN_SPANISH_EASE, f"Fernández-Huerta reading ease {ease}"
    found = BANNED.search(json.dumps(item))
    assert found is None, f"banned term {found.group(0)!r}" if found else ""


def test_spanish_titles_are_unique_and_every_activity_has_one() -> None:
    titles = Counter(item["title"].lower() for _path, item in SPANISH)
    assert [title for title, n in titles.items() if n > 1] == []
    assert {item["slug"] for _p, item in SPANISH} == {item["slug"] for _p, item in ACTIVITIES}


def test_no_duplicate_slugs_or_titles() -> None:
    slugs = Counter((item["slug"], item["language"]) for _path, item in ACTIVITIES)
    titles = Counter((item["title"].lower(), item["language"]) for _path, item in ACTIVITIES)
    assert [key for key, n in slugs.items() if n > 1] == []
    assert [key for key, n in titles.items() if n > 1] == []


def test_the_loader_accepts_every_file() -> None:
    assert len(load_builtin()) == len(ACTIVITIES)


def _english() -> list[dict[str, Any]]:
    return [item for _path, item in ACTIVITIES if item["language"] == "en"]


def test_at_least_150_activities() -> None:
    assert len(_english()) >= 150


def test_every_focus_area_has_at_least_8() -> None:
    per_area = Counter(item["focus_area"] for item in _english())
    assert {area.value: per_area.get(area.value, 0) >= 8 for area in FocusArea} == {
        area.value: True for area in FocusArea
    }


def test_at_least_10_for_children_under_3() -> None:
    assert sum(1 for item in _english() if item["age_min"] <= 2) >= 10


def test_at_least_10_for_teenagers() -> None:
    teen = [item for item in _english() if item["age_min"] >= 12 and item["age_max"] >= 12]
    assert len(teen) >= 10
