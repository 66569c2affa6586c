"""Fixtures: a real database per test (SQLite file, or PostgreSQL when configured), the app,
a client that sends CSRF tokens like a browser, and factory helpers.

Set ``HOMEPROGRAM_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
to run the whole suite against PostgreSQL.

The app's clock is pinned for the whole run, so no test depends on the real day, hour or
time zone: every test starts at ``--now`` (default: a Wednesday afternoon, ``DEFAULT_NOW``),
or at ``$HOMEPROGRAM_TEST_NOW``. ``pytest --now 2027-03-13T22:30:00Z`` runs the suite on a
Saturday evening in New York. The ``clock`` fixture moves time within a test.
"""

import hashlib
import os
import re
import shutil
import signal
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from homeprogram import catalogs, create_app
from homeprogram import clock as app_clock
from homeprogram.extensions import db
from homeprogram.migrations_runner import upgrade
from homeprogram.models import Base
from tests.browser import browser, live_server, new_page, pytest_terminal_summary  # noqa: F401
from tests.skips import pytest_runtest_logreport, pytest_sessionfinish  # noqa: F401

POSTGRES_URL = os.environ.get("HOMEPROGRAM_TEST_POSTGRES_URL")
TEST_PASSWORD = "correct horse battery staple"
# A Wednesday, 12:00 in New York, 09:00 in Los Angeles, already Thursday in Auckland.
DEFAULT_NOW = "2026-11-25T17:00:00Z"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--now",
        default=os.environ.get("HOMEPROGRAM_TEST_NOW") or DEFAULT_NOW,
        help="the instant every test starts at (ISO 8601 with offset; default %(default)s)",
    )


def _interrupt(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    # A TERM (a cancelled CI job) unwinds like Ctrl+C, so fixtures stop their servers.
    signal.signal(signal.SIGTERM, _interrupt)
    config.pinned_now = app_clock.parse_instant(config.getoption("--now"))  # type: ignore[attr-defined]
    app_clock.pin(config.pinned_now)  # type: ignore[attr-defined]
    # The suite reads the catalogs as they are in the tree, even when `make catalogs` was
    # not run after a .po file changed.
    catalogs.compile_all()


def pytest_report_header(config: pytest.Config) -> str:
    now = config.pinned_now  # type: ignore[attr-defined]
    return (
        f"database: {'PostgreSQL' if POSTGRES_URL else 'SQLite'}; "
        f"clock pinned to {now:%A %Y-%m-%d %H:%M} UTC"
    )


class Clock:
    """The app's clock in a test: starts at the pinned instant and runs at the real pace."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        app_clock.pin(start)

    def now(self) -> datetime:
        return app_clock.now()

    def set(self, instant: datetime) -> None:
        app_clock.pin(instant)

    def advance(self, delta: timedelta) -> None:
        app_clock.pin(app_clock.now() + delta)


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[Clock]:
    """Every test starts at the pinned instant; ``clock.set`` / ``clock.advance`` move it."""
    pinned = Clock(request.config.pinned_now)  # type: ignore[attr-defined]
    yield pinned
    app_clock.pin(pinned.start)


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head once per run; each test gets a clean copy of it."""
    if POSTGRES_URL:
        name = f"hp_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        # pre_ping: the PostgreSQL restart test drops pooled connections.
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield str(path)


@pytest.fixture
def database_url(_migrated_template: str, tmp_path: Path) -> Iterator[str]:
    if POSTGRES_URL:
        yield _migrated_template
        engine = create_engine(_migrated_template)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(_migrated_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change settings."""
    return {}


class BrowserLikeClient(FlaskClient):
    """Sends the CSRF token in the header htmx uses, unless ``csrf=False``."""

    def open(self, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        method = kwargs.get("method", "GET").upper()
        if csrf and method in {"POST", "PUT", "PATCH", "DELETE"}:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        app = self.application
        with self.session_transaction() as sess:
            raw = sess.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())  # noqa: S324
        return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture
def app(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_config: dict[str, Any]
) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    monkeypatch.setenv("HOMEPROGRAM_INSTANCE_PATH", str(instance))
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "SERVER_NAME": "homeprogram.test",
        **app_config,
    }
    application = create_app(config)
    application.test_client_class = BrowserLikeClient
    yield application
    db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> BrowserLikeClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session for arranging and checking data directly in the database.

    Autocommit: every statement is its own transaction, so the test never holds a lock
    or an old snapshot while the app under test works. Call ``expire_all()`` before
    re-reading an object the app may have changed.
    """
    # No app context is kept pushed here: a request would reuse it, and share ``g``.
    s = Session(bind=db.engine.execution_options(isolation_level="AUTOCOMMIT"))
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def factory(session: Session) -> Any:
    from tests.factories import Factory

    return Factory(session)


@pytest.fixture
def login(client: BrowserLikeClient) -> Any:
    def _login(email: str, password: str = TEST_PASSWORD, c: FlaskClient | None = None) -> Any:
        c = c or client
        response = c.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return _login


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF meta tag"
    return match.group(1)
