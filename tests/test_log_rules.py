"""Logging practice: each refusal in words a person can act on, the limits themselves
accepted, who may log, which prescription a late log belongs to, and the audit trail of
every change. (Holes found by ``make mutation``.)"""

import time
import uuid
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest
from sqlalchemy import select, text, update

from homeprogram.extensions import db
from homeprogram.models import AuditEvent, CareTeamMember, Organization
from homeprogram.models.base import utcnow
from homeprogram.services import logs
from homeprogram.services.audit import Actor
from homeprogram.services.errors import Conflict, NotFound, ValidationFailed
from tests.caregiver_setup import family
from tests.skips import postgres_only


@pytest.fixture
def session(app):
    """A transactional session: the service writes inside savepoints, as in a request."""
    s = db.new_session(write=True)
    yield s
    s.rollback()
    s.close()


def _record(session, fam, user=None, **kw):
    user = user or fam.caregiver
    values = {
        "client_id": str(uuid.uuid4()),
        "assignment_id": fam.morning.id,
        "occurred_at": utcnow() - timedelta(minutes=5),
        "user_id": user.id,
        **kw,
    }
    return logs.record_log(session, Actor(user.id, "198.51.100.4"), **values)


def _refusal(call) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        call()
    return refused.value.errors


def _events(session, action: str) -> list[tuple]:
    return session.execute(
        select(
            AuditEvent.actor_id,
            AuditEvent.organization_id,
            AuditEvent.child_id,
            AuditEvent.target_type,
            AuditEvent.target_id,
            AuditEvent.ip,
            AuditEvent.detail,
        ).where(AuditEvent.action == action)
    ).all()


class NoOffset(tzinfo):
    """A time zone that cannot say its offset."""

    def utcoffset(self, dt):
        return None

    def dst(self, dt):
        return None


def test_times_are_refused_with_the_reason_and_accepted_up_to_each_limit(session, factory):
    """A time without offset, more than a day ahead or more than 60 days back is refused
    in words; exactly a day ahead and exactly 60 days back are accepted."""
    fam = family(factory)
    long_ago = factory.assignment(fam.child, start_date=fam.today - timedelta(days=70))
    now = utcnow()

    def refusal(when):
        return _refusal(lambda: _record(session, fam, occurred_at=when, now=now))

    no_offset = {"occurred_at": "Give the time with its UTC offset."}
    assert refusal(datetime(2026, 11, 20, 9, 0)) == no_offset
    assert refusal(datetime(2026, 11, 20, 9, 0, tzinfo=NoOffset())) == no_offset
    assert refusal(now + timedelta(days=1, seconds=1)) == {
        "occurred_at": "This time is in the future."
    }
    assert refusal(now - timedelta(days=60, seconds=1)) == {
        "occurred_at": "Sessions older than 60 days cannot be logged."
    }

    _, ahead = _record(session, fam, occurred_at=now + timedelta(days=1), now=now)
    _, oldest = _record(
        session, fam, assignment_id=long_ago.id, occurred_at=now - timedelta(days=60), now=now
    )
    assert ahead and oldest


def test_detail_errors_name_each_field_and_the_limits_are_accepted(session, factory):
    """Every bad detail gets its own message at once; 0 and 600 minutes, a note of 1000
    characters and a measure of plus or minus a million are accepted."""
    fam = family(factory)
    measured = family(factory, measure_name="Seconds to button", measure_unit="s")

    assert _refusal(lambda: _record(session, fam, minutes=601, response="great", note=5)) == {
        "minutes": "Enter whole minutes from 0 to 600.",
        "response": "Choose easy, just right or hard.",
        "note": "The note must be text.",
    }
    assert _refusal(lambda: _record(session, fam, note="x" * 1001)) == {
        "note": "Keep the note under 1000 characters."
    }
    assert _refusal(lambda: _record(session, fam, measure_value=3)) == {
        "measure_value": "This activity has no measure."
    }
    for bad in ("five", 1_000_001, float("nan")):
        assert _refusal(lambda bad=bad: _record(session, measured, measure_value=bad)) == {
            "measure_value": "Enter a number."
        }

    accepted = [
        _record(session, fam, minutes=0),
        _record(session, fam, minutes=600, note="x" * 1000),
        _record(session, measured, measure_value=1_000_000),
        _record(session, measured, measure_value=-1_000_000),
    ]
    assert [created for _, created in accepted] == [True] * 4
    assert [log.minutes for log, _ in accepted[:2]] == [0, 600]


