"""Login sessions a person can review and end (their own; an admin's whole organization)."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from homeprogram.models import CareTeamMember, Child, OrgMembership, User, UserSession
from homeprogram.models.base import utcnow
from homeprogram.services import audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound

# A session idle longer than the longest timeout is dead even if never ended explicitly.
MAX_IDLE = timedelta(days=14)


@dataclass(frozen=True)
class SessionRow:
    login: UserSession
    user: User
    current: bool


def _live(stmt, now):  # type: ignore[no-untyped-def]
    return stmt.where(UserSession.ended_at.is_(None), UserSession.last_seen_at > now - MAX_IDLE)


def own_sessions(session: Session, user_id: int, current_token: str) -> list[SessionRow]:
    now = utcnow()
    stmt = _live(
        select(UserSession, User).join(User).where(UserSession.user_id == user_id), now
    ).order_by(UserSession.last_seen_at.desc())
    return [SessionRow(s, u, s.token == current_token) for s, u in session.execute(stmt)]


def org_user_ids(session: Session, organization_id: int):  # type: ignore[no-untyped-def]
    """Everyone an admin answers for: staff, and the care teams of the organization's children."""
    staff = select(OrgMembership.user_id).where(OrgMembership.organization_id == organization_id)
    team = (
        select(CareTeamMember.user_id)
        .join(Child, Child.id == CareTeamMember.child_id)
        .where(Child.organization_id == organization_id)
    )
    return staff.union(team)


def org_sessions(session: Session, organization_id: int, current_token: str) -> list[SessionRow]:
    now = utcnow()
    stmt = _live(
        select(UserSession, User)
        .join(User)
        .where(UserSession.user_id.in_(org_user_ids(session, organization_id))),
        now,
    ).order_by(User.name, UserSession.last_seen_at.desc())
    return [SessionRow(s, u, s.token == current_token) for s, u in session.execute(stmt)]


def end_session(
    session: Session,
    actor: Actor,
    *,
    session_id: int,
    current_token: str,
    admin_of: int | None = None,
) -> UserSession:
    """End one live session of the actor's own, or (``admin_of``) of the organization's people."""
    login = session.get(UserSession, session_id)
    if login is None or login.ended_at is not None or login.token == current_token:
        raise NotFound()
    allowed = login.user_id == actor.user_id
    if not allowed and admin_of is not None:
        allowed = (
            session.scalar(
                select(User.id).where(
                    User.id == login.user_id,
                    or_(User.id.in_(org_user_ids(session, admin_of))),
                )
            )
            is not None
        )
    if not allowed:
        raise NotFound()
    login.ended_at = utcnow()
    audit.record(
        session,
        actor,
        "session.ended",
        target_type="user",
        target_id=login.user_id,
        session_id=login.id,
    )
    return login


def end_other_sessions(session: Session, actor: Actor, *, user_id: int, current_token: str) -> int:
    result = session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
            UserSession.token != current_token,
        )
        .values(ended_at=utcnow())
    )
    count = result.rowcount or 0
    if count:
        audit.record(
            session,
            actor,
            "session.ended_others",
            target_type="user",
            target_id=user_id,
            count=count,
        )
    return count
