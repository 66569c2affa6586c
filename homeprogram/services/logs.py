"""Completion logs: idempotent writes under a client-chosen UUID, details, undo.

Every caller (the today page, the JSON API, the offline queue's replays) goes through
``record_log``. The client's UUID makes a write safe to repeat: the same id with the same
content answers the stored log and writes nothing; the same id with other content is a
``Conflict``. Two requests racing with one id end with one row: the loser's insert does
nothing (``ON CONFLICT DO NOTHING``) and it is answered like a repeat.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session, make_transient_to_detached

from homeprogram.models import Assignment, Child, CompletionLog, Response
from homeprogram.models.base import utcnow
from homeprogram.services import access, audit, claims, schedule
from homeprogram.services.audit import Actor
from homeprogram.services.errors import Conflict, NotFound, ValidationFailed

# Who may log practice for a child: the family, and the child's therapists (a session
# done together in the clinic). Teachers mark classroom use elsewhere.
LOG_ROLES = access.FAMILY_ROLES | access.STAFF_ROLES
MAX_MINUTES = 600
MAX_NOTE = 1000
MAX_MEASURE = 1_000_000
FUTURE_SLACK = timedelta(days=1)
MAX_AGE = timedelta(days=60)
RESPONSES = tuple(r.value for r in Response)
DETAIL_FIELDS = ("minutes", "response", "note", "measure_value")


@dataclass(frozen=True)
class Details:
    """The optional part of a log, validated and normalised."""

    minutes: int | None = None
    response: str | None = None
    note: str | None = None
    measure_value: float | None = None


def canonical_client_id(raw: object) -> str:
    """The client's UUID in canonical lowercase form, or ValidationFailed."""
    try:
        return str(uuid.UUID(str(raw)))
    except ValueError:
        raise ValidationFailed(
            {"client_id": gettext("Send a UUID chosen by the client.")}
        ) from None


def _details(measure_name: str | None, values: dict[str, Any]) -> Details:
    errors: dict[str, str] = {}
    minutes = values.get("minutes")
    if minutes is not None and (
        isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= MAX_MINUTES
    ):
        errors["minutes"] = gettext("Enter whole minutes from 0 to %(num)d.", num=MAX_MINUTES)
    response = values.get("response") or None
    if response is not None and response not in RESPONSES:
        errors["response"] = gettext("Choose easy, just right or hard.")
    note = values.get("note")
    if note is not None:
        if not isinstance(note, str):
            errors["note"] = gettext("The note must be text.")
        else:
            note = note.strip() or None
            if note is not None and len(note) > MAX_NOTE:
                errors["note"] = gettext("Keep the note under %(num)d characters.", num=MAX_NOTE)
    measure = values.get("measure_value")
    if measure is not None:
        if measure_name is None:
            errors["measure_value"] = gettext("This activity has no measure.")
        elif (
            isinstance(measure, bool)
            or not isinstance(measure, int | float)
            or not math.isfinite(measure)
            or abs(measure) > MAX_MEASURE
        ):
            errors["measure_value"] = gettext("Enter a number.")
        else:
            measure = float(measure)
    if errors:
        raise ValidationFailed(errors)
    return Details(minutes=minutes, response=response, note=note, measure_value=measure)


def _check_time(occurred_at: datetime, now: datetime) -> None:
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise ValidationFailed({"occurred_at": gettext("Give the time with its UTC offset.")})
    if occurred_at > now + FUTURE_SLACK:
        raise ValidationFailed({"occurred_at": gettext("This time is in the future.")})
    if occurred_at < now - MAX_AGE:
        raise ValidationFailed(
            {"occurred_at": gettext("Sessions older than %(num)d days cannot be logged.", num=60)}
        )


# What a log needs of its assignment and child, and the user's roles for the child: one
# query, columns only (this runs for every tap of "done").
_VERSION = (Assignment.id, Assignment.child_id, Assignment.start_date, Assignment.end_date)
_LOG_TARGET = (
    select(
        *_VERSION,
        Assignment.measure_name,
        Child.timezone,
        Child.organization_id,
        access.TEAM_ROLE.label("team_role"),
        access.STAFF_ROLE.label("staff_role"),
    )
    .join(Child, Child.id == Assignment.child_id)
    .where(Assignment.id == bindparam("assignment_id"))
)
_SUCCESSOR = (
    select(*_VERSION)
    .where(
        Assignment.previous_id == bindparam("previous_id"),
        Assignment.child_id == bindparam("child_id"),
    )
    .order_by(Assignment.id)
    .limit(1)
)


def _log_target(session: Session, user_id: int, assignment_id: int) -> Row[Any]:
    """The assignment (with its child's timezone and organization) if the user may log
    for its child, else NotFound."""
    # On the session's connection: a plain row, not the ORM's result machinery.
    row = (
        session.connection()
        .execute(_LOG_TARGET, {"user_id": user_id, "assignment_id": assignment_id})
        .one_or_none()
    )
    if row is None or access.allowed_role(row.team_role, row.staff_role, LOG_ROLES) is None:
        raise NotFound()
    return row


def _in_force_version(session: Session, version: Row[Any], day: date) -> Row[Any]:
    """The version of a changed prescription that was in force on ``day``.

    A phone may replay a log made against yesterday's page after the therapist changed the
    dose: the session belongs to the new version, which replaced the old one that day.
    """
    current = version
    for _ in range(50):  # a chain of versions, never a cycle; bounded all the same
        if current.end_date is None or day <= current.end_date:
            break
        successor = session.execute(
            _SUCCESSOR, {"previous_id": current.id, "child_id": current.child_id}
        ).one_or_none()
        if successor is None or successor.start_date > day:
            break
        current = successor
    return current


