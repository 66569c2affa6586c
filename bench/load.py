"""Load benchmark: homeprogram under gunicorn on loopback, next to a bare Flask app.

    python bench/load.py                    # SQLite and PostgreSQL, 20 users, 30 s per phase
    python bench/load.py --databases sqlite --duration 10

Needs the ``bench`` extra (``pip install -e '.[bench]'``: locust) and, for the rate limiter,
Redis on 127.0.0.1:6379 (``--ratelimit-storage``). For each database it makes a fresh one
(SQLite file in a temporary folder; PostgreSQL: a throwaway database created on the server
of ``--postgres-url`` and dropped afterwards), migrates it, seeds families through the
app's models and services, serves ``homeprogram.wsgi:app`` with gunicorn on a loopback port
the kernel picks, and runs locust headless against it, bounded in time:

- ``post``: every user is a caregiver posting logs (``POST /api/v1/logs``), the write path
  alone; a share of the posts (``--repeat``, default 10%) sends a log already sent again,
  as the offline queue retries, so the idempotent path is loaded too;
- ``mixed``: caregivers loading today and posting logs, therapists loading the dashboard;
- ``paced``: the same people, each waiting about ``--paced-wait`` seconds (default 1,
  varied by half either way) between actions, as people do: the latency 20 concurrent
  users see when the server is not saturated by design.

Each phase starts from a freshly seeded database. After each phase it checks what the
answers claim: the rows written are exactly the logs answered 201 (nothing lost, nothing
doubled, the repeats wrote nothing), every page answered with its content (the family's
child, a child of the caseload), not a login page, and the API limiter counted the callers.

Rate limits stay on, in Redis as README recommends for several workers: the API limiter
counts every API request, with each caller's budget raised to ``--api-budget`` (a
benchmark user posts far faster than a person); only the login limits are relaxed (every
user logs in from 127.0.0.1). The run says so at the start.

The bare app (``bench/hello.py``) is served and loaded the same way, before each of the
app's phases and after the last: its throughput is what this machine, gunicorn and locust
can do at all, its spread over the run is how much the shared machine moved, and the
ratio to its median is the figure that counts. Traffic goes to loopback only and every
phase stops by itself; the servers are stopped on every way out (``bench/shutdown.py``).

On Linux it also prints the CPU each request costs the server, PostgreSQL and locust
(``bench/proc_cpu.py``), and the most a post may cost for the throughput target: on a
machine where all three share the cores, that is what the ratio is made of.
"""

import argparse
import csv
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import load_checks  # bench/load_checks.py, beside this file
import proc_cpu  # bench/proc_cpu.py
import seed as seed_data  # bench/seed.py
import shutdown  # bench/shutdown.py
from sqlalchemy.exc import OperationalError

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))  # this checkout's homeprogram, not an installed copy

PASSWORD = "bench-password-for-load-2026"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_POST_RATIO = 0.40
TARGET_P95_MS = 50.0
DEFAULT_RATELIMIT_STORAGE = "redis://127.0.0.1:6379/0"
DEFAULT_API_BUDGET = "100000 per minute"
RELAXED_LOGIN_LIMIT = "100000 per 15 minutes"
POST = "POST /api/v1/logs"  # and "POST /api/v1/logs (repeat)"


@dataclass
class Row:
    label: str
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    setup: bool = False  # logins and warm-up: counted for errors only


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} within {timeout} s")


@dataclass
class Server:
    url: str
    pid: int  # gunicorn's master; the workers are its children


