"""The OpenAPI 3.1 document, merged from every API blueprint's ``OPENAPI_PATHS``.

A blueprint whose name starts with ``api`` documents its routes in module-level
``OPENAPI_PATHS`` (path → method → operation, paths written as ``/api/v1/x/{id}``) and may
add ``OPENAPI_SCHEMAS`` (name → JSON Schema). Shared pieces every module can reference:
``#/components/schemas/Problem`` and the responses ``Unauthorized``, ``NotFound``,
``BadRequest`` and ``Invalid``.
"""

import importlib
import sys
from typing import Any

from flask import Flask

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
        "The body is not a JSON object, or the CSRF header is missing."
    ),
    "Invalid": _problem_response("A field is not valid; `errors` says which and why."),
    "Conflict": _problem_response("The request conflicts with what is stored."),
}

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
    schemas: dict[str, Any] = {"Problem": PROBLEM}
    for module in api_modules(app):
        for path, operations in getattr(module, "OPENAPI_PATHS", {}).items():
            paths.setdefault(path, {}).update(operations)
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
