"""Sign-ins of staff from a browser they have not used before ("new device").

Each browser carries a long-lived random device cookie (set at sign-in, see
``blueprints/auth/devices.py``); per staff member (therapist, admin or teacher) only its
SHA-256 is kept. A sign-in whose cookie this person has not signed in with before is
marked on the session (``UserSession.new_device``), shown on their sessions page, where
they can end it, and audited (``login.new_device``). The account's very first sign-in is
remembered without the mark: there is nothing yet to compare it with.
"""

import re
import secrets

from flask_babel import gettext
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from homeprogram.models import CareRole, CareTeamMember, KnownDevice, OrgMembership, UserSession
from homeprogram.services import audit, claims
from homeprogram.services.audit import Actor
from homeprogram.services.invites import hash_token

_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid_token(value: str | None) -> bool:
    """Whether a cookie value is one we could have made (anything else is replaced)."""
    return bool(value and _TOKEN.fullmatch(value))


def is_staff(session: Session, user_id: int) -> bool:
    """Therapists and admins (an active staff membership) and teachers (on a care team)."""
    member = exists().where(OrgMembership.user_id == user_id, OrgMembership.active)
    teacher = exists().where(
        CareTeamMember.user_id == user_id, CareTeamMember.role == CareRole.TEACHER.value
    )
    return bool(session.scalar(select(member | teacher)))


def note_sign_in(
    session: Session, actor: Actor, *, login: UserSession, device_token: str
) -> bool | None:
    """Remember the browser of a staff member's new session; mark and audit it when it is
    new to them. Returns None for someone who is not staff (nothing is stored), else
    whether the session was marked as a new device."""
    if not is_staff(session, login.user_id):
        return None
    inserted = claims.claim(
        session,
        KnownDevice,
        [{"user_id": login.user_id, "token_hash": hash_token(device_token)}],
        key=("user_id", "token_hash"),
    )
    if not inserted:
        return False
    earlier = session.scalar(
        select(exists().where(UserSession.user_id == login.user_id, UserSession.id != login.id))
    )
    if not earlier:
        return False
    login.new_device = True
    audit.record(
        session,
        actor,
        "login.new_device",
        target_type="user",
        target_id=login.user_id,
        session_id=login.id,
    )
    return True


_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def summary(user_agent: str | None) -> str | None:
    """A summary such as "Firefox on Windows" of a User-Agent header (None: nothing known)."""
    if not user_agent:
        return None
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return gettext("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system
