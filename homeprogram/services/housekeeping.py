"""Periodic clean-up that keeps the session table honest."""

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from homeprogram.models import OrgMembership, UserSession


def end_idle_sessions(
    session: Session, *, now: datetime, staff_minutes: int, family_minutes: int
) -> int:
    """Mark sessions idle past their timeout as ended, so session lists show the truth."""
    staff_ids = select(OrgMembership.user_id).where(OrgMembership.active)
    ended = 0
    for minutes, is_staff in ((staff_minutes, True), (family_minutes, False)):
        who = (
            UserSession.user_id.in_(staff_ids)
            if is_staff
            else UserSession.user_id.not_in(staff_ids)
        )
        result = session.execute(
            update(UserSession)
            .where(
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at < now - timedelta(minutes=minutes),
                who,
            )
            .values(ended_at=now)
        )
        ended += result.rowcount or 0
    return ended
