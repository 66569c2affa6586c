"""Everything stored about one child: export as JSON, and deletion.

Both walk the schema instead of naming tables: every table with a foreign key to ``child``,
and every table that points at rows of those (pauses of an assignment, measurements of a
goal...), so a table added later is exported and deleted without touching this module.
Care-team members appear by name and role only; secrets (token hashes, push keys) never.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.orm import Session

from homeprogram.models import AuditEvent, Base, CareTeamMember, Child, User
from homeprogram.models.base import utcnow
from homeprogram.services import audit
from homeprogram.services.audit import Actor

FORMAT_VERSION = 1
# Columns never exported, whatever the table: credentials and push keys.
_SECRET = re.compile(
    r"^(?:.*token.*|.*_hash|.*secret.*|.*password.*|p256dh|auth|endpoint)$", re.IGNORECASE
)
# Tables handled on their own: the child row, the append-only audit trail, and people.
_SPECIAL = {"child", "audit_event", "user_account", "care_team_member"}


@dataclass(frozen=True)
class Related:
    table: Table
    condition: Any  # SQL condition selecting the child's rows


def _related_tables(child_id: int) -> Iterator[Related]:
    """Tables holding the child's data, parents before children (FK order).

    A table belongs when one of its foreign keys points at the child or at a table that
    belongs; rows are selected through that key.
    """
    selected: dict[str, Any] = {}  # table name -> select of its ids for this child
    for table in Base.metadata.sorted_tables:
        if table.name in _SPECIAL:
            continue
        conditions = []
        for fk in table.foreign_keys:
            target = fk.column.table.name
            if target == "child":
                conditions.append(fk.parent == child_id)
            elif target in selected and target != table.name:
                conditions.append(fk.parent.in_(selected[target]))
        if not conditions:
            continue
        condition = or_(*conditions)
        if "id" in table.c:
            selected[table.name] = select(table.c.id).where(condition).scalar_subquery()
        yield Related(table, condition)


def child_tables() -> list[str]:
    """Names of every table that holds data of a child (for tests and docs)."""
    return [r.table.name for r in _related_tables(0)]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(table: Table, row: Any) -> dict[str, Any]:
    return {key: _plain(value) for key, value in row._mapping.items() if not _SECRET.search(key)}


def export(session: Session, actor: Actor, child: Child) -> dict[str, Any]:
    """A JSON-ready document of everything stored about ``child``; the export is audited."""
    team = session.execute(
        select(User.id, User.name, CareTeamMember.role)
        .join(CareTeamMember, CareTeamMember.user_id == User.id)
        .where(CareTeamMember.child_id == child.id)
        .order_by(CareTeamMember.role, User.name)
    ).all()
    tables: dict[str, list[dict[str, Any]]] = {}
    referenced_users: set[int] = set()
    for related in _related_tables(child.id):
        table = related.table
        rows = session.execute(
            select(table).where(related.condition).order_by(*table.primary_key.columns)
        ).all()
        tables[table.name] = [_row(table, row) for row in rows]
        user_columns = [
            fk.parent.name for fk in table.foreign_keys if fk.column.table.name == "user_account"
        ]
        for row in tables[table.name]:
            referenced_users.update(row[c] for c in user_columns if row.get(c) is not None)
    team_ids = {user_id for user_id, _, _ in team}
    others = session.execute(
        select(User.id, User.name).where(User.id.in_(referenced_users - team_ids))
    ).all()
    history = session.execute(
        select(AuditEvent.at, AuditEvent.action, AuditEvent.actor_id, AuditEvent.target_type)
        .where(AuditEvent.child_id == child.id)
        .order_by(AuditEvent.id)
    ).all()
    document = {
        "format": "homeprogram-child-export",
        "version": FORMAT_VERSION,
        "exported_at": utcnow().isoformat(),
        "child": {
            "id": child.id,
            "display_name": child.display_name,
            "birth_year": child.birth_year,
            "birth_month": child.birth_month,
            "timezone": child.timezone,
            "created_at": child.created_at.isoformat(),
        },
        "care_team": [{"user_id": i, "name": n, "role": r} for i, n, r in team],
        "other_people": [{"user_id": i, "name": n} for i, n in others],
        "tables": tables,
        "access_history": [
            {"at": at.isoformat(), "action": action, "user_id": who, "record": target}
            for at, action, who, target in history
        ],
    }
    audit.record(
        session,
        actor,
        "child.exported",
        organization_id=child.organization_id,
        child_id=child.id,
        target_type="child",
        target_id=child.id,
    )
    return document


def delete_child(session: Session, actor: Actor, child: Child) -> dict[str, int]:
    """Remove the child and every row about them. The audit trail keeps a tombstone
    (``child.deleted``, ids and counts only) and its earlier rows lose their details."""
    child_id, organization_id = child.id, child.organization_id
    counts: dict[str, int] = {}
    for related in reversed(list(_related_tables(child_id))):
        result = session.execute(delete(related.table).where(related.condition))
        counts[related.table.name] = result.rowcount or 0
    counts["care_team_member"] = (
        session.execute(delete(CareTeamMember).where(CareTeamMember.child_id == child_id)).rowcount
        or 0
    )
    session.execute(delete(Child).where(Child.id == child_id))
    session.expunge(child)
    # Core update: the database guard allows blanking details and addresses, nothing else.
    session.execute(
        update(AuditEvent).where(AuditEvent.child_id == child_id).values(detail={}, ip=None)
    )
    audit.record(
        session,
        actor,
        "child.deleted",
        organization_id=organization_id,
        child_id=child_id,
        target_type="child",
        target_id=child_id,
        rows={name: n for name, n in counts.items() if n},
    )
    return counts
