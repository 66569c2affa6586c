"""The logs service: idempotent writes, validation, visibility, undo and details."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from homeprogram.extensions import db
from homeprogram.models import AuditEvent, CompletionLog
from homeprogram.models.base import utcnow
from homeprogram.services import logs
from homeprogram.services.audit import Actor
from homeprogram.services.errors import Conflict, NotFound, ValidationFailed
from tests.caregiver_setup import family


@pytest.fixture
def session(app):
    """A transactional session: the service writes inside savepoints, as in a request."""
    s = db.new_session(write=True)
    yield s
    s.rollback()
    s.close()


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _record(session, fam, **kw):
    values = {
        "client_id": str(uuid.uuid4()),
        "assignment_id": fam.morning.id,
        "occurred_at": utcnow() - timedelta(minutes=5),
        "user_id": fam.caregiver.id,
    }
    values.update(kw)
    return logs.record_log(session, Actor(fam.caregiver.id), **values)


def test_same_client_id_same_content_returns_the_stored_log(session, factory):
    """Repeating a log with the same client_id and content stores nothing new and audits once."""
    fam = family(factory)
    when = utcnow() - timedelta(minutes=3)
    first, created = _record(
        session, fam, client_id="A3C1F5E2-0000-4000-8000-000000000001", occurred_at=when, minutes=5
    )
    session.commit()
    again, created_again = _record(
        session, fam, client_id="a3c1f5e2-0000-4000-8000-000000000001", occurred_at=when, minutes=5
    )
    session.commit()
    assert created and not created_again
    assert again.id == first.id
    assert first.client_id == "a3c1f5e2-0000-4000-8000-000000000001"
    assert _count(session, CompletionLog) == 1
    assert _count(session, AuditEvent, AuditEvent.action == "log.created") == 1


def test_same_client_id_different_content_is_a_conflict(session, factory):
    """A client_id reused for another session is refused; the stored log is unchanged."""
    fam = family(factory)
    client_id = str(uuid.uuid4())
    when = utcnow() - timedelta(minutes=3)
    _record(session, fam, client_id=client_id, occurred_at=when)
    session.commit()
    with pytest.raises(Conflict):
        _record(session, fam, client_id=client_id, occurred_at=when, response="hard")
    session.rollback()
    assert session.scalar(select(CompletionLog.response)) is None


def test_another_users_client_id_is_a_conflict(session, factory):
    """Another caregiver sending an existing client_id gets a conflict, not that log."""
    fam = family(factory)
    other = factory.caregiver(fam.child, email="other@example.org")
    client_id = str(uuid.uuid4())
    when = utcnow() - timedelta(minutes=3)
    _record(session, fam, client_id=client_id, occurred_at=when)
    session.commit()
    with pytest.raises(Conflict):
        logs.record_log(
            session,
            Actor(other.id),
            client_id=client_id,
            assignment_id=fam.morning.id,
            occurred_at=when,
            user_id=other.id,
        )


def test_assignment_of_another_family_is_not_found(session, factory):
    """Logging against a child the user cannot see answers NotFound and writes nothing."""
    fam = family(factory)
    stranger = factory.caregiver(factory.child(factory.org(), name="Other"))
    with pytest.raises(NotFound):
        _record(session, fam, user_id=stranger.id)
    with pytest.raises(NotFound):
        _record(session, fam, assignment_id=999_999)
    teacher = factory.teacher(fam.child)
    with pytest.raises(NotFound):
        _record(session, fam, user_id=teacher.id)
    session.rollback()
    assert _count(session, CompletionLog) == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"minutes": -1}, "minutes"),
        ({"minutes": 601}, "minutes"),
        ({"minutes": True}, "minutes"),
        ({"response": "great"}, "response"),
        ({"note": "x" * 1001}, "note"),
        ({"measure_value": 3.0}, "measure_value"),  # this assignment has no measure
        ({"client_id": "not-a-uuid"}, "client_id"),
        ({"occurred_at": datetime(2026, 1, 1, 9, 0)}, "occurred_at"),  # naive
        ({"occurred_at": utcnow() + timedelta(days=2)}, "occurred_at"),
        ({"occurred_at": utcnow() - timedelta(days=61)}, "occurred_at"),
    ],
)
def test_invalid_values_are_refused(session, factory, values, field):
    """Out-of-range or malformed values are refused with a message for that field."""
    fam = family(factory)
    with pytest.raises(ValidationFailed) as failed:
        _record(session, fam, **values)
    assert field in failed.value.errors


def test_measure_value_must_be_finite_and_only_with_a_measure(session, factory):
    """A measured assignment takes a finite number; NaN and infinity are refused."""
    fam = family(factory, measure_name="Seconds to button", measure_unit="s")
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValidationFailed):
            _record(session, fam, measure_value=bad)
    log, _ = _record(session, fam, measure_value=42)
    session.commit()
    assert log.measure_value == 42.0


def test_local_date_is_the_childs_day(session, factory):
    """A session at 04:30 UTC is logged on the previous day for a child in Chicago."""
    fam = family(factory)
    chicago_evening = utcnow().astimezone(ZoneInfo("America/Chicago")).replace(
        hour=22, minute=30, second=0, microsecond=0
    ) - timedelta(days=1)
    log, _ = _record(session, fam, occurred_at=chicago_evening.astimezone(UTC))
    session.commit()
    assert log.occurred_at.astimezone(UTC).date() == chicago_evening.date() + timedelta(days=1)
    assert log.local_date == chicago_evening.date()


def test_log_after_a_dose_change_goes_to_the_new_version(session, factory):
    """A queued log for yesterday's prescription lands on the version in force that day."""
    fam = family(factory)
    old = fam.morning
    old.end_date = fam.today - timedelta(days=1)
    session.add(old)
    session.commit()
    new = factory.assignment(
        fam.child, old.activity, start_date=fam.today, previous_id=old.id, dose_amount=10
    )
    log, _ = _record(session, fam, assignment_id=old.id, occurred_at=utcnow())
    session.commit()
    assert log.assignment_id == new.id


