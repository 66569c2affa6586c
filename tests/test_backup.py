"""`homeprogram backup` / `restore`: consistent online copies of SQLite, validated restores."""

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from homeprogram.models import AuditEvent, Organization
from homeprogram.services import backup
from tests.skips import postgres_only, sqlite_only


def _count(path: Path, table: str = "audit_event") -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@sqlite_only
def test_backup_while_writing_then_restore(app, runner, session, database_url, tmp_path):
    """A backup taken while another thread keeps writing is intact and self-consistent, and
    restoring it brings the database back to exactly that state."""
    engine = create_engine(database_url, connect_args={"timeout": 15})
    stop = threading.Event()
    written = []

    def writer() -> None:
        n = 0
        while not stop.is_set():
            with engine.begin() as conn:
                # Two rows per transaction: a torn copy would show an odd count.
                for _ in range(2):
                    conn.execute(
                        text(
                            "INSERT INTO audit_event (at, action, detail) VALUES (:at, 'w', '{}')"
                        ),
                        {"at": "2026-01-01 00:00:00"},
                    )
            n += 1
            written.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        target = tmp_path / "backups" / "copy.sqlite3"
        result = runner.invoke(args=["backup", str(target)])
        assert result.exit_code == 0, result.output
        after_backup = len(written)
        while len(written) < after_backup + 10:  # the writer went on during and after
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    db_file = Path(database_url.removeprefix("sqlite:///"))
    in_backup = _count(target)
    assert in_backup > 0 and in_backup % 2 == 0
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _count(db_file) >= in_backup

    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert "previous database was kept" in result.output
    assert session.scalar(select(func.count(AuditEvent.id))) == in_backup
    with closing(sqlite3.connect(db_file)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    kept = list(db_file.parent.glob(db_file.name + ".before-restore-*"))
    assert len(kept) == 1 and _count(kept[0]) >= in_backup


@sqlite_only
def test_backup_refuses_to_overwrite(runner, tmp_path):
    """An existing file is not overwritten without --force."""
    target = tmp_path / "b.sqlite3"
    target.write_text("keep me")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 2 and "exists" in result.output
    assert target.read_text() == "keep me"
    assert runner.invoke(args=["backup", str(target), "--force"]).exit_code == 0


@sqlite_only
def test_restore_validates_the_file(runner, session, tmp_path, database_url):
    """Restore refuses a non-database, a damaged file and a foreign SQLite database, and the
    live database stays as it was."""
    session.add(Organization(name="Kept", timezone="UTC"))
    session.commit()
    not_db = tmp_path / "notes.txt"
    not_db.write_text("hello")
    foreign = tmp_path / "foreign.sqlite3"
    with closing(sqlite3.connect(foreign)) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
    damaged = tmp_path / "damaged.sqlite3"
    good = tmp_path / "good.sqlite3"
    backup.backup(database_url, good)
    data = bytearray(good.read_bytes())
    data[4096:8192] = b"\xff" * 4096
    damaged.write_bytes(bytes(data))
    for path, message in [
        (not_db, "not an SQLite database"),
        (foreign, "not a homeprogram database"),
        (damaged, ""),
        (tmp_path / "missing.sqlite3", "No file"),
    ]:
        result = runner.invoke(args=["restore", str(path), "--yes"])
        assert result.exit_code != 0, path
        assert message in result.output, result.output
    assert session.scalar(select(Organization.name)) == "Kept"


def test_postgres_points_to_pg_dump(tmp_path):
    """On PostgreSQL the commands explain pg_dump / pg_restore instead of copying files."""
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/whatever"
    with pytest.raises(backup.BackupError, match="pg_dump"):
        backup.backup(url, tmp_path / "x")
    with pytest.raises(backup.BackupError, match="pg_restore"):
        backup.restore(url, tmp_path / "x")


@pytest.mark.postgres
@postgres_only
def test_backup_command_on_postgres_prints_help(runner, tmp_path):
    """`homeprogram backup` on a PostgreSQL deployment exits with the pg_dump advice."""
    result = runner.invoke(args=["backup", str(tmp_path / "x")])
    assert result.exit_code == 2 and "pg_dump" in result.output
