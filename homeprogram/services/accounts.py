"""Accounts, organizations, staff membership and login sessions."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext
from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from homeprogram.models import (
    ApiToken,
    CareRole,
    CareTeamMember,
    Child,
    Organization,
    OrgMembership,
    OrgRole,
    User,
    UserSession,
)
from homeprogram.models.base import utcnow
from homeprogram.services import audit, instruments, login_delay, passwords, validation
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed

# Only refresh last_seen_at when it is older than this, so reads stay reads.
_TOUCH_INTERVAL = timedelta(seconds=60)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def _check_new_account(
    session: Session, *, email: str, name: str, password: str, timezone: str
) -> None:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = gettext("Enter your name.")
    if problem := validation.email_problem(email):
        errors["email"] = problem
    elif find_user_by_email(session, email) is not None:
        # Said in the same words whether or not the address exists elsewhere.
        errors["email"] = gettext(
            "This email cannot be used for a new account. If you already have one, log in."
        )
    problem = passwords.password_problem(password, email=email, name=name)
    if problem:
        errors["password"] = problem
    if problem := validation.timezone_problem(timezone):
        errors["timezone"] = problem
    if errors:
        raise ValidationFailed(errors)


def create_user(
    session: Session, *, email: str, name: str, password: str, timezone: str, locale: str = "en"
) -> User:
    _check_new_account(session, email=email, name=name, password=password, timezone=timezone)
    user = User(
        email=normalize_email(email),
        name=name.strip(),
        password_hash=passwords.hash_password(password),
        timezone=timezone,
        locale=locale,
    )
    session.add(user)
    session.flush()
    return user


def sign_up_therapist(
    session: Session,
    actor: Actor,
    *,
    org_name: str,
    name: str,
    email: str,
    password: str,
    timezone: str,
) -> User:
    """Create an organization and its first therapist, who becomes its admin."""
    if not org_name.strip():
        raise ValidationFailed(
            {"org_name": gettext("Enter the name of your clinic or school team.")}
        )
    user = create_user(session, email=email, name=name, password=password, timezone=timezone)
    org = Organization(name=org_name.strip(), timezone=timezone)
    session.add(org)
    session.flush()
    instruments.seed(session, org.id)
    session.add(OrgMembership(organization_id=org.id, user_id=user.id, role=OrgRole.ADMIN))
    audit.record(
        session,
        Actor(user.id, actor.ip, org.id),
        "org.created",
        target_type="org",
        target_id=org.id,
    )
    return user


def membership(session: Session, user_id: int) -> OrgMembership | None:
    """The user's active staff membership, if any."""
    return session.scalar(
        select(OrgMembership).where(OrgMembership.user_id == user_id, OrgMembership.active)
    )


def authenticate(
    session: Session, actor: Actor, email: str, password: str, *, secret: str | bytes = b""
) -> User | None:
    """The user, or None after recording the failure: against the account, or against a
    keyed hash of an address that has none (``login_delay`` slows both alike)."""
    user = find_user_by_email(session, email)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        audit.record(
            session,
            actor,
            "login.failed",
            target_type="user" if user else login_delay.ADDRESS_TARGET,
            target_id=user.id if user else login_delay.address_key(secret, normalize_email(email)),
        )
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def start_session(
    session: Session, user: User, *, ip: str | None, user_agent: str | None
) -> UserSession:
    login = UserSession(
        token=secrets.token_urlsafe(32),
        user_id=user.id,
        ip=ip,
        user_agent=(user_agent or "")[:255] or None,
    )
    session.add(login)
    member = membership(session, user.id)
    audit.record(
        session,
        Actor(user.id, ip, member.organization_id if member else None),
        "login.succeeded",
        target_type="user",
        target_id=user.id,
    )
    session.flush()
    return login


