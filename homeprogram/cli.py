"""The ``homeprogram`` command (also ``flask --app homeprogram``)."""

import os
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from homeprogram import cli_checks
from homeprogram.cli_checks import needs_schema
from homeprogram.extensions import db
from homeprogram.models.base import utcnow
from homeprogram.services import accounts
from homeprogram.services.audit import SYSTEM
from homeprogram.services.errors import ValidationFailed

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
PORT_HELP = "Port to listen on (on macOS, AirPlay Receiver takes 5000: try 5050)."


def _upgrade_database(*, library_must_sync: bool = True) -> None:
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from homeprogram.migrations_runner import upgrade

    url = current_app.config["DATABASE_URL"]
    cli_checks.check_reachable(url)
    cli_checks.make_sqlite_folder(url)
    try:
        upgrade(url)
    except OperationalError as error:
        raise cli_checks.unreachable(url, error) from None
    try:
        _sync_library()
    except SQLAlchemyError as error:
        if library_must_sync:
            raise
        # While a model gains a column and its migration is not written yet, the schema
        # upgrade must still work; the library waits for `homeprogram library sync`.
        click.echo(f"Warning: built-in activities not synced ({type(error).__name__}).", err=True)


def _sync_library() -> tuple[int, int]:
    from sqlalchemy.exc import IntegrityError

    from homeprogram.services import library

    try:
        with db.transaction() as s:
            return library.sync_builtin(s)
    except IntegrityError:
        # Another process (a second `serve` starting) inserted the same rows first; now
        # they exist, a second pass only compares.
        with db.transaction() as s:
            return library.sync_builtin(s)


def _serve(app: Flask, server: Any, scheduler: bool) -> None:
    """Run the server ``cli_checks.bind`` made (the port is taken before anything changes)."""
    if scheduler:
        from homeprogram.scheduler import start_in_process

        start_in_process(app)
    from homeprogram import startup

    startup.settle(app)
    click.echo(
        f"Serving on http://{server.effective_host}:{server.effective_port}  (Ctrl+C to stop)"
    )
    server.run()


def _bind(host: str, port: int, threads: int) -> tuple[Flask, Any]:
    """The database answers and the port is ours, checked before the schema is touched."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    cli_checks.check_reachable(app.config["DATABASE_URL"])
    server = cli_checks.bind(app, host, port, threads)
    _warn_if_others_can_read(app)
    return app, server


def _warn_if_others_can_read(app: Flask) -> None:
    """One line on stderr when files of children's data are open to other local users
    (made by an older version, or copied in): we never change modes we did not set."""
    from homeprogram import paths

    instance = Path(app.instance_path)
    places = [instance]
    database = cli_checks._sqlite_file(app.config["DATABASE_URL"])
    if database is not None and not database.resolve().is_relative_to(instance):
        places += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    loose = paths.readable_by_others(*places)
    if not loose:
        return
    names = [
        str(p.relative_to(instance)) if p != instance and p.is_relative_to(instance) else str(p)
        for p in loose
    ]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    fix = " ".join(["chmod -R go=", str(instance), *(str(p) for p in places[1:] if p.exists())])
    click.echo(
        f"Warning: other users of this computer can read children's data in {shown}: run `{fix}`.",
        err=True,
    )


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create the database or bring it to the newest schema, then sync the built-in library."""
    _upgrade_database(library_must_sync=False)
    click.echo("Database is up to date.")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Write a new migration from the difference between models and database."""
    from homeprogram.migrations_runner import revision

    revision(current_app.config["DATABASE_URL"], message)


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help=PORT_HELP)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Do not run scheduled jobs in this process.")
@with_appcontext
def serve(host: str, port: int, threads: int, no_scheduler: bool) -> None:
    """Serve the app with a production WSGI server (waitress)."""
    app, server = _bind(host, port, threads)
    _upgrade_database()
    _serve(app, server, not no_scheduler)


@click.command("demo")
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help=PORT_HELP)
@click.option("--no-serve", is_flag=True, help="Only create and seed the database.")
@with_appcontext
def demo(host: str, port: int, no_serve: bool) -> None:
    """Create or upgrade the database, seed demo data once, print the logins and serve."""
    from homeprogram.services import demo as demo_service

    bound = None if no_serve else _bind(host, port, 8)
    _upgrade_database()
    with db.transaction() as s:
        created = demo_service.seed(s, today=utcnow().date())
    click.echo("Demo data " + ("created." if created else "already present (not seeded again)."))
    click.echo("Demo logins (email / password):")
    for role, email, password in demo_service.LOGINS:
        click.echo(f"  {role:<20} {email:<38} {password}")
    if bound is not None:
        _serve(*bound, True)


@click.command("create-user")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--org", "org_name", prompt="Organization name")
@click.option("--timezone", default="UTC", show_default=True)
@click.password_option()
@with_appcontext
@needs_schema
def create_user(email: str, name: str, org_name: str, timezone: str, password: str) -> None:
    """Create a therapist with a new organization (they become its admin)."""
    try:
        with db.transaction() as s:
            accounts.sign_up_therapist(
                s,
                SYSTEM,
                org_name=org_name,
                name=name,
                email=email,
                password=password,
                timezone=timezone,
            )
    except ValidationFailed as failed:
        for field, message in failed.errors.items():
            click.echo(f"{field}: {message}", err=True)
        sys.exit(1)
    click.echo(f"Created {email} as admin of {org_name}.")


@click.command("reset-password")
@click.option("--email", prompt=True)
@click.password_option()
@with_appcontext
@needs_schema
def reset_password(email: str, password: str) -> None:
    """Set a user's password and end all their sessions."""
    try:
        with db.transaction() as s:
            user = accounts.find_user_by_email(s, email)
            if user is None:
                click.echo("No account has that email.", err=True)
                sys.exit(1)
            accounts.set_password(s, SYSTEM, user, password)
    except ValidationFailed as failed:
        click.echo(failed.errors["password"], err=True)
        sys.exit(1)
    click.echo("Password changed; the user's sessions were ended.")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@with_appcontext
