"""How the family pages put prescriptions and times into words."""

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask_babel import get_locale, gettext, ngettext

from homeprogram.models import Assignment
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


def dose_label(assignment: Assignment) -> str:
    """E.g. "10 reps, twice a day" or "5 minutes"."""
    amount = assignment.dose_amount
    if assignment.dose_unit == "reps" and amount:
        dose = ngettext("%(num)d rep", "%(num)d reps", amount)
    elif assignment.dose_unit == "minutes" and amount:
        dose = ngettext("%(num)d minute", "%(num)d minutes", amount)
    else:
        dose = assignment.dose_text.strip()
    times = assignment.times_per_day
    if times > 1:
        per_day = ngettext("once a day", "%(num)d times a day", times)
        return f"{dose}, {per_day}" if dose else per_day
    return dose


def local_time(instant: datetime, timezone: str) -> str:
    return format_time(
        instant.astimezone(ZoneInfo(timezone)), format="short", locale=str(get_locale())
    )
