"""OpenAPI description of the routes in ``routes.py`` (a test checks both agree)."""

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_UNAUTHORIZED = {"$ref": "#/components/responses/Unauthorized"}
_NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
_BAD_REQUEST = {"$ref": "#/components/responses/BadRequest"}
_INVALID = {"$ref": "#/components/responses/Invalid"}

_ID = _ref("Id")
_CHILD_ID = {"name": "child_id", "in": "path", "required": True, "schema": _ID}
_LOG_ID = {"name": "log_id", "in": "path", "required": True, "schema": _ID}
_DATE = {
    "name": "date",
    "in": "query",
    "required": False,
    "description": (
        "A local date in the child's time zone. Without the parameter: today there; "
        "an empty one is refused (422)."
    ),
    "schema": _ref("LocalDate"),
}

_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_STR = {"type": ["string", "null"]}
_DETAILS = {
    "minutes": {"type": ["integer", "null"], "minimum": 0, "maximum": 600},
    "response": {"type": ["string", "null"], "enum": ["easy", "just_right", "hard", None]},
    "note": {"type": ["string", "null"], "maxLength": 1000},
    "measure_value": {
        "type": ["number", "null"],
        "description": "Only when the assignment has a measure.",
    },
}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Me": {
        "type": "object",
        "required": ["id", "name", "email", "roles", "auth"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "email": {"type": "string"},
            "locale": {"type": "string"},
            "timezone": {"type": "string"},
            "roles": {"type": "array", "items": {"type": "string"}},
            "auth": {"type": "string", "enum": ["session", "token"]},
            "csrf_token": {
                "type": "string",
                "description": "Only for session auth: send it as X-CSRFToken on writes.",
            },
        },
    },
    "Child": {
        "type": "object",
        "required": ["id", "display_name", "timezone", "role"],
        "properties": {
            "id": {"type": "integer"},
            "display_name": {"type": "string"},
            "timezone": {"type": "string"},
            "role": {"type": "string", "enum": ["caregiver", "teacher", "therapist", "admin"]},
        },
    },
    "Log": {
        "type": "object",
        "required": ["id", "client_id", "assignment_id", "child_id", "occurred_at", "local_date"],
        "properties": {
            "id": {"type": "integer"},
            "client_id": {"type": "string", "format": "uuid"},
            "assignment_id": {"type": "integer"},
            "child_id": {"type": "integer"},
            "logged_by_id": _NULLABLE_INT,
            "occurred_at": {"type": "string", "format": "date-time"},
            "local_date": {"type": "string", "format": "date"},
            **_DETAILS,
            "created_at": {"type": "string", "format": "date-time"},
            "deleted_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "Set when the log was undone.",
            },
        },
    },
    "LogCreate": {
        "type": "object",
        "additionalProperties": False,
        "required": ["client_id", "assignment_id", "occurred_at"],
        "properties": {
            "client_id": {
                "type": "string",
                "format": "uuid",
                "description": "Chosen by the client; makes the request safe to repeat.",
            },
            "assignment_id": _ID,
            "occurred_at": {
                "type": "string",
                "format": "date-time",
                "description": "ISO 8601 with offset; at most a day ahead, at most 60 days ago.",
            },
            **_DETAILS,
        },
    },
    "LogDetails": {
        "type": "object",
        "additionalProperties": False,
        "properties": _DETAILS,
    },
    "Card": {
        "type": "object",
        "properties": {
            "assignment_id": {"type": "integer"},
            "activity": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "language": {
                        "type": "string",
                        "description": "The language of the text: the caller's when the "
                        "activity has a version in it, else the activity's own.",
                    },
                    "title": {"type": "string"},
                    "summary": {"type": "string"},
                    "steps": {"type": "array", "items": {"type": "string"}},
                    "materials": {"type": "array", "items": {"type": "string"}},
                    "safety": {
                        "type": "object",
                        "properties": {
                            "small_parts": {"type": "boolean"},
                            "balloons": {"type": "boolean"},
                            "supervision": {
                                "type": "string",
                                "enum": ["hands_on", "arms_reach", "nearby", "check_in"],
                            },
                            "show_first": {"type": "boolean"},
                            "stop_if": {"type": "array", "items": {"type": "string"}},
                            "notes": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
            "anchor": {"type": "string"},
            "dose": {
                "type": "object",
                "properties": {
                    "amount": _NULLABLE_INT,
                    "unit": {"type": "string"},
                    "text": {"type": "string"},
                },
            },
            "times_per_day": {"type": "integer"},
            "caregiver_note": {"type": "string"},
            "measure": {
                "type": ["object", "null"],
                "properties": {"name": {"type": "string"}, "unit": _NULLABLE_STR},
            },
            "expected": {"type": "integer", "description": "Sessions planned that day."},
            "done": {"type": "integer", "description": "Logged sessions, up to expected."},
            "extra": {"type": "integer", "description": "Logged sessions beyond expected."},
            "complete": {"type": "boolean"},
            "my_logs": {"type": "array", "items": _ref("Log")},
        },
    },
    "DayPlan": {
        "type": "object",
        "properties": {
            "child_id": {"type": "integer"},
            "date": {"type": "string", "format": "date"},
            "expected": {"type": "integer"},
            "done": {"type": "integer"},
            "complete": {"type": "boolean"},
            "groups": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "anchor": {
                            "type": "string",
                            "description": "Routine anchor; '' = any time.",
                        },
                        "assignments": {"type": "array", "items": _ref("Card")},
                    },
                },
            },
        },
    },
    "Week": {
        "type": "object",
        "properties": {
            "child_id": {"type": "integer"},
            "start": {"type": "string", "format": "date", "description": "The Monday."},
            "today": {"type": "string", "format": "date"},
            "expected_so_far": {"type": "integer"},
            "done_so_far": {"type": "integer"},
            "extra": {"type": "integer"},
            "stars": {"type": "integer", "description": "Days with every planned session done."},
            "streak": {"type": "integer"},
            "days": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "date": {"type": "string", "format": "date"},
                        "expected": {"type": "integer"},
                        "done": {"type": "integer"},
                        "star": {"type": "boolean"},
                    },
                },
            },
            "activities": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "activity_id": {"type": "integer"},
                        "title": {"type": "string"},
                        "days": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "date": {"type": "string", "format": "date"},
                                    "state": {
                                        "type": "string",
                                        "enum": [
                                            "done",
                                            "partly",
                                            "missed",
                                            "to_do",
                                            "upcoming",
                                            "not_scheduled",
                                            "extra",
                                        ],
                                    },
                                    "expected": {"type": "integer"},
                                    "done": {"type": "integer"},
                                    "extra": {"type": "integer"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

_FHIR_RESOURCES = ["Patient", "Practitioner", "CarePlan", "Goal", "Observation"]
OPENAPI_SCHEMAS["FhirBundle"] = {
    "type": "object",
    "description": (
        "A FHIR R4 Bundle of type collection (https://hl7.org/fhir/R4/bundle.html). Entries "
        "are named urn:uuid:... and refer to each other by those names only."
    ),
    "required": ["resourceType", "type", "timestamp", "entry"],
    "properties": {
        "resourceType": {"const": "Bundle"},
        "type": {"const": "collection"},
        "timestamp": {"type": "string", "format": "date-time"},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["fullUrl", "resource"],
                "properties": {
                    "fullUrl": {"type": "string", "pattern": "^urn:uuid:[0-9a-f-]{36}$"},
                    "resource": {
                        "type": "object",
                        "required": ["resourceType", "id"],
                        "properties": {
                            "resourceType": {"type": "string", "enum": _FHIR_RESOURCES},
                            "id": {"type": "string"},
                        },
                    },
                },
            },
        },
    },
}