@dataclass(frozen=True)
class SignedIn:
    """A signed-in user with what every request needs of them, read in one query."""

    user_id: int
    name: str
    email: str
    locale: str
    timezone: str
    organization_id: int | None  # of the active staff membership, if any
    org_role: str | None
    care_roles: frozenset[str]  # the roles held on any care team
    login_id: int | None = None  # the UserSession; None for a bearer token
    last_seen_at: datetime | None = None


# The user's care-team roles as one comma-separated value (a correlated subquery).
_CARE_ROLES = (
    select(func.aggregate_strings(CareTeamMember.role, ","))
    .where(CareTeamMember.user_id == User.id)
    .scalar_subquery()
)
# Staff belong to one organization (a unique user_id), so the outer join adds no rows.
_ACTIVE_MEMBERSHIP = (OrgMembership.user_id == User.id) & OrgMembership.active
# Columns, not entities: read on every request, they need none of the ORM's bookkeeping.
_SIGNED_IN = select(
    User.id,
    User.name,
    User.email,
    User.locale,
    User.timezone,
    OrgMembership.organization_id,
    OrgMembership.role,
    _CARE_ROLES,
).outerjoin(OrgMembership, _ACTIVE_MEMBERSHIP)
_SESSION_BY_TOKEN = (
    _SIGNED_IN.add_columns(
        User.active, UserSession.id, UserSession.ended_at, UserSession.last_seen_at
    )
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token == bindparam("token"))
)
_ACTIVE_USER = _SIGNED_IN.where(User.id == bindparam("user_id"), User.active)


def _signed_in(
    row: Sequence[Any], login_id: int | None = None, last_seen_at: datetime | None = None
) -> SignedIn:
    user_id, name, email, locale, timezone, organization_id, org_role, roles = row[:8]
    return SignedIn(
        user_id,
        name,
        email,
        locale,
        timezone,
        organization_id,
        org_role,
        frozenset(roles.split(",")) if roles else frozenset(),
        login_id,
        last_seen_at,
    )


def signed_in_user(session: Session | Connection, user_id: int) -> SignedIn | None:
    """An active user with their membership and roles (for bearer tokens)."""
    row = session.execute(_ACTIVE_USER, {"user_id": user_id}).one_or_none()
    return _signed_in(row) if row is not None else None


# A bearer token's user in the same one query: the token known and not revoked, the user
# active (``tokens.resolve_signed_in``).
_USER_BY_API_TOKEN = (
    _SIGNED_IN.add_columns(ApiToken.id, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.active,
    )
)


def signed_in_by_token_hash(
    session: Session | Connection, token_hash: str
) -> tuple[SignedIn, int, datetime | None] | None:
    """The live API token of that hash: its user as ``signed_in_user`` gives it, the token's
    id and last use (one query)."""
    row = session.execute(_USER_BY_API_TOKEN, {"token_hash": token_hash}).one_or_none()
    if row is None:
        return None
    token_id, last_used_at = row[8:]
    return _signed_in(row), token_id, last_used_at


def load_session(
    session: Session | Connection,
    token: str,
    *,
    staff_timeout: timedelta,
    family_timeout: timedelta,
) -> SignedIn | None:
    """The live session for a cookie token: not ended, not idle too long, user active."""
    row = session.execute(_SESSION_BY_TOKEN, {"token": token}).one_or_none()
    if row is None:
        return None
    active, login_id, ended_at, last_seen_at = row[8:]
    if ended_at is not None or not active:
        return None
    timeout = staff_timeout if row.organization_id is not None else family_timeout
    if utcnow() - last_seen_at > timeout:
        return None
    return _signed_in(row, login_id, last_seen_at)


def needs_touch(last_seen_at: datetime) -> bool:
    return utcnow() - last_seen_at > _TOUCH_INTERVAL


def touch_session(session: Session, login_id: int) -> None:
    session.execute(
        update(UserSession).where(UserSession.id == login_id).values(last_seen_at=utcnow())
    )


