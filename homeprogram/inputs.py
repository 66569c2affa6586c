"""Numbers and dates from people and scripts, bounded to what the database and the date
arithmetic can hold: one place for forms (the WTForms fields below), query strings and JSON.

Every integer column is PostgreSQL's INTEGER (4 bytes): no id or count lies beyond
``MAX_INT``, and a larger number handed to the driver fails (psycopg refuses more than
8 bytes, PostgreSQL more than the column; sqlite3 raises OverflowError past 2**63) instead
of finding nothing. Dates stay within ``FIRST_DATE`` and ``LAST_DATE``, far enough inside
Python's calendar (years 1 to 9999) that a week, a report's range or a time zone around an
accepted date never leaves it.
"""

import math
import re
from datetime import date, datetime
from typing import Any

import wtforms
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter, Map

from homeprogram.formatting import format_when

MIN_INT = -(2**31)
MAX_INT = 2**31 - 1
MAX_ID = MAX_INT  # ids are INTEGER columns, counted from 1
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2999, 12, 31)

# ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def date_message() -> str:
    """The API's words for a date it cannot use (the format stays YYYY-MM-DD)."""
    return gettext(
        "Use a date as YYYY-MM-DD, from %(first)s to %(last)s.",
        first=FIRST_DATE.isoformat(),
        last=LAST_DATE.isoformat(),
    )


def parse_int(raw: Any, low: int = MIN_INT, high: int = MAX_INT) -> int | None:
    """An integer from JSON (a number, never a boolean) or text; None when it is not one
    or lies outside ``low``..``high`` (by default what an INTEGER column holds)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        return None
    return value if low <= value <= high else None


def parse_id(raw: Any) -> int | None:
    """A row id (1..``MAX_ID``) from JSON or text; None for anything no row can have."""
    return parse_int(raw, 1, MAX_ID)


def parse_number(raw: Any) -> float | None:
    """A finite JSON number (integer or not, never a boolean) as a float, else None."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    try:
        value = float(raw)
    except OverflowError:  # an integer beyond any float
        return None
    return value if math.isfinite(value) else None


def date_in_range(value: date) -> bool:
    return FIRST_DATE <= value <= LAST_DATE


def parse_date(raw: Any) -> date | None:
    """A calendar date written exactly YYYY-MM-DD within the accepted years, else None."""
    if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None
    return value if date_in_range(value) else None


def parse_datetime(raw: Any) -> datetime | None:
    """An ISO 8601 date and time (any offset, or none) within the accepted years, else None."""
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return value if date_in_range(value.date()) else None


def _at_most(limit: int) -> str:
    """A regular expression for the numbers 0..``limit`` written without leading zeros."""
    digits = str(limit)
    n = len(digits)
    shorter = ["[0-9]", *(f"[1-9][0-9]{{{k}}}" for k in range(1, n - 1))] if n > 1 else []
    # As many digits as limit: its first i digits, then a smaller digit, then any digits.
    same_length = []
    for i, digit in enumerate(digits):
        lowest = 1 if i == 0 and n > 1 else 0
        if int(digit) > lowest:
            same_length.append(f"{digits[:i]}[{lowest}-{int(digit) - 1}][0-9]{{{n - i - 1}}}")
    return "|".join([*shorter, *same_length, digits])


class IdConverter(IntegerConverter):
    """``<int:...>`` in URLs: only numbers up to ``MAX_ID`` match, so a larger one finds no
    route (404 for every method) instead of reaching the database driver (500). Werkzeug's
    own ``max`` would refuse it only after choosing the route, which answers 405 to methods
    that another route on the same path serves."""

    regex = _at_most(MAX_ID)

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def date_range_message() -> str:
    """The pages' words for a date outside the accepted years (needs a request or app)."""
    return gettext(
        "Enter a date from %(first)s to %(last)s.",
        first=format_when(FIRST_DATE),
        last=format_when(LAST_DATE),
    )


class IntegerField(wtforms.IntegerField):
    """``wtforms.IntegerField`` that refuses numbers no INTEGER column can hold, with a
    message next to the field (the validators then check the meaningful range)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not MIN_INT <= self.data <= MAX_INT:
            self.data = None
            raise ValueError(_l("This number is out of range."))


class DateField(wtforms.DateField):
    """``wtforms.DateField`` that refuses dates outside ``FIRST_DATE``..``LAST_DATE``."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not date_in_range(self.data):
            self.data = None
            raise ValueError(date_range_message())
