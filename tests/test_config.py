"""Settings from the environment: the names docs/configuration.md gives work, and a value
the app cannot understand stops it with one line that names the setting, instead of
switching a protection off without a word."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, select

from homeprogram import config, create_app
from homeprogram.config import ConfigError
from homeprogram.extensions import db
from homeprogram.models import User
from tests.conftest import BrowserLikeClient

HOMEPROGRAM = str(Path(sys.executable).with_name("homeprogram"))
HTTPS = "https://homeprogram.test"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean slate: no setting comes from the machine running the tests."""
    for name in config.ENV_SETTINGS:
        monkeypatch.delenv(f"HOMEPROGRAM_{name}", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("HOMEPROGRAM_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HOMEPROGRAM_SECRET_KEY", "config-test-secret-key")
    return monkeypatch


@pytest.fixture
def built() -> Iterator[list[Flask]]:
    """Apps a test builds; their database connections are closed after it."""
    apps: list[Flask] = []
    yield apps
    if apps:
        db.engine.dispose()


def build(built: list[Flask], **overrides: Any) -> Flask:
    app = create_app({"TESTING": True, "SERVER_NAME": "homeprogram.test", **overrides})
    app.test_client_class = BrowserLikeClient
    built.append(app)
    return app


def create_therapist(app: Flask, email: str) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            *("create-user", "--email", email, "--name", "O T", "--org", "Clinic"),
            *("--password", "a-long-enough-passphrase"),
        ]
    )
    assert result.exit_code == 0, result.output


def users_in(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(select(User.email)))
    finally:
        engine.dispose()


def test_plain_database_url_is_used(environment, built, database_url):
    """A plain DATABASE_URL (the common convention) chooses the database the app writes to."""
    environment.setenv("DATABASE_URL", database_url)
    create_therapist(build(built), "plain@example.org")
    assert users_in(database_url) == ["plain@example.org"]


def test_homeprogram_database_url_wins_over_the_plain_one(
    environment, built, database_url, tmp_path
):
    """With both set, HOMEPROGRAM_DATABASE_URL is the database; the other is not touched."""
    other = tmp_path / "someone-elses.sqlite3"
    environment.setenv("DATABASE_URL", f"sqlite:///{other}")
    environment.setenv("HOMEPROGRAM_DATABASE_URL", database_url)
    create_therapist(build(built), "prefixed@example.org")
    assert users_in(database_url) == ["prefixed@example.org"]
    assert not other.exists()


def test_instance_config_database_wins_over_the_plain_database_url(
    environment, built, database_url, tmp_path
):
    """instance/config.py is this app's own file: a DATABASE_URL exported for some other
    program on the machine does not take the app away from the database it names."""
    other = tmp_path / "someone-elses.sqlite3"
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(f"DATABASE_URL = {database_url!r}\n")
    environment.setenv("DATABASE_URL", f"sqlite:///{other}")
    create_therapist(build(built), "configured@example.org")
    assert users_in(database_url) == ["configured@example.org"]
    assert not other.exists()


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://ot@db.example/homeprogram", "postgresql+psycopg://ot@db.example/homeprogram"),
        ("postgresql://ot@db.example/hp", "postgresql+psycopg://ot@db.example/hp"),
        ("postgresql+psycopg://ot@db.example/hp", "postgresql+psycopg://ot@db.example/hp"),
    ],
)
def test_postgres_urls_without_a_driver_use_the_installed_one(environment, built, given, used):
    """The URLs hosting services hand out (postgres://, postgresql://) name no driver, and
    SQLAlchemy would look for psycopg2, which is not installed: they get psycopg (3)."""
    environment.setenv("DATABASE_URL", given)
    assert build(built).config["DATABASE_URL"] == used


