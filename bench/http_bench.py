"""HTTP benchmark with wrk: homeprogram's busiest requests beside a bare Flask app (issue 22).

    python bench/http_bench.py                        # 4 workers, wrk -t2 -c16 -d15s per endpoint
    nice -n 10 python bench/http_bench.py --duration 3 --connections 8

Needs wrk (Debian: ``sudo apt-get install -y wrk``; the script says so when it is missing)
and, for the rate limiter, Redis on 127.0.0.1:6379 (``--ratelimit-storage``), as README
recommends for several workers. Rate limits stay on: the API budget of each caller is
raised to ``--api-budget`` (wrk posts far faster than a person), the login limits are
relaxed (the benchmark signs in from 127.0.0.1); nothing is switched off.

The bare app (``bench/hello.py``) and the app are served by gunicorn with the same sync
worker count and ``--preload``, on a loopback port the kernel picks, one after the other,
and wrk loads each endpoint for ``--duration`` seconds:

- ``GET /healthz`` and a static file, anonymous;
- caregiver ``GET /today`` (4 activities, 3 logs today), with the session cookie;
- ``POST /api/v1/logs`` with a bearer token, and with the session cookie (and its CSRF
  header), each post a new log (its own client id).

It prints requests/s, p50 and p99 per endpoint and the ratio to the bare app's requests/s
measured in the same run, before and after the app (the mean; the figure that counts on a
shared machine, where the two runs' spread shows how much the load moved), then checks what
the answers claim: every page answered with its content (the child's Today, not a login
page), the rows the posts wrote are exactly the 201 answers, and each worker's resident
memory after the run. It exits 1 when a check fails or a target is missed (``--no-targets``
keeps the checks only), 2 when wrk or Redis is missing.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import load  # bench/load.py: gunicorn(), the rate-limit settings' defaults
import load_checks  # bench/load_checks.py
import shutdown  # bench/shutdown.py

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

PASSWORD = load.PASSWORD
STATIC_FILE = "/static/css/app.css"
# The targets: ratio of requests/s to the bare app's in the same run.
TARGETS = {
    "GET /healthz": 0.6,
    f"GET {STATIC_FILE}": 0.6,
    "GET /today": 0.15,
    "POST /api/v1/logs (bearer)": 0.25,
    "POST /api/v1/logs (session)": 0.25,
}
TARGET_RSS_MB = 120.0
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')

# wrk's Lua side: one request shape per run, answers tallied per thread and printed once
# as JSON. A post's client id is unique per thread and request (the thread's id from the
# setup, a counter) and run, so every post is a new log.
LUA = r"""
local counter = 0
local threads = {}
local started = 0
local method, path, body_tpl = %(method)s, %(path)s, %(body)s
local expect, needle = %(expect)d, %(needle)s
local run = %(run)s  -- 8 hex digits of this wrk run: ids never repeat another run's
local extra_headers = %(headers)s

function setup(thread)
  started = started + 1
  thread:set("tid", started)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = method
  for k, v in pairs(extra_headers) do wrk.headers[k] = v end
  answered = 0
  other = 0
  without = 0
  seen = 0
end

function request()
  counter = counter + 1
  if body_tpl ~= "" then
    local id = string.format("%%s-%%04x-4000-8000-%%012x", run, tid, counter)
    return wrk.format(method, path, nil, string.format(body_tpl, id))
  end
  return wrk.format(method, path)
end

function response(status, headers, body)
  if status == expect then
    answered = answered + 1
    if needle ~= "" and not string.find(body, needle, 1, true) then without = without + 1 end
  else
    other = other + 1
    seen = status
  end
end

