"""The one way dates and times are shown: a small fixed set of kinds, per locale (Babel).

Kinds (English examples, pinned Wednesday 2026-11-25):

- ``day``: a calendar day, "Wed, Nov 25, 2026". A ``date`` is shown as it is, never
  converted: a child's day is the child's. An instant given to ``day`` becomes the
  viewer's calendar day.
- ``day_short``: the same without the year, "Wed, Nov 25" (within a program or a week).
- ``day_long``: printed and family-facing text, "Wednesday, November 25, 2026".
- ``weekday``: "Wednesday"; ``weekday_initial``: "W" (column heads, with the full name
  in an ``<abbr title>``).
- ``month``: a month, "Nov 2019" (birth month).
- ``moment``: an instant in the viewer's time zone, "Nov 25, 2026, 12:10 PM".
- ``time``: the time of an instant in the viewer's time zone, "12:10 PM".

The viewer's time zone is the signed-in person's own setting (every account has one);
without a signed-in person (scheduler, CLI, anonymous pages) it is the app's
``DEFAULT_TIMEZONE``. Pass ``tz=`` to show an instant in another zone on purpose (the
child's, on pages about the child's day).

Each kind uses the locale's own pattern (CLDR skeletons), so Spanish reads
"mié, 25 nov 2026" and the same kind looks the same on every page.
"""

import re
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_datetime_format
from flask import Flask, current_app, has_app_context, has_request_context

DAY_SKELETONS = {
    "day": "yMMMEd",
    "day_short": "MMMEd",
    "day_long": "yMMMMEd",  # with the weekday written out
    "weekday": "EEEE",
    "weekday_initial": "EEEEE",
    "month": "yMMM",
}
INSTANT_KINDS = ("moment", "time")
KINDS = (*DAY_SKELETONS, *INSTANT_KINDS)
FALLBACK_TIMEZONE = "UTC"


def current_locale() -> Locale:
    if has_request_context() or has_app_context():
        import flask_babel

        found = flask_babel.get_locale()
        if found is not None:
            return found
    return Locale.parse("en")


def viewer_timezone() -> str:
    """The signed-in person's time zone, else the app's default (see the module doc)."""
    if has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated and _valid(current_user.timezone):
            return str(current_user.timezone)
    if has_app_context():
        configured = current_app.config.get("DEFAULT_TIMEZONE")
        if configured and _valid(configured):
            return str(configured)
    return FALLBACK_TIMEZONE


def _valid(name: str | None) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _pattern(locale: Locale, skeleton: str) -> str:
    if skeleton in ("EEEE", "EEEEE"):
        return skeleton
    pattern = str(locale.datetime_skeletons[skeleton].pattern)
    return re.sub("E+", "EEEE", pattern) if skeleton == "yMMMMEd" else pattern


def _moment_pattern(locale: Locale) -> str:
    joiner = str(get_datetime_format("medium", locale=locale))
    return joiner.replace("{1}", _pattern(locale, "yMMMd")).replace(
        "{0}", locale.time_formats["short"].pattern
    )


def format_when(
    value: date | datetime | None,
    kind: str = "day",
    *,
    tz: str | None = None,
    locale: str | Locale | None = None,
) -> str:
    """``value`` shown as ``kind`` (one of :data:`KINDS`); ``""`` for ``None``."""
    if value is None:
        return ""
    if kind not in KINDS:
        raise ValueError(f"unknown date kind {kind!r}; use one of {', '.join(KINDS)}")
    loc = Locale.parse(locale) if locale is not None else current_locale()
    zone = ZoneInfo(tz if tz and _valid(tz) else viewer_timezone())
    if kind in INSTANT_KINDS:
        if not isinstance(value, datetime):
            raise TypeError(f"{kind!r} needs an instant (datetime), not {value!r}")
        local = _aware(value).astimezone(zone)
        pattern = _moment_pattern(loc) if kind == "moment" else loc.time_formats["short"].pattern
        return babel_format_datetime(local, pattern, tzinfo=zone, locale=loc)
    day = _aware(value).astimezone(zone).date() if isinstance(value, datetime) else value
    noon = datetime.combine(day, time(12), tzinfo=UTC)  # a day has no zone: shown as it is
    pattern = _pattern(loc, DAY_SKELETONS[kind])
    return babel_format_datetime(noon, pattern, tzinfo=UTC, locale=loc)


def month_of(year: int, month: int) -> date:
    """A month stored as year and month (a child's birth month), as a date for ``month``."""
    return date(year, month, 1)


def _filter(kind: str) -> Any:
    def apply(value: date | datetime | None, tz: str | None = None) -> str:
        return format_when(value, kind, tz=tz)

    apply.__name__ = kind
    return apply


def init_app(app: Flask) -> None:
    """Each kind as a Jinja filter (``{{ d|day }}``, ``{{ at|moment }}``), ``when()`` and
    ``month_of(year, month)``."""
    for kind in KINDS:
        app.jinja_env.filters[kind] = _filter(kind)
    app.jinja_env.globals.update(when=format_when, month_of=month_of)
