"""The JSON API: auth (session + CSRF, bearer tokens), idempotent logs, undo, problems."""

import threading
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from homeprogram.models import ApiToken, AuditEvent, CompletionLog
from homeprogram.models.base import utcnow
from homeprogram.services import tokens
from homeprogram.services.audit import Actor
from tests.caregiver_setup import family
from tests.query_counter import count_queries

PROBLEM = "application/problem+json"


def _token(session, user):
    _row, plain = tokens.create_token(session, Actor(user.id), user_id=user.id, name="phone")
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _body(fam, **kw):
    # A moment ago, but never before the family's local midnight: a run just after it
    # would otherwise log on the day before ``fam.today``.
    midnight = datetime.combine(fam.today, time.min, tzinfo=ZoneInfo(fam.child.timezone))
    occurred = max(utcnow() - timedelta(minutes=2), midnight.astimezone(UTC))
    body = {
        "client_id": str(uuid.uuid4()),
        "assignment_id": fam.morning.id,
        "occurred_at": occurred.isoformat(),
    }
    body.update(kw)
    return body


def _count_logs(session):
    return session.scalar(select(func.count()).select_from(CompletionLog))


def test_anonymous_gets_401_problem(client):
    """Without a session or token the API answers 401 as problem details."""
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.content_type == PROBLEM
    assert response.json["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_me_with_session_includes_csrf_token(client, factory, login):
    """With the browser session, /me says who you are and hands the CSRF token for writes."""
    fam = family(factory)
    login(fam.caregiver.email)
    me = client.get("/api/v1/me").json
    assert me["id"] == fam.caregiver.id
    assert me["auth"] == "session"
    assert me["roles"] == ["caregiver"]
    assert me["csrf_token"]


def test_me_with_bearer_token(client, factory, session):
    """A personal token authenticates without cookies and records when it was used."""
    fam = family(factory)
    headers = _token(session, fam.caregiver)
    me = client.get("/api/v1/me", headers=headers).json
    assert me == {
        "id": fam.caregiver.id,
        "name": fam.caregiver.name,
        "email": fam.caregiver.email,
        "locale": "en",
        "timezone": fam.caregiver.timezone,
        "roles": ["caregiver"],
        "auth": "token",
    }
    assert session.scalar(select(ApiToken.last_used_at)) is not None


def test_bad_or_revoked_token_is_401(client, factory, session):
    """Unknown, malformed and revoked tokens are refused."""
    fam = family(factory)
    headers = _token(session, fam.caregiver)
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer hp_nope"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    token = session.scalar(select(ApiToken))
    tokens.revoke_token(
        session, Actor(fam.caregiver.id), user_id=fam.caregiver.id, token_id=token.id
    )
    session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_cookie_writes_need_csrf_header_bearer_writes_do_not(client, factory, login, session):
    """A cookie-authenticated POST without X-CSRFToken fails; a bearer POST needs none."""
    fam = family(factory)
    login(fam.caregiver.email)
    response = client.post("/api/v1/logs", json=_body(fam), csrf=False)
    assert response.status_code == 400
    assert response.content_type == PROBLEM
    assert _count_logs(session) == 0
    assert client.post("/api/v1/logs", json=_body(fam)).status_code == 201
    anonymous = client.application.test_client()
    response = anonymous.post(
        "/api/v1/logs", json=_body(fam), headers=_token(session, fam.caregiver), csrf=False
    )
    assert response.status_code == 201
    assert _count_logs(session) == 2


def test_children_lists_only_own_children(client, factory, session):
    """/children lists the caller's children with their role, nobody else's."""
    fam = family(factory)
    family(factory)  # another family
    body = client.get("/api/v1/children", headers=_token(session, fam.caregiver)).json
    assert body == {
        "children": [
            {
                "id": fam.child.id,
                "display_name": "Sam",
                "timezone": fam.child.timezone,
                "role": "caregiver",
            }
        ]
    }


def test_today_lists_due_assignments_with_status(client, factory, session):
    """A child's day: assignments due, grouped by anchor, with done/extra counts and my logs."""
    fam = family(factory)
    headers = _token(session, fam.caregiver)
    client.post("/api/v1/logs", json=_body(fam), headers=headers)
    day = client.get(f"/api/v1/children/{fam.child.id}/today", headers=headers).json
    assert day["date"] == fam.today.isoformat()
    assert [g["anchor"] for g in day["groups"]] == ["morning", "Bedtime"]
    morning = day["groups"][0]["assignments"][0]
    assert morning["activity"]["title"] == "Button practice"
    assert (morning["expected"], morning["done"], morning["extra"], morning["complete"]) == (
        1,
        1,
        0,
        True,
    )
    assert len(morning["my_logs"]) == 1
    assert (day["expected"], day["done"]) == (3, 1)
    other_day = (fam.today - timedelta(days=30)).isoformat()
    past = client.get(f"/api/v1/children/{fam.child.id}/today?date={other_day}", headers=headers)
    assert past.json["groups"] == []
    bad = client.get(f"/api/v1/children/{fam.child.id}/today?date=tomorrow", headers=headers)
    assert bad.status_code == 422
    assert bad.content_type == PROBLEM
    assert "date" in bad.json["errors"]


def test_week_endpoint(client, factory, session):
    """The week endpoint gives capped counts and per-day states."""
    fam = family(factory)
    headers = _token(session, fam.caregiver)
    for _ in range(2):
        client.post("/api/v1/logs", json=_body(fam), headers=headers)
    week = client.get(f"/api/v1/children/{fam.child.id}/week", headers=headers).json
    assert week["done_so_far"] == 1
    assert week["extra"] == 1
    titles = [a["title"] for a in week["activities"]]
    assert titles == ["Button practice", "Squeeze the putty"]


def test_other_familys_child_is_404(client, factory, session):
    """Reading another family's child, or logging to its assignment, answers 404."""
    fam = family(factory)
    other = family(factory)
    headers = _token(session, fam.caregiver)
    for url in (
        f"/api/v1/children/{other.child.id}/today",
        f"/api/v1/children/{other.child.id}/week",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 404
        assert response.content_type == PROBLEM
    response = client.post(
        "/api/v1/logs", json=_body(fam, assignment_id=other.morning.id), headers=headers
    )
    assert response.status_code == 404
    assert response.content_type == PROBLEM
    response = client.post("/api/v1/logs", json=_body(fam, assignment_id=123456), headers=headers)
    assert response.status_code == 404
    assert _count_logs(session) == 0


def test_post_same_id_twice_then_different_body(client, factory, session):
    """201 the first time, 200 with the same log for a repeat, 409 for other content."""
    fam = family(factory)
    headers = _token(session, fam.caregiver)
    body = _body(fam, minutes=5, response="easy", note="fun")
    first = client.post("/api/v1/logs", json=body, headers=headers)
    assert first.status_code == 201
    assert first.headers["Location"].endswith(f"/api/v1/logs/{first.json['id']}")
    again = client.post("/api/v1/logs", json=body, headers=headers)
    assert again.status_code == 200
    assert again.json == first.json
    changed = client.post("/api/v1/logs", json={**body, "minutes": 6}, headers=headers)
    assert changed.status_code == 409
    assert changed.content_type == PROBLEM
    assert _count_logs(session) == 1
    created = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "log.created")
    )
    assert created == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"minutes": "five"}, "minutes"),
        ({"minutes": 601}, "minutes"),
        ({"response": "meh"}, "response"),
        ({"note": "x" * 1001}, "note"),
        ({"measure_value": 1.5}, "measure_value"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),
        ({"client_id": 5}, "client_id"),
        ({"client_id": "nope"}, "client_id"),
        ({"assignment_id": "3"}, "assignment_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_log_bodies_are_422_problems(client, factory, session, body, field):
    """Each invalid field is named in the problem's errors; nothing is stored."""
    fam = family(factory)
    response = client.post(
        "/api/v1/logs", json=_body(fam, **body), headers=_token(session, fam.caregiver)
    )
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert field in response.json["errors"]
    assert _count_logs(session) == 0


def test_missing_fields_and_non_json_bodies(client, factory, session):
    """Missing required fields are 422; a body that is not a JSON object is 400."""
    fam = family(factory)
    headers = _token(session, fam.caregiver)
    response = client.post("/api/v1/logs", json={"minutes": 3}, headers=headers)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"client_id", "assignment_id", "occurred_at"}
    for data in ("not json", "[1, 2]"):
        response = client.post(
            "/api/v1/logs", data=data, content_type="application/json", headers=headers
        )
        assert response.status_code == 400
        assert response.content_type == PROBLEM


