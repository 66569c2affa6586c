"""Claiming rows: INSERT, and a unique violation means someone else has it.

The claim is how every "send once" works whatever the number of scheduler processes:
the row is inserted (and committed) before anything is sent, and only the rows this
caller inserted are returned. ``ON CONFLICT DO NOTHING`` is the batch form of "insert and
treat a unique violation as taken", on PostgreSQL and on SQLite alike.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from homeprogram.models import Base


def claim(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    *,
    returning: bool = True,
) -> list[tuple[Any, ...]]:
    """Insert ``rows``; return ``(id, *key)`` of those this call inserted (nothing when
    ``returning`` is false: rows that someone else inserted first are simply left)."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"claiming rows is not implemented for {dialect}")
    table = model.__table__  # Core: one compiled statement, batched by insertmanyvalues
    statement = insert(table).on_conflict_do_nothing(index_elements=list(key))
    if not returning:
        session.connection().execute(statement, list(rows))
        return []
    statement = statement.returning(table.c.id, *(table.c[name] for name in key))
    return [tuple(row) for row in session.connection().execute(statement, list(rows))]
