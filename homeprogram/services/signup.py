"""Sign-up by email: every request gets the same answer, the account waits for the link.

A sign-up request sends one email and changes nothing: a new address gets a confirmation
link, an address that already has an account gets a note that someone tried to sign up
with it. The organization and account are created only when the link is followed and a
password chosen. The link is a signed token (the app's secret key) carrying the request
and the time it was made, so there is nothing to store; it works once, since the address
then has an account.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from homeprogram.models import User
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, email, validation
from homeprogram.services.audit import Actor
from homeprogram.services.errors import ValidationFailed

VALID_FOR = timedelta(hours=24)
_SALT = "homeprogram.signup-confirm"


@dataclass(frozen=True)
class PendingSignup:
    org_name: str
    name: str
    email: str
    timezone: str


def check(pending: PendingSignup) -> None:
    """Field errors a person can fix; never whether the address has an account."""
    errors: dict[str, str] = {}
    if not pending.org_name.strip():
        errors["org_name"] = gettext("Enter the name of your clinic or school team.")
    if not pending.name.strip():
        errors["name"] = gettext("Enter your name.")
    if problem := validation.email_problem(pending.email):
        errors["email"] = problem
    if problem := validation.timezone_problem(pending.timezone):
        errors["timezone"] = problem
    if errors:
        raise ValidationFailed(errors)


def make_token(secret: str, pending: PendingSignup) -> str:
    payload = {**asdict(pending), "email": accounts.normalize_email(pending.email)}
    return URLSafeSerializer(secret, salt=_SALT).dumps({**payload, "at": utcnow().isoformat()})


def read_token(secret: str, token: str) -> PendingSignup | None:
    """The request a link carries, or None when it is forged, malformed or expired."""
    try:
        data = URLSafeSerializer(secret, salt=_SALT).loads(token)
        made = datetime.fromisoformat(data.pop("at"))
        pending = PendingSignup(**data)
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return None
    if made + VALID_FOR <= utcnow():
        return None
    return pending


def send_request_email(
    session: Session,
    settings: email.SmtpSettings,
    pending: PendingSignup,
    confirm_url: Callable[[str], str],
    secret: str,
) -> None:
    """The one email a sign-up request sends (raises on SMTP failure, like ``email.send``)."""
    if accounts.find_user_by_email(session, pending.email) is not None:
        subject = gettext("Someone tried to sign up with your email")
        body = gettext(
            "Someone asked to create a Home Program account with this email address, which "
            "already has one. Nothing was changed. If it was you, log in instead; if you "
            "forgot your password, ask your organization's administrator.\n\n"
            "If it was not you, you can ignore this message."
        )
    else:
        link = confirm_url(make_token(secret, pending))
        subject = gettext("Confirm your Home Program sign-up")
        body = gettext(
            "To finish creating %(org)s on Home Program, open this link within 24 hours and "
            "choose your password:\n\n%(link)s\n\n"
            "If you did not ask for this, ignore this message: nothing is created.",
            org=pending.org_name.strip(),
            link=link,
        )
    email.send(settings, accounts.normalize_email(pending.email), subject, body)


def complete(session: Session, actor: Actor, pending: PendingSignup, password: str) -> User:
    """Create the organization and its admin from a followed link (ValidationFailed when
    the password is refused or the address has an account by now)."""
    return accounts.sign_up_therapist(
        session,
        actor,
        org_name=pending.org_name,
        name=pending.name,
        email=pending.email,
        password=password,
        timezone=pending.timezone,
    )
