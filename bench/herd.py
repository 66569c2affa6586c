"""Benchmark: the 17:00 herd, dispatched by 1, 2 and 4 scheduler processes (issue 26).

    PYTHONPATH=. python bench/herd.py [--n 100000] [--delay-ms 80] [--processes 1,2,4]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/herd] [--no-kill]

Seeds N caregivers whose 17:00 reminder is due in the same minute, each with one device on
a local push service (its own process, aiohttp): it answers every push after
``--delay-ms``, counts what each device received and with which ``Topic``, and checks the
VAPID signature and decrypts the body of one push in ``--sample`` (what a phone would read).
``--database-url`` names a PostgreSQL server database the benchmark may create another
database from (``herd_bench_<pid>``, dropped at the end); ``--sqlite`` uses a temporary
SQLite file instead (one process at a time makes sense there: the tiny test mode).

For each M in ``--processes``, M scheduler processes (this script with ``--worker``,
running ``reminders.run_due_reminders`` as the minute tick does, each with its app clock
at the due instant when told to go) plan, claim and send the herd; then one more run with
two processes in which one is SIGKILLed once half the reminders are out: the other takes
over its leases when they run out (``--lease``, 10 s here) and sends the rest.

Printed per run: reminders per second (N over the time from the start to the last push
received), the delay from the due time to the send (p50, p95, max; from the delivery
rows), CPU per reminder of the schedulers (and, apart, of the push service and of the
PostgreSQL server, all its databases), and the exactly-once check: every reminder's row
is "sent", no device got nothing (lost), and none got two different notifications; a
push sent again after the kill with the same Topic is counted apart (the push service
replaces an undelivered copy and the notification tag replaces a shown one).
"""

import argparse
import asyncio
import base64
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import proc_cpu  # bench/proc_cpu.py, beside this file
import shutdown  # bench/shutdown.py

