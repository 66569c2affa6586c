"""A person's own settings that are not about security: the language they read."""

from sqlalchemy.orm import Session

from homeprogram.models import User
from homeprogram.services import audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound


def set_language(session: Session, actor: Actor, user_id: int, language: str) -> None:
    """``language`` must already be one the app offers (the view checks the choice)."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound()
    if user.locale == language:
        return
    before, user.locale = user.locale, language
    audit.record(
        session,
        actor,
        "account.language_changed",
        organization_id=actor.organization_id,
        target_type="user",
        target_id=user.id,
        before=before,
        after=language,
    )
