"""How pages put prescriptions and times into words.

The dose phrase (``dose_label``) is the one every page uses: the family's today, the
therapist's program and handout, the teacher's strategies and sheets.
"""

import re
from datetime import datetime
from typing import Protocol

from flask_babel import gettext, ngettext

from homeprogram.blueprints.caregiver.blueprint import bp
from homeprogram.formatting import format_when
from homeprogram.services.today import anchor_key


def anchor_label(anchor: str) -> str:
    key = anchor_key(anchor)
    labels = {
        "morning": gettext("Morning"),
        "after school": gettext("After school"),
        "after dinner": gettext("After dinner"),
        "bath time": gettext("Bath time"),
        "bedtime": gettext("Bedtime"),
        "": gettext("Any time"),
    }
    return labels.get(key, anchor.strip())


class Dose(Protocol):
    """A prescription's dose: an assignment, or an item of a program template."""

    dose_unit: str
    dose_amount: int | None
    dose_text: str
    times_per_day: int


_COUNTS = {"once": 1, "twice": 2, "thrice": 3, "one": 1, "two": 2, "three": 3, "four": 4}
_COUNTS |= {"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
# Free text that already says how often: "Twice a day", "3 check-ins a day", "once per day".
_STATED = re.compile(
    r"\b(?P<n>once|twice|thrice|\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)"
    r"(?:\s+[\w-]+)?\s+(?:a|per|each)\s+day\b",
    re.IGNORECASE,
)
# ...as its last words, nothing but the frequency: "Twice a day", "5 breaths, twice a day".
_TRAILING = re.compile(
    r"(?:^|\s*[,;]\s*)(?:once|twice|thrice|(?:\d{1,2}|one|two|three|four|five|six|seven|eight"
    r"|nine|ten)\s+times)\s+(?:a|per|each)\s+day\W*$",
    re.IGNORECASE,
)


@bp.app_template_global()
def how_often(times: int) -> str:
    """How often, in words: "once a day", "twice a day", "3 times a day"."""
    if times == 1:
        return gettext("once a day")
    if times == 2:
        return gettext("twice a day")
    return ngettext("%(num)d time a day", "%(num)d times a day", times)


def _stated_times(text: str) -> int | None:
    match = _STATED.search(text)
    if match is None:
        return None
    n = match.group("n").lower()
    return int(n) if n.isdigit() else _COUNTS[n]


@bp.app_template_global()
def dose_label(a: Dose, *, say_once: bool = False, long_units: bool = False) -> str:
    """The dose with how often it is done, said once: "10 reps, twice a day", "Twice a day".

    The schedule (``times_per_day``) is what adherence counts, so when the therapist's own
    words say another number, their trailing "twice a day" gives way to the schedule's.
    ``say_once`` says "once a day" too (the family pages leave it out).
    """
    amount, times = a.dose_amount, a.times_per_day or 1
    if a.dose_unit == "reps" and amount:
        if long_units:
            dose = ngettext("%(num)d repetition", "%(num)d repetitions", amount)
        else:
            dose = ngettext("%(num)d rep", "%(num)d reps", amount)
    elif a.dose_unit == "minutes" and amount:
        dose = ngettext("%(num)d minute", "%(num)d minutes", amount)
    else:
        dose = (a.dose_text or "").strip()
    stated = _stated_times(dose)
    if stated == times:
        return dose
    if stated is not None:
        stripped = _TRAILING.sub("", dose)
        say_once = say_once or stripped != dose
        dose = stripped
    if times == 1 and not say_once:
        return dose
    if not dose:
        return how_often(times)
    return gettext("%(dose)s, %(how_often)s", dose=dose, how_often=how_often(times))


def local_time(instant: datetime, timezone: str) -> str:
    return format_when(instant, "time", tz=timezone)
