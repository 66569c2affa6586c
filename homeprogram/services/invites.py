"""Invites: single-use, expiring links; only the SHA-256 of the token is stored."""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from homeprogram.models import CareRole, CareTeamMember, Invite, OrgMembership, OrgRole, User
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed

CHILD_INVITE_ROLES = (CareRole.CAREGIVER.value, CareRole.TEACHER.value, CareRole.THERAPIST.value)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(
    session: Session,
    actor: Actor,
    *,
    organization_id: int,
    role: str,
    child_id: int | None,
    label: str = "",
    valid_for: timedelta,
    language: str | None = None,
) -> tuple[Invite, str]:
    """Create an invite and return it with the plain token (shown once, never stored).

    ``language``: the page opens in it (the child's family language), unless the visitor
    chose another."""
    if child_id is None and role != OrgRole.THERAPIST:
        raise ValidationFailed({"role": gettext("Staff invites are for therapists.")})
    if child_id is not None and role not in CHILD_INVITE_ROLES:
        raise ValidationFailed({"role": gettext("Choose caregiver, teacher or therapist.")})
    if len(label) > 120:
        raise ValidationFailed({"label": gettext("Use at most %(num)d characters.", num=120)})
    token = secrets.token_urlsafe(32)
    invite = Invite(
        token_hash=hash_token(token),
        organization_id=organization_id,
        child_id=child_id,
        role=role,
        label=label.strip() or None,
        language=language,
        created_by_id=actor.user_id,
        expires_at=utcnow() + valid_for,
    )
    session.add(invite)
    session.flush()
    audit.record(
        session,
        actor,
        "invite.created",
        organization_id=organization_id,
        child_id=child_id,
        target_type="invite",
        target_id=invite.id,
        role=role,
    )
    return invite, token


def find_by_token(session: Session, token: str) -> Invite | None:
    if not token or len(token) > 100:
        return None
    return session.scalar(select(Invite).where(Invite.token_hash == hash_token(token)))


def open_invites(
    session: Session, organization_id: int, child_id: int | None, now: datetime
) -> list[Invite]:
    stmt = select(Invite).where(
        Invite.organization_id == organization_id,
        Invite.used_at.is_(None),
        Invite.revoked_at.is_(None),
        Invite.expires_at > now,
    )
    stmt = stmt.where(
        Invite.child_id == child_id if child_id is not None else Invite.child_id.is_(None)
    )
    return list(session.scalars(stmt.order_by(Invite.created_at.desc())))


def revoke_invite(
    session: Session, actor: Actor, organization_id: int, invite_id: int, child_id: int | None
) -> Invite:
    invite = session.get(Invite, invite_id)
    if invite is None or invite.organization_id != organization_id or invite.child_id != child_id:
        raise NotFound()
    if invite.status(utcnow()) == "open":
        invite.revoked_at = utcnow()
        audit.record(
            session,
            actor,
            "invite.revoked",
            organization_id=organization_id,
            child_id=invite.child_id,
            target_type="invite",
            target_id=invite.id,
        )
    return invite


def _attach(session: Session, invite: Invite, user: User) -> None:
    if invite.child_id is None:
        existing = session.scalar(select(OrgMembership).where(OrgMembership.user_id == user.id))
        if existing is not None:
            raise ValidationFailed(
                {"invite": gettext("This account already belongs to an organization's staff.")}
            )
        session.add(
            OrgMembership(
                organization_id=invite.organization_id, user_id=user.id, role=OrgRole.THERAPIST
            )
        )
        return
    member = session.scalar(
        select(CareTeamMember).where(
            CareTeamMember.child_id == invite.child_id, CareTeamMember.user_id == user.id
        )
    )
    if member is not None:
        raise ValidationFailed({"invite": gettext("You are already on this child's care team.")})
    if invite.role == CareRole.THERAPIST and not session.scalar(
        select(OrgMembership.id).where(
            OrgMembership.user_id == user.id,
            OrgMembership.organization_id == invite.organization_id,
            OrgMembership.active,
        )
    ):
        raise ValidationFailed(
            {"invite": gettext("Only staff of this organization can join as therapist.")}
        )
    session.add(CareTeamMember(child_id=invite.child_id, user_id=user.id, role=invite.role))


def accept_invite(
    session: Session,
    actor: Actor,
    invite: Invite,
    *,
    user: User | None = None,
    email: str = "",
    name: str = "",
    password: str = "",
    timezone: str = "UTC",
    locale: str = "en",
) -> User:
    """Use the invite: attach ``user`` or create a new account (reading ``locale``). Single
    use, even when raced."""
    now = utcnow()
    if invite.status(now) != "open":
        raise ValidationFailed({"invite": gettext("This invite can no longer be used.")})
    if user is None:
        user = accounts.create_user(
            session, email=email, name=name, password=password, timezone=timezone, locale=locale
        )
    _attach(session, invite, user)
    # Claim the invite with a guarded update so two simultaneous accepts cannot both win.
    claimed = session.execute(
        Invite.__table__.update()
        .where(Invite.id == invite.id, Invite.used_at.is_(None), Invite.revoked_at.is_(None))
        .values(used_at=now, used_by_id=user.id)
    ).rowcount
    if claimed != 1:
        raise ValidationFailed({"invite": gettext("This invite can no longer be used.")})
    session.expire(invite)
    audit.record(
        session,
        Actor(user.id, actor.ip, invite.organization_id),
        "invite.accepted",
        organization_id=invite.organization_id,
        child_id=invite.child_id,
        target_type="invite",
        target_id=invite.id,
        role=invite.role,
    )
    return user
