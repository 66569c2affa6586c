"""Benchmark the therapist dashboard and a child progress page on a generated caseload.

    PYTHONPATH=$PWD python bench/dashboard.py [--children 200] [--assignments 8] [--days 365]
                                              [--runs 20] [--database-url URL]

Builds a fresh SQLite database in a temporary directory (or uses --database-url, which
must point to an empty database), migrates it, writes the caseload through the models,
then renders each page with the Flask test client and prints the median and 95th
percentile times, the number of SQL queries, and the ratio to a trivial page (/healthz,
signed in) in the same run.

The figures are in-process: the app runs in this process and the test client calls it
directly, with no HTTP server, socket or worker in between. They measure the app's own
work on a page (queries, adherence, templates), not what a browser waits for; the load
benchmark (bench/load.py) measures that, through gunicorn.

Each child's history ends on the child's own today, in the child's time zone (the
caseload spans Chicago to Auckland), and holds no practice later than now. "Now" is the
app's clock: ``HOMEPROGRAM_NOW`` pins it, as for the demo.

The dashboard reads per-day figures from a cache (``adherence_day``) that it fills as it
goes; it is measured warm, on the first view of a new day (each child's newest day
missing) and with the cache empty (after a program change for everyone, or the upgrade).
"""

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert

from homeprogram import clock, create_app, startup
from homeprogram.extensions import db
from homeprogram.migrations_runner import upgrade
from homeprogram.models import (
    Activity,
    Assignment,
    AssignmentPause,
    CareRole,
    CareTeamMember,
    Child,
    CompletionLog,
    Organization,
    OrgMembership,
    OrgRole,
    User,
)
from homeprogram.services import passwords

PASSWORD = "benchmark password 1234"
TIMEZONES = ["America/Chicago", "America/New_York", "Europe/London", "Pacific/Auckland"]


