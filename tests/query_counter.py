"""Count the SQL statements an engine runs (for query-bound tests)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class Counter:
    count: int = 0
    statements: list[str] = field(default_factory=list)


@contextmanager
def count_queries(engine: Any) -> Iterator[Counter]:
    target: Engine = getattr(engine, "engine", engine)
    counter = Counter()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # BEGIN / PRAGMA bookkeeping is not a query of the page.
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")):
            counter.count += 1
            counter.statements.append(statement)

    event.listen(target, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(target, "before_cursor_execute", before)
