"""The lock that keeps a browser in "My turn" until a grown-up leaves it.

Starting "My turn" (a POST from the caregiver's set-up page) writes the lock into the
browser's session: the child, the caregiver signed in, and a sum (two two-digit numbers
that carry, e.g. 27 + 48) that a young child cannot answer. While it holds, every request
of that browser for anything but the locked child's "My turn" pages is sent back to them
(303; an htmx request gets ``HX-Redirect``): Today, other children, settings, messages,
``/`` (where the installed app starts) alike. What keeps working: the "I did it!" post
(``caregiver.log_done``, this child only), the JSON API (the offline queue replays through
it), static files, pictures and videos, the service worker, the manifest, the offline page,
push renewal and logout. Leaving needs the sum answered (``routes.leave``); a wrong answer
draws a new sum. Logging in or out clears the session, so the lock too; a lock whose user is
no longer signed in, or no longer the child's caregiver, is dropped.

Every non-static response to a locked browser carries ``X-HP-My-Turn: <the child's My turn
address>``. The service worker (static/js/sw.js) notes it: offline, while the last page it
saw from the server said "locked", it serves the kept "My turn" page instead of any other
kept page (Today...), so the lock holds without a connection too; the first HTML page
without the header (after the sum was answered) unlocks it.
"""

import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app, redirect, request, session, url_for
from flask_login import current_user

from homeprogram.auth import ANONYMOUS_ENDPOINTS
from homeprogram.blueprints.my_turn.blueprint import bp
from homeprogram.extensions import db
from homeprogram.services import access
from homeprogram.services.errors import NotFound

SESSION_KEY = "my_turn"
HEADER = "X-HP-My-Turn"
API_PREFIX = "/api/"

# Open to a locked browser, whatever the child: what the "My turn" pages load, and logout.
FREE_ENDPOINTS = frozenset(
    {
        "static",
        "core.healthz",
        "caregiver.service_worker",
        "caregiver.web_manifest",
        "caregiver.offline",
        "library.illustration",
        "library.picture",
        "media.video_file",
        "media.poster",
        "push.public_key",
        "push.renew",
        "auth.logout",
    }
)
# Open to a locked browser for the locked child only.
CHILD_ENDPOINTS = frozenset(
    {"my_turn.home", "my_turn.activity", "my_turn.leave", "caregiver.log_done"}
)


@dataclass(frozen=True)
class Lock:
    child_id: int
    user_id: int
    question: tuple[int, int]

    @property
    def answer(self) -> int:
        return self.question[0] + self.question[1]


def draw_question() -> tuple[int, int]:
    """Two numbers from 12 to 49 whose ones carry (27 + 48): beyond a young child."""
    while True:
        a, b = 12 + secrets.randbelow(38), 12 + secrets.randbelow(38)
        if a % 10 + b % 10 >= 10:
            return a, b


def _stored(lock: Lock) -> None:
    session[SESSION_KEY] = {
        "child": lock.child_id,
        "user": lock.user_id,
        "q": list(lock.question),
    }


def current() -> Lock | None:
    """The browser's lock, or None (also for a session value of another shape)."""
    raw: Any = session.get(SESSION_KEY)
    if not isinstance(raw, dict):
        return None
    child, user, question = raw.get("child"), raw.get("user"), raw.get("q")
    if not (isinstance(child, int) and isinstance(user, int) and isinstance(question, list)):
        return None
    if len(question) != 2 or not all(isinstance(n, int) for n in question):
        return None
    return Lock(child, user, (question[0], question[1]))


def start(child_id: int, user_id: int) -> Lock:
    lock = Lock(child_id, user_id, draw_question())
    _stored(lock)
    return lock


def new_question(lock: Lock) -> Lock:
    """Another sum (never the same one again: a guess does not get a second try)."""
    question = draw_question()
    while question == lock.question:
        question = draw_question()
    fresh = Lock(lock.child_id, lock.user_id, question)
    _stored(fresh)
    return fresh


def end() -> None:
    session.pop(SESSION_KEY, None)


def _still_theirs(lock: Lock) -> bool:
    if not current_user.is_authenticated or current_user.id != lock.user_id:
        return False
    try:
        access.child_access(db.session, lock.user_id, lock.child_id, access.FAMILY_ROLES)
    except NotFound:
        return False
    return True


def _back_to_my_turn(lock: Lock) -> Any:
    # A Done sent without JavaScript comes back to Today at its card: the child's screen
    # says "you did it" instead.
    done = request.endpoint == "caregiver.child_today" and "logs" in request.args
    target = url_for("my_turn.home", child_id=lock.child_id, done=1 if done else None)
    if request.headers.get("HX-Request"):
        # An XMLHttpRequest would follow a 303 and swap the page into a card: htmx
        # navigates on HX-Redirect instead.
        response = current_app.response_class(status=200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


@bp.before_app_request
def _stay_in_my_turn() -> Any:
    endpoint = request.endpoint
    if endpoint is None or endpoint in FREE_ENDPOINTS or request.path.startswith(API_PREFIX):
        return None
    lock = current()
    if lock is None:
        return None
    own_page = (
        endpoint in CHILD_ENDPOINTS
        and (request.view_args or {}).get("child_id") == lock.child_id
        and current_user.is_authenticated
        and current_user.id == lock.user_id
    )
    if own_page:
        return None
    if not _still_theirs(lock):
        end()  # signed out, another person, or no longer the child's caregiver
        return None
    return _back_to_my_turn(lock)


@bp.after_app_request
def _say_locked(response: Any) -> Any:
    if request.endpoint in ANONYMOUS_ENDPOINTS:
        return response  # files and the health check never open the session
    lock = current()
    if lock is not None and current_user.is_authenticated and current_user.id == lock.user_id:
        response.headers[HEADER] = url_for("my_turn.home", child_id=lock.child_id)
    return response
