"""Password reset links: single use, short-lived, only the hash stored.

Two kinds share one table and one page (``/account/reset/<token>``):

* ``admin``: an admin issues a link for a member of their organization and hands it over,
  like an invite (valid 24 hours). An admin may do so only for an account that belongs to
  their organization alone: a person who also holds a role in another organization
  resets their own password (``issue_for_member``).
* ``self``: "Forgot your password?" on the login page, offered only when the app can send
  email. The link goes to the account's address and is valid 30 minutes. Every request
  sends one email, whether or not the address has an account, so the answer and the time
  it takes tell nobody which addresses do.

A new link cancels the person's earlier open ones. Using a link sets the password and
ends every session of the account.
"""

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Literal

from flask_babel import force_locale, gettext
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from homeprogram.models import OrgMembership, PasswordReset, User
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, audit, email
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.services.invites import hash_token

VALID_FOR = timedelta(hours=24)  # an admin-issued link
SELF_VALID_FOR = timedelta(minutes=30)  # a link asked for by email
ADMIN, SELF = "admin", "self"
_LIFETIME = {ADMIN: VALID_FOR, SELF: SELF_VALID_FOR}

LinkState = Literal["open", "used", "expired", "unknown"]


def issue(
    session: Session, actor: Actor, *, user: User, kind: str = ADMIN
) -> tuple[PasswordReset, str]:
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
        created_at=now,
        expires_at=now + _LIFETIME[kind],
        kind=kind,
    )
    session.add(reset)
    session.flush()
    audit.record(
        session, actor, "password_reset.issued", target_type="user", target_id=user.id, kind=kind
    )
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


def find(session: Session, token: str) -> tuple[PasswordReset | None, LinkState]:
    """The link a token names and whether it can be used: "open", "used" (also when a
    newer link replaced it), "expired", or "unknown" (no such link, or its issuer may no
    longer reset this account)."""
    reset = session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    )
    if reset is None:
        return None, "unknown"
    if reset.used_at is not None:
        return reset, "used"
    if reset.expires_at <= utcnow():
        return reset, "expired"
    if reset.created_by_id is not None and not _issuer_still_may(session, reset):
        return reset, "unknown"
    return reset, "open"


def find_open(session: Session, token: str) -> PasswordReset | None:
    reset, state = find(session, token)
    return reset if state == "open" else None


def _issuer_still_may(session: Session, reset: PasswordReset) -> bool:
    """An admin's link works only while its issuer is still staff of an organization the
    person belongs to alone (they may have joined another since the link was issued)."""
    issuer = accounts.membership(session, reset.created_by_id)
    return issuer is not None and not accounts.belongs_elsewhere(
        session, issuer.organization_id, reset.user_id
    )


def complete(session: Session, actor: Actor, token: str, password: str) -> User:
    """Set the new password (validated), use up the link and end the user's sessions.

    ``NotFound`` when the link cannot be used, also when a second submission of the same
    form arrives while or after the first one uses it: the link is marked used by one
    conditional UPDATE, which only one of them can win.
    """
    reset = find_open(session, token)
    if reset is None:
        raise NotFound()
    user = session.get(User, reset.user_id)
    if user is None:
        raise NotFound()
    won = session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if won.rowcount != 1:
        raise NotFound()
    if actor.organization_id is None:
        actor = _in_their_organization(session, actor, user.id)
    # Raises ValidationFailed: the caller rolls back, and the link stays usable.
    accounts.set_password(session, actor, user, password)
    audit.record(
        session,
        actor,
        "password_reset.used",
        target_type="user",
        target_id=user.id,
        kind=reset.kind,
    )
    return user


def _in_their_organization(session: Session, actor: Actor, user_id: int) -> Actor:
    """An anonymous actor's audit rows about a staff member go to their organization's trail."""
    member = accounts.membership(session, user_id)
    return Actor(actor.user_id, actor.ip, member.organization_id if member else None)


def request_by_email(
    session: Session,
    actor: Actor,
    settings: email.SmtpSettings,
    address: str,
    link_for: Callable[[str], str],
) -> None:
    """A "forgot password" request: one email to ``address`` whatever the case.

    An active account gets a 30-minute link; an address without one (or of a closed
    account) gets a note saying so, so the person asking learns nothing on the page and
    the owner of the address learns that someone asked. Audited either way. Raises like
    ``email.send``: the caller rolls back, so no link exists that was not sent.
    """
    user = accounts.find_user_by_email(session, address)
    if user is not None and user.active:
        actor = _in_their_organization(session, actor, user.id)
        audit.record(
            session, actor, "password_reset.requested", target_type="user", target_id=user.id
        )
        _, token = issue(session, actor, user=user, kind=SELF)
        with force_locale(user.locale):  # the owner's language, not the asker's browser's
            subject = gettext("Choose a new Home Program password")
            body = gettext(
                "Someone (we hope you) asked to choose a new password for your Home Program "
                "account. Open this link within 30 minutes; it works once:\n\n%(link)s\n\n"
                "Choosing a new password signs you out on every device.\n\n"
                "If you did not ask for this, ignore this message: your password stays as it "
                "is.",
                link=link_for(token),
            )
        to = user.email
    else:
        audit.record(session, actor, "password_reset.requested", target_type="user")
        subject = gettext("Password request for Home Program")
        body = gettext(
            "Someone asked to choose a new password for a Home Program account with this "
            "email address, but no active account uses it. If it was you, perhaps you "
            "signed up or were invited with another address.\n\n"
            "If it was not you, you can ignore this message."
        )
        to = accounts.normalize_email(address)
    email.send(settings, to, subject, body)