def backup_command(path: Path, force: bool) -> None:
    """Copy the SQLite database to PATH while the app runs (online backup)."""
    from homeprogram.services import backup

    try:
        written = backup.backup(current_app.config["DATABASE_URL"], path, overwrite=force)
    except backup.BackupError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    click.echo(f"Backup written to {written} (integrity check passed).")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the SQLite database with the backup at PATH (validated first)."""
    from homeprogram.services import backup

    url = current_app.config["DATABASE_URL"]
    try:
        revision = backup.validate(path, url)
        if not yes:
            click.confirm(
                f"Replace the database {backup.sqlite_path(url)} with {path}?", abort=True
            )
        revision, kept = backup.restore(url, path)
    except backup.BackupError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    if kept:
        click.echo(f"The previous database was kept at {kept}.")
    click.echo(f"Restored {path} (schema {revision}).")
    _upgrade_database()
    click.echo("Database is up to date. Restart the app if it is running.")


@click.command("scheduler")
@with_appcontext
@needs_schema
def scheduler() -> None:
    """Run scheduled jobs in this process only (for deployments with several web workers)."""
    from homeprogram.scheduler import run_blocking

    click.echo("Scheduler running (Ctrl+C to stop).")
    run_blocking(current_app._get_current_object())  # type: ignore[attr-defined]


@click.group("library")
def library_group() -> None:
    """The activity library."""


@library_group.command("sync")
@with_appcontext
@needs_schema
def library_sync() -> None:
    """Load the built-in activities from the data files (safe to run again)."""
    from homeprogram.services.library import LibraryDataError

    try:
        created, updated = _sync_library()
    except LibraryDataError as error:
        click.echo(f"Activity data error: {error}", err=True)
        sys.exit(1)
    click.echo(f"Built-in activities: {created} created, {updated} updated.")
    from homeprogram.services import library

    items = library.load_builtin()
    pictured = sum(1 for item in items if item.illustration)
    stepped = sum(1 for item in items if item.values.step_picture_alts)
    click.echo(
        f"Pictures: {pictured} of {len(items)} activities, {stepped} with a picture per step."
    )


@library_group.command("stats")
def library_stats() -> None:
    """Count the built-in activities per focus area and age band, and per language."""
    from homeprogram.services import library, library_stats

    try:
        items = library.load_builtin()
    except library.LibraryDataError as error:
        click.echo(f"Activity data error: {error}", err=True)
        sys.exit(1)
    for line in library_stats.table(library_stats.compute(items)):
        click.echo(line)


@click.group("vapid")
def vapid_group() -> None:
    """Web Push (VAPID) keys."""


@vapid_group.command("show")
@with_appcontext
def vapid_show() -> None:
    """Print the public key (the applicationServerKey browsers subscribe with)."""
    from homeprogram import push_config
    from homeprogram.services.vapid import PushConfigError, check_contact

    try:
        click.echo(push_config.keys(current_app._get_current_object()).public_key)  # type: ignore[attr-defined]
    except PushConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    try:
        check_contact(current_app.config.get("VAPID_CONTACT"))
    except PushConfigError as exc:
        click.echo(f"Warning: {exc}", err=True)


@vapid_group.command("rotate")
@click.confirmation_option(prompt="Replace the VAPID keys? Every device must subscribe again.")
@with_appcontext
@needs_schema
def vapid_rotate() -> None:
    """Replace the instance's key pair (existing subscriptions then need renewal)."""
    from pathlib import Path

    from sqlalchemy import func, select

    from homeprogram import push_config
    from homeprogram.models import PushSubscription
    from homeprogram.services.vapid import PushConfigError, rotate_keys

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        keys = rotate_keys(Path(app.instance_path), app.config)
    except PushConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    push_config.forget_keys(app)
    with db.transaction() as s:
        count = s.scalar(select(func.count()).select_from(PushSubscription)) or 0
    click.echo(f"New public key: {keys.public_key}")
    click.echo(
        f"{count} existing subscription(s) were made with the old key and need renewal: "
        "each person opens Settings > Devices once (the page renews the subscription), or "
        "turns notifications on again. Restart running servers and schedulers."
    )


def register_commands(app: Flask) -> None:
    for command in (db_group, serve, demo, scheduler, create_user, reset_password):
        app.cli.add_command(command)
    app.cli.add_command(library_group)
    app.cli.add_command(vapid_group)
    for command in (backup_command, restore_command):
        app.cli.add_command(command)


def main() -> None:
    from homeprogram import create_app

    # Everything the command creates (database, -wal/-shm, backups, exports) is the app
    # account's alone, even where no code of ours sets a mode.
    os.umask(0o077)
    os.environ.setdefault("FLASK_RUN_FROM_CLI", "false")
    cli = FlaskGroup(create_app=create_app, add_default_commands=False, add_version_option=False)
    cli(prog_name="homeprogram")