def test_a_session_on_the_first_day_counts_and_the_day_before_is_refused(session, factory):
    """An activity can be logged from its start date on; a session the day before says
    the activity was not assigned yet."""
    fam = family(factory)  # the child lives in Chicago; the plan started 14 days ago
    chicago = timezone(timedelta(hours=-6))
    first_day = fam.morning.start_date
    noon = datetime(first_day.year, first_day.month, first_day.day, 12, tzinfo=chicago)

    log, created = _record(session, fam, occurred_at=noon)
    assert (created, log.local_date) == (True, first_day)
    assert _refusal(lambda: _record(session, fam, occurred_at=noon - timedelta(days=1))) == {
        "occurred_at": "This activity was not assigned yet on that day."
    }


def test_a_client_id_used_for_another_session_says_so(session, factory):
    """Reusing a client id for different content is a Conflict that says why."""
    fam = family(factory)
    client_id = str(uuid.uuid4())
    _record(session, fam, client_id=client_id, minutes=5)
    with pytest.raises(Conflict) as conflict:
        _record(session, fam, client_id=client_id, minutes=6)
    assert str(conflict.value) == "This client_id was already used for a different log."


def test_therapists_and_admins_may_log_a_session_done_in_clinic(session, factory):
    """The child's therapist and the organization's admin may log; a teacher may not."""
    fam = family(factory)
    admin = factory.therapist(session.get(Organization, fam.child.organization_id), admin=True)
    teacher = factory.teacher(fam.child)

    assert _record(session, fam, user=fam.therapist)[1]
    assert _record(session, fam, user=admin)[1]
    with pytest.raises(NotFound):
        _record(session, fam, user=teacher)


def test_who_is_only_the_child_s_teacher_now_cannot_change_old_logs(session, factory):
    """A parent's logs stay theirs to change only while they may still log for the child:
    once they are only the child's teacher, changing or undoing them is NotFound."""
    fam = family(factory)
    log, _ = _record(session, fam)
    session.execute(
        update(CareTeamMember)
        .where(CareTeamMember.user_id == fam.caregiver.id)
        .values(role="teacher")
    )
    actor = Actor(fam.caregiver.id)
    with pytest.raises(NotFound):
        logs.update_details(session, actor, log_id=log.id, user_id=fam.caregiver.id, minutes=3)
    with pytest.raises(NotFound):
        logs.undo_log(session, actor, log_id=log.id, user_id=fam.caregiver.id)


def test_fields_other_than_the_details_cannot_be_changed(session, factory):
    """Changing when or what was done is refused by name, and nothing changes."""
    fam = family(factory)
    log, _ = _record(session, fam, minutes=4)
    errors = _refusal(
        lambda: logs.update_details(
            session,
            Actor(fam.caregiver.id),
            log_id=log.id,
            user_id=fam.caregiver.id,
            occurred_at=utcnow(),
            assignment_id=fam.bedtime.id,
            minutes=9,
        )
    )
    assert errors == {
        "assignment_id": "This field cannot be changed.",
        "occurred_at": "This field cannot be changed.",
    }
    session.expire_all()
    assert log.minutes == 4


