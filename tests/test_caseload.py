"""Caseload: active activity count and last log per child, in a fixed number of queries."""

import uuid
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from homeprogram.extensions import db
from homeprogram.models import AssignmentPause, CompletionLog
from homeprogram.models.base import utcnow
from homeprogram.services import children, programs, schedule
from homeprogram.services.audit import Actor


def _log(session, assignment, day, deleted=False):
    session.add(
        CompletionLog(
            client_id=str(uuid.uuid4()),
            assignment_id=assignment.id,
            child_id=assignment.child_id,
            occurred_at=utcnow(),
            local_date=day,
            deleted_at=utcnow() if deleted else None,
        )
    )
    session.commit()


def _child_with_program(session, factory, org, therapist, name):
    child = factory.child(org, therapist=therapist, name=name)
    today = schedule.local_date(utcnow(), child.timezone)
    actor = Actor(therapist.id)

    def add(start, **kw):
        return programs.create_assignment(
            session,
            actor,
            child,
            factory.activity().id,
            programs.Prescription(dose_amount=5, start_date=start, **kw),
            today=start,
        )

    active = add(today - timedelta(days=10))
    paused = add(today - timedelta(days=10))
    session.add(AssignmentPause(assignment_id=paused.id, start_date=today - timedelta(days=1)))
    ended = add(today - timedelta(days=10), end_date=today - timedelta(days=1))
    upcoming = add(today + timedelta(days=3))
    # a changed activity counts once: the old version ended, the new one is current
    changed = add(today - timedelta(days=10))
    session.commit()
    programs.change_assignment(
        session, actor, changed, programs.Prescription(dose_amount=9), effective=today, today=today
    )
    session.commit()
    _log(session, active, today - timedelta(days=2))
    _log(session, ended, today - timedelta(days=4))
    _log(session, active, today - timedelta(days=1), deleted=True)  # undone: ignored
    return child, today, (active, paused, ended, upcoming)


def test_caseload_shows_active_count_and_last_log(client, login, session, factory):
    """Each child shows the number of active activities and the date of the last kept log."""
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child, today, _ = _child_with_program(session, factory, org, therapist, "Ada")
    factory.child(org, therapist=therapist, name="Ben")
    stats = programs.caseload_stats(session, [child])
    # active + upcoming + changed; the paused and the ended one are not counted
    assert stats[child.id] == programs.CaseloadStats(active=3, last_log=today - timedelta(days=2))
    login("ot@example.org")
    html = client.get("/caseload").get_data(as_text=True)
    assert "3 active activities" in html
    assert "no logs yet" in html  # Ben
    fragment = client.get("/caseload?q=ben", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Ben" in fragment and "Ada" not in fragment and "0 active activities" in fragment


@contextmanager
def count_queries(app):
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_caseload_query_count_does_not_grow(app, client, login, session, factory):
    """The caseload page runs the same number of queries for 1 child as for 12 (no N+1)."""
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    _child_with_program(session, factory, org, therapist, "Child 0")
    login("ot@example.org")
    client.get("/caseload")  # warm up: first-request work is not the page's

    with count_queries(app) as small:
        assert client.get("/caseload").status_code == 200
    for n in range(1, 12):
        _child_with_program(session, factory, org, therapist, f"Child {n}")
    with count_queries(app) as large:
        html = client.get("/caseload").get_data(as_text=True)
    assert html.count("3 active activities") == 12
    assert len(large) == len(small)

    # the service alone: exactly two queries, however many children
    with app.app_context():
        kids = children.caseload(db.session, therapist.id, org.id)
        with count_queries(app) as service:
            stats = programs.caseload_stats(db.session, kids)
    assert len(stats) == 12
    assert len(service) == 2