function done(summary, latency, requests)
  local a, o, w, s = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("answered"); o = o + t:get("other"); w = w + t:get("without")
    if t:get("seen") ~= 0 then s = t:get("seen") end
  end
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"errors": %%d, "answered": %%d, "other": %%d, "without": %%d, "status": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, a, o, w, s))
end
"""


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    expect: int = 200
    needle: str = ""  # text an answer must hold (a page's content)
    body: str = ""  # JSON with one %s: the client id
    headers: dict[str, str] | None = None


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    answered: int  # with the expected status
    other: int  # any other status
    without: int  # expected status, content missing
    errors: int  # socket errors and timeouts
    status: int = 0  # one of the other statuses, if any


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def lua_table(headers: dict[str, str]) -> str:
    items = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    return "{" + items + "}"


def run_wrk(url: str, endpoint: Endpoint, args: argparse.Namespace, workdir: Path) -> Result:
    script = workdir / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    script.write_text(
        LUA
        % {
            "method": lua_string(endpoint.method),
            "path": lua_string(endpoint.path),
            "body": lua_string(endpoint.body),
            "expect": endpoint.expect,
            "needle": lua_string(endpoint.needle),
            "headers": lua_table(endpoint.headers or {}),
            "run": lua_string(uuid.uuid4().hex[:8]),
        }
    )
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 60)
    found = re.search(r"^WRKJSON (.*)$", out.stdout, re.MULTILINE)
    if out.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    data = json.loads(found.group(1))
    seconds = data["duration_us"] / 1e6
    return Result(
        endpoint.name,
        data["requests"] / seconds,
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
        data["requests"],
        data["answered"],
        data["other"],
        data["without"],
        data["errors"],
        data["status"],
    )


# --- data and sign-in ------------------------------------------------------------------


def seed(url: str) -> dict[str, Any]:
    """A fresh database: a clinic, a therapist, two families with four activities each;
    the first has three logs today (its Today is loaded), the second is posted to."""
    from homeprogram import clock, create_app
    from homeprogram.extensions import db
    from homeprogram.migrations_runner import upgrade
    from homeprogram.models import (
        Activity,
        Assignment,
        CareRole,
        CareTeamMember,
        CompletionLog,
    )
    from homeprogram.services import accounts, adherence, audit, children, tokens
    from homeprogram.services.schedule import local_date

    upgrade(url)
    app = create_app({"DATABASE_URL": url})
    now = clock.now()
    out: dict[str, Any] = {"families": []}
    with app.app_context(), db.transaction() as s:
        lead = accounts.sign_up_therapist(
            s,
            audit.SYSTEM,
            org_name="HTTP Bench Pediatric OT",
            name="Bench Therapist",
            email="therapist@bench.example.org",
            password=PASSWORD,
            timezone="America/Chicago",
        )
        org_id = accounts.membership(s, lead.id).organization_id  # type: ignore[union-attr]
        activities = []
        for title in ("Theraputty hunt", "Sock-on race", "Animal walks", "Bead threading"):
            activity = Activity(
                organization_id=org_id,
                title=title,
                focus_area="fine_motor",
                steps=["Show the child how.", "Do it together.", "Let the child try alone."],
                default_minutes=5,
            )
            s.add(activity)
            activities.append(activity)
        s.flush()
        for n in range(2):
            child = children.create_child(
                s,
                audit.SYSTEM,
                organization_id=org_id,
                therapist_id=lead.id,
                display_name=f"Child {n}",
                birth_year=now.year - 6,
                birth_month=3,
                timezone="America/Chicago",
                today=now.date(),
            )
            parent = accounts.create_user(
                s,
                email=f"parent{n}@bench.example.org",
                name=f"Parent {n}",
                password=PASSWORD,
                timezone="America/Chicago",
            )
            s.add(CareTeamMember(child_id=child.id, user_id=parent.id, role=CareRole.CAREGIVER))
            today = local_date(now, child.timezone)
            ids = []
            for i, activity in enumerate(activities):
                assignment = Assignment(
                    child_id=child.id,
                    activity_id=activity.id,
                    dose_amount=5,
                    dose_unit="minutes",
                    minutes_per_session=5,
                    times_per_day=2 if i == 0 else 1,
                    start_date=today - timedelta(days=28),
                    anchor=("morning", "after school", "after dinner", "bedtime")[i],
                    created_by_id=lead.id,
                )
                s.add(assignment)
                s.flush()
                ids.append(assignment.id)
            if n == 0:
                for assignment_id in (ids[0], ids[0], ids[1]):  # three logs today
                    s.add(
                        CompletionLog(
                            client_id=str(uuid.uuid4()),
                            assignment_id=assignment_id,
                            child_id=child.id,
                            logged_by_id=parent.id,
                            occurred_at=now - timedelta(minutes=1),
                            local_date=today,
                            minutes=5,
                            response="just_right",
                        )
                    )
            _row, plain = tokens.create_token(s, audit.SYSTEM, user_id=parent.id, name="wrk")
            out["families"].append(
                {
                    "email": parent.email,
                    "child": f"Child {n}",
                    "assignment_id": ids[1],
                    "token": plain,
                }
            )
    with app.app_context():
        adherence.fill_cache(db.transaction, now)
    db.engine.dispose()  # type: ignore[union-attr]
    return out


def sign_in(url: str, email: str) -> tuple[str, str]:
    """The session cookie ("name=value") of a fresh sign-in and the CSRF token of Today."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(url + "/login", timeout=30).read().decode()
    token = _CSRF.search(page)
    form = {"email": email, "password": PASSWORD, "csrf_token": token.group(1) if token else ""}
    opener.open(url + "/login", urllib.parse.urlencode(form).encode(), timeout=30).read()
    today = opener.open(url + "/today", timeout=30).read().decode()
    csrf = _CSRF.search(today)
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    if csrf is None or "Today with" not in today:
        raise RuntimeError(f"signing in as {email} did not lead to Today")
    return cookies, csrf.group(1)


