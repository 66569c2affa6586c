"""Users for ``bench/load.py`` (which starts locust with this file; not meant to run alone).

The accounts come from the JSON file named by ``HP_BENCH_ACCOUNTS``, written by load.py
after seeding: each caregiver user takes its own family, each therapist user its own login.

Pages count as answered only with their content (the family's child on today, a child of
the caseload on the dashboard), never a login page. A share (``HP_BENCH_REPEAT``) of the
posts sends again a log the user already sent, as the offline queue retries: the answer
must be 200 with the same log, and no new row. Every post's outcome is written to the file
named by ``HP_BENCH_TALLY`` when the run stops, for load.py to compare with the rows the
database holds.
"""

import itertools
import json
import os
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

ACCOUNTS: dict[str, Any] = json.loads(open(os.environ["HP_BENCH_ACCOUNTS"]).read())  # noqa: SIM115
WAIT = float(os.environ.get("HP_BENCH_WAIT", "0"))
REPEAT = float(os.environ.get("HP_BENCH_REPEAT", "0"))
TALLY = os.environ.get("HP_BENCH_TALLY")
LOGIN_FORM = 'name="password"'
# The server may run on a pinned clock (HOMEPROGRAM_NOW): logs are sent for its "now".
_PINNED = os.environ.get("HOMEPROGRAM_NOW")
CLOCK_OFFSET = (
    datetime.fromisoformat(_PINNED.replace("Z", "+00:00")) - datetime.now(UTC)
    if _PINNED
    else timedelta(0)
)
_families = itertools.cycle(ACCOUNTS["caregivers"])
_therapists = itertools.cycle(ACCOUNTS["therapists"])
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


_signed_in = 0
# Every post's outcome, whatever locust's statistics reset: client_id -> answer.
_created: dict[str, int] = {}  # answered 201: client_id -> log id
_doubtful: set[str] = set()  # sent, no 201 (yet): the row may or may not exist
_repeats = {"answered": 0, "same log": 0}
_pages = {"loaded": 0, "without content": 0}


@events.test_stop.add_listener
def _write_tally(**_kwargs: Any) -> None:
    if TALLY:
        with open(TALLY, "w") as out:
            json.dump(
                {
                    "created": _created,
                    "doubtful": sorted(_doubtful),
                    "repeats": _repeats,
                    "pages": _pages,
                },
                out,
            )


def _measure_from_here(user: FastHttpUser) -> None:
    """Start the figures once the last user has signed in and warmed up.

    locust's ``--reset-stats`` resets them when the last user is started, while logins
    (argon2id, on purpose slow) still run: the first seconds' requests would queue behind
    them and count. If a login fails, nothing is reset and its error stays counted.
    """
    global _signed_in
    _signed_in += 1  # gevent: no other user runs between these lines
    runner = user.environment.runner
    if runner is not None and _signed_in == runner.target_user_count:
        user.environment.stats.reset_all()


class _LoggedIn(FastHttpUser):
    abstract = True
    # Think time varies around WAIT, as people's does: a constant one keeps users in step,
    # all hitting the server in the same instant.
    wait_time = between(WAIT * 0.5, WAIT * 1.5)
    csrf = ""

    def log_in(self, email: str) -> None:
        page = self.client.get("/login", name="login")
        token = _CSRF.search(page.text or "")
        form = {"email": email, "password": ACCOUNTS["password"]}
        if token:
            form["csrf_token"] = token.group(1)
        with self.client.post(
            "/login", data=form, name="login", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"login as {email} answered {response.status_code}")
                raise StopUser()

    def remember_csrf(self, html: str) -> None:
        token = _CSRF.search(html or "")
        if token:
            self.csrf = token.group(1)


