"""An account-wide slow-down after repeated failed sign-ins, instead of a lock-out.

Failures are throttled per (account, address) pair and per address by the rate limiter;
across addresses the account is only slowed: once ``SLOW_AFTER`` failures have piled up
since the last successful sign-in (within ``WINDOW``), each further attempt must wait a
growing delay after the latest failure. While it runs the attempt is answered "wait N
seconds" without checking the password; once it has passed, the right password works.

The failures are the audit trail's ``login.failed`` rows, so the delay follows the app's
clock and survives restarts and several workers, with no table of its own.
"""

import math
from datetime import timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from homeprogram.models import AuditEvent
from homeprogram.models.base import utcnow

SLOW_AFTER = 5  # failures before the account is slowed at all
WINDOW = timedelta(minutes=15)  # failures older than this are forgotten
FIRST_DELAY = timedelta(seconds=5)  # after the SLOW_AFTER-th failure; doubles with each more
MAX_DELAY = timedelta(minutes=5)


def delay_after(failures: int) -> timedelta:
    """How long the next attempt waits after the latest of ``failures`` failures."""
    if failures < SLOW_AFTER:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** (failures - SLOW_AFTER), MAX_DELAY)


def _user_events(action: str, user_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        AuditEvent.action == action,
        AuditEvent.target_type == "user",
        AuditEvent.target_id == user_id,
    )


def seconds_to_wait(session: Session, user_id: int) -> int:
    """Whole seconds before this account may try a password again (0: it may now)."""
    now = utcnow()
    since = now - WINDOW
    last_success = session.scalar(
        select(func.max(AuditEvent.at)).where(*_user_events("login.succeeded", user_id))
    )
    if last_success is not None and last_success > since:
        since = last_success
    failures, latest = session.execute(
        select(func.count(), func.max(AuditEvent.at)).where(
            *_user_events("login.failed", user_id), AuditEvent.at > since
        )
    ).one()
    if latest is None:
        return 0
    remaining = latest + delay_after(failures) - now
    return max(0, math.ceil(remaining.total_seconds()))
