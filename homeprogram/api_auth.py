"""Authentication and problem details for every ``/api/v1`` blueprint.

An API view is decorated with ``api_login_required``: the caller is either a personal
bearer token (``Authorization: Bearer hp_...``, exempt from CSRF because a browser never
sends it by itself) or the browser's session cookie (unsafe methods then need the
``X-CSRFToken`` header, exactly as htmx requests do). Inside the view ``current_user``,
``web.actor()`` and ``web.child_or_404`` work as in page views; ``g.api_auth`` says which
of the two it was. Service errors raised in the view become problem responses
(``ValidationFailed`` 422, ``NotFound`` 404, ``Conflict`` 409) and roll the session back.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

from flask import abort, g, request
from flask_login import current_user

from homeprogram.auth import CurrentUser, current_user_for
from homeprogram.errors import problem
from homeprogram.extensions import csrf, db
from homeprogram.services import tokens
from homeprogram.services.errors import Conflict, NotFound, ValidationFailed

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def unauthorized(detail: str = "Log in or send a personal API token.") -> Any:
    response = problem(401, "Unauthorized", detail)
    response.headers["WWW-Authenticate"] = 'Bearer realm="homeprogram"'
    return response


def validation_problem(errors: dict[str, str], status: int = 422) -> Any:
    """Field messages in an ``errors`` member, as the forms show them next to fields."""
    return problem(status, "Invalid input", "Some fields are not valid.", errors=errors)


def not_found() -> Any:
    return problem(404, "Not Found", "Nothing here, or not visible to you.")


def conflict(detail: str) -> Any:
    return problem(409, "Conflict", detail)


def abort_problem(response: Any) -> NoReturn:
    """Stop the view with a ready problem response (``abort`` passes it through as is)."""
    abort(response)


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 problem."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort_problem(
            problem(400, "Bad Request", "Send a JSON object (Content-Type: application/json).")
        )
    return data


def _token_user(plain: str) -> CurrentUser | None:
    """The bearer token's user, read in one query in the request's own session (its
    transaction: a POST's is the write transaction the view commits).

    The token's last use is written at most once a minute (``tokens.needs_touch``): for
    unsafe methods in the request's transaction, committed with the view's work (a request
    that fails leaves it to the next one); for reads in a short transaction of its own, so
    a GET's session stays a read.
    """
    s = db.session
    found = tokens.resolve_signed_in(s, plain)
    if found is None:
        return None
    signed_in, token_id, last_used_at = found
    if tokens.needs_touch(last_used_at):
        if request.method in UNSAFE_METHODS:
            tokens.touch(s, token_id)
        else:
            with db.transaction() as w:
                tokens.touch(w, token_id)
    return current_user_for(signed_in, session_token="")


def api_login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                return unauthorized("Use the header 'Authorization: Bearer <token>'.")
            user = _token_user(value.strip())
            if user is None:
                return unauthorized("The token is unknown or was revoked.")
            g._login_user = user  # Flask-Login's current_user for this request only
            g.api_auth = "token"
        elif current_user.is_authenticated:
            g.api_auth = "session"
            if request.method in UNSAFE_METHODS:
                csrf.protect()  # raises CSRFError, answered as a 400 problem
        else:
            return unauthorized()
        try:
            return view(*args, **kwargs)
        except ValidationFailed as failed:
            db.session.rollback()
            return validation_problem(failed.errors)
        except NotFound:
            db.session.rollback()
            return not_found()
        except Conflict as error:
            db.session.rollback()
            return conflict(str(error) or "The request conflicts with the stored data.")

    # CSRF is checked above for cookie sessions only; bearer tokens need none.
    csrf.exempt(wrapped)
    return wrapped
