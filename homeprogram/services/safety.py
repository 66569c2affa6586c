"""An activity's structured safety information and the checks against a child's age.

Stored as one JSON object in ``Activity.safety``; :class:`Safety` is its typed form. An
empty object (activities saved before safety existed) reads as the defaults: no small
parts, no balloons, an adult nearby. Families read it as plain sentences
(templates/partials/safety.html), therapists are warned by :func:`warnings_for` before
they assign an activity that does not suit the child's age.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from flask_babel import gettext

from homeprogram.models import Activity, Child
from homeprogram.models.programs import Supervision

# The youngest age for activities with these materials (whole years).
SMALL_PARTS_MIN_AGE = 3
BALLOONS_MIN_AGE = 8
MAX_LINES = 5
MAX_LINE = 200
KEYS = ("small_parts", "balloons", "supervision", "show_first", "stop_if", "notes")
SUPERVISION_LEVELS = tuple(level.value for level in Supervision)


@dataclass(frozen=True)
class Safety:
    small_parts: bool = False
    balloons: bool = False
    supervision: str = Supervision.NEARBY.value
    show_first: bool = False
    stop_if: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "Safety":
        """The stored object, defaults for anything missing (never raises on old rows)."""
        data = data or {}
        supervision = data.get("supervision")
        return cls(
            small_parts=bool(data.get("small_parts", False)),
            balloons=bool(data.get("balloons", False)),
            supervision=(
                supervision if supervision in SUPERVISION_LEVELS else Supervision.NEARBY.value
            ),
            show_first=bool(data.get("show_first", False)),
            stop_if=tuple(str(line) for line in data.get("stop_if") or ()),
            notes=tuple(str(line) for line in data.get("notes") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "small_parts": self.small_parts,
            "balloons": self.balloons,
            "supervision": self.supervision,
            "show_first": self.show_first,
            "stop_if": list(self.stop_if),
            "notes": list(self.notes),
        }

    def cleaned(self) -> "Safety":
        return Safety(
            small_parts=self.small_parts,
            balloons=self.balloons,
            supervision=self.supervision,
            show_first=self.show_first,
            stop_if=tuple(line.strip() for line in self.stop_if if line.strip()),
            notes=tuple(line.strip() for line in self.notes if line.strip()),
        )


def of(activity: Activity) -> Safety:
    return Safety.from_json(activity.safety)


def validate(safety: Safety) -> dict[str, str]:
    """Field messages (keys: supervision, stop_if, safety_notes) for safety not to save."""
    errors: dict[str, str] = {}
    if safety.supervision not in SUPERVISION_LEVELS:
        errors["supervision"] = gettext("Choose how close an adult stays from the list.")
    for name, key in (("stop_if", "stop_if"), ("notes", "safety_notes")):
        lines = getattr(safety, name)
        if len(lines) > MAX_LINES or any(len(line) > MAX_LINE for line in lines):
            errors[key] = gettext(
                "Write at most %(num)d lines of up to %(chars)d characters.",
                num=MAX_LINES,
                chars=MAX_LINE,
            )
    return errors


def age_rule_errors(safety: Safety, age_min: int) -> list[str]:
    """The library's age rules for materials (the built-in files must follow them)."""
    problems = []
    if safety.small_parts and age_min < SMALL_PARTS_MIN_AGE:
        problems.append(
            f"has small parts, so age_min must be at least {SMALL_PARTS_MIN_AGE} (is {age_min})"
        )
    if safety.balloons and age_min < BALLOONS_MIN_AGE:
        problems.append(
            f"uses balloons, so age_min must be at least {BALLOONS_MIN_AGE} (is {age_min})"
        )
    return problems


# --- The picker's warnings -----------------------------------------------------------------


class AgeWarning(StrEnum):
    TOO_YOUNG = "too_young"  # the child is younger than the activity's youngest age
    SMALL_PARTS = "small_parts"  # small parts and the child is under 3
    BALLOONS = "balloons"  # balloons and the child is under 8


def age_in_years(child: Child, today: date) -> int:
    """Whole years on ``today`` (the birth day within the month is not stored: the 1st)."""
    years = today.year - child.birth_year
    if today.month < child.birth_month:
        years -= 1
    return max(years, 0)


def warnings_for(activity: Activity, child: Child, today: date) -> list[AgeWarning]:
    """Why this activity may not suit this child now (empty: nothing to confirm)."""
    age = age_in_years(child, today)
    safety = of(activity)
    found = []
    if age < activity.age_min:
        found.append(AgeWarning.TOO_YOUNG)
    if safety.small_parts and age < SMALL_PARTS_MIN_AGE:
        found.append(AgeWarning.SMALL_PARTS)
    if safety.balloons and age < BALLOONS_MIN_AGE:
        found.append(AgeWarning.BALLOONS)
    return found
