"""Engines and sessions: SQLite pragmas, ``BEGIN IMMEDIATE`` for writes, one session per request."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from homeprogram.paths import private_file

SQLITE_BUSY_TIMEOUT_MS = 15_000
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# What jobs take to open their own transactions: ``Database.transaction``, or a test's own.
Transaction = Callable[[], AbstractContextManager[Session]]


def make_engine(url: str, *, sqlite_foreign_keys: bool = True, **kwargs: Any) -> Engine:
    """Create an engine with the settings our deployments rely on.

    Migrations turn SQLite's foreign keys off: batch mode copies and drops tables, and
    with foreign keys on, dropping a table would cascade into its children.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys)
        _create_private(engine, parsed)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _create_private(engine: Engine, url: URL) -> None:
    """A database file SQLite would create (0644 under the usual umask) is created 0600
    first; its -wal and -shm then get the same mode."""
    if url.database in (None, "", ":memory:") or url.query.get("uri") or url.query.get("mode"):
        return
    path = Path(url.database)

    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        if not path.exists() and path.parent.is_dir():
            private_file(path)


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        mode = cursor.fetchone()[0]
        if mode.lower() not in {"wal", "memory"}:
            raise RuntimeError(f"SQLite refused WAL mode (got {mode!r})")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads and then writes can fail with SQLITE_BUSY
        # whatever the timeout; writers take the lock up front.
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT" or options.get("lone_read"):
            return
        if options.get("sqlite_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class Database:
    """Holds the engine and hands out sessions (per request in Flask, scoped elsewhere)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._read: sessionmaker[Session] | None = None
        self._write: sessionmaker[Session] | None = None
        self._lone_read: Engine | None = None

    def configure(self, url: str, **kwargs: Any) -> None:
        if self.engine is not None:
            self.engine.dispose()
        self.engine = make_engine(url, **kwargs)
        writer = self.engine.execution_options(sqlite_write=True)
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(bind=writer, expire_on_commit=False)
        # One SELECT needs no transaction around it: on PostgreSQL autocommit spares the
        # BEGIN and ROLLBACK round trips; SQLite's begin hook above skips its BEGIN.
        options: dict[str, Any] = {"lone_read": True}
        if self.engine.dialect.name != "sqlite":
            options["isolation_level"] = "AUTOCOMMIT"
        self._lone_read = self.engine.execution_options(**options)

    def init_app(self, app: Flask) -> None:
        self.configure(app.config["DATABASE_URL"])
        app.extensions["homeprogram_db"] = self
        app.teardown_appcontext(self._close_request_session)

    def new_session(self, write: bool = False) -> Session:
        maker = self._write if write else self._read
        if maker is None:
            raise RuntimeError("Database is not configured")
        return maker()

    def reading(self) -> AbstractContextManager[Connection]:
        """A connection for one read statement outside any transaction and the ORM."""
        if self._lone_read is None:
            raise RuntimeError("Database is not configured")
        return self._lone_read.connect()

    def ping(self) -> None:
        """One ``SELECT 1`` on a pooled driver connection (the health check): no ORM
        session, no transaction, no statement compiling. Raises when the database is down."""
        if self.engine is None:
            raise RuntimeError("Database is not configured")
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            cursor.close()
        finally:
            raw.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session for jobs and commands: commit on success, roll back on error."""
        session = self.new_session(write=True)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @property
    def session(self) -> Session:
        """The current request's session; writes begin immediately for unsafe methods."""
        if "db_session" not in g:
            write = has_request_context() and request.method in _WRITE_METHODS
            g.db_session = self.new_session(write=write)
        return g.db_session

    def _close_request_session(self, exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()
