"""Writing completion logs and pauses for adherence tests (real rows)."""

import uuid
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from homeprogram.models import Assignment, AssignmentPause, CompletionLog


def log(
    session: Session,
    assignment: Assignment,
    day: date,
    *,
    at: time = time(17, 0),
    response: str | None = None,
    note: str | None = None,
    measure: float | None = None,
    deleted: bool = False,
    by: int | None = None,
    timezone: str | None = None,
) -> CompletionLog:
    tz = ZoneInfo(timezone or assignment.child.timezone)
    occurred = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
    entry = CompletionLog(
        client_id=str(uuid.uuid4()),
        assignment_id=assignment.id,
        child_id=assignment.child_id,
        logged_by_id=by,
        occurred_at=occurred,
        local_date=day,
        response=response,
        note=note,
        measure_value=measure,
        deleted_at=occurred if deleted else None,
    )
    session.add(entry)
    session.commit()
    return entry


def pause(session: Session, assignment: Assignment, start: date, end: date | None) -> None:
    session.add(AssignmentPause(assignment_id=assignment.id, start_date=start, end_date=end))
    session.commit()
