"""``GET /api/v1/children/{child_id}/adherence``: the adherence engine as JSON."""

from datetime import date
from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from homeprogram.api_auth import api_login_required
from homeprogram.errors import problem
from homeprogram.extensions import db
from homeprogram.inputs import date_message, parse_date
from homeprogram.services import access, adherence
from homeprogram.services.adherence import Tally

bp = Blueprint("api_adherence", __name__, url_prefix="/api/v1")

# The API blueprints' OpenAPI fragments, merged into /api/v1/openapi.json.
OPENAPI_SCHEMAS: dict[str, Any] = {
    "AdherenceTally": {
        "type": "object",
        "required": ["expected", "done", "extra", "rate"],
        "properties": {
            "expected": {"type": "integer", "description": "Sessions scheduled."},
            "done": {
                "type": "integer",
                "description": "Logged sessions, at most expected per day.",
            },
            "extra": {"type": "integer", "description": "Logged sessions above the schedule."},
            "rate": {
                "type": ["number", "null"],
                "minimum": 0,
                "maximum": 1,
                "description": "done / expected; null when nothing was expected (no plan).",
            },
        },
    },
    "AssignmentAdherence": {
        "allOf": [
            {"$ref": "#/components/schemas/AdherenceTally"},
            {
                "type": "object",
                "required": ["assignment_id", "assignment_ids", "activity_id", "activity_title"],
                "properties": {
                    "assignment_id": {
                        "type": "integer",
                        "description": "The latest version of the prescription.",
                    },
                    "assignment_ids": {
                        "type": "array",
                        "items": {"type": "integer"},
                        "description": "Every version (oldest first) counted together.",
                    },
                    "activity_id": {"type": "integer"},
                    "activity_title": {"type": "string"},
                },
            },
        ]
    },
    "Adherence": {
        "type": "object",
        "required": ["child_id", "from", "to", "timezone", "overall", "assignments"],
        "properties": {
            "child_id": {"type": "integer"},
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "timezone": {"type": "string", "description": "The child's time zone (local days)."},
            "overall": {"$ref": "#/components/schemas/AdherenceTally"},
            "assignments": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/AssignmentAdherence"},
            },
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/children/{child_id}/adherence": {
        "get": {
            "summary": "Adherence of a child over a range of local dates",
            "description": (
                "Per local day in the child's time zone: expected sessions from the "
                "assignments in force, done sessions counted up to the schedule, extra "
                "sessions apart. Versions of a changed prescription are counted together."
            ),
            "operationId": "getChildAdherence",
            "tags": ["adherence"],
            "parameters": [
                {
                    "name": "child_id",
                    "in": "path",
                    "required": True,
                    "schema": {"$ref": "#/components/schemas/Id"},
                },
                {
                    "name": "from",
                    "in": "query",
                    "required": True,
                    "schema": {"$ref": "#/components/schemas/LocalDate"},
                },
                {
                    "name": "to",
                    "in": "query",
                    "required": True,
                    "schema": {"$ref": "#/components/schemas/LocalDate"},
                    "description": f"On or after from; at most {adherence.MAX_RANGE_DAYS} days.",
                },
            ],
            "responses": {
                "200": {
                    "description": "Adherence figures",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Adherence"}}
                    },
                },
                "400": {
                    "description": "A date is missing or malformed, or the range is reversed or "
                    "too long; `errors` names the parameter.",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
                # Shared responses of the OpenAPI builder (homeprogram/blueprints/api/openapi.py).
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"},
            },
        }
    }
}


def _tally(t: Tally) -> dict[str, Any]:
    return {"expected": t.expected, "done": t.done, "extra": t.extra, "rate": t.rate}


def _bad_range(errors: dict[str, str]) -> Any:
    return problem(400, "Bad Request", "Check the date range.", errors=errors)


def _parse(name: str, errors: dict[str, str]) -> date | None:
    raw = request.args.get(name, "")
    if not raw:
        errors[name] = "Required, as YYYY-MM-DD."
        return None
    day = parse_date(raw)
    if day is None:
        errors[name] = date_message()
    return day


@bp.get("/children/<int:child_id>/adherence")
@api_login_required
def child_adherence(child_id: int):
    s = db.session
    # Staff and the child's caregivers; anyone else (teachers included) gets 404.
    grant = access.child_access(
        s, current_user.id, child_id, access.STAFF_ROLES | access.FAMILY_ROLES
    )
    errors: dict[str, str] = {}
    start, end = _parse("from", errors), _parse("to", errors)
    if start and end:
        if end < start:
            errors["to"] = "Must be on or after from."
        elif (end - start).days + 1 > adherence.MAX_RANGE_DAYS:
            errors["to"] = f"The range may span at most {adherence.MAX_RANGE_DAYS} days."
    if errors or start is None or end is None:
        return _bad_range(errors)
    data = adherence.child_adherence(s, grant.child.id, start, end)
    return jsonify(
        child_id=grant.child.id,
        timezone=grant.child.timezone,
        **{"from": start.isoformat(), "to": end.isoformat()},
        overall=_tally(data.total),
        assignments=[
            {
                "assignment_id": chain.current_id,
                "assignment_ids": chain.assignment_ids,
                "activity_id": chain.activity_id,
                "activity_title": chain.activity_title,
                **_tally(chain.tally),
            }
            for chain in data.active_chains()
        ],
    )
