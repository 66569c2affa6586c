"""The database's contents, to show that a refused write changed nothing.

Row counts miss a refused edit that changed a row in place; comparing every row of every
table before and after catches inserts, updates and deletes alike::

    before = contents(session)
    assert client.post(url, data=bad).status_code == 400
    assert contents(session) == before
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from homeprogram.models import Base

# Not writes a person asked for: a signed-in request may refresh its own session's
# last-seen time (once a minute), and a page that reads adherence fills the cache of
# derived days (rows the triggers drop when a log or a prescription changes, which the
# comparison sees in those tables).
BOOKKEEPING = frozenset({"user_session", "adherence_day"})


def contents(session: Session, *, ignore: frozenset[str] = BOOKKEEPING) -> dict[str, list[Any]]:
    """Every row of every table but ``ignore``, by table name, in primary-key order."""
    return {
        table.name: [
            tuple(row) for row in session.execute(select(table).order_by(*table.primary_key))
        ]
        for table in Base.metadata.sorted_tables
        if table.name not in ignore
    }
