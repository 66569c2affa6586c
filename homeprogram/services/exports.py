"""CSV exports of a child's logs and goal measurements, safe to open in a spreadsheet."""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from homeprogram.models import Activity, Assignment, CompletionLog, Goal, GoalMeasurement, User
from homeprogram.services import audit
from homeprogram.services.audit import Actor

# A cell starting with one of these is read as a formula by spreadsheet programs (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

LOG_HEADER = [
    "local_date",
    "occurred_at_utc",
    "activity",
    "assignment_id",
    "logged_by",
    "minutes",
    "response",
    "measure_name",
    "measure_value",
    "measure_unit",
    "note",
]
MEASUREMENT_HEADER = ["measured_on", "goal", "measure", "value", "unit", "by", "note"]


def safe_cell(value: Any) -> str:
    """Text for a CSV cell; text that a spreadsheet would run as a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # numbers are written as numbers, never prefixed
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def logs_csv(session: Session, actor: Actor, child_id: int, start: date, end: date) -> str:
    rows = session.execute(
        select(CompletionLog, Assignment, Activity.title, User.name)
        .join(Assignment, Assignment.id == CompletionLog.assignment_id)
        .join(Activity, Activity.id == Assignment.activity_id)
        .outerjoin(User, User.id == CompletionLog.logged_by_id)
        .where(
            CompletionLog.child_id == child_id,
            CompletionLog.deleted_at.is_(None),
            CompletionLog.local_date >= start,
            CompletionLog.local_date <= end,
        )
        .order_by(CompletionLog.local_date, CompletionLog.occurred_at, CompletionLog.id)
    )
    data = [
        (
            log.local_date.isoformat(),
            log.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            title,
            a.id,
            by or "",
            log.minutes,
            log.response,
            a.measure_name if log.measure_value is not None else None,
            log.measure_value,
            a.measure_unit if log.measure_value is not None else None,
            log.note,
        )
        for log, a, title, by in rows
    ]
    _audit(session, actor, child_id, "logs", start, end, len(data))
    return to_csv(LOG_HEADER, data)


def measurements_csv(session: Session, actor: Actor, child_id: int, start: date, end: date) -> str:
    rows = session.execute(
        select(GoalMeasurement, Goal, User.name)
        .join(Goal, Goal.id == GoalMeasurement.goal_id)
        .outerjoin(User, User.id == GoalMeasurement.by_id)
        .where(
            Goal.child_id == child_id,
            GoalMeasurement.measured_on >= start,
            GoalMeasurement.measured_on <= end,
        )
        .order_by(GoalMeasurement.measured_on, Goal.id, GoalMeasurement.id)
    )
    data = [
        (m.measured_on.isoformat(), g.statement, g.measure, m.value, g.unit, by or "", m.note)
        for m, g, by in rows
    ]
    _audit(session, actor, child_id, "goal_measurements", start, end, len(data))
    return to_csv(MEASUREMENT_HEADER, data)


def _audit(
    session: Session, actor: Actor, child_id: int, kind: str, start: date, end: date, n: int
) -> None:
    audit.record(
        session,
        actor,
        "export.csv",
        child_id=child_id,
        kind=kind,
        start=start.isoformat(),
        end=end.isoformat(),
        rows=n,
    )