# --- memory --------------------------------------------------------------------------------


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each of the gunicorn master's workers (its children), in MB."""
    sizes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", status, re.MULTILINE)
        rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if ppid and rss and int(ppid.group(1)) == master:
            sizes.append(int(rss.group(1)) / 1024)
    return sorted(sizes)


# --- the run -------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint")
    parser.add_argument(
        "--ratelimit-storage",
        default=os.environ.get("HP_BENCH_RATELIMIT_STORAGE", load.DEFAULT_RATELIMIT_STORAGE),
    )
    parser.add_argument("--api-budget", default="10000000 per minute")
    parser.add_argument(
        "--no-targets", action="store_true", help="check the answers only, not the speed"
    )
    args = parser.parse_args()
    if not 1 <= args.duration <= 300 or not 1 <= args.connections <= 256:
        parser.error("keep runs bounded: --duration 1..300 s, --connections 1..256")
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections")
    return args


def endpoints(accounts: dict[str, Any], cookies: list[tuple[str, str]]) -> list[Endpoint]:
    today_family, post_family = accounts["families"]
    (today_cookie, _), (post_cookie, post_csrf) = cookies

    def body(family: dict[str, Any]) -> str:
        # %s: the client id. A minute ago: on the family's today, whatever the run's length.
        from homeprogram import clock

        occurred = (clock.now() - timedelta(minutes=1)).isoformat()
        return json.dumps(
            {
                "client_id": "%s",
                "assignment_id": family["assignment_id"],
                "occurred_at": occurred,
                "minutes": 5,
                "response": "just_right",
            }
        )

    json_type = {"Content-Type": "application/json"}
    return [
        Endpoint("GET /healthz", "GET", "/healthz", needle='"ok"'),
        Endpoint(f"GET {STATIC_FILE}", "GET", STATIC_FILE),
        Endpoint(
            "GET /today",
            "GET",
            "/today",
            needle=f"Today with {today_family['child']}",
            headers={"Cookie": today_cookie},
        ),
        Endpoint(
            "POST /api/v1/logs (bearer)",
            "POST",
            "/api/v1/logs",
            expect=201,
            body=body(post_family),
            headers={**json_type, "Authorization": f"Bearer {post_family['token']}"},
        ),
        Endpoint(
            "POST /api/v1/logs (session)",
            "POST",
            "/api/v1/logs",
            expect=201,
            body=body(post_family),
            headers={**json_type, "Cookie": post_cookie, "X-CSRFToken": post_csrf},
        ),
    ]


def run_hello(args: argparse.Namespace, env: dict[str, str], workdir: Path) -> Result:
    with load.gunicorn("hello:app", args.workers, env, workdir / "hello.log") as srv:
        return run_wrk(srv.url, Endpoint("hello", "GET", "/"), args, workdir)


