"""What commands check before they change anything: the database answers and has this
version's schema, the port is free.

Each problem is one line on stderr and exit status 1 (``click.ClickException``), never a
traceback: the person at the terminal needs the cause and the next step, not our stack.
"""

import errno
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from homeprogram.paths import private_folder

UPGRADE_HINT = "run `homeprogram db upgrade` first"
F = TypeVar("F", bound=Callable[..., Any])


def database_label(url: str) -> str:
    """The database URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _reason(error: DBAPIError) -> str:
    """The driver's first line (psycopg adds a hint line; SQLAlchemy a link)."""
    text = str(error.orig or error).strip()
    return text.splitlines()[0].strip() if text else type(error).__name__


def unreachable(url: str, error: DBAPIError) -> click.ClickException:
    return click.ClickException(
        f"Cannot connect to the database {database_label(url)} ({_reason(error)}): check "
        "HOMEPROGRAM_DATABASE_URL and that the database server is running."
    )


def check_reachable(url: str) -> None:
    """Connect once, with a throwaway engine (no pool of ours is touched). A SQLite file
    that does not exist yet is left alone: the upgrade creates it."""
    sqlite = _sqlite_file(url)
    if sqlite is not None and not sqlite.exists():
        return
    engine = create_engine(url)
    try:
        with engine.connect():
            pass
    except DBAPIError as error:
        raise unreachable(url, error) from None
    finally:
        engine.dispose()


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_sqlite_folder(url: str) -> None:
    """``db upgrade`` creates the database, and so the folder of a SQLite file."""
    sqlite = _sqlite_file(url)
    if sqlite is None:
        return
    try:
        private_folder(sqlite.parent)
    except OSError as error:
        raise click.ClickException(
            f"Cannot create the folder for the database {sqlite}: {error.strerror or error}."
        ) from None


def check_schema(url: str) -> None:
    """The database exists and is at this version's newest migration.

    Commands other than ``serve``, ``demo`` and ``restore`` do not migrate: an upgrade is a
    deliberate step (after a backup, while the old version is stopped), and a command
    pointed at the wrong folder or URL would otherwise create a whole new empty database
    there without a word. They say what to run instead.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from homeprogram.migrations_runner import alembic_config

    sqlite = _sqlite_file(url)
    if sqlite is not None and not sqlite.is_file():
        raise click.ClickException(f"No database at {sqlite} yet: {UPGRADE_HINT}.")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except DBAPIError as error:
        raise unreachable(url, error) from None
    finally:
        engine.dispose()
    scripts = ScriptDirectory.from_config(alembic_config(url))
    label = database_label(url)
    if not current:
        raise click.ClickException(f"The database {label} has no tables yet: {UPGRADE_HINT}.")
    unknown = sorted(rev for rev in current if scripts.get_revision(rev) is None)
    if unknown:
        raise click.ClickException(
            f"The database {label} has schema {', '.join(unknown)}, newer than this version "
            "of homeprogram: install the version that wrote it."
        )
    if current != set(scripts.get_heads()):
        raise click.ClickException(
            f"The database {label} has an older schema than this version: {UPGRADE_HINT}."
        )


def needs_schema(command: F) -> F:
    """For commands that read or write data: refuse in one line unless the schema is current
    (put it under ``with_appcontext``)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_schema(current_app.config["DATABASE_URL"])
        return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def bind(app: Flask, host: str, port: int, threads: int) -> Any:
    """Take the port for waitress now, before anything is changed, or say why not."""
    import waitress

    try:
        return waitress.create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="homeprogram",
            # Behind trusted proxies ProxyFix (security.py) reads X-Forwarded-*: waitress
            # passes them on instead of dropping them; with none trusted it drops them.
            clear_untrusted_proxy_headers=not app.config["TRUSTED_PROXIES"],
        )
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            reason = (
                "is already in use: stop the program that uses it or choose another port "
                "with --port (on macOS, AirPlay Receiver takes port 5000)"
            )
        else:
            reason = f"cannot be used ({error.strerror or error})"
        raise click.ClickException(f"Port {port} on {host} {reason}.") from None
    except ValueError:  # waitress: a host name that does not resolve, or a bad port
        raise click.ClickException(
            f"Cannot listen on {host}:{port}: not a host name or address of this machine."
        ) from None