def generate(url: str, n_children: int, n_assignments: int, n_days: int, seed: int) -> int:
    """Write the caseload; returns the number of completion logs."""
    rnd = random.Random(seed)
    now = clock.now()
    with db.transaction() as s:
        org = Organization(name="Bench clinic", timezone="America/Chicago")
        s.add(org)
        s.flush()
        ot = User(
            email="ot@bench.example.org",
            name="Bench OT",
            password_hash=passwords.hash_password(PASSWORD),
            timezone="America/Chicago",
        )
        s.add(ot)
        s.flush()
        s.add(OrgMembership(organization_id=org.id, user_id=ot.id, role=OrgRole.THERAPIST))
        activities = [
            Activity(slug=f"bench-{i}", title=f"Activity {i}", focus_area="fine_motor")
            for i in range(40)
        ]
        s.add_all(activities)
        s.flush()
        children = [
            Child(
                organization_id=org.id,
                display_name=f"Child {i:03d}",
                birth_year=2018,
                birth_month=1 + i % 12,
                timezone=TIMEZONES[i % len(TIMEZONES)],
            )
            for i in range(n_children)
        ]
        s.add_all(children)
        s.flush()
        s.add_all(
            CareTeamMember(child_id=c.id, user_id=ot.id, role=CareRole.THERAPIST) for c in children
        )
        assignments: list[Assignment] = []
        # Each child's today, in the child's time zone: already tomorrow in Auckland while
        # it is still today in Chicago.
        today_of = {c.id: now.astimezone(ZoneInfo(c.timezone)).date() for c in children}
        for child in children:
            first_day = today_of[child.id] - timedelta(days=n_days)
            for k in range(n_assignments):
                a = Assignment(
                    child_id=child.id,
                    activity_id=activities[(child.id + k) % len(activities)].id,
                    start_date=first_day + timedelta(days=rnd.randint(0, 30)),
                    days_of_week=sorted(rnd.sample(range(7), rnd.randint(3, 7))),
                    times_per_day=rnd.choice([1, 1, 1, 2]),
                    measure_name="seconds" if k == 0 else None,
                    measure_unit="s" if k == 0 else None,
                )
                assignments.append(a)
        s.add_all(assignments)
        s.flush()
        for a in assignments[:: max(1, len(assignments) // 50)]:
            s.add(
                AssignmentPause(
                    assignment_id=a.id,
                    start_date=today_of[a.child_id] - timedelta(days=40),
                    end_date=today_of[a.child_id] - timedelta(days=33),
                )
            )
        s.flush()
        rows: list[dict[str, Any]] = []
        per_child = {c.id: c for c in children}
        for a in assignments:
            tz = ZoneInfo(per_child[a.child_id].timezone)
            diligence = rnd.uniform(0.2, 1.0)
            day = a.start_date
            while day <= today_of[a.child_id]:
                if day.weekday() in a.days_of_week:
                    for _ in range(a.times_per_day):
                        at = datetime.combine(day, time_of_day(17, rnd.randint(0, 59)), tzinfo=tz)
                        if rnd.random() < diligence and at <= now:
                            rows.append(
                                {
                                    "client_id": str(uuid.uuid4()),
                                    "assignment_id": a.id,
                                    "child_id": a.child_id,
                                    "logged_by_id": None,
                                    "occurred_at": at.astimezone(UTC),
                                    "local_date": day,
                                    "minutes": 5,
                                    "response": rnd.choice(["easy", "just_right", "hard", None]),
                                    "note": "Went well" if rnd.random() < 0.05 else None,
                                    "measure_value": rnd.uniform(10, 60)
                                    if a.measure_name
                                    else None,
                                    "deleted_at": None,
                                }
                            )
                day += timedelta(days=1)
        for i in range(0, len(rows), 20_000):
            s.execute(insert(CompletionLog), rows[i : i + 20_000])
        return len(rows)


def forget_cache(condition: str) -> Callable[[], None]:
    """Delete rows of the dashboard's per-day cache (``adherence_day``) before a render."""

    def reset() -> None:
        assert db.engine is not None
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DELETE FROM adherence_day WHERE {condition}")

    return reset


# The newest day of each child: what a new day (or a log written for yesterday) leaves.
NEW_DAY = forget_cache(
    "local_date = (SELECT max(a.local_date) FROM adherence_day a"
    " WHERE a.child_id = adherence_day.child_id)"
)
EMPTY = forget_cache("1 = 1")  # after the upgrade that adds the cache, or a program change


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return max(values)
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def measure(
    client: Any, url: str, runs: int, before: Callable[[], None] | None = None
) -> tuple[float, float, float, float, int]:
    """Median and p95 of wall and CPU milliseconds over ``runs`` renders (in this process,
    through the test client), and one render's queries.

    ``before`` runs before each render, outside the timing. CPU time (this process) is
    printed beside wall time: on a shared machine other processes stretch the wall clock
    but not our own CPU time.
    """
    counted = {"n": 0}

    def count(*_: Any) -> None:
        counted["n"] += 1

    def prepare() -> None:
        if before is not None:
            before()

    assert db.engine is not None
    response = client.get(url)  # warm-up (templates compiled, caches filled)
    assert response.status_code == 200, (url, response.status_code)
    prepare()
    event.listen(db.engine, "before_cursor_execute", count)
    client.get(url)
    event.remove(db.engine, "before_cursor_execute", count)
    wall, cpu = [], []
    for _ in range(runs):
        prepare()
        w0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200
    return (
        statistics.median(wall),
        p95(wall),
        statistics.median(cpu),
        p95(cpu),
        counted["n"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--assignments", type=int, default=8)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hp-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "SERVER_NAME": "bench.test",
            }
        )
        with app.app_context():
            t0 = time.perf_counter()
            n_logs = generate(url, args.children, args.assignments, args.days, args.seed)
            print(
                f"data: {args.children} children x {args.assignments} assignments, "
                f"{args.days} days, {n_logs} logs (generated in {time.perf_counter() - t0:.1f} s)"
            )
        startup.settle(app)  # as the serving entry points do (homeprogram/startup.py)
        client = app.test_client()
        response = client.post(
            "/login", data={"email": "ot@bench.example.org", "password": PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        pages = [
            ("/healthz (trivial)", "/healthz", None),
            ("/dashboard", "/dashboard", None),
            ("/dashboard, new day", "/dashboard", NEW_DAY),
            ("/dashboard, no cache", "/dashboard", EMPTY),
            ("/children/1/progress", "/children/1/progress", None),
        ]
        results = [(name, *measure(client, url, args.runs, before)) for name, url, before in pages]
        trivial_wall, trivial_cpu = results[0][1], results[0][3]
        print(
            f"in-process figures: {args.runs} renders of each page by the Flask test client in "
            "this process (no HTTP server, socket or worker), ms"
        )
        print(
            f"{'page':<22}{'wall p50':>9}{'wall p95':>9}{'cpu p50':>9}{'cpu p95':>9}"
            f"{'queries':>9}{'x trivial (wall p50)':>22}{'x trivial (cpu p50)':>21}"
        )
        for name, wall, wall_95, cpu, cpu_95, queries in results:
            print(
                f"{name:<22}{wall:>9.1f}{wall_95:>9.1f}{cpu:>9.1f}{cpu_95:>9.1f}{queries:>9}"
                f"{wall / trivial_wall:>22.1f}{cpu / max(trivial_cpu, 0.01):>21.1f}"
            )
        db.engine.dispose()


if __name__ == "__main__":
    main()