CONTACT = "mailto:ops@sunrise-therapy.org"
TZ = "America/New_York"
DUE = datetime(2026, 11, 27, 17, 0, tzinfo=ZoneInfo(TZ)).astimezone(UTC)
KEY_POOL = 256  # devices share these key pairs (each has its own endpoint)
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/herd"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def device_key(i: int) -> tuple[Any, bytes]:
    """The simulated browser key pair and auth secret of device ``i`` (deterministic, so the
    push service derives the same without being told)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    k = i % KEY_POOL
    secret = int.from_bytes(hashlib.sha256(b"herd-key-%d" % k).digest(), "big") % (2**255)
    return ec.derive_private_key(secret + 1, ec.SECP256R1()), hashlib.sha256(
        b"herd-auth-%d" % k
    ).digest()[:16]


def subscriptions(base_url: str, n: int) -> list[dict[str, Any]]:
    from cryptography.hazmat.primitives import serialization

    pool = []
    for k in range(min(n, KEY_POOL)):
        private, auth = device_key(k)
        point = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        pool.append({"p256dh": b64url(point), "auth": b64url(auth)})
    return [{"endpoint": f"{base_url}/push/{i}", "keys": pool[i % KEY_POOL]} for i in range(n)]


# --- the push service (its own process) ----------------------------------------------------


def serve(n: int, delay: float, sample: int, parent: int, ready: Path) -> None:
    import http_ece
    from aiohttp import web
    from py_vapid import Vapid02
    from py_vapid.jwt import decode as decode_jwt

    keys = [device_key(k) for k in range(min(n, KEY_POOL))]
    state: dict[str, Any] = {}

    def reset() -> None:
        state.update(
            counts=bytearray(n),
            topics={},
            conflicts=0,
            rejected=0,
            checked=0,
            total=0,
            first=None,
            last=None,
        )

    reset()

    def check(i: int, headers: Any, body: bytes, base: str) -> None:
        authorization = headers.get("Authorization", "")
        scheme, _, params = authorization.partition(" ")
        parts = dict(p.split("=", 1) for p in params.split(","))
        if scheme != "vapid" or not Vapid02.verify(authorization):
            raise ValueError("vapid: bad signature")
        claims = decode_jwt(parts["t"], parts["k"])
        if claims.get("aud") != base or not 0 < int(claims["exp"]) - time.time() <= 86400:
            raise ValueError("vapid: bad claims")
        private, auth = keys[i % KEY_POOL]
        payload = json.loads(
            http_ece.decrypt(body, private_key=private, auth_secret=auth, version="aes128gcm")
        )
        if payload.get("tag") != headers.get("Topic") or "Time to practise" not in payload["body"]:
            raise ValueError("payload does not match")

    async def push(request: web.Request) -> web.Response:
        i = int(request.match_info["i"])
        body = await request.read()
        headers = request.headers
        try:
            if "TTL" not in headers or headers.get("Content-Encoding") != "aes128gcm":
                raise ValueError("no TTL or not aes128gcm")
            if i % sample == 0:
                check(i, headers, body, f"http://{request.host}")
                state["checked"] += 1
        except Exception:
            state["rejected"] += 1
            return web.Response(status=400)
        await asyncio.sleep(delay)
        now = time.time()
        state["first"] = state["first"] or now
        state["last"] = now
        state["total"] += 1
        counts = state["counts"]
        counts[i] = min(255, counts[i] + 1)
        topic = headers.get("Topic")
        if state["topics"].setdefault(i, topic) != topic:
            state["conflicts"] += 1  # two different notifications for one device
        return web.Response(status=201)

    async def stats(request: web.Request) -> web.Response:
        counts = state["counts"]
        histogram = Counter(counts)
        return web.json_response(
            {
                "total": state["total"],
                "lost": histogram.get(0, 0),
                "once": histogram.get(1, 0),
                "repeated": sum(v for c, v in histogram.items() if c > 1),
                "extra": sum((c - 1) * v for c, v in histogram.items() if c > 1),
                "conflicts": state["conflicts"],
                "rejected": state["rejected"],
                "checked": state["checked"],
                "first": state["first"],
                "last": state["last"],
            }
        )

    async def do_reset(request: web.Request) -> web.Response:
        reset()
        return web.json_response({})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/push/{i}", push)
        app.router.add_get("/_stats", stats)
        app.router.add_post("/_reset", do_reset)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.write_text(f"http://127.0.0.1:{port}")
        while os.getppid() == parent:  # ends by itself when the benchmark is gone
            await asyncio.sleep(1)

    asyncio.run(main())


@contextmanager
def push_service(args: argparse.Namespace, tmp: Path) -> Iterator[tuple[str, int]]:
    ready = tmp / "push-service-url"
    process = subprocess.Popen(
        [
            *(sys.executable, __file__, "--serve", str(ready), "--n", str(args.n)),
            *("--delay-ms", str(args.delay_ms), "--sample", str(args.sample)),
        ],
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() or not ready.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the push service did not start")
            time.sleep(0.1)
        yield ready.read_text(), process.pid
    finally:
        shutdown.stop(process)


def _http(url: str, method: str = "GET") -> dict[str, Any]:
    import urllib.request

    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


# --- a scheduler process ------------------------------------------------------------------


def worker(args: argparse.Namespace) -> None:
    """Build the app, say ready, wait for "go", then dispatch the minute with the clock at
    the due instant; print what this process did as JSON."""
    from homeprogram import clock, create_app, push_config
    from homeprogram.extensions import db
    from homeprogram.services import reminders
    from homeprogram.services.reminder_dispatch import DispatchOptions

    app = create_app(
        {
            "DATABASE_URL": args.worker_db,
            "VAPID_CONTACT": CONTACT,
            "PUSH_ALLOW_INSECURE_ENDPOINTS": True,  # the local http push service
        }
    )
    options = DispatchOptions(
        in_flight=args.in_flight,
        spread_seconds=args.spread,
        lease_seconds=args.lease,
        linger=True,  # wait for the others' leases, and take over those that run out
    )
    with app.app_context():
        sender = push_config.sender(app)
        print("ready", flush=True)
        sys.stdin.readline()
        clock.pin(DUE)
        before = resource.getrusage(resource.RUSAGE_SELF)
        profile = os.environ.get("HERD_PROFILE")  # a file for cProfile's figures of a worker
        if profile:
            import cProfile

            with cProfile.Profile() as profiler:
                run = reminders.run_due_reminders(
                    db.transaction, sender, clock.now(), options=options
                )
            profiler.dump_stats(f"{profile}.{os.getpid()}")
        else:
            run = reminders.run_due_reminders(db.transaction, sender, clock.now(), options=options)
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = {
        "claimed": run.claimed,
        "taken_over": run.taken_over,
        "sent": run.sent,
        "failed": run.failed,
        "planned": run.due,
        "cpu": cpu,
    }
    print(json.dumps(result), flush=True)


# --- the benchmark ------------------------------------------------------------------------


@contextmanager
def database(args: argparse.Namespace, tmp: Path) -> Iterator[str]:
    if args.sqlite:
        yield f"sqlite:///{tmp / 'herd.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    name = f"herd_bench_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(args.database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(url: str, base_url: str, n: int) -> None:
    import push_dispatch  # bench/push_dispatch.py: the same caregivers, children and plans

    from homeprogram import create_app
    from homeprogram.extensions import db
    from homeprogram.migrations_runner import upgrade

    upgrade(url)
    app = create_app({"DATABASE_URL": url, "VAPID_CONTACT": CONTACT})
    with app.app_context():
        from homeprogram import push_config

        push_config.keys(app)  # the instance key file, before the workers share it
        with db.transaction() as s:
            push_dispatch._seed(s, subscriptions(base_url, n))
    db.engine.dispose()


def reset(url: str, base_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM reminder_delivery"))
        conn.execute(text("DELETE FROM reminder_planning"))
        conn.execute(text("UPDATE push_subscription SET last_success_at = NULL"))
    engine.dispose()
    _http(base_url + "/_reset", "POST")


def rows(url: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from homeprogram.db import make_engine
    from homeprogram.models import ReminderDelivery as D

    engine = make_engine(url)
    with engine.connect() as conn:
        statuses = {
            status: count
            for status, count in conn.execute(select(D.status, func.count()).group_by(D.status))
        }
        delays = sorted(
            (sent - due).total_seconds()
            for due, sent in conn.execute(select(D.due_at, D.sent_at).where(D.sent_at.isnot(None)))
        )
    engine.dispose()
    return {"statuses": statuses, "delays": delays}


class CpuTracker:
    """CPU seconds per group since ``start``, counted per process, so that a process that
    ends (a killed scheduler, a closed PostgreSQL backend) keeps what it used."""

    def __init__(self, roots: dict[str, int], postgres: bool) -> None:
        self.roots, self.postgres = roots, postgres
        self.base: dict[tuple[str, str], float] = {}
        self.last: dict[tuple[str, str], float] = {}
        self.started = False

    def _pids(self) -> Iterator[tuple[str, str]]:
        for group, root in self.roots.items():
            yield group, str(root)
        if self.postgres:
            for pid in os.listdir(proc_cpu.PROC):
                if pid.isdigit() and proc_cpu._command(pid).startswith("postgres"):
                    yield "database", pid

    def sample(self) -> None:
        for key in self._pids():
            stat = proc_cpu._stat(key[1])
            if stat is None:
                continue
            if key not in self.base:
                self.base[key] = stat[1] if not self.started else 0.0
            self.last[key] = stat[1]
        self.started = True

    def totals(self) -> dict[str, float]:
        found: dict[str, float] = {}
        for key, cpu in self.last.items():
            found[key[0]] = found.get(key[0], 0.0) + cpu - self.base[key]
        return found


def one_run(
    args: argparse.Namespace, url: str, base_url: str, service_pid: int, m: int, kill: bool
) -> dict[str, Any]:
    reset(url, base_url)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    env.pop("HOMEPROGRAM_NOW", None)
    command = [sys.executable, __file__, "--worker", url, "--in-flight", str(args.in_flight)]
    command += ["--spread", str(args.spread), "--lease", str(args.lease)]
    logs = [open(Path(args.tmp) / f"worker-{m}-{kill}-{i}.log", "wb") for i in range(m)]  # noqa: SIM115
    workers = [
        subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
        )
        for log in logs
    ]
    killed: int | None = None
    try:
        for w in workers:
            line = w.stdout.readline()  # type: ignore[union-attr]
            if line.strip() != b"ready":
                raise RuntimeError(f"a scheduler did not start: {line!r}")
        roots = {"service": service_pid} | {f"w{i}": w.pid for i, w in enumerate(workers)}
        tracker = CpuTracker(roots, postgres=not args.sqlite)
        tracker.sample()
        start = time.time()
        for w in workers:
            w.stdin.write(b"go\n")  # type: ignore[union-attr]
            w.stdin.flush()  # type: ignore[union-attr]
        while any(w.poll() is None for w in workers):
            time.sleep(0.25)
            tracker.sample()
            if kill and killed is None and _http(base_url + "/_stats")["total"] >= args.n // 2:
                os.kill(workers[0].pid, signal.SIGKILL)
                killed = time.time() - start
            if time.time() - start > args.timeout:
                raise RuntimeError("the run did not finish in time")
        results = []
        for i, w in enumerate(workers):
            out = w.stdout.read().decode().strip().splitlines()  # type: ignore[union-attr]
            if i == 0 and killed is not None:
                continue
            if w.returncode != 0 or not out:
                raise RuntimeError(f"scheduler {i} failed: see {logs[i].name}")
            results.append(json.loads(out[-1]))
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
            w.wait()
        for log in logs:
            log.close()
    stats = _http(base_url + "/_stats")
    cpu = tracker.totals()
    return {
        "m": m,
        "kill": kill,
        "killed_at": killed,
        "seconds": (stats["last"] or start) - start,
        "workers": results,
        "stats": stats,
        "rows": rows(url),
        "cpu": cpu,
    }


def percentile(values: list[float], fraction: float) -> float:
    from homeprogram.services.reminder_dispatch import percentile as nearest_rank

    return nearest_rank(values, fraction)


def report(args: argparse.Namespace, runs: list[dict[str, Any]]) -> bool:
    n = args.n
    print(
        f"reminders: {n}   push service latency: {args.delay_ms} ms   in flight per process: "
        f"{args.in_flight}   spread: {args.spread} s   database: "
        f"{'SQLite' if args.sqlite else 'PostgreSQL'}   cores: {os.cpu_count()}"
    )
    print(
        f"{'run':<16}{'rem/s':>8}{'p50 s':>8}{'p95 s':>8}{'max s':>8}"
        f"{'sched CPU ms/rem':>18}{'cores':>7}{'service':>9}{'postgres':>10}  exactly once"
    )
    ok_all = True
    base_rate = None
    for run in runs:
        stats, statuses, delays = run["stats"], run["rows"]["statuses"], run["rows"]["delays"]
        rate = n / run["seconds"] if run["seconds"] > 0 else 0.0
        if run["m"] == 1 and not run["kill"]:
            base_rate = rate
        sched = sum(v for k, v in run["cpu"].items() if k.startswith("w"))
        lost = stats["lost"]
        doubled = stats["conflicts"]  # two different notifications on one device
        resent = stats["extra"]
        ok = (
            statuses == {"sent": n}
            and lost == 0
            and doubled == 0
            and stats["rejected"] == 0
            and (resent == 0 or run["kill"])
        )
        ok_all &= ok
        name = f"M={run['m']}" + (" SIGKILL" if run["kill"] else "")
        verdict = (
            f"{'OK' if ok else 'FAILED'}: lost {lost}, duplicated {doubled}"
            + f", resent with the same Topic {resent}"
            + f" (rows {statuses}, checked {stats['checked']}, rejected {stats['rejected']})"
        )
        print(
            f"{name:<16}{rate:>8.0f}{percentile(delays, 0.5):>8.1f}{percentile(delays, 0.95):>8.1f}"
            f"{max(delays, default=0):>8.1f}{sched / n * 1000:>18.2f}"
            f"{sched / run['seconds'] if run['seconds'] > 0 else 0:>7.2f}"
            f"{run['cpu'].get('service', 0) / n * 1000:>9.2f}"
            f"{run['cpu'].get('database', 0) / n * 1000:>10.2f}  {verdict}"
        )
        if run["m"] > 1 and base_rate and not run["kill"]:
            print(f"{'':<16}{rate / base_rate:>7.2f}x the rate of M=1")
        if run["kill"]:
            taken = sum(w["taken_over"] for w in run["workers"])
            print(
                f"{'':<16}scheduler 0 SIGKILLed {run['killed_at']:.1f} s in; the survivor took "
                f"over {taken} expired leases"
            )
    print("sched CPU: the scheduler processes (user + system); cores: their CPU seconds per")
    print("second of the run (below M: they waited for a core or for the network);")
    print("service: the push service;")
    print("postgres: every PostgreSQL process on this server (other databases included)")
    return ok_all


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="due reminders (100000)")
    parser.add_argument("--delay-ms", type=float, default=80, help="push service latency")
    parser.add_argument("--processes", default="1,2,4", help="scheduler processes per run")
    parser.add_argument("--no-kill", action="store_true", help="skip the SIGKILL run")
    parser.add_argument("--in-flight", type=int, default=200, help="sends in flight (200)")
    parser.add_argument("--spread", type=float, default=0.0, help="jitter spread in s (0)")
    parser.add_argument("--lease", type=float, default=10.0, help="lease in s (10)")
    parser.add_argument("--sample", type=int, default=100, help="decrypt 1 push in this many")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="a PostgreSQL server")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--worker", dest="worker_db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.n, args.delay_ms / 1000, args.sample, os.getppid(), Path(args.serve))
        return 0
    if args.worker_db:
        worker(args)
        return 0
    shutdown.exit_on_terminate()  # a TERM stops the push service and the schedulers too
    with tempfile.TemporaryDirectory(prefix="hp-bench-herd-") as tmp:
        args.tmp = tmp
        os.environ["HOMEPROGRAM_INSTANCE_PATH"] = str(Path(tmp) / "instance")
        with (
            push_service(args, Path(tmp)) as (base_url, service_pid),
            database(args, Path(tmp)) as url,
        ):
            seed(url, base_url, args.n)
            runs = []
            for m in [int(x) for x in args.processes.split(",") if x]:
                runs.append(one_run(args, url, base_url, service_pid, m, kill=False))
            if not args.no_kill:
                runs.append(one_run(args, url, base_url, service_pid, 2, kill=True))
        ok = report(args, runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
