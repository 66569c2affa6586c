"""Database-specific skips, and the CI rule that every skip must be one of them.

A test for one database says so with ``postgres_only`` or ``sqlite_only``; the other run
skips it with a reason that starts with the database's name. With
``HOMEPROGRAM_TEST_STRICT_SKIPS=1`` (``.ci/run`` sets it) any other skip fails the run:
a missing Chromium, Redis or tool must not turn a red check into a quiet skip.
"""

import os
from typing import Any

import pytest

POSTGRES_URL = os.environ.get("HOMEPROGRAM_TEST_POSTGRES_URL")
STRICT = os.environ.get("HOMEPROGRAM_TEST_STRICT_SKIPS") == "1"

POSTGRES_ONLY = "PostgreSQL only"
SQLITE_ONLY = "SQLite only"

postgres_only = pytest.mark.skipif(
    not POSTGRES_URL, reason=f"{POSTGRES_ONLY} (set HOMEPROGRAM_TEST_POSTGRES_URL)"
)
sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason=f"{SQLITE_ONLY}")

_skipped: list[tuple[str, str]] = []


def expected(reason: str) -> bool:
    """The skips a run on this database may have: the other database's tests."""
    other = SQLITE_ONLY if POSTGRES_URL else POSTGRES_ONLY
    return reason.removeprefix("Skipped: ").startswith(other)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and isinstance(report.longrepr, tuple):
        _skipped.append((report.nodeid, str(report.longrepr[2])))


def pytest_sessionfinish(session: pytest.Session, exitstatus: Any) -> None:
    unexpected = [(test, reason) for test, reason in _skipped if not expected(reason)]
    if not (STRICT and unexpected):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep(
            "=", "skips not allowed here (HOMEPROGRAM_TEST_STRICT_SKIPS=1)", red=True
        )
        for test, reason in unexpected:
            reporter.write_line(f"{test}: {reason}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
