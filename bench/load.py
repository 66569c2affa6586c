"""Load benchmark: homeprogram under gunicorn on loopback, next to a bare Flask app.

    python bench/load.py                    # SQLite and PostgreSQL, 20 users, 30 s per phase
    python bench/load.py --databases sqlite --duration 10

Needs the ``bench`` extra (``pip install -e '.[bench]'``: locust). For each database it
makes a fresh one (SQLite file in a temporary folder; PostgreSQL: a throwaway database
created on the server of ``--postgres-url`` and dropped afterwards), migrates it, seeds
families through the app's models and services, serves ``homeprogram.wsgi:app`` with
gunicorn on a free 127.0.0.1 port and runs locust headless against it, bounded in time:

- ``post``: every user is a caregiver posting logs (``POST /api/v1/logs``, a fresh
  ``client_id`` each time), the write path alone;
- ``mixed``: caregivers loading today and posting logs, therapists loading the dashboard;
- ``paced``: the same people, each waiting about ``--paced-wait`` seconds (default 1,
  varied by half either way) between actions, as people do: the latency 20 concurrent
  users see when the server is not
  saturated by design.

Each phase starts from a freshly seeded database.

The bare app (``bench/hello.py``) is served and loaded the same way in the same run: its
throughput is what this machine, gunicorn and locust can do at all, and the ratio to it
is the figure that counts. Login rate limits are switched off for the run (every user
logs in from 127.0.0.1). Traffic goes to loopback only and every phase stops by itself.

On Linux it also prints the CPU each request costs the server, PostgreSQL and locust
(``bench/proc_cpu.py``), and the most a post may cost for the throughput target: on a
machine where all three share the cores, that is what the ratio is made of.
"""

import argparse
import csv
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import proc_cpu  # bench/proc_cpu.py, beside this file
import seed as seed_data  # bench/seed.py, beside this file
from sqlalchemy.exc import OperationalError

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))  # this checkout's homeprogram, not an installed copy

