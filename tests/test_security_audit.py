"""Audit trail reading, read auditing, the append-only guard, per-child export and deletion."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from homeprogram.models import (
    AuditEvent,
    Base,
    Child,
    ClassroomUse,
    CoachingNote,
    CompletionLog,
    Invite,
)
from homeprogram.models.base import utcnow
from homeprogram.services import child_data


def _org_with_child(factory):
    org = factory.org()
    admin = factory.therapist(org, admin=True, email="admin@example.org", name="Ada Admin")
    therapist = factory.therapist(org, email="t@example.org", name="Theo")
    child = factory.child(org, therapist=therapist, name="Maya")
    return org, admin, therapist, child


def test_opening_a_child_is_audited(client, factory, session, login):
    """A therapist opening a child's page leaves a child.viewed row."""
    _, _, _, child = _org_with_child(factory)
    login("t@example.org")
    assert client.get(f"/children/{child.id}").status_code == 200
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "child.viewed"))
    assert event.child_id == child.id and event.actor_id is not None


def test_admin_reads_and_filters_the_audit_trail(app, client, factory, session, login):
    """The admin sees the organization's rows, filters by child, user, action and date."""
    org, admin, therapist, child = _org_with_child(factory)
    other_child = factory.child(org, therapist=therapist, name="Noor")
    colleague = app.test_client()
    login("t@example.org", c=colleague)
    colleague.get(f"/children/{child.id}")
    colleague.get(f"/children/{other_child.id}")
    outsider_org = factory.org()
    session.add(AuditEvent(action="secret.outside", organization_id=outsider_org.id))
    session.commit()
    login("admin@example.org")
    html = client.get("/org/audit").get_data(as_text=True)
    assert "child.viewed" in html and "secret.outside" not in html
    html = client.get(f"/org/audit?child={other_child.id}").get_data(as_text=True)
    assert "Noor" in html and "Maya" not in html.split("<table")[1]
    html = client.get(f"/org/audit?user={admin.id}&action=login.succeeded").get_data(as_text=True)
    assert "Ada Admin" in html.split("<table")[1] and "child.viewed" not in html.split("<table")[1]
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    html = client.get(f"/org/audit?date_from={tomorrow}").get_data(as_text=True)
    assert "No entries match" in html
    assert client.get("/org/audit?child=999999").status_code == 400
    assert client.get("/org/audit?date_from=2026-05-02&date_to=2026-05-01").status_code == 400


def test_audit_is_paginated(client, factory, session, login):
    """More than a page of rows gives an "Older" link to the next page."""
    org, *_ = _org_with_child(factory)
    session.add_all(AuditEvent(action="bulk.row", organization_id=org.id) for _ in range(60))
    session.commit()
    login("admin@example.org")
    first = client.get("/org/audit?action=bulk.row").get_data(as_text=True)
    assert 'rel="next"' in first and first.count("bulk.row</code>") == 50
    second = client.get("/org/audit?action=bulk.row&page=2").get_data(as_text=True)
    assert second.count("bulk.row</code>") == 10 and 'rel="next"' not in second


def test_audit_page_is_admin_only(client, factory, login):
    """A therapist who is not an admin gets 404 on the audit page."""
    _org_with_child(factory)
    login("t@example.org")
    assert client.get("/org/audit").status_code == 404


def test_no_route_edits_or_deletes_audit_rows(app):
    """No URL of the app names the audit trail except the read-only page."""
    audit_rules = [r for r in app.url_map.iter_rules() if "audit" in r.rule]
    assert [(r.rule, sorted(r.methods - {"HEAD", "OPTIONS"})) for r in audit_rules] == [
        ("/org/audit", ["GET"])
    ]


def test_database_refuses_to_delete_or_rewrite_audit_rows(session):
    """The database itself refuses to delete an audit row or change what it says."""
    session.add(AuditEvent(action="thing.done", detail={"x": 1}, ip="10.0.0.1"))
    session.commit()
    with pytest.raises(DBAPIError):
        session.execute(delete(AuditEvent))
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(update(AuditEvent).values(action="other"))
    session.rollback()
    # Blanking details (what child deletion does) is allowed.
    session.execute(update(AuditEvent).values(detail={}, ip=None))
    assert session.scalar(select(func.count(AuditEvent.id))) == 1


