"""SQLite under several processes: pragmas in force and no 'database is locked'."""

import subprocess
import sys
import textwrap

from sqlalchemy import func, select, text

from homeprogram.db import make_engine
from homeprogram.models import AuditEvent
from tests.skips import sqlite_only

pytestmark = sqlite_only

WRITER = textwrap.dedent(
    """
    import sys
    from sqlalchemy import func, select
    from homeprogram.db import Database
    from homeprogram.models import AuditEvent
    from homeprogram.services import audit
    from homeprogram.services.audit import Actor

    db = Database()
    db.configure(sys.argv[1])
    for i in range(int(sys.argv[3])):
        with db.transaction() as s:
            # read, then write: the pattern that fails with SQLITE_BUSY in deferred mode
            n = s.scalar(select(func.count()).select_from(AuditEvent))
            audit.record(s, Actor(None), "test.write", writer=sys.argv[2], seen=n)
    """
)


def test_pragmas_on_every_connection(database_url):
    """Every connection runs in WAL with foreign keys on, a busy timeout and synchronous=NORMAL."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    engine.dispose()


def test_concurrent_writer_processes_never_hit_locked(database_url):
    """Four processes doing read-then-write transactions all succeed; every row is stored."""
    writers, each = 4, 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, database_url, str(n), str(each)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * writers, errors
    engine = make_engine(database_url)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(AuditEvent))
    engine.dispose()
    assert count == writers * each