class Caregiver(_LoggedIn):
    """Opens today and logs sessions through the JSON API, like the phone's one-tap button."""

    weight = 3

    def on_start(self) -> None:
        self.family = next(_families)
        self.sent: list[dict[str, Any]] = []  # logs answered 201, for repeats
        self.log_in(self.family["email"])
        self.remember_csrf(self.client.get("/today", name="warm-up").text)
        _measure_from_here(self)

    @task(1)
    def load_today(self) -> None:
        with self.client.get("/today", name="GET /today", catch_response=True) as response:
            check_page(response, self.family["child"])
            self.remember_csrf(response.text)

    @task(2)
    def post_log(self) -> None:
        post_log(self)


class PostingCaregiver(_LoggedIn):
    """Only posts logs: the throughput of the write path alone."""

    def on_start(self) -> None:
        self.family = next(_families)
        self.sent: list[dict[str, Any]] = []  # logs answered 201, for repeats
        self.log_in(self.family["email"])
        self.remember_csrf(self.client.get("/today", name="warm-up").text)
        _measure_from_here(self)

    @task
    def post_log(self) -> None:
        post_log(self)


class Therapist(_LoggedIn):
    """Opens the dashboard (caseload adherence)."""

    weight = 1

    def on_start(self) -> None:
        self.therapist = next(_therapists)
        self.log_in(self.therapist["email"])
        self.client.get(ACCOUNTS["dashboard_path"], name="warm-up")
        _measure_from_here(self)

    @task
    def load_dashboard(self) -> None:
        path = ACCOUNTS["dashboard_path"]
        with self.client.get(path, name=f"GET {path}", catch_response=True) as response:
            check_page(response, self.therapist["child"])


class Hello(FastHttpUser):
    """The bare Flask app: the ceiling of this machine, server and client."""

    wait_time = between(WAIT * 0.5, WAIT * 1.5)

    @task
    def hello(self) -> None:
        self.client.get("/", name="GET / (hello)")


def check_page(response: Any, expected: str) -> None:
    """A page counts only when it shows its content, not a login page or an error."""
    text = response.text or ""
    _pages["loaded"] += 1
    if response.status_code != 200:
        _pages["without content"] += 1
        response.failure(f"{response.status_code}: {text[:200]}")
    elif LOGIN_FORM in text or expected not in text:
        _pages["without content"] += 1
        response.failure(f"answered without its content ({expected!r} missing): {text[:200]}")


def post_log(user: Any) -> None:
    """Post a new log or, for a share of the posts, send one already sent again."""
    sent: list[dict[str, Any]] = user.sent
    if sent and random.random() < REPEAT:
        post_again(user, random.choice(sent))
        return
    assignment_id = user.family["assignment_ids"][
        uuid.uuid4().int % len(user.family["assignment_ids"])
    ]
    body = {
        "client_id": str(uuid.uuid4()),
        "assignment_id": assignment_id,
        "occurred_at": (datetime.now(UTC) + CLOCK_OFFSET).isoformat(),
        "minutes": 5,
        "response": "just_right",
    }
    _doubtful.add(body["client_id"])  # until answered: the run may stop in the middle
    with user.client.post(
        "/api/v1/logs",
        json=body,
        headers={"X-CSRFToken": user.csrf},
        name="POST /api/v1/logs",
        catch_response=True,
    ) as response:
        if response.status_code == 201:
            _doubtful.discard(body["client_id"])
            _created[body["client_id"]] = response.json()["id"]
            sent.append(body)
            del sent[:-20]  # the offline queue retries recent logs
        else:
            response.failure(f"{response.status_code}: {(response.text or '')[:200]}")


def post_again(user: Any, body: dict[str, Any]) -> None:
    """The idempotent path: the same body again answers 200 with the log first stored."""
    with user.client.post(
        "/api/v1/logs",
        json=body,
        headers={"X-CSRFToken": user.csrf},
        name="POST /api/v1/logs (repeat)",
        catch_response=True,
    ) as response:
        _repeats["answered"] += response.status_code == 200
        if response.status_code != 200:
            response.failure(f"repeat: {response.status_code}: {(response.text or '')[:200]}")
        elif response.json()["id"] != _created[body["client_id"]]:
            response.failure(f"repeat answered another log than {_created[body['client_id']]}")
        else:
            _repeats["same log"] += 1