def end_session(session: Session, token: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token == token, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_all_sessions(session: Session, user_id: int, *, keep_token: str | None = None) -> int:
    """End the user's open sessions (all but the one of ``keep_token``, when given)."""
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep_token is not None:
        stmt = stmt.where(UserSession.token != keep_token)
    result = session.execute(stmt.values(ended_at=utcnow()))
    return result.rowcount or 0


def staff_list(session: Session, organization_id: int) -> list[OrgMembership]:
    return list(
        session.scalars(
            select(OrgMembership)
            .join(User)
            .where(OrgMembership.organization_id == organization_id)
            .order_by(OrgMembership.active.desc(), func.lower(User.name))
        )
    )


def users_with_roles_elsewhere(
    session: Session, organization_id: int, user_ids: Sequence[int]
) -> set[int]:
    """Of ``user_ids``, those with a staff membership in another organization or a care-team
    role on another organization's child: their account is not this organization's alone."""
    if not user_ids:
        return set()
    staff_elsewhere = select(OrgMembership.user_id).where(
        OrgMembership.user_id.in_(user_ids), OrgMembership.organization_id != organization_id
    )
    care_elsewhere = (
        select(CareTeamMember.user_id)
        .join(Child, Child.id == CareTeamMember.child_id)
        .where(CareTeamMember.user_id.in_(user_ids), Child.organization_id != organization_id)
    )
    return set(session.scalars(staff_elsewhere.union(care_elsewhere)))


def belongs_elsewhere(session: Session, organization_id: int, user_id: int) -> bool:
    return bool(users_with_roles_elsewhere(session, organization_id, [user_id]))


def deactivate_member(
    session: Session, actor: Actor, organization_id: int, membership_id: int
) -> OrgMembership:
    """End the person's roles in this organization only: the staff membership and their
    family or school roles on its children. A therapist's care-team rows stay (they count
    only while the membership is active) so reactivation restores the caseload.

    The account itself is closed (and signed out everywhere) only when the person has no
    role in any other organization; otherwise it stays active there.
    """
    member = session.get(OrgMembership, membership_id)
    if member is None or member.organization_id != organization_id:
        raise NotFound()
    if member.user_id == actor.user_id:
        raise ValidationFailed({"member": gettext("You cannot deactivate yourself.")})
    member.active = False
    member.deactivated_at = utcnow()
    org_children = select(Child.id).where(Child.organization_id == organization_id)
    session.execute(
        delete(CareTeamMember).where(
            CareTeamMember.user_id == member.user_id,
            CareTeamMember.role != CareRole.THERAPIST.value,
            CareTeamMember.child_id.in_(org_children),
        )
    )
    if not belongs_elsewhere(session, organization_id, member.user_id):
        member.user.active = False
        end_all_sessions(session, member.user_id)
    audit.record(
        session,
        actor,
        "member.deactivated",
        organization_id=organization_id,
        target_type="user",
        target_id=member.user_id,
    )
    return member


def reactivate_member(
    session: Session, actor: Actor, organization_id: int, membership_id: int
) -> OrgMembership:
    member = session.get(OrgMembership, membership_id)
    if member is None or member.organization_id != organization_id:
        raise NotFound()
    member.active = True
    member.deactivated_at = None
    member.user.active = True
    audit.record(
        session,
        actor,
        "member.reactivated",
        organization_id=organization_id,
        target_type="user",
        target_id=member.user_id,
    )
    return member


def set_password(
    session: Session, actor: Actor, user: User, password: str, *, keep_token: str | None = None
) -> None:
    """Set a new password (checked against the rules) and end the user's sessions: all of
    them, or all but the one of ``keep_token`` (the person changing it while signed in)."""
    problem = passwords.password_problem(password, email=user.email, name=user.name)
    if problem:
        raise ValidationFailed({"password": problem})
    user.password_hash = passwords.hash_password(password)
    end_all_sessions(session, user.id, keep_token=keep_token)
    audit.record(session, actor, "user.password_set", target_type="user", target_id=user.id)