@contextmanager
def gunicorn(app: str, workers: int, env: dict[str, str], log: Path) -> Iterator[Server]:
    """Serve ``app`` on loopback with the settings shared by every run; stopped after.

    The socket is bound here, on a port the system picks, and handed to gunicorn
    (``fd://``, as tests/server.py does): no other process can take the port between
    choosing it and serving on it.
    """
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    port = listener.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--preload",  # as README deploys it: built once, forked ready (startup.settle)
        "--bind",
        f"fd://{listener.fileno()}",
        "--log-level",
        "warning",
        "--pythonpath",
        f"{REPO},{BENCH}",
        app,
    ]
    url = f"http://127.0.0.1:{port}"
    process = None
    try:
        with listener, log.open("ab") as out:  # gunicorn holds its own copy of the socket
            process = subprocess.Popen(
                command,
                env=env,
                stdout=out,
                stderr=out,
                cwd=BENCH,
                pass_fds=[listener.fileno()],
            )
        wait_until_up(url + "/", process)
        yield Server(url, process.pid)
    finally:
        if process is not None:
            shutdown.stop(process)  # the master stops its workers


@contextmanager
def fresh_database(kind: str, postgres_url: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"hp_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(url: str, families: int, therapists: int) -> dict[str, Any]:
    """Migrate a fresh database and fill it: one clinic, its therapists, families with a
    program of three activities and three weeks of history. Returns the logins."""
    from homeprogram import clock, create_app
    from homeprogram.extensions import db
    from homeprogram.migrations_runner import upgrade
    from homeprogram.models import CareRole, CareTeamMember, OrgMembership, OrgRole
    from homeprogram.services import accounts, adherence, audit, children

    upgrade(url)
    app = create_app({"DATABASE_URL": url})
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    today = clock.now().date()  # pinned when HOMEPROGRAM_NOW is set, as in the servers
    out: dict[str, Any] = {"password": PASSWORD, "caregivers": [], "therapists": []}
    first_child: dict[str, str] = {}  # therapist -> a child of their caseload
    with app.app_context(), db.transaction() as s:
        lead = accounts.sign_up_therapist(
            s,
            audit.SYSTEM,
            org_name="Load Test Pediatric OT",
            name="Lead Therapist",
            email="therapist0@bench.example.org",
            password=PASSWORD,
            timezone="America/Chicago",
        )
        org_id = accounts.membership(s, lead.id).organization_id  # type: ignore[union-attr]
        staff = [lead]
        for n in range(1, therapists):
            user = accounts.create_user(
                s,
                email=f"therapist{n}@bench.example.org",
                name=f"Therapist {n}",
                password=PASSWORD,
                timezone="America/Chicago",
            )
            s.add(OrgMembership(organization_id=org_id, user_id=user.id, role=OrgRole.THERAPIST))
            staff.append(user)
        activities = seed_data.program_activities(s, org_id)
        for n in range(families):
            therapist = staff[n % len(staff)]
            child = children.create_child(
                s,
                audit.SYSTEM,
                organization_id=org_id,
                therapist_id=therapist.id,
                display_name=f"Child {n}",
                birth_year=today.year - 6,
                birth_month=1 + n % 12,
                timezone="America/Chicago",
                today=today,
            )
            parent = accounts.create_user(
                s,
                email=f"parent{n}@bench.example.org",
                name=f"Parent {n}",
                password=PASSWORD,
                timezone="America/Chicago",
            )
            s.add(CareTeamMember(child_id=child.id, user_id=parent.id, role=CareRole.CAREGIVER))
            assignment_ids = seed_data.add_program(
                s,
                child_id=child.id,
                caregiver_id=parent.id,
                therapist_id=therapist.id,
                activities=activities,
                today=today,
                seed=n,
            )
            out["caregivers"].append(
                {"email": parent.email, "assignment_ids": assignment_ids, "child": f"Child {n}"}
            )
            first_child.setdefault(therapist.email, f"Child {n}")
        out["therapists"] = [
            {"email": email, "child": child} for email, child in first_child.items()
        ]
    with app.app_context():
        # The dashboard's per-day cache, full as the scheduler's "dashboard-cache" job keeps
        # it in a running clinic (a fresh database would make every first view fill it).
        adherence.fill_cache(db.transaction, clock.now())
    db.engine.dispose()  # type: ignore[union-attr]
    out["dashboard_path"] = "/dashboard" if "/dashboard" in rules else "/caseload"
    out["has_log_api"] = "/api/v1/logs" in rules
    return out


def run_locust(
    label: str,
    server: Server,
    classes: list[str],
    args: argparse.Namespace,
    workdir: Path,
    env: dict[str, str],
    cpu: dict[str, "proc_cpu.Window"],
) -> list[Row]:
    prefix = workdir / label.replace(" ", "_")
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(BENCH / "locustfile.py"),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.duration}s",
        "--stop-timeout",
        "5",
        "--reset-stats",
        "--only-summary",
        "--host",
        server.url,
        "--csv",
        str(prefix),
        *classes,
    ]
    log = workdir / f"{prefix.name}.log"
    with log.open("wb") as out:
        client = subprocess.Popen(command, env=env, stdout=out, stderr=out, cwd=BENCH)
    try:
        if proc_cpu.available():
            # The steady middle of the phase: logins are over, locust has not yet stopped.
            roots = {"server": server.pid, "load generator": client.pid}
            postgres = label.startswith("postgres")
            sampler = proc_cpu.Sampler(roots, postgres, args.duration * 0.3, args.duration * 0.9)
            with sampler:
                client.wait()
            if sampler.window:
                cpu[label] = sampler.window
        client.wait()
    finally:
        shutdown.stop(client)
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        sys.exit(f"locust wrote no statistics; see {log}:\n{log.read_text()[-2000:]}")
    rows = []
    with stats.open() as handle:
        for record in csv.DictReader(handle):
            if record["Name"] == "Aggregated" or record["Request Count"] == "0":
                continue  # logins and warm-ups are reset once everyone is in (locustfile)
            rows.append(
                Row(
                    label=label,
                    name=record["Name"],
                    requests=int(record["Request Count"]),
                    failures=int(record["Failure Count"]),
                    rps=float(record["Requests/s"]),
                    p50=float(record["50%"]),
                    p95=float(record["95%"]),
                    p99=float(record["99%"]),
                    setup=record["Name"] in {"login", "warm-up"},
                )
            )
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open() as handle:
            for record in list(csv.DictReader(handle))[:5]:
                print(
                    f"  ! {label} {record['Method']} {record['Name']}: "
                    f"{record['Occurrences']}× {record['Error'][:160]}"
                )
    return rows


