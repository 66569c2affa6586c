"""Personal API tokens: create (shown once), list, revoke, and resolve a bearer token."""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from homeprogram.models import ApiToken, User
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed

TOKEN_PREFIX = "hp_"  # noqa: S105 (a marker, not a secret)
MAX_TOKENS_PER_USER = 20
# Only refresh last_used_at when it is older than this, so API reads stay reads.
_TOUCH_INTERVAL = timedelta(seconds=60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, actor: Actor, *, user_id: int, name: str
) -> tuple[ApiToken, str]:
    """A new token for the user; returns the row and the plain token (never stored)."""
    name = name.strip()
    if not name:
        raise ValidationFailed(
            {"name": gettext("Give the token a name, e.g. the app that uses it.")}
        )
    if len(name) > 80:
        raise ValidationFailed({"name": gettext("Use at most %(num)d characters.", num=80)})
    if len(active_tokens(session, user_id)) >= MAX_TOKENS_PER_USER:
        raise ValidationFailed({"name": gettext("Revoke a token you no longer use first.")})
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user_id, name=name, token_hash=hash_token(plain), prefix=plain[:8])
    session.add(token)
    session.flush()
    audit.record(session, actor, "api_token.created", target_type="api_token", target_id=token.id)
    return token, plain


def active_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, actor: Actor, *, user_id: int, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id or token.revoked_at is not None:
        raise NotFound()
    token.revoked_at = utcnow()
    audit.record(session, actor, "api_token.revoked", target_type="api_token", target_id=token.id)
    return token


def resolve(session: Session, plain: str) -> ApiToken | None:
    """The live token for a bearer value: known, not revoked, its user active."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 100:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    return token


def resolve_signed_in(
    session: Session, plain: str
) -> tuple["accounts.SignedIn", int, datetime | None] | None:
    """``resolve`` and ``accounts.signed_in_user`` in one query: the user of a live token
    (known, not revoked, user active) with the token's id and last use."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 100:
        return None
    return accounts.signed_in_by_token_hash(session, hash_token(plain))


def needs_touch(last_used_at: datetime | None) -> bool:
    return last_used_at is None or utcnow() - last_used_at > _TOUCH_INTERVAL


def touch(session: Session, token_id: int) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))