def test_delete_is_an_audited_soft_delete(client, factory, session):
    """DELETE undoes the log (kept, marked deleted), audits it, and repeating is harmless."""
    fam = family(factory)
    headers = _token(session, fam.caregiver)
    log = client.post("/api/v1/logs", json=_body(fam), headers=headers).json
    assert client.delete(f"/api/v1/logs/{log['id']}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/logs/{log['id']}", headers=headers).status_code == 204
    stored = client.get(f"/api/v1/logs/{log['id']}", headers=headers).json
    assert stored["deleted_at"] is not None
    assert _count_logs(session) == 1
    undone = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "log.undone")
    )
    assert undone == 1
    day = client.get(f"/api/v1/children/{fam.child.id}/today", headers=headers).json
    assert day["done"] == 0


def test_patch_adds_details_and_foreign_logs_are_404(client, factory, session):
    """PATCH changes one's own log's details; another caregiver's log is 404."""
    fam = family(factory)
    headers = _token(session, fam.caregiver)
    log = client.post("/api/v1/logs", json=_body(fam), headers=headers).json
    patched = client.patch(
        f"/api/v1/logs/{log['id']}", json={"minutes": 8, "response": "hard"}, headers=headers
    )
    assert patched.status_code == 200
    assert (patched.json["minutes"], patched.json["response"]) == (8, "hard")
    assert (
        client.patch(
            f"/api/v1/logs/{log['id']}", json={"assignment_id": 1}, headers=headers
        ).status_code
        == 422
    )
    other = factory.caregiver(fam.child)
    other_headers = _token(session, other)
    assert client.get(f"/api/v1/logs/{log['id']}", headers=other_headers).status_code == 404
    assert client.delete(f"/api/v1/logs/{log['id']}", headers=other_headers).status_code == 404


