"""The API answers as ``/api/v1/openapi.json`` says (schemathesis, derandomized).

As a caregiver and as a therapist (each with a personal API token), every operation gets
examples from the document, its edge cases (coverage phase: boundaries, missing and empty
values, wrong types, unexpected methods) and random valid and invalid requests. Each
request is sent twice: as generated, and with the path's ids and the body's assignment
id (and time) replaced by the user's own records, so that answers with data are checked as
well as refusals. Checks: no server error; every status, content type, header and body is the
documented one; invalid input is refused; a 405 carries ``Allow``.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from homeprogram.blueprints.api import routes as api_routes
from homeprogram.blueprints.api.openapi import build_document
from homeprogram.blueprints.api_adherence import routes as api_adherence_routes
from homeprogram.models.base import utcnow
from homeprogram.services import logs, tokens
from homeprogram.services.audit import Actor
from tests.caregiver_setup import family

SEED = 20261125
MAX_EXAMPLES = 12  # random requests per operation, on top of examples and coverage


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"RATELIMIT_ENABLED": False}  # hundreds of requests a minute, on purpose


@dataclass(frozen=True)
class ApiUser:
    token: str
    child_id: int
    assignment_id: int
    log_id: int


@pytest.fixture(params=["caregiver", "therapist"])
def api_user(request: pytest.FixtureRequest, factory: Any, session: Any) -> ApiUser:
    """A family's caregiver or therapist with a token and one log of their own."""
    fam = family(factory, measure_name="buttons", measure_unit="of 5")
    user = getattr(fam, request.param)
    log, _ = logs.record_log(
        session,
        Actor(user.id),
        client_id=str(uuid.uuid4()),
        assignment_id=fam.morning.id,
        occurred_at=utcnow() - timedelta(hours=1),
        user_id=user.id,
    )
    _row, plain = tokens.create_token(session, Actor(user.id), user_id=user.id, name="schema")
    session.commit()
    return ApiUser(plain, fam.child.id, fam.morning.id, log.id)


def _document() -> dict[str, Any]:
    """The document the app serves, built from the API blueprints alone (schemathesis makes
    one test per operation when the module loads, before any app or database exists)."""
    app = Flask(__name__)
    app.register_blueprint(api_routes.bp)
    app.register_blueprint(api_adherence_routes.bp)
    return build_document(app)


DOCUMENT = _document()
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "base-url": "http://homeprogram.test",  # the tests' SERVER_NAME
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The tests send the user's token; unknown query parameters are ignored, as
            # HTTP APIs do (OpenAPI cannot forbid them).
            "with-security-parameters": False,
            "allow-extra-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            # Random ids and times name nothing of this user: 404 and 422 are right.
            "positive_data_acceptance": {"enabled": False},
        },
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def test_the_tested_document_is_the_served_one(client: Any) -> None:
    """The document tested below is exactly what /api/v1/openapi.json serves."""
    served = client.get("/api/v1/openapi.json").json
    assert served == DOCUMENT, "a new API blueprint? register it in _document() too"


def _on_own_records(case: Any, user: ApiUser) -> Any:
    """The same request about the user's own child, log and assignment (None when it names
    none, or uses a method the operation does not have)."""
    if case.method.upper() != case.operation.method.upper():
        return None
    own = {"child_id": user.child_id, "log_id": user.log_id}
    path = {name: own.get(name, value) for name, value in (case.path_parameters or {}).items()}
    body = case.body
    if isinstance(body, dict) and "assignment_id" in body:
        # Also a believable time, so that some logs are stored (201) and read back.
        recent = (utcnow() - timedelta(hours=1)).isoformat()
        body = {**body, "assignment_id": user.assignment_id, "occurred_at": recent}
    if path == (case.path_parameters or {}) and body is case.body:
        return None
    # A new case: the generated one may be invalid on purpose, and says so in its metadata.
    return case.operation.Case(
        path_parameters=path,
        headers=dict(case.headers or {}),
        query=case.query,
        body=body,
        media_type=case.media_type,
    )


@schema.parametrize()
@settings(
    # One database and family per operation and user, shared by the operation's requests.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
def test_api_answers_as_documented(case: Any, app: Flask, api_user: ApiUser) -> None:
    """Every answer is documented and well-formed, for random input and for the user's own
    records; never a server error."""
    # This test's app (and database), for the requests and for the checks' own probes.
    case.operation.app = case.operation.schema.app = app
    headers = {"Authorization": f"Bearer {api_user.token}"}
    case.call_and_validate(headers=headers)
    own = _on_own_records(case, api_user)
    if own is not None:
        own.call_and_validate(headers=headers)
