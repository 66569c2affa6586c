"""The homeprogram command: demo seeding, users, passwords, configuration files."""

import os
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from contextlib import closing
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from homeprogram import clock
from homeprogram.models import Child, Organization, User, UserSession
from homeprogram.services import demo
from tests.conftest import POSTGRES_URL


def test_demo_seeds_once(runner, session):
    """`homeprogram demo` seeds the demo data on the first run only and prints the logins."""
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "Demo data created." in first.output
    for _role, email, password in demo.LOGINS:
        assert email in first.output
        assert password in first.output
    second = runner.invoke(args=["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert "not seeded again" in second.output
    assert session.scalar(select(func.count()).select_from(Organization)) == 1
    assert session.scalar(select(func.count()).select_from(Child)) == 3
    assert session.scalar(select(func.count()).select_from(User)) == 5


def test_demo_logins_work(runner, client):
    """Every printed demo login signs in and lands on its role's home page."""
    runner.invoke(args=["demo", "--no-serve"])
    homes = {"therapist": "/dashboard", "caregiver": "/today", "teacher": "/students"}
    for role, email, password in demo.LOGINS:
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, (email, response.status_code)
        assert response.headers["Location"].endswith(homes[role.split()[0]])
        client.post("/logout")


def test_the_demo_has_a_family_reading_spanish(runner, client, session):
    """The grandmother reads Today in Spanish, with the activities' Spanish versions."""
    runner.invoke(args=["demo", "--no-serve"])
    [(_role, email, password)] = [login for login in demo.LOGINS if "Spanish" in login[0]]
    client.post("/login", data={"email": email, "password": password})
    today = client.get("/today", follow_redirects=True).get_data(as_text=True)
    assert '<html lang="es">' in today
    assert "Hoy" in today
    assert 'class="not-translated' not in today  # every built-in has its Spanish version
    lucia = session.scalars(select(Child).where(Child.display_name == "Lucia")).one()
    assert lucia.family_language == "es"


def test_create_user_and_reset_password(runner, client, session):
    """create-user makes an admin therapist; reset-password changes it and ends sessions."""
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "ot@example.org",
            "--name",
            "O T",
            "--org",
            "Clinic",
            "--password",
            "first-long-passphrase",
        ],
    )
    assert result.exit_code == 0, result.output
    client.post("/login", data={"email": "ot@example.org", "password": "first-long-passphrase"})
    assert client.get("/caseload").status_code == 200
    weak = runner.invoke(
        args=["reset-password", "--email", "ot@example.org", "--password", "short"]
    )
    assert weak.exit_code == 1
    assert "at least 10 characters" in weak.output
    result = runner.invoke(
        args=["reset-password", "--email", "ot@example.org", "--password", "second-long-passphrase"]
    )
    assert result.exit_code == 0, result.output
    assert client.get("/caseload").status_code == 302
    assert (
        session.scalar(
            select(func.count()).select_from(UserSession).where(UserSession.ended_at.is_(None))
        )
        == 0
    )