def print_rows(rows: list[Row]) -> None:
    print(
        f"{'run':<15} {'request':<26} {'requests':>9} {'errors':>7} {'req/s':>8} "
        f"{'p50':>6} {'p95':>6} {'p99':>6}  (ms)"
    )
    for r in rows:
        if r.setup:
            continue
        print(
            f"{r.label:<15} {r.name:<26} {r.requests:>9} {r.failures:>7} {r.rps:>8.1f} "
            f"{r.p50:>6.0f} {r.p95:>6.0f} {r.p99:>6.0f}"
        )


def print_cpu(rows: list[Row], cpu: dict[str, proc_cpu.Window]) -> None:
    """CPU per request of each process group, in the steady middle of each phase."""
    print(f"CPU per request, ms ({os.cpu_count()} CPUs shared by all; from /proc, mid-phase)")
    print(f"{'run':<15} {'server':>8} {'database':>9} {'locust':>8} {'total':>8}")
    totals: dict[str, float] = {}
    for label, window in cpu.items():
        served = sum(r.rps for r in rows if r.label == label and not r.setup) * window.seconds
        if not served:
            continue
        per = {group: seconds / served * 1000 for group, seconds in window.cpu.items()}
        totals[label] = sum(per.values())
        if "database" in per:
            database = f"{per['database']:.2f}"
        else:
            database = "in server" if label.startswith("sqlite") else "-"
        print(
            f"{label:<15} {per['server']:>8.2f} {database:>9} {per['load generator']:>8.2f} "
            f"{totals[label]:>8.2f}"
        )
    hello = [total for label, total in totals.items() if label.startswith("hello")]
    if hello:
        print(
            f"posting at {TARGET_POST_RATIO:.0%} of the bare app needs at most "
            f"{statistics.median(hello) / TARGET_POST_RATIO:.2f} ms of CPU per post, "
            "all processes together"
        )


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("HP_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--users", type=int, default=20, help="concurrent users")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started per second")
    parser.add_argument("--duration", type=int, default=30, help="seconds per phase")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--families", type=int, default=40)
    parser.add_argument("--therapists", type=int, default=4)
    parser.add_argument("--wait", type=float, default=0.0, help="think time per user, seconds")
    parser.add_argument("--phases", default="post,mixed,paced", help="comma-separated")
    parser.add_argument(
        "--paced-wait",
        type=float,
        default=1.0,
        help="think time of the 'paced' phase: people who read the page before the next tap",
    )
    parser.add_argument(
        "--repeat",
        type=float,
        default=0.1,
        help="share of posts that send a log already sent again (default 0.1)",
    )
    parser.add_argument(
        "--ratelimit-storage",
        default=os.environ.get("HP_BENCH_RATELIMIT_STORAGE", DEFAULT_RATELIMIT_STORAGE),
        help=f"the limiter's storage (default {DEFAULT_RATELIMIT_STORAGE})",
    )
    parser.add_argument(
        "--api-budget",
        default=DEFAULT_API_BUDGET,
        help=f"API requests each caller may make (default {DEFAULT_API_BUDGET})",
    )
    args = parser.parse_args()
    if not 1 <= args.duration <= 600 or not 1 <= args.users <= 500:
        parser.error("keep runs bounded: --duration 1..600 s, --users 1..500")
    if not 0 <= args.repeat <= 1:
        parser.error("--repeat is a share, from 0 to 1")
    return args


