"""An account-wide slow-down after repeated failed sign-ins, instead of a lock-out.

Failures are throttled per (account, address) pair and per address by the rate limiter;
across addresses the account is only slowed: once ``SLOW_AFTER`` failures have piled up
since the last successful sign-in (within ``WINDOW``), each further attempt must wait a
growing delay after the latest failure. While it runs the attempt is answered "wait N
seconds" without checking the password; once it has passed, the right password works.

The failures are the audit trail's ``login.failed`` rows, so the delay follows the app's
clock and survives restarts and several workers, with no table of its own. An address that
belongs to no account is slowed by the same rule (its failures are recorded against a keyed
hash of the address, never the address itself), so the answer does not tell who has an
account.
"""

import hashlib
import hmac
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


ADDRESS_TARGET = "address"  # audit target type of a failure against an unknown address


def address_key(secret: str | bytes, normalized_email: str) -> int:
    """A 31-bit keyed hash of an address that has no account: enough to count its failures,
    not enough to recover or confirm the address without the app's secret."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, normalized_email.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _events(action: str, target_type: str, target_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        AuditEvent.action == action,
        AuditEvent.target_type == target_type,
        AuditEvent.target_id == target_id,
    )


def seconds_to_wait(session: Session, user_id: int, *, target_type: str = "user") -> int:
    """Whole seconds before this account (or, with ``target_type=ADDRESS_TARGET``, this
    unknown address's key) may try a password again (0: it may now)."""
    now = utcnow()
    since = now - WINDOW
    last_success = session.scalar(
        select(func.max(AuditEvent.at)).where(*_events("login.succeeded", target_type, user_id))
    )
    if last_success is not None and last_success > since:
        since = last_success
    failures, latest = session.execute(
        select(func.count(), func.max(AuditEvent.at)).where(
            *_events("login.failed", target_type, user_id), AuditEvent.at > since
        )
    ).one()
    if latest is None:
        return 0
    remaining = latest + delay_after(failures) - now
    return max(0, math.ceil(remaining.total_seconds()))
