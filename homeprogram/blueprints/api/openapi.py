"""The OpenAPI 3.1 document, merged from every API blueprint's ``OPENAPI_PATHS``.

A blueprint whose name starts with ``api`` documents its routes in module-level
``OPENAPI_PATHS`` (path → method → operation, paths written as ``/api/v1/x/{id}``) and may
add ``OPENAPI_SCHEMAS`` (name → JSON Schema). Shared pieces every module can reference:
``#/components/schemas/Problem``, ``Id`` and ``LocalDate`` (what ``homeprogram.inputs``
accepts), and the responses ``Unauthorized``, ``NotFound``, ``BadRequest``, ``Invalid`` and
``Conflict``. The answers any request may get (400, 413, 429, 503: checks made before the
view) are added to every operation here.
"""

import importlib
import sys
from typing import Any

from flask import Flask

from homeprogram.inputs import FIRST_DATE, LAST_DATE, MAX_ID

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details (media type application/problem+json).",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Field name → message, for invalid input (422).",
            "additionalProperties": {"type": "string"},
        },
    },
}


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
LOCAL_DATE = {
    "type": "string",
    "format": "date",
    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "description": (
        f"A day as YYYY-MM-DD, from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}."
    ),
}


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


RESPONSES = {
    "Unauthorized": _problem_response("Not logged in, or the bearer token is unknown or revoked."),
    "NotFound": _problem_response("It does not exist, or you may not see it."),
    "BadRequest": _problem_response(
        "The request is malformed: a NUL character in it, a body that is not a JSON object, "
        "or (browser session) the X-CSRFToken header is missing."
    ),
    "Invalid": _problem_response("A field is not valid; `errors` says which and why."),
    "Conflict": _problem_response("The request conflicts with what is stored."),
    "TooLarge": _problem_response("The body is larger than the server accepts."),
    "TooManyRequests": _problem_response("Too many requests from this token or session."),
    "Unavailable": _problem_response(
        "The database is briefly unavailable; retry after the Retry-After seconds."
    ),
}

# Answered before any view runs, so possible for every operation.
_ANY_OPERATION = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "429": {"$ref": "#/components/responses/TooManyRequests"},
    "503": {"$ref": "#/components/responses/Unavailable"},
}
_WITH_BODY = {"413": {"$ref": "#/components/responses/TooLarge"}}


def _with_common_responses(operation: dict[str, Any]) -> dict[str, Any]:
    common = {**_ANY_OPERATION, **(_WITH_BODY if "requestBody" in operation else {})}
    responses = {**common, **operation.get("responses", {})}
    return {**operation, "responses": dict(sorted(responses.items()))}


SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token created in Settings (sent as 'Bearer hp_...').",
    },
    "cookieAuth": {
        "type": "apiKey",
        "in": "cookie",
        "name": "hp_session",
        "description": "The browser login session; writes also need the X-CSRFToken header.",
    },
}


def api_modules(app: Flask) -> list[Any]:
    modules = []
    for name in sorted(app.blueprints):
        if name.startswith("api"):
            import_name = app.blueprints[name].import_name
            modules.append(sys.modules.get(import_name) or importlib.import_module(import_name))
    return modules


def build_document(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Problem": PROBLEM, "Id": ID, "LocalDate": LOCAL_DATE}
    for module in api_modules(app):
        for path, operations in getattr(module, "OPENAPI_PATHS", {}).items():
            paths.setdefault(path, {}).update(
                {method: _with_common_responses(op) for method, op in operations.items()}
            )
        schemas.update(getattr(module, "OPENAPI_SCHEMAS", {}))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "homeprogram API",
            "version": "1",
            "description": (
                "Home programs for pediatric occupational therapy. Authenticate with a personal "
                "API token (Settings) or the browser session. Errors are "
                "application/problem+json."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "responses": RESPONSES,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