def rate_limits(args: argparse.Namespace) -> tuple[dict[str, str], str]:
    """The servers' rate-limit settings, and the sentence that says what they are."""
    from homeprogram.config import DEFAULTS

    settings = {
        "HOMEPROGRAM_RATELIMIT_ENABLED": "true",
        "HOMEPROGRAM_RATELIMIT_STORAGE_URL": args.ratelimit_storage,
        "HOMEPROGRAM_API_RATE_LIMIT": args.api_budget,
        "HOMEPROGRAM_LOGIN_LIMIT_PER_IP": RELAXED_LOGIN_LIMIT,
        "HOMEPROGRAM_LOGIN_LIMIT_PER_ACCOUNT": RELAXED_LOGIN_LIMIT,
    }
    said = (
        f"rate limits on, stored in {args.ratelimit_storage}: the API budget of each caller "
        f"raised from {DEFAULTS['API_RATE_LIMIT']} to {args.api_budget}; login limits relaxed "
        f"to {RELAXED_LOGIN_LIMIT} per IP and per account (from "
        f"{DEFAULTS['LOGIN_LIMIT_PER_IP']} and {DEFAULTS['LOGIN_LIMIT_PER_ACCOUNT']}: every "
        "user logs in from 127.0.0.1); the other limits as configured"
    )
    return settings, said


