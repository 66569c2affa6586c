"""Admin-issued password reset links: single use, short-lived, only the hash stored.

There is no self-service "forgot password" (the app sends no email); an admin issues a link
for a member of their organization and hands it over, like an invite. An admin may do so
only for an account that belongs to their organization alone: a person who also holds a
role in another organization resets their own password (``issue_for_member``).
"""

import secrets
from datetime import timedelta

from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from homeprogram.models import OrgMembership, PasswordReset, User
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed
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


def issue_for_member(
    session: Session, actor: Actor, organization_id: int, membership_id: int
) -> tuple[PasswordReset, str]:
    """An admin's reset link for a member of ``organization_id``.

    ``NotFound`` unless the membership is this organization's; ``ValidationFailed`` (nothing
    written) when the person also belongs to another organization, whose access a link
    from this organization must not be able to take over.
    """
    member = session.get(OrgMembership, membership_id)
    if member is None or member.organization_id != organization_id:
        raise NotFound()
    if accounts.belongs_elsewhere(session, organization_id, member.user_id):
        raise ValidationFailed(
            {
                "member": gettext(
                    "%(name)s also belongs to another organization, so only they can change "
                    "their password. You can remove them from your organization instead.",
                    name=member.user.name,
                )
            }
        )
    return issue(session, actor, user=member.user)


def find_open(session: Session, token: str) -> PasswordReset | None:
    reset = session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    if reset.created_by_id is not None and not _issuer_still_may(session, reset):
        return None
    return reset


def _issuer_still_may(session: Session, reset: PasswordReset) -> bool:
    """An admin's link works only while its issuer is still staff of an organization the
    person belongs to alone (they may have joined another since the link was issued)."""
    issuer = accounts.membership(session, reset.created_by_id)
    return issuer is not None and not accounts.belongs_elsewhere(
        session, issuer.organization_id, reset.user_id
    )


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
