"""The one clock the app reads "now" from.

Every "today", weekday and due reminder comes from :func:`now`. Normally that is the
system clock. A pinned clock starts at a chosen instant and then runs at the real pace,
so idle timeouts and the order of events behave as usual while the date, the weekday and
the hour are the pinned ones: the test suite runs on a fixed day (a Saturday, or a
Sunday beside a daylight-saving change, when asked), and a demo can be shown on any day
(``HOMEPROGRAM_NOW=2027-03-13T15:00:00Z homeprogram demo``).

Cookies, CSRF tokens and Web Push signatures keep the system clock: browsers and push
services check them against theirs.
"""

import logging
import os
from datetime import UTC, date, datetime, time, timedelta

ENVIRONMENT_VARIABLE = "HOMEPROGRAM_NOW"

_offset = timedelta(0)
log = logging.getLogger(__name__)


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC) + _offset


def pin(instant: datetime) -> None:
    """Make :func:`now` run from ``instant`` from this moment on."""
    global _offset
    if instant.tzinfo is None:
        raise ValueError("pin the clock to an aware datetime")
    _offset = instant - datetime.now(UTC)


def unpin() -> None:
    global _offset
    _offset = timedelta(0)


def is_pinned() -> bool:
    return _offset != timedelta(0)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset (``Z`` allowed); a bare date means noon UTC."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(12), tzinfo=UTC)
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{ENVIRONMENT_VARIABLE}: {text!r} is not an ISO 8601 instant "
            "such as 2027-03-13T15:00:00Z"
        ) from None
    if instant.tzinfo is None:
        raise ValueError(f"{ENVIRONMENT_VARIABLE}: {text!r} needs an offset, such as Z or -05:00")
    return instant.astimezone(UTC)


def pin_from_environment() -> None:
    """Pin the clock when ``HOMEPROGRAM_NOW`` is set (a demo or a test's server process)."""
    raw = os.environ.get(ENVIRONMENT_VARIABLE)
    if raw:
        pin(parse_instant(raw))
        log.warning("clock pinned: the app runs as if it were %s", now().isoformat())