def _same_content(
    log: CompletionLog, user_id: int, assignment_id: int, occurred_at: datetime, details: Details
) -> bool:
    return (
        log.logged_by_id == user_id
        and log.assignment_id == assignment_id
        and log.occurred_at == occurred_at
        and log.minutes == details.minutes
        and log.response == details.response
        and log.note == details.note
        and log.measure_value == details.measure_value
    )


def find_by_client_id(session: Session, client_id: str) -> CompletionLog | None:
    return session.scalar(select(CompletionLog).where(CompletionLog.client_id == client_id))


def record_log(
    session: Session,
    actor: Actor,
    *,
    client_id: str,
    assignment_id: int,
    occurred_at: datetime,
    minutes: int | None = None,
    response: str | None = None,
    note: str | None = None,
    measure_value: float | None = None,
    user_id: int,
    child_id: int | None = None,
    now: datetime | None = None,
) -> tuple[CompletionLog, bool]:
    """Store one session; returns the log and whether it was written now.

    NotFound when the user may not log for the assignment's child; ValidationFailed for
    bad values; Conflict when ``client_id`` is taken by a log with other content.
    ``child_id``, when given, is the child the caller expects the assignment to belong to.
    """
    client_id = canonical_client_id(client_id)
    target = _log_target(session, user_id, assignment_id)
    if child_id is not None and target.child_id != child_id:
        raise NotFound()
    _check_time(occurred_at, now or utcnow())
    details = _details(
        target.measure_name,
        {"minutes": minutes, "response": response, "note": note, "measure_value": measure_value},
    )
    day = schedule.local_date(occurred_at, target.timezone)
    if day < target.start_date:
        raise ValidationFailed(
            {"occurred_at": gettext("This activity was not assigned yet on that day.")}
        )
    version = _in_force_version(session, target, day)

    def repeat_of(existing: CompletionLog) -> tuple[CompletionLog, bool]:
        if not _same_content(existing, user_id, version.id, occurred_at, details):
            raise Conflict(gettext("This client_id was already used for a different log."))
        return existing, False

    values = {
        "client_id": client_id,
        "assignment_id": version.id,
        "child_id": target.child_id,
        "logged_by_id": user_id,
        "occurred_at": occurred_at.astimezone(UTC),  # answered as it will be read back
        "local_date": day,
        "minutes": details.minutes,
        "response": details.response,
        "note": details.note,
        "measure_value": details.measure_value,
        "created_at": utcnow(),
        "deleted_at": None,
    }
    # One INSERT ... ON CONFLICT DO NOTHING, no look-up first: on PostgreSQL a racing insert
    # of the same id waits for the other transaction, then does nothing.
    won = claims.claim(session, CompletionLog, [values], ("client_id",))
    if not won:
        # The client_id is taken: a repeat, or another request that stored it first.
        existing = find_by_client_id(session, client_id)
        if existing is None:  # only if the taker was deleted since; say so, store nothing
            raise Conflict(gettext("This client_id was already used for a different log."))
        return repeat_of(existing)
    log_id = won[0][0]
    log = CompletionLog(id=log_id, **values)
    make_transient_to_detached(log)
    session.add(log)  # persistent, as if loaded: every column is known, no query
    audit.record(
        session,
        actor,
        "log.created",
        organization_id=target.organization_id,
        child_id=target.child_id,
        target_type="completion_log",
        target_id=log_id,
        assignment_id=version.id,
        local_date=day.isoformat(),
    )
    return log, True


def own_log(session: Session, user_id: int, log_id: int) -> CompletionLog:
    """A log the user wrote, for a child they may still log for; else NotFound."""
    log = session.get(CompletionLog, log_id)
    if log is None or log.logged_by_id != user_id:
        raise NotFound()
    access.child_access(session, user_id, log.child_id, LOG_ROLES)
    return log


def update_details(
    session: Session, actor: Actor, *, log_id: int, user_id: int, **changes: Any
) -> CompletionLog:
    """Change the optional details of one's own log (only the fields given)."""
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise ValidationFailed(
            {name: gettext("This field cannot be changed.") for name in sorted(unknown)}
        )
    log = own_log(session, user_id, log_id)
    if log.deleted_at is not None:
        raise NotFound()
    current = {name: getattr(log, name) for name in DETAIL_FIELDS}
    details = _details(log.assignment.measure_name, {**current, **changes})
    changed = [name for name in DETAIL_FIELDS if getattr(details, name) != current[name]]
    for name in changed:
        setattr(log, name, getattr(details, name))
    if changed:
        audit.record(
            session,
            actor,
            "log.updated",
            organization_id=log.assignment.child.organization_id,
            child_id=log.child_id,
            target_type="completion_log",
            target_id=log.id,
            fields=changed,
        )
    return log


def undo_log(session: Session, actor: Actor, *, log_id: int, user_id: int) -> CompletionLog:
    """Soft-delete one's own log; undoing an undone log changes nothing."""
    log = own_log(session, user_id, log_id)
    if log.deleted_at is None:
        log.deleted_at = utcnow()
        log.deleted_by_id = user_id
        audit.record(
            session,
            actor,
            "log.undone",
            organization_id=log.assignment.child.organization_id,
            child_id=log.child_id,
            target_type="completion_log",
            target_id=log.id,
        )
    return log
