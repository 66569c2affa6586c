"""``/api/v1``: who am I, my children, a child's day and week, idempotent logs, and a
child's record as a FHIR R4 Bundle (staff).

Every route here is documented in ``docs.py`` (exported as ``OPENAPI_PATHS``), and the
OpenAPI document merges the paths of every blueprint whose name starts with ``api``.
"""

from datetime import date
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from homeprogram.api_auth import abort_problem, api_login_required, json_body, validation_problem
from homeprogram.blueprints.api.docs import OPENAPI_PATHS, OPENAPI_SCHEMAS
from homeprogram.blueprints.api.openapi import build_document
from homeprogram.blueprints.api.serialize import child_json, day_json, log_json, week_json
from homeprogram.blueprints.fhir.routes import bundle_response
from homeprogram.blueprints.fhir.routes import export as export_bundle
from homeprogram.extensions import db
from homeprogram.inputs import (
    FIRST_DATE,
    LAST_DATE,
    MAX_ID,
    date_message,
    parse_date,
    parse_datetime,
    parse_id,
    parse_int,
    parse_number,
)
from homeprogram.models.base import utcnow
from homeprogram.services import access, logs
from homeprogram.services import today as plans
from homeprogram.services.schedule import local_date
from homeprogram.web import actor, child_or_404

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "bp"]

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_LOG_FIELDS = ("client_id", "assignment_id", "occurred_at", *logs.DETAIL_FIELDS)


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_document(current_app))


@bp.get("/me")
@api_login_required
def me():
    body: dict[str, Any] = {
        "id": current_user.id,
        "name": current_user.name,
        "email": current_user.email,
        "locale": current_user.locale,
        "timezone": current_user.timezone,
        "roles": sorted(current_user.roles),
        "auth": g.api_auth,
    }
    if g.api_auth == "session":
        # What a page's script (or the service worker) sends back in X-CSRFToken.
        body["csrf_token"] = generate_csrf()
    return jsonify(body)


@bp.get("/children")
@api_login_required
def children():
    kids = plans.children_of(db.session, current_user.id)
    return jsonify({"children": [child_json(child, role) for child, role in kids]})


def _date_arg(child_timezone: str) -> date:
    """``?date=``, or today in the child's time zone when absent; an empty one is refused."""
    raw = request.args.get("date")
    if raw is None:
        return local_date(utcnow(), child_timezone)
    day = parse_date(raw)
    if day is None:
        abort_problem(validation_problem({"date": date_message()}))
    return day


@bp.get("/children/<int:child_id>/today")
@api_login_required
def child_today(child_id: int):
    child = child_or_404(child_id, logs.LOG_ROLES).child
    day = _date_arg(child.timezone)
    plan = plans.day_plan(db.session, child, day, user_id=current_user.id)
    return jsonify(day_json(plan))


@bp.get("/children/<int:child_id>/week")
@api_login_required
def child_week(child_id: int):
    child = child_or_404(child_id, logs.LOG_ROLES).child
    today = local_date(utcnow(), child.timezone)
    day = _date_arg(child.timezone)
    s = db.session
    week, streak = plans.week_and_streak(s, child, day, today=today)
    return jsonify(week_json(week, streak))


@bp.get("/children/<int:child_id>/fhir")
@api_login_required
def child_fhir(child_id: int):
    """The child's record as a FHIR R4 Bundle: staff of the child only (404 for caregivers,
    teachers and everyone else), audited like the download on the child page."""
    child = child_or_404(child_id, access.STAFF_ROLES).child
    return bundle_response(export_bundle(child, utcnow(), via="api"))


def _parse_value(name: str, value: Any) -> tuple[bool, Any]:
    """Whether ``value`` has the JSON type of field ``name`` (numbers within what the
    database holds, dates within the accepted years), and the value to pass on."""
    if value is None:
        return name not in {"client_id", "assignment_id", "occurred_at"}, None
    if name in {"client_id", "response", "note"}:
        return isinstance(value, str), value
    if name in {"assignment_id", "minutes"} and not isinstance(value, int):
        return False, value  # a JSON number, not text that reads as one
    if name == "assignment_id":
        parsed: Any = parse_id(value)
    elif name == "minutes":
        parsed = parse_int(value)
    elif name == "measure_value":
        parsed = parse_number(value)
    else:  # occurred_at
        parsed = parse_datetime(value)
    return parsed is not None, parsed


def _parse_log_fields(data: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """Check JSON types and what the database can hold (the service checks ranges and
    meaning); 422 on any mistake."""
    errors = {name: "Unknown field." for name in data if name not in allowed}
    values = dict(data)
    for name in set(allowed) & set(data):
        ok, values[name] = _parse_value(name, data[name])
        if not ok:
            errors[name] = _TYPE_MESSAGES[name]
    if errors:
        abort_problem(validation_problem(errors))
    return values


_TYPE_MESSAGES = {
    "client_id": "Send a UUID chosen by the client.",
    "assignment_id": f"Send the assignment's id (an integer from 1 to {MAX_ID}).",
    "occurred_at": (
        "Send an ISO 8601 date and time with its UTC offset, "
        f"from {FIRST_DATE.year} to {LAST_DATE.year}."
    ),
    "minutes": "Send whole minutes or null.",
    "response": "Send easy, just_right, hard or null.",
    "note": "Send text or null.",
    "measure_value": "Send a number or null.",
}


@bp.post("/logs")
@api_login_required
def create_log():
    data = json_body()
    missing = {
        name: "This field is required."
        for name in ("client_id", "assignment_id", "occurred_at")
        if name not in data
    }
    if missing:
        return validation_problem(missing)
    values = _parse_log_fields(data, _LOG_FIELDS)
    s = db.session
    log, created = logs.record_log(s, actor(), user_id=current_user.id, **values)
    s.commit()
    response = jsonify(log_json(log))
    response.headers["Location"] = url_for("api.get_log", log_id=log.id)
    response.status_code = 201 if created else 200
    return response


@bp.get("/logs/<int:log_id>")
@api_login_required
def get_log(log_id: int):
    return jsonify(log_json(logs.own_log(db.session, current_user.id, log_id)))


@bp.patch("/logs/<int:log_id>")
@api_login_required
def update_log(log_id: int):
    changes = _parse_log_fields(json_body(), logs.DETAIL_FIELDS)
    s = db.session
    log = logs.update_details(s, actor(), log_id=log_id, user_id=current_user.id, **changes)
    s.commit()
    return jsonify(log_json(log))


@bp.delete("/logs/<int:log_id>")
@api_login_required
def delete_log(log_id: int):
    s = db.session
    logs.undo_log(s, actor(), log_id=log_id, user_id=current_user.id)
    s.commit()
    return "", 204
