"""Passkeys (WebAuthn): ceremonies, the credentials a person keeps, the organization's policy.

Plain functions over a session and plain values; the web layer supplies the relying party
(host name and origin) and keeps only a challenge's handle in the cookie. A challenge is
stored here, used once (its row is deleted when it is checked) and expires in minutes.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import gettext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from homeprogram.models import Organization, OrgMembership, User
from homeprogram.models.base import utcnow
from homeprogram.models.passkeys import Passkey, PasskeyChallenge
from homeprogram.services import audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed

CHALLENGE_LIFETIME = timedelta(minutes=5)
TIMEOUT_MS = 120_000
NAME_MAX = 60
POLICIES = ("none", "second_factor", "required")
# Purposes of a challenge: registering from the account page, the passkey sign-in, and the
# step after a password under the organization's policy (assert, or enrol a first one).
REGISTER, SIGN_IN, SECOND_FACTOR, ENROL = "register", "sign_in", "second", "enrol"
_TRANSPORTS = {t.value: t for t in AuthenticatorTransport}


@dataclass(frozen=True)
class RelyingParty:
    id: str  # a host name, never an IP address (browsers refuse those)
    origin: str  # scheme://host[:port], as the browser reports it
    name: str = "homeprogram"


@dataclass(frozen=True)
class Options:
    """What the browser needs (JSON) and the handle the cookie keeps."""

    json: str
    handle: str


class CeremonyFailed(Exception):
    """The browser's answer is not a valid, fresh response to our challenge."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def user_handle(secret_key: str, user_id: int) -> bytes:
    """The WebAuthn user handle: stable per account, revealing nothing about it."""
    return hmac.new(
        secret_key.encode(), f"webauthn-user:{user_id}".encode(), hashlib.sha256
    ).digest()


# --- challenges -------------------------------------------------------------------------


def _store_challenge(session: Session, challenge: bytes, purpose: str, user_id: int | None) -> str:
    now = utcnow()
    session.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at <= now))
    handle = secrets.token_urlsafe(32)
    session.add(
        PasskeyChallenge(
            handle=handle,
            challenge=challenge,
            purpose=purpose,
            user_id=user_id,
            expires_at=now + CHALLENGE_LIFETIME,
        )
    )
    session.flush()
    return handle


def _use_challenge(
    session: Session, handle: str | None, purpose: str, user_id: int | None
) -> bytes:
    """The challenge behind ``handle``, deleted as it is read: a second use finds nothing."""
    if not handle:
        raise CeremonyFailed("no challenge")
    row = session.scalar(select(PasskeyChallenge).where(PasskeyChallenge.handle == handle))
    if row is None:
        raise CeremonyFailed("unknown or used challenge")
    claimed = session.execute(delete(PasskeyChallenge).where(PasskeyChallenge.id == row.id))
    if claimed.rowcount != 1:
        raise CeremonyFailed("challenge used concurrently")
    if row.purpose != purpose or row.user_id != user_id or row.expires_at <= utcnow():
        raise CeremonyFailed("challenge for another ceremony, or expired")
    return row.challenge


# --- registration -----------------------------------------------------------------------


def passkeys_of(session: Session, user_id: int) -> list[Passkey]:
    return list(
        session.scalars(
            select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)
        )
    )


def count_for(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count(Passkey.id)).where(Passkey.user_id == user_id)) or 0


def _descriptors(keys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(key.credential_id),
            transports=[_TRANSPORTS[t] for t in key.transports.split(",") if t in _TRANSPORTS]
            or None,
        )
        for key in keys
    ]


def registration_options(
    session: Session, rp: RelyingParty, user: User, secret_key: str, *, purpose: str = REGISTER
) -> Options:
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=user.email,
        user_display_name=user.name,
        user_id=user_handle(secret_key, user.id),
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(passkeys_of(session, user.id)),
    )
    handle = _store_challenge(session, options.challenge, purpose, user.id)
    return Options(options_to_json(options), handle)


def _clean_name(name: str | None, number: int) -> str:
    name = " ".join((name or "").split())
    if len(name) > NAME_MAX:
        raise ValidationFailed({"name": gettext("Use at most %(num)d characters.", num=NAME_MAX)})
    return name or gettext("Passkey %(num)d", num=number)


def register(
    session: Session,
    actor: Actor,
    rp: RelyingParty,
    user: User,
    *,
    handle: str | None,
    credential: Any,
    name: str | None,
    secret_key: str,
    purpose: str = REGISTER,
) -> Passkey:
    """Check the browser's answer to our registration options and keep the new passkey."""
    name = _clean_name(name, count_for(session, user.id) + 1)
    challenge = _use_challenge(session, handle, purpose, user.id)
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise CeremonyFailed(str(error)) from error
    credential_id = _b64url(verified.credential_id)
    if session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise CeremonyFailed("credential already registered")
    transports = [str(getattr(t, "value", t)) for t in (parsed.response.transports or [])]
    key = Passkey(
        user_id=user.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        user_handle=user_handle(secret_key, user.id),
        sign_count=verified.sign_count,
        transports=",".join(t for t in transports if t in _TRANSPORTS),
        name=name,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor,
        "passkey.registered",
        target_type="user",
        target_id=user.id,
        passkey_id=key.id,
        name=key.name,
    )
    return key


# --- sign-in ----------------------------------------------------------------------------


