"""SQLite backup and restore through SQLite's online backup API.

The backup copies a consistent snapshot while the app keeps running (readers and writers
are not stopped). A restore first validates the file (SQLite, intact, a schema revision this
version knows), keeps a copy of the current database beside it, then copies the backup into
the live database through the same API, so running processes see the restored data rather
than a half-written file. PostgreSQL deployments use pg_dump/pg_restore instead.
"""

import sqlite3
from contextlib import closing, suppress
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from homeprogram.migrations_runner import alembic_config
from homeprogram.paths import private_file, private_folder

POSTGRES_HELP = (
    "This database is PostgreSQL: use its own tools, e.g.\n"
    "  pg_dump --format=custom --file=homeprogram.dump DATABASE\n"
    "  pg_restore --clean --if-exists --dbname=DATABASE homeprogram.dump\n"
    "(see docs/operations.md, 'Backup and restore')."
)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(POSTGRES_HELP)
    if not url.database or url.database == ":memory:":
        raise BackupError("The database is in memory; there is nothing to back up.")
    return Path(url.database)


def _integrity(conn: sqlite3.Connection) -> str:
    return conn.execute("PRAGMA integrity_check").fetchone()[0]


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=15)
    return sqlite3.connect(path, timeout=15)


def _write_problem(destination: Path, error: OSError | sqlite3.Error) -> str:
    for folder in destination.parents:
        if folder.exists():
            if not folder.is_dir():
                return f"{folder} is a file, not a folder"
            break
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error)


def backup(database_url: str, destination: Path, *, overwrite: bool = False) -> Path:
    """Write a consistent copy of the live SQLite database to ``destination``."""
    source = sqlite_path(database_url)
    if not source.is_file():
        raise BackupError(f"No database at {source}.")
    destination = destination.resolve()
    if destination.exists() and not overwrite:
        raise BackupError(f"{destination} exists; choose another name or pass --force.")
    partial = destination.with_name(destination.name + ".partial")
    try:
        private_folder(destination.parent)
        partial.unlink(missing_ok=True)
        # Children's data: 0600 wherever the backup goes (sqlite3 would make it 0644).
        private_file(partial)
        with closing(_connect(source)) as src, closing(sqlite3.connect(partial)) as dst:
            # pages=-1: one step under one read snapshot, so concurrent writes cannot tear it.
            src.backup(dst, pages=-1)
            # A self-contained file: no WAL beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
            result = _integrity(dst)
    except (OSError, sqlite3.Error) as error:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        raise BackupError(
            f"Cannot write the backup to {destination}: {_write_problem(destination, error)}."
        ) from error
    if result != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"The copy failed its integrity check: {result}")
    partial.replace(destination)
    return destination


def validate(path: Path, database_url: str) -> str:
    """Check that ``path`` is an intact homeprogram database; return its schema revision."""
    if not path.is_file():
        raise BackupError(f"No file at {path}.")
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not an SQLite database.")
    with closing(_connect(path, readonly=True)) as conn:
        try:
            result = _integrity(conn)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is damaged: {error}") from error
        if result != "ok":
            raise BackupError(f"{path} failed its integrity check: {result}")
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupError(
                f"{path} is not a homeprogram database (no schema version)."
            ) from error
    if row is None:
        raise BackupError(f"{path} has no schema version.")
    revision = row[0]
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    if scripts.get_revision(revision) is None:
        raise BackupError(
            f"{path} has schema {revision!r}, unknown to this version of homeprogram."
        )
    return revision


def restore(database_url: str, source: Path) -> tuple[str, Path | None]:
    """Replace the live database's content with ``source``. Returns the backup's schema
    revision and where the previous database was kept (None if there was none)."""
    target = sqlite_path(database_url)
    source = source.resolve()
    revision = validate(source, database_url)
    if source == target.resolve():
        raise BackupError("That file is the live database itself.")
    kept = None
    if target.is_file():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = backup(database_url, target.with_name(f"{target.name}.before-restore-{stamp}"))
    private_folder(target.parent)
    private_file(target)
    with closing(_connect(source, readonly=True)) as src, closing(_connect(target)) as dst:
        src.backup(dst, pages=-1)
        result = _integrity(dst)
    if result != "ok":
        raise BackupError(f"The restored database failed its integrity check: {result}")
    return revision, kept
