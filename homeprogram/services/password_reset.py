"""Admin-issued password reset links: single use, short-lived, only the hash stored.

There is no self-service "forgot password" (the app sends no email); an admin issues a link
for a member of their organization and hands it over, like an invite.
"""

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from homeprogram.models import PasswordReset, User
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound
from homeprogram.services.invites import hash_token

VALID_FOR = timedelta(hours=24)


def issue(session: Session, actor: Actor, *, user: User) -> tuple[PasswordReset, str]:
    """A new reset link for ``user`` (earlier open links stop working). Returns the token."""
    now = utcnow()
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(
        token_hash=hash_token(token),
        user_id=user.id,
        created_by_id=actor.user_id,
        expires_at=now + VALID_FOR,
    )
    session.add(reset)
    session.flush()
    audit.record(session, actor, "password_reset.issued", target_type="user", target_id=user.id)
    return reset, token


def find_open(session: Session, token: str) -> PasswordReset | None:
    reset = session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    return reset


def complete(session: Session, actor: Actor, token: str, password: str) -> User:
    """Set the new password (validated), use up the link and end the user's sessions."""
    reset = find_open(session, token)
    if reset is None:
        raise NotFound()
    user = session.get(User, reset.user_id)
    if user is None:
        raise NotFound()
    accounts.set_password(session, actor, user, password)  # raises ValidationFailed
    reset.used_at = utcnow()
    audit.record(session, actor, "password_reset.used", target_type="user", target_id=user.id)
    return user