def test_unknown_api_route_is_a_problem(client):
    """Unknown API paths answer 404 as problem details too."""
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.content_type == PROBLEM


def test_concurrent_duplicate_posts_store_one_log(app, factory, session):
    """Eight simultaneous posts of one log: one 201, the rest 200, one row, never a 500."""
    fam = family(factory)
    headers = _token(session, fam.caregiver)
    body = _body(fam, minutes=4)
    barrier = threading.Barrier(8)
    statuses: list[int] = []
    lock = threading.Lock()

    def post() -> None:
        c = app.test_client()
        barrier.wait()
        response = c.post("/api/v1/logs", json=body, headers=headers, csrf=False)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 7 + [201]
    assert _count_logs(session) == 1
    created = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "log.created")
    )
    assert created == 1


def _post_queries(client, app, body, **kwargs):
    from homeprogram.extensions import db

    with app.app_context():
        engine = db.engine
    with count_queries(engine) as counter:
        response = client.post("/api/v1/logs", json=body, **kwargs)
    assert response.status_code == 201
    return counter.statements


def test_posting_a_log_with_the_session_takes_four_queries(app, client, factory, login, session):
    """A caregiver's one-tap log reads the user and the assignment with the caller's access,
    then writes the log (unless its client id is taken: no look-up first) and its audit row."""
    fam = family(factory)
    login(fam.caregiver.email)
    statements = _post_queries(client, app, _body(fam))
    assert [s.split()[0] for s in statements] == ["SELECT"] * 2 + ["INSERT"] * 2, "\n".join(
        statements
    )
    assert session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "log.created")
    )


def test_a_repeated_post_reads_the_stored_log_and_writes_nothing(app, client, factory, login):
    """A phone's retry: the insert does nothing, the stored log is read back and answered."""
    from homeprogram.extensions import db

    fam = family(factory)
    login(fam.caregiver.email)
    body = _body(fam, minutes=3)
    first = client.post("/api/v1/logs", json=body)
    assert first.status_code == 201
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as counter:
        again = client.post("/api/v1/logs", json=body)
    assert again.status_code == 200
    assert again.json == first.json
    kinds = [s.split()[0] for s in counter.statements]
    assert kinds == ["SELECT", "SELECT", "INSERT", "SELECT"], "\n".join(counter.statements)


def test_posting_a_log_with_a_token_takes_four_queries(app, client, factory, session):
    """With a bearer token, the token, its user, membership and roles are read in one query
    in the request's own transaction, then the log is written as with the session (the
    token's last use is written at most once a minute, here by the first request)."""
    fam = family(factory)
    headers = _token(session, fam.caregiver)
    first = _post_queries(client, app, _body(fam), headers=headers)
    assert [s.split()[0] for s in first] == ["SELECT", "UPDATE", "SELECT", "INSERT", "INSERT"]
    statements = _post_queries(client, app, _body(fam), headers=headers)
    assert [s.split()[0] for s in statements] == ["SELECT"] * 2 + ["INSERT"] * 2, "\n".join(
        statements
    )
    assert "api_token" in statements[0] and "user_account" in statements[0]


def test_loading_the_signed_in_user_takes_one_query(app, client, factory, login):
    """The session, its user, their staff membership and care roles come in one query."""
    from homeprogram.extensions import db

    fam = family(factory)
    login(fam.caregiver.email)
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as counter:
        me = client.get("/api/v1/me").json
    assert me["roles"] == ["caregiver"]
    assert counter.count == 1, "\n".join(counter.statements)


def test_method_not_allowed_says_which_methods_are(client):
    """A 405, from the API (problem details) or a page, lists the allowed methods in Allow."""
    api = client.open("/api/v1/me", method="TRACE")
    assert api.status_code == 405
    assert api.content_type == PROBLEM
    assert set(api.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
    page = client.open("/login", method="PUT")
    assert page.status_code == 405
    assert set(page.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_a_huge_id_in_an_api_path_is_404_for_every_method(client, factory, session):
    """An id beyond any integer column names nothing: 404 for GET, PATCH and DELETE alike
    (not 405 because another method's route shares the path)."""
    fam = family(factory)
    headers = _token(session, fam.caregiver)
    for huge in ("2147483648", "9999999999", "275914704180", "9" * 30):
        for method in ("GET", "PATCH", "DELETE"):
            response = client.open(
                f"/api/v1/logs/{huge}", method=method, headers=headers, json={"note": "x"}
            )
            assert response.status_code == 404, (huge, method)
            assert response.content_type == PROBLEM