def test_secret_key_generated_with_private_mode(tmp_path, monkeypatch, database_url):
    """Without a configured key, one is generated into instance/ readable by the owner only."""
    from homeprogram import create_app

    instance = tmp_path / "fresh-instance"
    monkeypatch.setenv("HOMEPROGRAM_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("HOMEPROGRAM_SECRET_KEY", raising=False)
    app = create_app({"DATABASE_URL": database_url})
    key_file = instance / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert app.secret_key == key_file.read_text().strip()
    assert len(app.secret_key) >= 32
    again = create_app({"DATABASE_URL": database_url})
    assert again.secret_key == app.secret_key


def test_environment_overrides_instance_config(tmp_path, monkeypatch, database_url):
    """Settings come from defaults, then instance/config.py, then HOMEPROGRAM_* variables."""
    from homeprogram import create_app

    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text("STAFF_IDLE_TIMEOUT_MINUTES = 10\nINVITE_EXPIRY_DAYS = 3\n")
    monkeypatch.setenv("HOMEPROGRAM_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("HOMEPROGRAM_INVITE_EXPIRY_DAYS", "2")
    app = create_app({"DATABASE_URL": database_url})
    assert app.config["STAFF_IDLE_TIMEOUT_MINUTES"] == 10
    assert app.config["INVITE_EXPIRY_DAYS"] == 2


def test_demo_has_programs_history_and_flags(runner, client, session):
    """The demo children come with programs and weeks of practice, so every page has content:
    the family's today page lists activities and the dashboard flags the child who struggles."""
    from homeprogram.models import Assignment, CompletionLog

    runner.invoke(args=["demo", "--no-serve"])
    assert session.scalar(select(func.count()).select_from(Assignment)) == 10
    assert session.scalar(select(func.count()).select_from(CompletionLog)) > 50
    client.post("/login", data={"email": demo.LOGINS[1][1], "password": demo.LOGINS[1][2]})
    today = client.get("/today").get_data(as_text=True)
    assert "data-done-button" in today
    client.post("/logout")
    client.post("/login", data={"email": demo.LOGINS[0][1], "password": demo.LOGINS[0][2]})
    dashboard = client.get("/dashboard").get_data(as_text=True)
    # Who needs attention comes first. The names as link text: a bare "Sam" can turn up in
    # the page's random CSRF token (CI on PostgreSQL once found it there, before the table).
    assert dashboard.index(">Tobi</a>") < dashboard.index(">Sam</a>")


# --- bad input and broken surroundings: one clear line, a non-zero status, nothing changed ---

HOMEPROGRAM = str(Path(sys.executable).with_name("homeprogram"))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unreachable_postgres() -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/homeprogram"


def homeprogram(
    *args: str, instance: Path, database_url: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``homeprogram`` command as a person would: its own process, real
    exit status and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEPROGRAM_")}
    env["HOMEPROGRAM_INSTANCE_PATH"] = str(instance)
    env["HOMEPROGRAM_SECRET_KEY"] = "cli-test-secret-key"
    env[clock.ENVIRONMENT_VARIABLE] = clock.now().isoformat()  # the test's pinned clock
    env.pop("DATABASE_URL", None)
    if database_url is not None:
        env["HOMEPROGRAM_DATABASE_URL"] = database_url
    return subprocess.run(
        [HOMEPROGRAM, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode != 0, result
    # The pinned clock announces itself (tests only); everything else is the one line.
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith("clock pinned:")
    ]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _user_count(session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--email", "not-an-email", "email"),
        ("--email", "ot@", "email"),
        ("--timezone", "Mars/Olympus", "timezone"),
        ("--timezone", "", "timezone"),
    ],
)
def test_create_user_refuses_a_bad_email_or_time_zone(runner, session, option, value, field):
    """create-user with a malformed email or an unknown time zone says which and creates
    nothing: no account that can log in, no organization."""
    values = {"--email": "ot@example.org", "--timezone": "Europe/Berlin", option: value}
    args = ["create-user", "--name", "O T", "--org", "Clinic", "--password", "a-long-passphrase"]
    for name, given in values.items():
        args += [name, given]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert field in result.output and "Traceback" not in result.output
    assert _user_count(session) == 0
    assert session.scalar(select(func.count()).select_from(Organization)) == 0


def test_create_user_accepts_a_real_time_zone(runner, session):
    """A valid email and IANA time zone make the account, with that time zone."""
    result = runner.invoke(
        args=[
            *("create-user", "--email", "OT@Example.org", "--name", "O T", "--org", "Clinic"),
            *("--timezone", "America/New_York", "--password", "a-long-passphrase"),
        ]
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User))
    assert (user.email, user.timezone) == ("ot@example.org", "America/New_York")


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path):
    """`serve` on a taken port: one line naming the port and --port, exit 1, and not even a
    database created (the port is taken before anything is changed)."""
    database = tmp_path / "serve.sqlite3"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = homeprogram(
            "serve",
            "--port",
            str(port),
            "--no-scheduler",
            instance=tmp_path / "instance",
            database_url=f"sqlite:///{database}",
        )
    assert_one_line_error(result, str(port), "in use", "--port")
    assert not database.exists()


def test_serve_creates_the_database_and_answers_on_its_port(tmp_path):
    """`serve --port N` on a new instance creates the database and answers on port N."""
    instance = tmp_path / "instance"
    port = _closed_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEPROGRAM_")}
    env.update(
        HOMEPROGRAM_INSTANCE_PATH=str(instance),
        HOMEPROGRAM_SECRET_KEY="cli-test-secret-key",
        HOMEPROGRAM_NOW=clock.now().isoformat(),
    )
    server = subprocess.Popen(
        [HOMEPROGRAM, "serve", "--port", str(port), "--no-scheduler", "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "serve did not answer"
            time.sleep(0.2)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert f"Serving on http://127.0.0.1:{port}" in output
    assert (instance / "homeprogram.sqlite3").is_file()


def test_demo_on_a_port_in_use_says_so_before_seeding(tmp_path):
    """`demo --port N` on a taken port: one line, and the demo data is not seeded."""
    database = tmp_path / "demo.sqlite3"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = homeprogram(
            "demo",
            "--port",
            str(port),
            instance=tmp_path / "i",
            database_url=f"sqlite:///{database}",
        )
    assert_one_line_error(result, str(port), "--port")
    assert not database.exists()


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve", "--no-scheduler"]])
def test_unreachable_database_is_one_line(tmp_path, command):
    """`serve` or `db upgrade` with a database server that does not answer: one line that
    names the database (without a password) and the variable to check."""
    url = _unreachable_postgres().replace("postgres@", "postgres:s3cret@")
    result = homeprogram(*command, instance=tmp_path / "instance", database_url=url)
    line = assert_one_line_error(result, "HOMEPROGRAM_DATABASE_URL", "127.0.0.1")
    assert "s3cret" not in line


def _sqlite_file(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE kept (x INTEGER)")
        conn.commit()
    return f"sqlite:///{path}"


def _unwritable_targets(tmp_path: Path) -> list[Path]:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    targets = [blocker / "backup.sqlite3"]  # a file where a folder should be
    if Path("/proc/self").exists():
        targets.append(Path("/proc/homeprogram-backup.sqlite3"))  # refused even to root
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o500)
    if not os.access(readonly, os.W_OK):  # root may write anyway
        targets.append(readonly / "backup.sqlite3")
    return targets


def test_backup_to_an_unwritable_path_is_one_line(tmp_path):
    """`backup` where nothing can be written: one line naming the path, exit non-zero, and
    no partial file left behind."""
    url = _sqlite_file(tmp_path / "live.sqlite3")
    for target in _unwritable_targets(tmp_path):
        result = homeprogram("backup", str(target), instance=tmp_path / "i", database_url=url)
        assert_one_line_error(result, str(target.parent))
        assert not target.exists()
        assert not target.with_name(target.name + ".partial").exists()
    assert sorted(p.name for p in tmp_path.glob("live.sqlite3*"))[0] == "live.sqlite3"


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with no tables at all: a new PostgreSQL database, or None for the default
    SQLite file of a new instance folder."""
    if not POSTGRES_URL:
        yield None
        return
    name = f"hp_empty_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


CREATE_ARGS = (
    *("create-user", "--email", "ot@example.org", "--name", "O T", "--org", "Clinic"),
    *("--password", "a-long-passphrase"),
)


def test_commands_on_a_new_database_say_to_run_db_upgrade(tmp_path, empty_database_url):
    """On a new instance (no tables yet) create-user, reset-password, library sync and
    scheduler say in one line to run `homeprogram db upgrade`, and create nothing; after
    it, create-user works."""
    instance = tmp_path / "new-instance"
    for command in (
        CREATE_ARGS,
        ("reset-password", "--email", "ot@example.org", "--password", "a-long-passphrase"),
        ("library", "sync"),
        ("scheduler",),
    ):
        result = homeprogram(*command, instance=instance, database_url=empty_database_url)
        assert_one_line_error(result, "homeprogram db upgrade")
    if empty_database_url is None:
        assert not (instance / "homeprogram.sqlite3").exists()
    else:
        engine = create_engine(empty_database_url)
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
        engine.dispose()
    upgraded = homeprogram("db", "upgrade", instance=instance, database_url=empty_database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    created = homeprogram(*CREATE_ARGS, instance=instance, database_url=empty_database_url)
    assert created.returncode == 0, created.stderr
    assert "Created ot@example.org" in created.stdout
