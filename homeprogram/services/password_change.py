"""A signed-in person changes their own password: the current one first, then the rules.

A wrong current password is a failed sign-in for the account-wide slow-down
(``login_delay``): it is written as ``login.failed`` (``during: password_change``), so a
stolen session cannot be used to guess the password faster than the login page allows.
"""

import secrets

from flask_babel import gettext
from sqlalchemy import update
from sqlalchemy.orm import Session

from homeprogram.models import User, UserSession
from homeprogram.services import accounts, audit, login_delay, passwords
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ServiceError, ValidationFailed


class TooSoon(ServiceError):
    """The account is being slowed after failed attempts: nothing was checked."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"wait {seconds} s")
        self.seconds = seconds


def change_password(
    session: Session,
    actor: Actor,
    *,
    user_id: int,
    current_token: str,
    current_password: str,
    new_password: str,
) -> str:
    """Check ``current_password``, set ``new_password`` and end every other session.
    Returns the new token of this session, which gets one as after any sign-in (the old
    token stops working).

    Raises ``TooSoon`` while the account is slowed, ``ValidationFailed`` (field
    ``current_password`` or ``password``) otherwise; the failed check of the current
    password is audited, so the caller commits even then.
    """
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound()
    if wait := login_delay.seconds_to_wait(session, user.id):
        raise TooSoon(wait)
    if not passwords.verify_password(user.password_hash, current_password):
        audit.record(
            session,
            actor,
            "login.failed",
            target_type="user",
            target_id=user.id,
            during="password_change",
        )
        raise ValidationFailed({"current_password": gettext("This is not your current password.")})
    accounts.set_password(session, actor, user, new_password, keep_token=current_token)
    new_token = secrets.token_urlsafe(32)
    session.execute(
        update(UserSession)
        .where(UserSession.token == current_token, UserSession.ended_at.is_(None))
        .values(token=new_token)
    )
    return new_token