def _rich_child(factory, session, child, therapist):
    caregiver = factory.caregiver(child, email="parent@example.org", name="Pat Parent")
    teacher = factory.teacher(child, name="Tess Teacher")
    today = utcnow().date()
    assignment = factory.assignment(child, start_date=today, setting="both")
    session.add_all(
        [
            CompletionLog(
                client_id="11111111-1111-1111-1111-111111111111",
                assignment_id=assignment.id,
                child_id=child.id,
                logged_by_id=caregiver.id,
                occurred_at=utcnow(),
                local_date=today,
                note="Maya loved it",
            ),
            CoachingNote(child_id=child.id, author_id=therapist.id, body="Try after snack"),
            ClassroomUse(
                assignment_id=assignment.id,
                child_id=child.id,
                teacher_id=teacher.id,
                local_date=today,
                note="Calm after",
            ),
            Invite(
                token_hash="f" * 64,
                organization_id=child.organization_id,
                child_id=child.id,
                role="caregiver",
                expires_at=utcnow() + timedelta(days=1),
            ),
        ]
    )
    session.commit()
    return caregiver, assignment


def test_export_contains_every_child_table(client, factory, session, login):
    """The export holds the child, care team by name and role, and a section for every table
    with a child foreign key; no secrets and no e-mail addresses; the export is audited."""
    _, _, therapist, child = _org_with_child(factory)
    _rich_child(factory, session, child, therapist)
    login("t@example.org")
    response = client.post(f"/org/children/{child.id}/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    document = json.loads(response.get_data(as_text=True))
    assert document["child"]["display_name"] == "Maya"
    assert {m["name"] for m in document["care_team"]} >= {"Pat Parent", "Tess Teacher", "Theo"}
    with_child_fk = {
        t.name
        for t in Base.metadata.sorted_tables
        if any(fk.column.table.name == "child" for fk in t.foreign_keys)
    } - {"care_team_member"}
    assert with_child_fk <= set(document["tables"]), with_child_fk - set(document["tables"])
    assert set(child_data.child_tables()) == set(document["tables"])
    assert document["tables"]["completion_log"][0]["note"] == "Maya loved it"
    assert document["tables"]["classroom_use"][0]["note"] == "Calm after"
    assert document["tables"]["coaching_note"][0]["author_id"] == therapist.id
    assert all("token_hash" not in row for row in document["tables"]["invite"])
    body = response.get_data(as_text=True)
    assert "f" * 64 not in body and "parent@example.org" not in body
    assert session.scalar(select(func.count()).where(AuditEvent.action == "child.exported")) == 1


def test_delete_removes_all_child_data_and_leaves_a_tombstone(client, factory, session, login):
    """Deleting a child (after typing the name) removes every row about them; the audit keeps
    a child.deleted tombstone and earlier rows lose their details."""
    _, _, therapist, child = _org_with_child(factory)
    _rich_child(factory, session, child, therapist)
    child_id = child.id
    login("t@example.org")
    assert client.get(f"/org/children/{child_id}/data").status_code == 200
    wrong = client.post(f"/org/children/{child_id}/delete", data={"confirm_name": "Noor"})
    assert wrong.status_code == 400 and session.get(Child, child_id) is not None
    response = client.post(f"/org/children/{child_id}/delete", data={"confirm_name": "Maya"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Child, child_id) is None
    for name in [*child_data.child_tables(), "care_team_member"]:
        table = Base.metadata.tables[name]
        column = table.c.get("child_id")
        if column is not None:
            assert session.scalar(select(func.count()).where(column == child_id)) == 0, name
    events = session.scalars(select(AuditEvent).where(AuditEvent.child_id == child_id)).all()
    assert events[-1].action == "child.deleted"
    assert all(e.ip is None for e in events[:-1])
    assert "Maya" not in json.dumps([e.detail for e in events])
    assert client.get(f"/children/{child_id}").status_code == 404


def test_export_and_delete_are_staff_only(app, client, factory, session, login):
    """A caregiver of the child, or a therapist of another org, gets 404 on export/delete."""
    _, _, therapist, child = _org_with_child(factory)
    _rich_child(factory, session, child, therapist)
    factory.therapist(factory.org(), email="x@example.org")
    for email in ("parent@example.org", "x@example.org"):
        c = app.test_client()
        login(email, c=c)
        assert c.post(f"/org/children/{child.id}/export").status_code == 404
        assert (
            c.post(f"/org/children/{child.id}/delete", data={"confirm_name": "Maya"}).status_code
            == 404
        )
    assert session.get(Child, child.id) is not None


def test_schema_walk_sees_dependent_tables():
    """Pauses (through assignments) are part of a child's data, not only child_id tables."""
    assert "assignment_pause" in child_data.child_tables()
    assert "audit_event" not in child_data.child_tables()
    assert inspect(Base.metadata.tables["assignment_pause"]) is not None
    assert text("select 1") is not None
