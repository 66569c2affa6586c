"""The activity library: built-in activities plus each organization's own."""

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from homeprogram.models import Activity
from homeprogram.services.errors import NotFound


def visible_activities(organization_id: int | None) -> Select[tuple[Activity]]:
    """Built-in activities and the organization's own; archived ones excluded."""
    owner = Activity.organization_id.is_(None)
    if organization_id is not None:
        owner = or_(owner, Activity.organization_id == organization_id)
    return select(Activity).where(owner, Activity.archived_at.is_(None))


def search(
    session: Session,
    organization_id: int | None,
    *,
    query: str = "",
    focus_area: str | None = None,
    age: int | None = None,
    classroom: bool | None = None,
    limit: int = 100,
) -> list[Activity]:
    stmt = visible_activities(organization_id)
    words = query.strip().lower().split()
    for word in words[:8]:
        pattern = f"%{word}%"
        stmt = stmt.where(
            or_(
                func.lower(Activity.title).like(pattern), func.lower(Activity.summary).like(pattern)
            )
        )
    if focus_area:
        stmt = stmt.where(Activity.focus_area == focus_area)
    if age is not None:
        stmt = stmt.where(Activity.age_min <= age, Activity.age_max >= age)
    if classroom is not None:
        stmt = stmt.where(Activity.classroom_ok.is_(classroom))
    return list(session.scalars(stmt.order_by(func.lower(Activity.title)).limit(limit)))


def get_visible(session: Session, organization_id: int | None, activity_id: int) -> Activity:
    """An activity the organization may see and use, or NotFound."""
    activity = session.get(Activity, activity_id)
    if activity is None or (
        activity.organization_id is not None and activity.organization_id != organization_id
    ):
        raise NotFound()
    return activity