def sign_in_options(session: Session, rp: RelyingParty, *, user_id: int | None = None) -> Options:
    """Options for ``navigator.credentials.get``: any passkey of this site (discoverable),
    or, for the step after a password, one of that person's passkeys."""
    allow = _descriptors(passkeys_of(session, user_id)) if user_id is not None else []
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=allow,
        user_verification=(
            UserVerificationRequirement.REQUIRED
            if user_id is None
            else UserVerificationRequirement.PREFERRED
        ),
    )
    purpose = SIGN_IN if user_id is None else SECOND_FACTOR
    handle = _store_challenge(session, options.challenge, purpose, user_id)
    return Options(options_to_json(options), handle)


def authenticate(
    session: Session,
    actor: Actor,
    rp: RelyingParty,
    *,
    handle: str | None,
    credential: Any,
    user_id: int | None = None,
) -> User:
    """The account a passkey assertion proves, after every check; failures are audited.

    ``user_id`` set: the step after that person's password (their passkey, any verification).
    Unset: a sign-in with the passkey alone, which must have verified the person (PIN,
    fingerprint, face): possession and verification make it multi-factor by itself.
    """
    purpose = SIGN_IN if user_id is None else SECOND_FACTOR
    key: Passkey | None = None
    try:
        challenge = _use_challenge(session, handle, purpose, user_id)
        if not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
            raise CeremonyFailed("malformed credential")
        key = session.scalar(select(Passkey).where(Passkey.credential_id == credential["id"]))
        if key is None or (user_id is not None and key.user_id != user_id):
            raise CeremonyFailed("unknown passkey")
        returned_handle = (credential.get("response") or {}).get("userHandle")
        if returned_handle and returned_handle != _b64url(key.user_handle):
            raise CeremonyFailed("user handle does not match")
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp.id,
                expected_origin=rp.origin,
                credential_public_key=key.public_key,
                credential_current_sign_count=key.sign_count,
                require_user_verification=user_id is None,
            )
        except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as error:
            raise CeremonyFailed(str(error)) from error
        if not key.user.active:
            raise CeremonyFailed("account closed")
    except CeremonyFailed as failed:
        audit.record(
            session,
            actor,
            "login.failed",
            target_type="user",
            target_id=key.user_id if key is not None else user_id,
            method="passkey",
            reason=str(failed)[:200],
        )
        raise
    key.sign_count = verified.new_sign_count
    key.last_used_at = utcnow()
    audit.record(
        session,
        actor,
        "passkey.used",
        target_type="user",
        target_id=key.user_id,
        passkey_id=key.id,
    )
    return key.user


# --- managing one's passkeys ------------------------------------------------------------


def _own(session: Session, user_id: int, passkey_id: int) -> Passkey:
    key = session.get(Passkey, passkey_id)
    if key is None or key.user_id != user_id:
        raise NotFound()
    return key


def rename(session: Session, actor: Actor, user_id: int, passkey_id: int, name: str) -> Passkey:
    key = _own(session, user_id, passkey_id)
    if not " ".join((name or "").split()):
        raise ValidationFailed({"name": gettext("Enter a name for this passkey.")})
    key.name = _clean_name(name, 0)
    audit.record(
        session,
        actor,
        "passkey.renamed",
        target_type="user",
        target_id=user_id,
        passkey_id=key.id,
        name=key.name,
    )
    return key


def remove(session: Session, actor: Actor, user_id: int, passkey_id: int) -> None:
    """Remove a passkey, unless the account's sign-in depends on it (the organization's
    policy asks for a passkey and this is the last one)."""
    key = _own(session, user_id, passkey_id)
    if policy_for(session, user_id) != "none" and count_for(session, user_id) <= 1:
        raise ValidationFailed(
            {
                "passkey": gettext(
                    "Your organization asks you to sign in with a passkey: add another "
                    "passkey before you remove this one."
                )
            }
        )
    session.delete(key)
    audit.record(
        session,
        actor,
        "passkey.removed",
        target_type="user",
        target_id=user_id,
        passkey_id=passkey_id,
        name=key.name,
    )


# --- the organization's policy ----------------------------------------------------------


def policy_for(session: Session, user_id: int) -> str:
    """The passkey policy that applies to this person: their organization's, if staff."""
    policy = session.scalar(
        select(Organization.passkey_policy)
        .join(OrgMembership, OrgMembership.organization_id == Organization.id)
        .where(OrgMembership.user_id == user_id, OrgMembership.active)
    )
    return policy or "none"


def set_policy(session: Session, actor: Actor, organization_id: int, policy: str) -> Organization:
    if policy not in POLICIES:
        raise ValidationFailed({"policy": gettext("Choose one of the options.")})
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound()
    if org.passkey_policy != policy:
        audit.record(
            session,
            actor,
            "org.passkey_policy_set",
            organization_id=organization_id,
            target_type="org",
            target_id=organization_id,
            old=org.passkey_policy,
            new=policy,
        )
        org.passkey_policy = policy
    return org


def step_after_password(session: Session, user_id: int) -> str | None:
    """What a correct password leads to: None (signed in), "refused" (passkey only),
    "second" (assert a passkey next) or "enrol" (create a first passkey next)."""
    policy = policy_for(session, user_id)
    if policy == "none":
        return None
    has_passkey = count_for(session, user_id) > 0
    if not has_passkey:
        return ENROL
    return "refused" if policy == "required" else SECOND_FACTOR
