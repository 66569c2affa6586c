"""The rules for an email address and a time zone, whoever gives one.

Forms, the API, the CLI and the services all ask here, so a value one of them accepts is a
value every other one accepts too: an account made by ``homeprogram create-user`` can sign
in, and a time zone that reached the database is one the scheduler can use.
"""

from functools import cache
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext

MAX_EMAIL_LENGTH = 254  # the column's length, and RFC 5321's limit for a path


def email_problem(value: str | None) -> str | None:
    """Why ``value`` is not an email address we accept, or None if it is one.

    Syntax only (no DNS lookup: self-hosted servers may have no resolver), and a domain
    that can receive mail from the internet, as the sign-up form always required.
    """
    text = (value or "").strip()
    if not text:
        return gettext("Enter an email address.")
    if len(text) > MAX_EMAIL_LENGTH:
        return gettext("Use at most %(num)d characters.", num=MAX_EMAIL_LENGTH)
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return gettext("Enter a valid email address, like name@example.org.")
    return None


@cache
def timezone_names() -> list[str]:
    """Every IANA time zone name zoneinfo can load (tzdata ships them on every system)."""
    return sorted(available_timezones())


@cache
def _timezone_set() -> frozenset[str]:
    return frozenset(timezone_names())


def is_timezone(name: str | None) -> bool:
    return name is not None and name in _timezone_set()


def timezone_problem(name: str | None) -> str | None:
    """Why ``name`` is not a time zone we accept, or None if it is one."""
    if is_timezone(name):
        return None
    if not (name or "").strip():
        return gettext("Choose a time zone.")
    return gettext(
        "“%(name)s” is not a time zone: choose one from the list, "
        "a name like America/New_York or Europe/Berlin.",
        name=(name or "").strip()[:64],
    )