PASSWORD = "bench-password-for-load-2026"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_POST_RATIO = 0.40
TARGET_P95_MS = 50.0


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    """Serve ``app`` on a free loopback port with the settings shared by every run."""
    port = free_port()
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
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--pythonpath",
        f"{REPO},{BENCH}",
        app,
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out, cwd=BENCH)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/", process)
        yield Server(url, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
    from homeprogram import create_app
    from homeprogram.extensions import db
    from homeprogram.migrations_runner import upgrade
    from homeprogram.models import CareRole, CareTeamMember, OrgMembership, OrgRole
    from homeprogram.services import accounts, adherence, audit, children

    upgrade(url)
    app = create_app({"DATABASE_URL": url})
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    today = datetime.now(UTC).date()
    out: dict[str, Any] = {"password": PASSWORD, "caregivers": [], "therapists": []}
    with app.app_context(), db.transaction() as s:
        lead = accounts.sign_up_therapist(
            s,
            audit.SYSTEM,
            org_name="Load Test Pediatric OT",
            name="Lead Therapist",
            email="therapist0@bench.test",
            password=PASSWORD,
            timezone="America/Chicago",
        )
        org_id = accounts.membership(s, lead.id).organization_id  # type: ignore[union-attr]
        staff = [lead]
        for n in range(1, therapists):
            user = accounts.create_user(
                s,
                email=f"therapist{n}@bench.test",
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
                email=f"parent{n}@bench.test",
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
            out["caregivers"].append({"email": parent.email, "assignment_ids": assignment_ids})
        out["therapists"] = [user.email for user in staff]
    with app.app_context():
        # The dashboard's per-day cache, full as the scheduler's "dashboard-cache" job keeps
        # it in a running clinic (a fresh database would make every first view fill it).
        adherence.fill_cache(db.transaction, datetime.now(UTC))
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
    if "hello" in totals:
        print(
            f"posting at {TARGET_POST_RATIO:.0%} of the bare app needs at most "
            f"{totals['hello'] / TARGET_POST_RATIO:.2f} ms of CPU per post, all processes together"
        )


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> int:
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
    args = parser.parse_args()
    if not 1 <= args.duration <= 600 or not 1 <= args.users <= 500:
        parser.error("keep runs bounded: --duration 1..600 s, --users 1..500")

    print(
        f"homeprogram load benchmark · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start · "
        f"Python {platform.python_version()}\n"
        f"gunicorn {args.workers} sync workers on 127.0.0.1 · locust {args.users} users "
        f"(spawn {args.spawn_rate}/s), {args.duration} s per phase, think time {args.wait} s "
        f"({args.paced_wait} s in the paced phase)"
    )
    rows: list[Row] = []
    ratios: list[tuple[str, float]] = []
    cpu: dict[str, proc_cpu.Window] = {}
    with tempfile.TemporaryDirectory(prefix="hp-bench-") as tmp:
        workdir = Path(tmp)
        base_env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HP_BENCH_WAIT": str(args.wait),
            "HOMEPROGRAM_RATELIMIT_ENABLED": "false",
        }
        accounts_file = workdir / "accounts.json"
        accounts_file.write_text(
            json.dumps({"password": PASSWORD, "caregivers": [], "therapists": []})
        )
        base_env["HP_BENCH_ACCOUNTS"] = str(accounts_file)

        with gunicorn("hello:app", args.workers, base_env, workdir / "hello-server.log") as srv:
            hello = run_locust("hello", srv, ["Hello"], args, workdir, base_env, cpu)
        rows += hello
        hello_rps = hello[0].rps if hello else 0.0

        phases = [
            ("post", ["PostingCaregiver"], args.wait),
            ("mixed", ["Caregiver", "Therapist"], args.wait),
            ("paced", ["Caregiver", "Therapist"], args.paced_wait),
        ]
        wanted = {p.strip() for p in args.phases.split(",")}
        phases = [phase for phase in phases if phase[0] in wanted]
        for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
            for phase, classes, wait in phases:
                label = f"{kind} {phase}"
                instance = workdir / f"instance-{kind}-{phase}"
                env = {
                    **base_env,
                    "HOMEPROGRAM_INSTANCE_PATH": str(instance),
                    "HP_BENCH_WAIT": str(wait),
                }
                os.environ["HOMEPROGRAM_INSTANCE_PATH"] = str(instance)
                # Each phase starts from the same seeded data: the thousands of logs the
                # write-only phase posts for today would otherwise fill the next phase's
                # today pages (no family logs 500 sessions a day).
                with ExitStack() as stack:
                    try:
                        url_db = stack.enter_context(
                            fresh_database(kind, args.postgres_url, workdir)
                        )
                    except OperationalError as error:
                        print(f"{kind}: skipped, cannot create a database ({error.orig})")
                        break
                    accounts = seed(url_db, args.families, args.therapists)
                    accounts_file.write_text(json.dumps(accounts))
                    env["HOMEPROGRAM_DATABASE_URL"] = url_db
                    server_log = workdir / f"{kind}-{phase}-server.log"
                    with gunicorn("homeprogram.wsgi:app", args.workers, env, server_log) as srv:
                        result = run_locust(label, srv, classes, args, workdir, env, cpu)
                    rows += result
                    if phase == "post":
                        ratios += [
                            (kind, r.rps / hello_rps)
                            for r in result
                            if r.name == "POST /api/v1/logs" and hello_rps
                        ]
                    logged = server_log.read_text(errors="replace").strip()
                    if logged:
                        print(f"{label}: the server logged (last lines):\n{logged[-1500:]}")

    print()
    print_rows(rows)
    print()
    if cpu:
        print_cpu(rows, cpu)
        print()
    app_rows = [r for r in rows if r.label != "hello" and not r.setup]
    for kind, ratio in ratios:
        print(
            f"{kind}: POST /api/v1/logs at {ratio:.0%} of the bare app's throughput "
            f"(target >= {TARGET_POST_RATIO:.0%}): {verdict(ratio >= TARGET_POST_RATIO)}"
        )
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
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work skews the figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