_LOG_RESPONSE = _json(_ref("Log"), "The log.")

OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document.")},
        }
    },
    "/api/v1/me": {
        "get": {
            "operationId": "getMe",
            "summary": "The authenticated user",
            "responses": {"200": _json(_ref("Me"), "Who you are."), "401": _UNAUTHORIZED},
        }
    },
    "/api/v1/children": {
        "get": {
            "operationId": "listChildren",
            "summary": "The children on whose care team you are",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"children": {"type": "array", "items": _ref("Child")}},
                    },
                    "Your children, by name.",
                ),
                "401": _UNAUTHORIZED,
            },
        }
    },
    "/api/v1/children/{child_id}/today": {
        "get": {
            "operationId": "getChildDay",
            "summary": "Home activities due on a local day, grouped by routine anchor",
            "parameters": [_CHILD_ID, _DATE],
            "responses": {
                "200": _json(_ref("DayPlan"), "The day's plan and what was logged."),
                "401": _UNAUTHORIZED,
                "404": _NOT_FOUND,
                "422": _INVALID,
            },
        }
    },
    "/api/v1/children/{child_id}/week": {
        "get": {
            "operationId": "getChildWeek",
            "summary": "The week (Monday to Sunday) containing a date: each day × activity",
            "parameters": [_CHILD_ID, _DATE],
            "responses": {
                "200": _json(_ref("Week"), "Counts capped per assignment and day; extra apart."),
                "401": _UNAUTHORIZED,
                "404": _NOT_FOUND,
                "422": _INVALID,
            },
        }
    },
    "/api/v1/children/{child_id}/fhir": {
        "get": {
            "operationId": "getChildFhirBundle",
            "summary": "The child's record as a FHIR R4 Bundle (staff of the child only)",
            "description": (
                "Patient (display name, birth year and month: nothing else identifying), a "
                "Practitioner (name only) per therapist on the care team, a CarePlan with an "
                "activity per prescription version, Goals, and Observations: goal "
                "measurements, GAS ratings and T-scores, COPM assessments, standardised "
                "assessment results and weekly home-program adherence per prescription "
                "(whole Monday-to-Sunday weeks up to yesterday, at most 52; weeks with no "
                "plan left out). Codes only where certain (goal-achievement, "
                "observation-category, UCUM); the rest is text. Each download is recorded in "
                "the audit trail. Caregivers and teachers get 404."
            ),
            "parameters": [_CHILD_ID],
            "responses": {
                "200": {
                    "description": "The Bundle.",
                    "content": {"application/fhir+json": {"schema": _ref("FhirBundle")}},
                },
                "401": _UNAUTHORIZED,
                "404": _NOT_FOUND,
            },
        }
    },
    "/api/v1/logs": {
        "post": {
            "operationId": "createLog",
            "summary": "Log one practice session (idempotent by client_id)",
            "description": (
                "The first request with a client_id stores the log (201). The same client_id "
                "with the same content answers the stored log and stores nothing (200); with "
                "different content it is a conflict (409). Safe to retry after any failure."
            ),
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("LogCreate")}},
            },
            "responses": {
                "201": _json(_ref("Log"), "Stored now."),
                "200": _json(_ref("Log"), "Already stored with this client_id and content."),
                "400": _BAD_REQUEST,
                "401": _UNAUTHORIZED,
                "404": _NOT_FOUND,
                "409": {"$ref": "#/components/responses/Conflict"},
                "422": _INVALID,
            },
        }
    },
    "/api/v1/logs/{log_id}": {
        "get": {
            "operationId": "getLog",
            "summary": "One of your logs",
            "parameters": [_LOG_ID],
            "responses": {"200": _LOG_RESPONSE, "401": _UNAUTHORIZED, "404": _NOT_FOUND},
        },
        "patch": {
            "operationId": "updateLog",
            "summary": "Add or change the details of one of your logs",
            "parameters": [_LOG_ID],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("LogDetails")}},
            },
            "responses": {
                "200": _LOG_RESPONSE,
                "400": _BAD_REQUEST,
                "401": _UNAUTHORIZED,
                "404": _NOT_FOUND,
                "422": _INVALID,
            },
        },
        "delete": {
            "operationId": "deleteLog",
            "summary": "Undo one of your logs (kept as undone in the audit trail)",
            "parameters": [_LOG_ID],
            "responses": {
                "204": {"description": "Undone (also when it already was)."},
                "400": _BAD_REQUEST,
                "401": _UNAUTHORIZED,
                "404": _NOT_FOUND,
            },
        },
    },
}