def test_every_change_to_a_log_is_audited_with_child_organization_and_log(session, factory):
    """Creating, changing and undoing a log each write an audit event naming who, from
    where, the child's organization, the child, the log, and what it was about."""
    fam = family(factory)
    org_id, child_id, user_id = fam.child.organization_id, fam.child.id, fam.caregiver.id
    log, _ = _record(session, fam, minutes=4)
    actor = Actor(user_id, "198.51.100.4")
    logs.update_details(session, actor, log_id=log.id, user_id=user_id, minutes=7, note="ok")
    logs.undo_log(session, actor, log_id=log.id, user_id=user_id)

    who = (user_id, org_id, child_id, "completion_log", log.id, "198.51.100.4")
    assert _events(session, "log.created") == [
        (
            *who,
            {"assignment_id": fam.morning.id, "local_date": log.local_date.isoformat()},
        )
    ]
    assert _events(session, "log.updated") == [(*who, {"fields": ["minutes", "note"]})]
    assert _events(session, "log.undone") == [(*who, {})]


def test_a_late_log_stays_on_the_version_in_force_that_day(session, factory):
    """After a prescription ended (not renewed) a session is still kept, on its last
    version; in the gap before a later version starts, it stays on the old one."""
    fam = family(factory)
    ended = fam.morning
    session.execute(
        update(type(ended))
        .where(type(ended).id == ended.id)
        .values(end_date=fam.today - timedelta(days=3))
    )
    after_end, _ = _record(session, fam)
    assert after_end.assignment_id == ended.id

    later = factory.assignment(
        fam.child, ended.activity, start_date=fam.today, previous_id=ended.id, dose_amount=10
    )
    gap_day, _ = _record(session, fam, occurred_at=utcnow() - timedelta(days=1, hours=1))
    today, _ = _record(session, fam)
    assert (gap_day.assignment_id, today.assignment_id) == (ended.id, later.id)


@pytest.fixture
def server_in_new_york(monkeypatch):
    """The server process runs in New York time (TZ), as a host may be set up."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_log_is_answered_in_utc_whatever_the_server_s_time_zone(
    session, factory, server_in_new_york
):
    """A log sent with a +09:00 offset is answered in UTC, as it will be read back, even
    on a server whose local time zone is not UTC."""
    fam = family(factory)
    sent = (utcnow() - timedelta(minutes=5)).astimezone(timezone(timedelta(hours=9)))
    log, _ = _record(session, fam, occurred_at=sent)
    assert log.occurred_at == sent
    assert log.occurred_at.utcoffset() == timedelta(0)
    assert log.occurred_at.isoformat().endswith("+00:00")
    assert UTC.utcoffset(None) == log.occurred_at.utcoffset()


def test_a_bad_client_id_is_refused_in_words(session, factory):
    """A client id that is not a UUID is refused with what to send instead."""
    fam = family(factory)
    assert _refusal(lambda: _record(session, fam, client_id="12345")) == {
        "client_id": "Send a UUID chosen by the client."
    }


@postgres_only
def test_a_client_id_whose_log_vanished_meanwhile_is_a_conflict_in_words(session, factory):
    """When the log holding a client id disappears between this write's insert and its
    look-up (its child deleted meanwhile), the write is a Conflict that says why, not a
    crash and not a second log. A statement trigger plays the deletion at that moment."""
    fam = family(factory)
    client_id = str(uuid.uuid4())
    _record(session, fam, client_id=client_id, minutes=5)
    session.commit()
    session.execute(
        text(
            "CREATE FUNCTION test_vanish() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"DELETE FROM completion_log WHERE client_id = '{client_id}'; RETURN NULL; END $$"
        )
    )
    session.execute(
        text(
            "CREATE TRIGGER test_vanish AFTER INSERT ON completion_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION test_vanish()"
        )
    )
    session.commit()
    try:
        with pytest.raises(Conflict) as conflict:
            _record(session, fam, client_id=client_id, minutes=5)
        assert str(conflict.value) == "This client_id was already used for a different log."
    finally:
        session.rollback()
        session.execute(text("DROP TRIGGER test_vanish ON completion_log"))
        session.execute(text("DROP FUNCTION test_vanish()"))
        session.commit()