def test_undo_is_a_soft_delete_with_audit(session, factory):
    """Undo keeps the row with who and when, writes one audit event, and can be repeated."""
    fam = family(factory)
    log, _ = _record(session, fam)
    session.commit()
    logs.undo_log(session, Actor(fam.caregiver.id), log_id=log.id, user_id=fam.caregiver.id)
    session.commit()
    logs.undo_log(session, Actor(fam.caregiver.id), log_id=log.id, user_id=fam.caregiver.id)
    session.commit()
    session.expire_all()
    stored = session.get(CompletionLog, log.id)
    assert stored.deleted_at is not None
    assert stored.deleted_by_id == fam.caregiver.id
    assert _count(session, AuditEvent, AuditEvent.action == "log.undone") == 1


def test_only_the_author_can_undo_or_change_a_log(session, factory):
    """Another caregiver of the same child cannot undo or edit someone else's log."""
    fam = family(factory)
    other = factory.caregiver(fam.child, email="other@example.org")
    log, _ = _record(session, fam)
    session.commit()
    with pytest.raises(NotFound):
        logs.undo_log(session, Actor(other.id), log_id=log.id, user_id=other.id)
    with pytest.raises(NotFound):
        logs.update_details(session, Actor(other.id), log_id=log.id, user_id=other.id, minutes=3)


def test_update_details_changes_only_given_fields_and_audits_changes(session, factory):
    """Details can be added later; an update that changes nothing writes no audit row."""
    fam = family(factory)
    log, _ = _record(session, fam, minutes=4)
    session.commit()
    actor = Actor(fam.caregiver.id)
    logs.update_details(
        session, actor, log_id=log.id, user_id=fam.caregiver.id, response="hard", note=" ok "
    )
    session.commit()
    logs.update_details(session, actor, log_id=log.id, user_id=fam.caregiver.id, minutes=4)
    session.commit()
    session.expire_all()
    stored = session.get(CompletionLog, log.id)
    assert (stored.minutes, stored.response, stored.note) == (4, "hard", "ok")
    assert _count(session, AuditEvent, AuditEvent.action == "log.updated") == 1