@dataclass
class Phase:
    kind: str  # database
    name: str
    classes: list[str]
    wait: float

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass
class Run:
    """Everything measured and checked so far."""

    args: argparse.Namespace
    workdir: Path
    env: dict[str, str]
    limiter: load_checks.LimiterCount
    rows: list[Row] = field(default_factory=list)
    cpu: dict[str, proc_cpu.Window] = field(default_factory=dict)
    baselines: list[float] = field(default_factory=list)  # the bare app's req/s, in order
    posts: list[tuple[str, float, int]] = field(default_factory=list)  # kind, req/s, baseline
    checks: list[tuple[bool, str]] = field(default_factory=list)

    def baseline(self) -> None:
        """The bare app, loaded like the app: one more measure of what the machine can do."""
        label = f"hello {len(self.baselines) + 1}"
        log = self.workdir / f"{label.replace(' ', '-')}-server.log"
        with gunicorn("hello:app", self.args.workers, self.env, log) as srv:
            rows = run_locust(label, srv, ["Hello"], self.args, self.workdir, self.env, self.cpu)
        self.rows += rows
        self.baselines.append(sum(r.rps for r in rows))

    def phase(self, phase: Phase) -> bool:
        """One phase of the app on a fresh database; False when the database cannot be made."""
        args, label = self.args, phase.label
        instance = self.workdir / f"instance-{phase.kind}-{phase.name}"
        accounts_file = self.workdir / f"accounts-{phase.kind}-{phase.name}.json"
        tally_file = self.workdir / f"tally-{phase.kind}-{phase.name}.json"
        env = {
            **self.env,
            "HOMEPROGRAM_INSTANCE_PATH": str(instance),
            "HP_BENCH_WAIT": str(phase.wait),
            "HP_BENCH_ACCOUNTS": str(accounts_file),
            "HP_BENCH_TALLY": str(tally_file),
        }
        os.environ["HOMEPROGRAM_INSTANCE_PATH"] = str(instance)
        # Each phase starts from the same seeded data: the thousands of logs the write-only
        # phase posts for today would otherwise fill the next phase's today pages (no family
        # logs 500 sessions a day).
        with ExitStack() as stack:
            try:
                url = stack.enter_context(
                    fresh_database(phase.kind, args.postgres_url, self.workdir)
                )
            except OperationalError as error:
                print(f"{phase.kind}: skipped, cannot create a database ({error.orig})")
                return False
            accounts = seed(url, args.families, args.therapists)
            accounts_file.write_text(json.dumps(accounts))
            seeded = load_checks.newest_log_id(url)
            env["HOMEPROGRAM_DATABASE_URL"] = url
            server_log = self.workdir / f"{phase.kind}-{phase.name}-server.log"
            callers_before = self.limiter.callers()
            with gunicorn("homeprogram.wsgi:app", args.workers, env, server_log) as srv:
                result = run_locust(label, srv, phase.classes, args, self.workdir, env, self.cpu)
            callers_after = self.limiter.callers()
            # The server has stopped: every write it answered is committed.
            tally = load_checks.Tally.read(tally_file)
            written = load_checks.logs_after(url, seeded)
        self.rows += result
        self.checks.append(load_checks.compare_rows(label, tally, written))
        if tally.pages["loaded"]:
            self.checks.append(load_checks.check_pages(label, tally))
        if callers_before is not None and callers_after is not None:
            counted = len(callers_after - callers_before)
            posted = bool(tally.created or tally.doubtful or tally.repeats["answered"])
            self.checks.append(
                (
                    counted > 0 or not posted,
                    f"{label}: the API limiter counted {counted} callers in "
                    f"{args.ratelimit_storage} (budget {args.api_budget})",
                )
            )
        if phase.name == "post":
            # Answered posts only: a refused one (429, 500) is no throughput.
            rps = sum(
                r.rps * (r.requests - r.failures) / r.requests
                for r in result
                if r.name.startswith(POST) and r.requests
            )
            self.posts.append((phase.kind, rps, len(self.baselines) - 1))
        logged = server_log.read_text(errors="replace").strip()
        if logged:
            print(f"{label}: the server logged (last lines):\n{logged[-1500:]}")
        return True


def print_baselines(baselines: list[float]) -> None:
    median = statistics.median(baselines)
    spread = (max(baselines) - min(baselines)) / median if median else 0.0
    print(
        f"bare app: {len(baselines)} runs interleaved with the app's phases: "
        + ", ".join(f"{rps:.0f}" for rps in baselines)
        + f" req/s; median {median:.0f}, spread {spread:.0%} (max - min over median: "
        "how much the shared machine moved during the run)"
    )


