"""Security headers (flask-talisman) and the API rate limit.

The policy allows scripts, styles, images and connections from our own origin only: no
inline script or style attribute anywhere (templates must keep it that way), no eval.
HSTS is sent only on HTTPS requests and only when ``HSTS_ENABLED``; plain HTTP is never
redirected (the local demo runs on http://127.0.0.1).

Behind ``TRUSTED_PROXIES`` TLS proxies, Werkzeug's ProxyFix takes the client's address and
scheme from the last that many X-Forwarded-For / X-Forwarded-Proto entries, for every
server (gunicorn, waitress, the test client): the audit trail, the rate limits and
``request.is_secure`` then see the client. With none trusted the headers count for nothing.
"""

import functools
import hashlib
from typing import Any

from flask import Flask, abort, current_app, g, render_template, request, session
from flask_babel import gettext
from flask_talisman import Talisman
from limits import RateLimitItem, parse
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from homeprogram.auth import ANONYMOUS_ENDPOINTS
from homeprogram.errors import problem
from homeprogram.extensions import limiter
from homeprogram.inputs import IdConverter

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:"],
    "font-src": "'self'",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}

API_PREFIX = "/api/"
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class _Talisman(Talisman):
    """Talisman, with each policy's header text built once instead of on every response
    (a nonce, were one configured, still makes it per request)."""

    def __init__(self) -> None:
        super().__init__()
        self._policy_text: dict[int, tuple[Any, str]] = {}

    def _parse_policy(self, policy: Any) -> str:
        if getattr(request, "csp_nonce", None):
            return super()._parse_policy(policy)
        cached = self._policy_text.get(id(policy))
        if cached is None or cached[0] is not policy:  # keyed by identity, kept alive here
            cached = (policy, super()._parse_policy(policy))
            self._policy_text[id(policy)] = cached
        return cached[1]


talisman = _Talisman()


def init_app(app: Flask) -> None:
    # Before any blueprint is registered: rules pick their converters when added.
    app.url_map.converters["int"] = IdConverter
    config = app.config
    proxies = config["TRUSTED_PROXIES"]
    if proxies:
        # Not X-Forwarded-Host: proxies pass Host itself, and one that does not overwrite
        # X-Forwarded-Host would let a client choose the host of the links we build.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    talisman.init_app(
        app,
        force_https=False,
        # Talisman believes any X-Forwarded-Proto header; ours trusts request.is_secure.
        strict_transport_security=False,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        # Talisman would otherwise force the cookie settings; ours come from config.py.
        session_cookie_secure=config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite=config["SESSION_COOKIE_SAMESITE"],
        permissions_policy={"camera": "()", "microphone": "()", "geolocation": "()"},
        x_xss_protection=False,  # obsolete header; CSP does the job
    )
    if config["HSTS_ENABLED"]:
        app.after_request(_strict_transport_security)
    _skip_limiter_on_anonymous_endpoints(app)
    app.before_request(_api_rate_limit)
    app.before_request(_refuse_nul)
    app.register_error_handler(OperationalError, _database_unavailable)


def _skip_limiter_on_anonymous_endpoints(app: Flask) -> None:
    """Flask-Limiter's per-request check, skipped for static files and the health check: no
    limit applies to them, and its own "static" exemption still resolves the view, walks
    the limits and evaluates an empty list on every request."""
    funcs = app.before_request_funcs.get(None, [])
    for i, func in enumerate(funcs):
        if getattr(func, "__self__", None) is limiter and func.__name__ == "_check_request_limit":
            funcs[i] = _unless_anonymous(func)


def _unless_anonymous(hook: Any) -> Any:
    @functools.wraps(hook)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if request.endpoint in ANONYMOUS_ENDPOINTS:
            return None
        return hook(*args, **kwargs)

    return wrapped


def _strict_transport_security(response: Response) -> Response:
    """HSTS on requests that came over https: directly, or as a trusted proxy says."""
    if request.is_secure:
        max_age = current_app.config["HSTS_MAX_AGE"]
        response.headers["Strict-Transport-Security"] = f"max-age={max_age}"
    return response


def _api_client_key() -> str:
    """Who is calling the API: the bearer token or signed-in session if any, else the IP."""
    authorization = request.headers.get("Authorization", "")
    if authorization:
        return "auth:" + hashlib.sha256(authorization.encode()).hexdigest()
    login_token = session.get("_user_id")
    if login_token:
        return "session:" + hashlib.sha256(str(login_token).encode()).hexdigest()
    return "ip:" + (request.remote_addr or "")


@functools.lru_cache(maxsize=8)
def _parse_limit(text: str) -> RateLimitItem:
    # Parsed once per setting rather than on every API request.
    return parse(text)


def _api_rate_limit() -> None:
    """One budget per caller over the whole API, in the limiter's storage (memory or Redis)."""
    if not request.path.startswith(API_PREFIX) or not current_app.config["RATELIMIT_ENABLED"]:
        return
    item = _parse_limit(current_app.config["API_RATE_LIMIT"])
    if not limiter.limiter.hit(item, "api", _api_client_key()):
        abort(429)


def _refuse_nul() -> None:
    """No text we store contains NUL; PostgreSQL refuses it with an error, so say 400 first."""
    # Parsed only where there is something to parse (a health check or asset has neither).
    fields = [*request.args.lists()] if request.query_string else []
    if request.mimetype in _FORM_TYPES:
        fields.extend(request.form.lists())
    if any("\x00" in value for _, values in fields for value in values):
        abort(400)
    if request.is_json:
        raw = request.get_data(cache=True)
        if b"\x00" in raw or b"\\u0000" in raw:
            abort(400)


def _database_unavailable(error: OperationalError) -> Any:
    """The database is down or restarting: say so (503, retry soon) instead of a 500."""
    current_app.logger.warning("database unavailable: %s", error.orig)
    # Render as anonymous: loading the signed-in user needs the database.
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    detail = gettext("The service is briefly unavailable. Please try again in a minute.")
    if request.path.startswith(API_PREFIX):
        response = problem(503, gettext("Service Unavailable"), detail)
    else:
        body = render_template(
            "error.html", status=503, title=gettext("Unavailable"), message=detail
        )
        response = current_app.make_response((body, 503))
    response.headers["Retry-After"] = "30"
    return response
