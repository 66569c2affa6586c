"""The benchmark scripts stop what they start and check what they claim (issues 24, 25).

Each script runs in a session of its own (``start_new_session``), so whatever it starts
(servers, their workers, a push service) shares that session id: once the script has
returned, no live process may be left in the session and its server's port is closed.
Lighthouse itself is not needed: ``LIGHTHOUSE_SKIP=1`` stops bench/lighthouse.sh once the
server answers and the logins work, and ``LIGHTHOUSE_BIN`` puts a stand-in in Lighthouse's
place that fails or hangs on demand. Locust (a bench extra) is not needed either: the
load benchmark's server path is driven the way its ``main()`` sets it up.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from homeprogram import clock as app_clock
from homeprogram.models import Child, CompletionLog
from homeprogram.services import logs
from homeprogram.services.audit import Actor
from tests.caregiver_setup import family
from tests.skips import POSTGRES_URL, postgres_only

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.append(str(BENCH))
import dashboard  # noqa: E402  (bench/dashboard.py)
import load_checks  # noqa: E402  (bench/load_checks.py)

PROC = Path("/proc")
# The demo seeds three weeks of practice and logs in twice (argon2id): slow on a busy CI box.
SCRIPT_TIMEOUT = 240


def session_processes(session_id: int) -> list[str]:
    """Command lines of the live processes in a session (zombies are already gone)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # ended while we looked
        state, _ppid, _pgrp, session = stat[stat.rindex(")") + 2 :].split()[:4]
        if int(session) == session_id and state != "Z":
            found.append(command.replace(b"\0", b" ").decode(errors="replace").strip())
    return found


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def port_is_closed(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


class Script:
    """A script running in a session of its own, its output in a file."""

    def __init__(self, command: list[str], env: dict[str, str], output: Path) -> None:
        self.output = output
        with output.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.session = self.process.pid

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def processes(self) -> list[str]:
        return session_processes(self.session)

    def wait(self, timeout: float = SCRIPT_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the script did not finish:\n{self.text()}") from None

    def assert_nothing_left(self) -> None:
        deadline = time.monotonic() + 10  # a process that just ended may not be reaped yet
        while (left := self.processes()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"still running after the script ended: {left}"

    def kill_leftovers(self) -> None:
        if self.processes():
            os.killpg(self.session, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait()


@pytest.fixture
def run_script(tmp_path: Path) -> Iterator[Callable[..., Script]]:
    """``run_script(command, **env)``: start a script with the caller's environment minus
    any homeprogram setting, on the test's clock. Whatever the test's outcome, nothing it
    started outlives it."""
    scripts: list[Script] = []

    def start(command: list[str], **extra: str) -> Script:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("HOMEPROGRAM_") and name != "DATABASE_URL"
        }
        env.update(
            PYTHON=sys.executable,
            PYTHONUNBUFFERED="1",
            TMPDIR=str(tmp_path),
            LIGHTHOUSE_OUT=str(tmp_path / "reports"),
            **{app_clock.ENVIRONMENT_VARIABLE: app_clock.now().isoformat()},
            **extra,
        )
        script = Script(command, env, tmp_path / f"output-{len(scripts)}.txt")
        scripts.append(script)
        return script

    yield start
    for script in scripts:
        script.kill_leftovers()


# --- bench/lighthouse.sh ------------------------------------------------------------------


def lighthouse(run_script: Callable[..., Script], **env: str) -> Script:
    return run_script(["bash", str(BENCH / "lighthouse.sh")], **env)


def stand_in(tmp_path: Path, body: str) -> tuple[dict[str, str], Path]:
    """The environment that runs a stand-in in Lighthouse's place, and the marker file
    the stand-in writes when it is called."""
    marker = tmp_path / "lighthouse-called"
    program = tmp_path / "fake-lighthouse"
    program.write_text(f'#!/bin/sh\necho "$@" >> "{marker}"\n{body}\n')
    program.chmod(0o755)
    # No Chromium is started: any executable passes the script's check for one.
    return {"LIGHTHOUSE_BIN": str(program), "CHROME_PATH": shutil.which("true") or ""}, marker


def assert_server_gone(script: Script, tmp_path: Path) -> None:
    script.assert_nothing_left()
    found = re.search(r"Demo server at (http://127\.0\.0\.1:\d+)", script.text())
    assert found, f"the script never said where its server is:\n{script.text()}"
    assert port_is_closed(found.group(1))
    assert not list(tmp_path.glob("hp-lighthouse-*")), "the work folder was left behind"


def test_lighthouse_script_stops_its_server_after_a_run(run_script, tmp_path):
    """A run of bench/lighthouse.sh leaves no server behind: the demo server it started is
    stopped and its port closed when the script ends."""
    script = lighthouse(run_script, LIGHTHOUSE_SKIP="1")
    assert script.wait() == 0, script.text()
    assert "Lighthouse not run" in script.text()
    assert_server_gone(script, tmp_path)


def test_lighthouse_script_stops_its_server_when_lighthouse_fails(run_script, tmp_path):
    """When a Lighthouse run fails, the script says so, exits non-zero and still stops the
    demo server."""
    env, marker = stand_in(tmp_path, "exit 1")
    script = lighthouse(run_script, **env)
    assert script.wait() != 0
    assert marker.exists(), script.text()
    assert "lighthouse failed on /today" in script.text()
    assert_server_gone(script, tmp_path)


def test_lighthouse_script_stops_its_server_on_ctrl_c(run_script, tmp_path):
    """Ctrl+C during a Lighthouse run (SIGINT to the foreground process group, as a
    terminal sends it) ends the script and the demo server it started."""
    env, marker = stand_in(tmp_path, "exec sleep 120")
    script = lighthouse(run_script, **env)
    wait_for(marker.exists, SCRIPT_TIMEOUT, "the script to start Lighthouse")
    running = script.processes()
    assert any(" demo " in command for command in running), running  # the scan sees it
    os.killpg(script.session, signal.SIGINT)
    assert script.wait() != 0
    assert_server_gone(script, tmp_path)


# --- bench/load.py ------------------------------------------------------------------------

# Each phase is served by load.gunicorn(); main() first makes TERM unwind like Ctrl+C.
LOAD_DRIVER = """
import os, sys, time
sys.path.insert(0, {bench!r})
import load, shutdown
shutdown.exit_on_terminate()  # as load.main() does first
with load.gunicorn("hello:app", 2, dict(os.environ), load.Path({log!r})) as server:
    print(server.url, flush=True)
    if {fail!r}:
        raise RuntimeError("a phase failed half-way")
    time.sleep(120)
"""


@pytest.mark.parametrize("ending", ["failure", "SIGTERM to the script", "Ctrl+C"])
def test_load_benchmark_stops_its_server(ending, run_script, tmp_path):
    """bench/load.py's server (gunicorn and its workers) is gone when the benchmark ends
    half-way: a phase fails, the script alone is sent TERM, or Ctrl+C reaches the group."""
    driver = LOAD_DRIVER.format(
        bench=str(BENCH), log=str(tmp_path / "server.log"), fail=ending == "failure"
    )
    script = run_script([sys.executable, "-c", driver])
    wait_for(lambda: "http://" in script.text(), 60, "the server to answer")
    url = script.text().split()[0]
    if ending.startswith("SIGTERM"):
        # The scan sees them: the script, gunicorn's master and its two workers.
        wait_for(lambda: len(script.processes()) >= 4, 30, "gunicorn's second worker")
        os.kill(script.session, signal.SIGTERM)
    elif ending == "Ctrl+C":
        os.killpg(script.session, signal.SIGINT)
    assert script.wait(60) != 0
    script.assert_nothing_left()
    assert port_is_closed(url)


def _two_logs(factory: Any, session: Any) -> list[tuple[int, str]]:
    fam = family(factory)
    stored = []
    for minutes_ago in (30, 20):
        log, _ = logs.record_log(
            session,
            Actor(fam.caregiver.id),
            client_id=str(uuid.uuid4()),
            assignment_id=fam.morning.id,
            occurred_at=app_clock.now() - timedelta(minutes=minutes_ago),
            user_id=fam.caregiver.id,
        )
        stored.append((log.id, log.client_id))
    session.commit()
    return stored


def test_load_benchmark_row_check_catches_lost_and_unanswered_logs(factory, session, database_url):
    """The load benchmark's row check passes only when the rows written are exactly the logs
    answered 201: a 201 without its row is lost, a 201 naming another log is wrong, a row
    nobody was answered is reported unless its answer was in doubt when the run stopped."""
    before = load_checks.newest_log_id(database_url)
    (first_id, first), (second_id, second) = _two_logs(factory, session)
    written = load_checks.logs_after(database_url, before)
    assert written == [(first_id, first), (second_id, second)]
    repeats = {"answered": 1, "same log": 1}

    def check(created: dict[str, int], doubtful: frozenset[str] = frozenset()) -> tuple[bool, str]:
        tally = load_checks.Tally(created, set(doubtful), repeats, pages={"loaded": 0})
        return load_checks.compare_rows("phase", tally, written)

    ok, line = check({first: first_id, second: second_id})
    assert ok and "lost 0, doubled 0" in line
    ok, line = check({first: first_id, second: second_id, str(uuid.uuid4()): 999})
    assert not ok and "lost 1" in line
    ok, line = check({first: first_id, second: first_id})
    assert not ok and "other id 1" in line
    assert not check({first: first_id})[0]  # a row written that nobody was answered
    assert check({first: first_id}, doubtful=frozenset({second}))[0]  # its answer was lost


# --- bench/push_dispatch.py ---------------------------------------------------------------


def push_dispatch(run_script: Callable[..., Script], *args: str) -> Script:
    return run_script([sys.executable, str(BENCH / "push_dispatch.py"), *args])


def test_push_benchmark_runs_and_leaves_nothing(run_script):
    """bench/push_dispatch.py on a few reminders: exactly once holds, the like-with-like
    comparison is printed, and its push service process is gone when it returns."""
    script = push_dispatch(run_script, "--n", "6", "--workers", "3")
    assert script.wait() == 0, script.text()
    assert "exactly once        : OK" in script.text(), script.text()
    assert "same concurrency" in script.text(), script.text()
    script.assert_nothing_left()


def test_push_benchmark_stops_its_push_service_on_sigterm(run_script):
    """A TERM sent to bench/push_dispatch.py alone (kill, a CI timeout) while its push
    service runs ends the script and the service."""
    script = push_dispatch(run_script, "--n", "200")
    wait_for(lambda: any("spawn_main" in c for c in script.processes()), 60, "the push service")
    os.kill(script.session, signal.SIGTERM)
    assert script.wait(60) != 0
    script.assert_nothing_left()


# --- bench/media.py ---------------------------------------------------------------------------


def test_media_benchmark_runs_checks_the_upload_and_leaves_nothing(run_script):
    """bench/media.py, small: it transcodes, uploads through its own gunicorn worker, checks
    that the uploads were stored whole, and stops the server when it returns."""
    script = run_script(
        [
            sys.executable,
            str(BENCH / "media.py"),
            *("--seconds", "1", "--width", "320", "--height", "240", "--fps", "10"),
            *("--bitrate", "500k", "--upload-mb", "3"),
        ],
        PYTHONPATH=str(ROOT),
    )
    assert script.wait(300) == 0, script.text()
    assert "real-time factor" in script.text(), script.text()
    assert "upload    3 MB: HTTP 302, 3145728 B stored" in script.text(), script.text()
    script.assert_nothing_left()


# --- bench/dashboard.py -------------------------------------------------------------------


def test_dashboard_benchmark_caseload_ends_at_each_childs_now(app, session, clock):
    """The dashboard benchmark's caseload holds no practice later than the app's now, and
    none on a day after the child's own today (Auckland is a day ahead of Chicago)."""
    clock.set(datetime(2026, 11, 25, 16, 30, tzinfo=UTC))  # Thursday 05:30 in Auckland
    with app.app_context():
        dashboard.generate(app.config["DATABASE_URL"], 8, 2, 20, seed=1)
    now = clock.now()
    rows = session.execute(
        select(CompletionLog.occurred_at, CompletionLog.local_date, Child.timezone).join(
            Child, Child.id == CompletionLog.child_id
        )
    ).all()
    assert {tz for _, _, tz in rows} == set(dashboard.TIMEZONES)
    late = [
        (at, day, tz)
        for at, day, tz in rows
        if at > now or day > now.astimezone(ZoneInfo(tz)).date()
    ]
    assert not late, late[:5]


# --- bench/herd.py ------------------------------------------------------------------------


def herd(run_script: Callable[..., Script], *args: str) -> Script:
    return run_script([sys.executable, str(BENCH / "herd.py"), *args], PYTHONPATH=str(ROOT))


def test_herd_benchmark_runs_and_leaves_nothing(run_script):
    """bench/herd.py on a few reminders (SQLite, one scheduler process): every reminder is
    sent exactly once, the figures are printed, and its push service and scheduler
    processes are gone when it returns."""
    script = herd(run_script, "--sqlite", "--n", "20", "--processes", "1", "--no-kill")
    assert script.wait() == 0, script.text()
    assert re.search(r"M=1 .* OK: lost 0, duplicated 0", script.text()), script.text()
    assert "sched CPU ms/rem" in script.text()
    script.assert_nothing_left()


@postgres_only
def test_herd_benchmark_on_postgres_survives_a_killed_scheduler(run_script):
    """On PostgreSQL, two schedulers share the herd, and when one is SIGKILLed half-way the
    other takes over its leases: nothing lost, no device with two different notifications."""
    script = herd(
        run_script,
        *("--database-url", str(POSTGRES_URL), "--n", "400", "--processes", "2"),
        *("--lease", "3", "--delay-ms", "200", "--in-flight", "20"),
    )
    assert script.wait() == 0, script.text()
    text = script.text()
    assert re.search(r"M=2 .* OK: lost 0, duplicated 0", text), text
    assert re.search(r"M=2 SIGKILL .* OK: lost 0, duplicated 0", text), text
    script.assert_nothing_left()


# --- bench/http_bench.py ------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk missing: apt-get install -y wrk")
def test_http_benchmark_checks_its_answers_and_leaves_nothing(run_script):
    """bench/http_bench.py in a tiny run: every endpoint loaded, pages with their content,
    the stored logs match the 201 answers, the workers' memory printed, nothing left."""
    if not load_checks.storage_answers("redis://127.0.0.1:6379/0"):
        pytest.skip("Redis on 127.0.0.1:6379 does not answer")
    script = run_script(
        [
            sys.executable,
            str(BENCH / "http_bench.py"),
            *("--duration", "1", "--connections", "2", "--threads", "1", "--workers", "1"),
            "--no-targets",
        ]
    )
    code = script.wait(SCRIPT_TIMEOUT)
    out = script.text()
    assert code == 0, out
    for row in ("bare Flask hello", "GET /healthz", "GET /static/", "GET /today"):
        assert row in out
    assert "POST /api/v1/logs (bearer)" in out and "POST /api/v1/logs (session)" in out
    assert "FAIL" not in out and "worker RSS after the run" in out
    script.assert_nothing_left()