def print_table(hello: Result, results: list[Result]) -> None:
    print(f"{'endpoint':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'target':>7}")
    print(
        f"{'bare Flask hello (GET /), mean':<34} {hello.rps:>9.0f} {hello.p50_ms:>8.2f} "
        f"{hello.p99_ms:>8.2f} {1:>6.2f} {'':>7}"
    )
    for r in results:
        target = TARGETS.get(r.name)
        print(
            f"{r.name:<34} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.rps / hello.rps:>6.3f} {'≥ ' + format(target, '.2f') if target else '':>7}"
        )


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed. On Debian or Ubuntu: sudo apt-get install -y wrk")
        return 2
    shutdown.exit_on_terminate()
    if not load_checks.storage_answers(args.ratelimit_storage):
        print(
            f"The rate limiter's storage {args.ratelimit_storage} does not answer: start "
            "Redis, or pass --ratelimit-storage memory:// (then each worker counts alone)."
        )
        return 2
    from homeprogram import clock
    from homeprogram.config import DEFAULTS

    clock.pin_from_environment()  # HOMEPROGRAM_NOW, as the servers read it

    print(
        f"homeprogram HTTP benchmark (wrk) · {platform.node()} · {os.cpu_count()} CPUs · "
        f"load average {os.getloadavg()[0]:.2f} at start · Python {platform.python_version()}\n"
        f"gunicorn {args.workers} sync workers --preload on 127.0.0.1 · wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s per endpoint · SQLite\n"
        f"rate limits on, in {args.ratelimit_storage}: API budget per caller raised from "
        f"{DEFAULTS['API_RATE_LIMIT']} to {args.api_budget}; login limits relaxed to "
        f"{load.RELAXED_LOGIN_LIMIT}"
    )
    ok = True
    with tempfile.TemporaryDirectory(prefix="hp-http-") as tmp:
        workdir = Path(tmp)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HOMEPROGRAM_INSTANCE_PATH": str(workdir / "instance"),
            "HOMEPROGRAM_RATELIMIT_ENABLED": "true",
            "HOMEPROGRAM_RATELIMIT_STORAGE_URL": args.ratelimit_storage,
            "HOMEPROGRAM_API_RATE_LIMIT": args.api_budget,
            "HOMEPROGRAM_LOGIN_LIMIT_PER_IP": load.RELAXED_LOGIN_LIMIT,
            "HOMEPROGRAM_LOGIN_LIMIT_PER_ACCOUNT": load.RELAXED_LOGIN_LIMIT,
        }
        os.environ["HOMEPROGRAM_INSTANCE_PATH"] = env["HOMEPROGRAM_INSTANCE_PATH"]
        hellos = [run_hello(args, env, workdir)]
        url = f"sqlite:///{workdir / 'http-bench.sqlite3'}"
        accounts = seed(url)
        seeded = load_checks.newest_log_id(url)
        env["HOMEPROGRAM_DATABASE_URL"] = url
        results: list[Result] = []
        with load.gunicorn("homeprogram.wsgi:app", args.workers, env, workdir / "app.log") as srv:
            cookies = [sign_in(srv.url, f["email"]) for f in accounts["families"]]
            for endpoint in endpoints(accounts, cookies):
                results.append(run_wrk(srv.url, endpoint, args, workdir))
            rss = worker_rss_mb(srv.pid)
        # The server has stopped: every write it answered is committed.
        written = len(load_checks.logs_after(url, seeded))
        hellos.append(run_hello(args, env, workdir))
    # The bare app before and after the app: the mean is what ratios divide by, the two
    # runs' spread how much the shared machine moved meanwhile.
    hello = Result(
        "hello",
        sum(h.rps for h in hellos) / 2,
        sum(h.p50_ms for h in hellos) / 2,
        sum(h.p99_ms for h in hellos) / 2,
        sum(h.requests for h in hellos),
        0,
        0,
        0,
        0,
    )
    print_table(hello, results)
    print(
        f"bare hello before the app {hellos[0].rps:.0f} req/s, after {hellos[1].rps:.0f} "
        "(ratios use the mean)"
    )
    for r in results:
        if r.other or r.without or r.errors:
            ok = False
            print(
                f"FAIL {r.name}: {r.other} answers with another status (e.g. {r.status}), "
                f"{r.without} without "
                f"their content, {r.errors} socket errors or timeouts"
            )
    posts = [r for r in results if r.name.startswith("POST")]
    created = sum(r.answered for r in posts)
    # wrk stops with up to one post per connection sent and not yet answered: the server
    # may have stored those. Nothing answered 201 may be missing, nothing else may be there.
    in_flight = args.connections * len(posts)
    stored_ok = created <= written <= created + in_flight
    ok &= stored_ok
    print(
        f"{'ok' if stored_ok else 'FAIL'}: {written} logs stored, {created} posts answered "
        f"201 ({written - created} stored while in flight when wrk stopped, at most "
        f"{in_flight}: one per connection)"
    )
    print(
        "worker RSS after the run: "
        + ", ".join(f"{mb:.0f} MB" for mb in rss)
        + f" (target < {TARGET_RSS_MB:.0f} MB)"
    )
    if not args.no_targets:
        missed = [r.name for r in results if r.rps / hello.rps < TARGETS[r.name]]
        if rss and max(rss) >= TARGET_RSS_MB:
            missed.append("worker memory")
        for name in missed:
            print(f"MISSED target: {name}")
        ok &= not missed
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
