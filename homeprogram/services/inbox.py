"""The staff inbox: weekly summaries and alerts, read in the app."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from homeprogram.models import InboxMessage
from homeprogram.services.errors import NotFound


def inbox(session: Session, user_id: int, limit: int = 100) -> list[InboxMessage]:
    return list(
        session.scalars(
            select(InboxMessage)
            .where(InboxMessage.user_id == user_id)
            .order_by(InboxMessage.created_at.desc(), InboxMessage.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(InboxMessage)
            .where(InboxMessage.user_id == user_id, InboxMessage.read_at.is_(None))
        )
        or 0
    )


def open_message(session: Session, user_id: int, message_id: int, now: datetime) -> InboxMessage:
    """The user's own message, marked read on first opening (NotFound for anyone else's)."""
    message = session.get(InboxMessage, message_id)
    if message is None or message.user_id != user_id:
        raise NotFound()
    if message.read_at is None:
        message.read_at = now
    return message