@pytest.mark.parametrize("name", ["PASSWORD_RESET_LIMIT", "LOGIN_LIMIT_PER_ACCOUNT"])
def test_rate_limits_can_be_set_from_the_environment(
    environment, built, database_url, factory_for, name
):
    """HOMEPROGRAM_PASSWORD_RESET_LIMIT and the login limits change how many tries pass."""
    environment.setenv(f"HOMEPROGRAM_{name}", "2 per hour")
    client = build(built, DATABASE_URL=database_url).test_client()
    if name == "PASSWORD_RESET_LIMIT":
        codes = [
            client.post(f"/account/reset/guess{i}", data={"password": "x", "confirm": "x"})
            for i in range(3)
        ]
        assert [r.status_code for r in codes] == [404, 404, 429]
    else:
        factory_for(database_url).user(email="victim@example.org")
        wrong = {"email": "victim@example.org", "password": "guess-guess"}
        codes = [client.post("/login", data=wrong) for _ in range(3)]
        assert [r.status_code for r in codes] == [401, 401, 429]


@pytest.fixture
def factory_for() -> Iterator[Any]:
    """A data factory on a database the test chose (the shared ``factory`` builds its own
    app first)."""
    from sqlalchemy.orm import Session

    from tests.factories import Factory

    sessions: list[Session] = []
    engines: list[Any] = []

    def _factory(url: str) -> Factory:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        engines.append(engine)
        session = Session(bind=engine)
        sessions.append(session)
        return Factory(session)

    yield _factory
    for session in sessions:
        session.close()
    for engine in engines:
        engine.dispose()


@pytest.mark.parametrize(
    ("value", "limited"),
    [
        *[("true", True), ("On", True), ("1", True), ("yes", True), (" TRUE ", True)],
        *[("false", False), ("Off", False), ("0", False), ("no", False)],
    ],
)
def test_rate_limiting_takes_the_usual_on_off_spellings(
    environment, built, database_url, value, limited
):
    """true/false, on/off, yes/no and 1/0 (any case) switch rate limiting on and off."""
    environment.setenv("HOMEPROGRAM_RATELIMIT_ENABLED", value)
    environment.setenv("HOMEPROGRAM_PASSWORD_RESET_LIMIT", "1 per hour")
    client = build(built, DATABASE_URL=database_url).test_client()
    codes = [
        client.post(f"/account/reset/guess{i}", data={"password": "x", "confirm": "x"}).status_code
        for i in range(2)
    ]
    assert codes == ([404, 429] if limited else [404, 404])


@pytest.mark.parametrize(
    ("value", "sent"), [("true", True), ("on", True), ("false", False), ("OFF", False)]
)
def test_hsts_takes_the_usual_on_off_spellings(environment, built, database_url, value, sent):
    """HOMEPROGRAM_HSTS_ENABLED switches Strict-Transport-Security on HTTPS answers."""
    environment.setenv("HOMEPROGRAM_HSTS_ENABLED", value)
    client = build(built, DATABASE_URL=database_url).test_client()
    response = client.get("/login", base_url=HTTPS)
    assert ("Strict-Transport-Security" in response.headers) is sent


@pytest.mark.parametrize("name", ["RATELIMIT_ENABLED", "HSTS_ENABLED", "SESSION_COOKIE_SECURE"])
@pytest.mark.parametrize("value", ["enabled", "disabled", "ture", "", "2"])
def test_a_misspelt_on_off_setting_stops_the_app(environment, built, database_url, name, value):
    """HOMEPROGRAM_RATELIMIT_ENABLED=enabled used to switch rate limiting off without a word:
    an on/off value the app does not know stops it, naming the setting and the value."""
    environment.setenv(f"HOMEPROGRAM_{name}", value)
    with pytest.raises(ConfigError) as refused:
        build(built, DATABASE_URL=database_url)
    message = refused.value.format_message()
    assert f"HOMEPROGRAM_{name}" in message
    assert repr(value) in message
    assert "true or false" in message
    assert "\n" not in message


