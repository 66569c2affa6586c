"""Flask-Login wiring: the signed-in user is a server-side session that can be ended."""

import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    flash,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_babel import gettext
from flask_login import AnonymousUserMixin, current_user
from werkzeug.wrappers import Request, Response

from homeprogram.extensions import db, htmx, login_manager
from homeprogram.services import access, accounts


@dataclass
class CurrentUser:
    """What views know of the signed-in user; built from a live ``UserSession``."""

    id: int
    name: str
    email: str
    locale: str
    timezone: str
    session_token: str
    organization_id: int | None
    org_role: str | None
    roles: set[str] = field(default_factory=set)

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_staff(self) -> bool:
        return self.organization_id is not None

    @property
    def is_admin(self) -> bool:
        return self.org_role == "admin"


class Anonymous(AnonymousUserMixin):
    id = None
    organization_id = None
    locale = "en"
    roles: frozenset[str] = frozenset()
    is_staff = False
    is_admin = False


def current_user_for(signed_in: accounts.SignedIn, session_token: str) -> CurrentUser:
    """What views know of a signed-in user: also used for bearer-token API requests."""
    return CurrentUser(
        id=signed_in.user_id,
        name=signed_in.name,
        email=signed_in.email,
        locale=signed_in.locale,
        timezone=signed_in.timezone,
        session_token=session_token,
        organization_id=signed_in.organization_id,
        org_role=signed_in.org_role,
        roles=access.roles_from(signed_in.care_roles, signed_in.org_role),
    )


def _load(token: str) -> CurrentUser | None:
    """Load the signed-in user on a connection of its own, before the view's session begins.

    On SQLite a POST's request session holds the write lock; keeping the user lookup (and
    the occasional last-seen update) out of it avoids waiting on ourselves.
    """
    config = current_app.config
    with db.reading() as connection:
        signed_in = accounts.load_session(
            connection,
            token,
            staff_timeout=timedelta(minutes=config["STAFF_IDLE_TIMEOUT_MINUTES"]),
            family_timeout=timedelta(minutes=config["FAMILY_IDLE_TIMEOUT_MINUTES"]),
        )
    if signed_in is None:
        if token:
            session.clear()
            session["_expired"] = True
        return None
    assert signed_in.login_id is not None and signed_in.last_seen_at is not None
    if accounts.needs_touch(signed_in.last_seen_at):
        with db.transaction() as w:
            accounts.touch_session(w, signed_in.login_id)
    return current_user_for(signed_in, token)


# Requests that need no signed-in user and no rate limit: static files and the health
# check. They skip the user lookup and the limiter; security headers (and HSTS where
# configured), Cache-Control and CSRF's rules apply to them as to any other request, and
# their responses never set the session cookie (``_SessionInterface``).
ANONYMOUS_ENDPOINTS = frozenset({"static", "core.healthz"})


def _load_user_first() -> None:
    # Resolve the user before any view opens the request session (see _load). A static
    # file needs no user: skipping it spares a session lookup per asset a page revalidates.
    if request.endpoint in ANONYMOUS_ENDPOINTS:
        return
    current_user._get_current_object()


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, re-sent to slide its expiry at most once a minute.

    Flask re-signs a permanent session into every response. The cookie outlives the
    longest idle timeout by design (the server-side ``UserSession`` decides), so sliding
    its expiry once a minute is as good, and spares signing and about 450 bytes on the
    other responses. Static files never carry it: the page they belong to does.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        # A request that came over https (behind a trusted TLS proxy too) gets a Secure cookie.
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        # No cookie (an anonymous health check, a first visit): an empty session, without
        # building the signing serializer Flask would build for every request. An empty,
        # unmodified session is never saved, so no Set-Cookie.
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # Empty and unchanged (a health check, an asset, a first visit): Flask would work out
        # the cookie's name, domain, path and flags only to set nothing.
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if not session.permanent or request.endpoint == "static":
            return session.modified
        minute = int(time.time()) // 60
        if session.get("_renewed") == minute:
            return session.modified
        session["_renewed"] = minute
        return True


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site (never another host), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_url(user: CurrentUser) -> str:
    if user.is_staff:
        return url_for("progress.dashboard")
    if "caregiver" in user.roles:
        return url_for("caregiver.today")
    if "teacher" in user.roles:
        return url_for("teacher.students")
    return url_for("auth.welcome")


def _unauthorized() -> Response:
    if session.pop("_expired", False):
        flash(
            gettext("You were signed out after a period of inactivity. Please log in again."),
            "info",
        )
    if htmx:
        # A redirect would be followed inside the request and the login page swapped into
        # the part of the page being updated: have the browser open it instead, then come
        # back to the page the person was on.
        here = urlsplit(htmx.current_url or "")
        back = here.path + (f"?{here.query}" if here.query else "") if here.path else None
        response = Response(status=401)
        response.headers["HX-Redirect"] = url_for("auth.login", next=back)
        return response
    return redirect(
        url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    )


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(_load)
    login_manager.anonymous_user = Anonymous
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.session_protection = None  # sessions are server-side and revocable
    app.before_request(_load_user_first)
    app.session_interface = _SessionInterface()
