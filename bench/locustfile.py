"""Users for ``bench/load.py`` (which starts locust with this file; not meant to run alone).

The accounts come from the JSON file named by ``HP_BENCH_ACCOUNTS``, written by load.py
after seeding: each caregiver user takes its own family, each therapist user its own login.
"""

import itertools
import json
import os
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from locust import FastHttpUser, between, task
from locust.exception import StopUser

ACCOUNTS: dict[str, Any] = json.loads(open(os.environ["HP_BENCH_ACCOUNTS"]).read())  # noqa: SIM115
WAIT = float(os.environ.get("HP_BENCH_WAIT", "0"))
_families = itertools.cycle(ACCOUNTS["caregivers"])
_therapists = itertools.cycle(ACCOUNTS["therapists"])
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


_signed_in = 0


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
        self.log_in(self.family["email"])
        self.remember_csrf(self.client.get("/today", name="warm-up").text)
        _measure_from_here(self)

    @task(1)
    def load_today(self) -> None:
        response = self.client.get("/today", name="GET /today")
        self.remember_csrf(response.text)

    @task(2)
    def post_log(self) -> None:
        post_log(self)


class PostingCaregiver(_LoggedIn):
    """Only posts logs: the throughput of the write path alone."""

    def on_start(self) -> None:
        self.family = next(_families)
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
        self.log_in(next(_therapists))
        self.client.get(ACCOUNTS["dashboard_path"], name="warm-up")
        _measure_from_here(self)

    @task
    def load_dashboard(self) -> None:
        self.client.get(ACCOUNTS["dashboard_path"], name=f"GET {ACCOUNTS['dashboard_path']}")


class Hello(FastHttpUser):
    """The bare Flask app: the ceiling of this machine, server and client."""

    wait_time = between(WAIT * 0.5, WAIT * 1.5)

    @task
    def hello(self) -> None:
        self.client.get("/", name="GET / (hello)")


def post_log(user: Any) -> None:
    assignment_id = user.family["assignment_ids"][
        uuid.uuid4().int % len(user.family["assignment_ids"])
    ]
    body = {
        "client_id": str(uuid.uuid4()),
        "assignment_id": assignment_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "minutes": 5,
        "response": "just_right",
    }
    with user.client.post(
        "/api/v1/logs",
        json=body,
        headers={"X-CSRFToken": user.csrf},
        name="POST /api/v1/logs",
        catch_response=True,
    ) as response:
        if response.status_code != 201:
            response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