def print_ratios(run: Run) -> None:
    """Posting throughput against the bare app: its median, and the runs either side."""
    median = statistics.median(run.baselines)
    for kind, rps, before in run.posts:
        beside = run.baselines[before : before + 2]
        low, high = rps / max(beside), rps / min(beside)
        ratio = rps / median
        print(
            f"{kind}: {POST} (answered, new and repeated) at {ratio:.0%} of the bare app's median "
            f"throughput ({low:.0%}-{high:.0%} against the runs just before and after; "
            f"target >= {TARGET_POST_RATIO:.0%}): {verdict(ratio >= TARGET_POST_RATIO)}"
        )


def main() -> int:
    args = parse_args()
    shutdown.exit_on_terminate()  # a TERM stops the servers too (bench/shutdown.py)
    limit_settings, limits_said = rate_limits(args)
    if not load_checks.storage_answers(args.ratelimit_storage):
        sys.exit(
            f"The rate limiter's storage {args.ratelimit_storage} does not answer: start Redis, "
            "or pass --ratelimit-storage memory:// (then each worker counts on its own)."
        )

    from homeprogram import clock

    clock.pin_from_environment()
    print(
        f"homeprogram load benchmark · {clock.now():%Y-%m-%d %H:%M} UTC · "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start · "
        f"Python {platform.python_version()}\n"
        f"gunicorn {args.workers} sync workers on 127.0.0.1 · locust {args.users} users "
        f"(spawn {args.spawn_rate}/s), {args.duration} s per phase, think time {args.wait} s "
        f"({args.paced_wait} s in the paced phase), {args.repeat:.0%} of posts repeated\n"
        f"{limits_said}"
    )
    wanted = {p.strip() for p in args.phases.split(",")}
    kinds = [d.strip() for d in args.databases.split(",") if d.strip()]
    with tempfile.TemporaryDirectory(prefix="hp-bench-") as tmp:
        workdir = Path(tmp)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HP_BENCH_WAIT": str(args.wait),
            "HP_BENCH_REPEAT": str(args.repeat),
            **limit_settings,
        }
        no_accounts = workdir / "accounts.json"  # the bare app's users log in nowhere
        no_accounts.write_text(json.dumps({"password": "", "caregivers": [], "therapists": []}))
        env["HP_BENCH_ACCOUNTS"] = str(no_accounts)
        run = Run(
            args, workdir, env, load_checks.LimiterCount(args.ratelimit_storage, args.api_budget)
        )
        run.baseline()
        for kind in kinds:
            phases = [
                Phase(kind, "post", ["PostingCaregiver"], args.wait),
                Phase(kind, "mixed", ["Caregiver", "Therapist"], args.wait),
                Phase(kind, "paced", ["Caregiver", "Therapist"], args.paced_wait),
            ]
            for phase in [phase for phase in phases if phase.name in wanted]:
                if not run.phase(phase):
                    break
                run.baseline()

    rows = run.rows
    print()
    print_rows(rows)
    print()
    if run.cpu:
        print_cpu(rows, run.cpu)
        print()
    print_baselines(run.baselines)
    print_ratios(run)
    app_rows = [r for r in rows if not r.label.startswith("hello") and not r.setup]
    for title, chosen in [
        ("no think time", [r for r in app_rows if not r.label.endswith("paced")]),
        (
            f"{args.paced_wait:g} s think time",
            [r for r in app_rows if r.label.endswith("paced")],
        ),
    ]:
        slowest = max(chosen, key=lambda r: r.p95, default=None)
        if slowest:
            print(
                f"slowest p95, {args.users} users, {title}: {slowest.p95:.0f} ms "
                f"({slowest.label}, {slowest.name}) (target < {TARGET_P95_MS:.0f} ms): "
                f"{verdict(slowest.p95 < TARGET_P95_MS)}"
            )
    errors = sum(r.failures for r in rows)
    print(f"errors: {errors} (target 0): {verdict(errors == 0)}")
    for ok, line in run.checks:
        print(f"{verdict(ok)}: {line}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work skews the figures)")
    return 0 if all(ok for ok, _ in run.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