@pytest.mark.parametrize("value", ["enabled", 2, "maybe"])
def test_a_misspelt_on_off_setting_in_the_instance_file_stops_the_app(
    environment, built, database_url, tmp_path, value
):
    """The same in instance/config.py, which names the file."""
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(f"HSTS_ENABLED = {value!r}\n")
    with pytest.raises(ConfigError) as refused:
        build(built, DATABASE_URL=database_url)
    message = refused.value.format_message()
    assert "HSTS_ENABLED" in message
    assert str(instance / "config.py") in message


def test_on_off_words_in_the_instance_file_are_read_like_the_environment(
    environment, built, database_url, tmp_path
):
    """HSTS_ENABLED = "false" in instance/config.py means off (a non-empty string is true
    to Python, which would have switched HSTS on)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('HSTS_ENABLED = "false"\nPREFERRED_URL_SCHEME = "https"\n')
    client = build(built, DATABASE_URL=database_url).test_client()
    assert "Strict-Transport-Security" not in client.get("/login", base_url=HTTPS).headers


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("INVITE_EXPIRY_DAYS", "seven", "whole number"),
        ("SMTP_PORT", "587.5", "whole number"),
        ("API_RATE_LIMIT", "lots", "rate limit"),
        ("LOGIN_LIMIT_PER_IP", "30 per fortnight", "rate limit"),
    ],
)
def test_a_value_of_the_wrong_kind_stops_the_app(
    environment, built, database_url, name, value, expected
):
    """A number or rate limit the app cannot read is named at start, not at the first
    request that needs it."""
    environment.setenv(f"HOMEPROGRAM_{name}", value)
    with pytest.raises(ConfigError) as refused:
        build(built, DATABASE_URL=database_url)
    message = refused.value.format_message()
    assert f"HOMEPROGRAM_{name}" in message
    assert expected in message


def test_a_database_url_that_is_not_a_url_stops_the_app_without_repeating_it(environment, built):
    """The message says what is wrong but not the value, which may hold a password."""
    environment.setenv("HOMEPROGRAM_DATABASE_URL", "hunter2-at-db-host")
    with pytest.raises(ConfigError) as refused:
        build(built)
    message = refused.value.format_message()
    assert "HOMEPROGRAM_DATABASE_URL" in message
    assert "hunter2" not in message


def test_the_command_reports_a_misspelt_setting_in_one_line(tmp_path):
    """`homeprogram db upgrade` with HOMEPROGRAM_RATELIMIT_ENABLED=enabled prints one line
    naming the setting, exits non-zero and creates no database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEPROGRAM_")}
    env.pop("DATABASE_URL", None)
    database = tmp_path / "never.sqlite3"
    env |= {
        "HOMEPROGRAM_INSTANCE_PATH": str(tmp_path / "instance"),
        "HOMEPROGRAM_SECRET_KEY": "cli-test-secret-key",
        "HOMEPROGRAM_DATABASE_URL": f"sqlite:///{database}",
        "HOMEPROGRAM_RATELIMIT_ENABLED": "enabled",
    }
    result = subprocess.run(
        [HOMEPROGRAM, "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "HOMEPROGRAM_RATELIMIT_ENABLED" in lines[0]
    assert "'enabled'" in lines[0]
    assert not database.exists()
    assert "Database is up to date" not in result.stdout


def test_settings_table_in_docs_names_variables_that_work():
    """Every HOMEPROGRAM_* variable the configuration page lists is read by the app."""
    page = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
    section = page.read_text()
    listed = set(re.findall(r"`HOMEPROGRAM_([A-Z_]+)`", section))
    assert "DATABASE_URL" in listed
    readable = set(config.ENV_SETTINGS) | {"INSTANCE_PATH"}
    assert listed <= readable, listed - readable
    assert not re.search(r"^\| `(?!HOMEPROGRAM_)[A-Z_]+`", section, re.MULTILINE)
