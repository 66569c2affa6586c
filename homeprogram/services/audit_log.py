"""Reading the audit trail for an organization's admin (filters, pages). Read-only."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from homeprogram.models import AuditEvent, Child, User
from homeprogram.services.sessions import org_user_ids

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    child_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    date_from: date | None = None  # local dates in the organization's time zone, inclusive
    date_to: date | None = None


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor_name: str | None
    child_name: str | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int
    has_next: bool


def _org_scope(organization_id: int):  # type: ignore[no-untyped-def]
    # Rows of the organization, and rows about its children written by family or school
    # members (who act without an organization).
    children = select(Child.id).where(Child.organization_id == organization_id)
    return or_(AuditEvent.organization_id == organization_id, AuditEvent.child_id.in_(children))


def _start_of(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, ZoneInfo(timezone)).astimezone(UTC)


def events(
    session: Session, organization_id: int, timezone: str, filters: AuditFilter, page: int = 1
) -> AuditPage:
    actor = aliased(User)
    stmt = (
        select(AuditEvent, actor.name, Child.display_name)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(Child, Child.id == AuditEvent.child_id)
        .where(_org_scope(organization_id))
    )
    if filters.child_id is not None:
        stmt = stmt.where(AuditEvent.child_id == filters.child_id)
    if filters.user_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == filters.user_id)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.date_from is not None:
        stmt = stmt.where(AuditEvent.at >= _start_of(filters.date_from, timezone))
    if filters.date_to is not None:
        stmt = stmt.where(AuditEvent.at < _start_of(filters.date_to + timedelta(days=1), timezone))
    page = max(page, 1)
    stmt = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    stmt = stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    rows = [AuditRow(e, a, c) for e, a, c in session.execute(stmt)]
    return AuditPage(rows=rows[:PAGE_SIZE], page=page, has_next=len(rows) > PAGE_SIZE)


def filter_choices(session: Session, organization_id: int) -> dict[str, list[tuple[str, str]]]:
    """Children, people and actions an admin can filter by."""
    children = session.execute(
        select(Child.id, Child.display_name)
        .where(Child.organization_id == organization_id)
        .order_by(Child.display_name)
    ).all()
    people = session.execute(
        select(User.id, User.name)
        .where(User.id.in_(org_user_ids(session, organization_id)))
        .order_by(User.name)
    ).all()
    actions = session.scalars(
        select(AuditEvent.action)
        .where(_org_scope(organization_id))
        .distinct()
        .order_by(AuditEvent.action)
    ).all()
    return {
        "child": [(str(i), n) for i, n in children],
        "user": [(str(i), n) for i, n in people],
        "action": [(a, a) for a in actions],
    }
