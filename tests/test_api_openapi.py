"""The OpenAPI document matches the URL map: every API route documented, nothing invented."""

import json
import re

from homeprogram.blueprints.api.openapi import build_document

_IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _routes(app) -> set[tuple[str, str]]:
    return {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - _IGNORED_METHODS
    }


def _documented(document) -> set[tuple[str, str]]:
    return {(path, method) for path, ops in document["paths"].items() for method in ops}


def test_every_api_route_is_documented_and_every_documented_route_exists(app, client):
    """Each /api/ route of the app is in openapi.json, and each documented route exists."""
    document = client.get("/api/v1/openapi.json").json
    routes = _routes(app)
    assert routes, "no API routes found"
    assert _documented(document) == routes


def test_document_is_openapi_3_1_with_resolvable_references(client):
    """The document declares OpenAPI 3.1 and every $ref points at something it defines."""
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert {"bearerAuth", "cookieAuth"} <= set(document["components"]["securitySchemes"])
    refs = set(re.findall(r"\"\$ref\": \"#/components/(\w+)/(\w+)\"", json.dumps(document)))
    assert refs
    for section, name in refs:
        assert name in document["components"][section], f"{section}/{name} missing"


def test_other_api_blueprints_add_their_paths(app):
    """A blueprint named api* contributes its module's OPENAPI_PATHS and OPENAPI_SCHEMAS."""
    import sys
    import types

    from flask import Blueprint

    module = types.ModuleType("tests._fake_api_extra")
    module.OPENAPI_PATHS = {"/api/v1/extra": {"get": {"responses": {"200": {"description": "x"}}}}}
    module.OPENAPI_SCHEMAS = {"Extra": {"type": "object"}}
    sys.modules[module.__name__] = module
    try:
        app.blueprints["api_extra"] = Blueprint("api_extra", module.__name__)
        document = build_document(app)
    finally:
        del app.blueprints["api_extra"]
        del sys.modules[module.__name__]
    assert "/api/v1/extra" in document["paths"]
    assert "Extra" in document["components"]["schemas"]
    assert "/api/v1/logs" in document["paths"]
