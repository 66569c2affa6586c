"""What the passkey views share: the relying party, the challenge handle, JSON answers."""

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, jsonify, request, session
from flask_babel import gettext
from werkzeug.wrappers import Response

from homeprogram.services.passkeys import Options, RelyingParty

_HANDLE = "passkey_challenge"


def relying_party() -> RelyingParty:
    """From configuration (``WEBAUTHN_ORIGIN`` / ``WEBAUTHN_RP_ID``), else the request's host."""
    config = current_app.config
    origin = (config["WEBAUTHN_ORIGIN"] or request.host_url).rstrip("/")
    rp_id = config["WEBAUTHN_RP_ID"] or urlsplit(origin).hostname or ""
    return RelyingParty(id=rp_id, origin=origin)


def address_problem(rp: RelyingParty) -> tuple[Response, int] | None:
    """Browsers refuse passkeys for a site reached by IP address (http://127.0.0.1): say so."""
    try:
        ipaddress.ip_address(rp.id)
    except ValueError:
        return None
    return failure(
        gettext(
            "Passkeys work only when the site is opened by its name, not its IP address "
            "(for this computer: http://localhost instead of http://127.0.0.1)."
        )
    )


def options_response(options: Options) -> Response:
    """The options for the browser; the cookie keeps only the challenge's handle."""
    session[_HANDLE] = options.handle
    return Response(options.json, mimetype="application/json")


def take_handle() -> str | None:
    return session.pop(_HANDLE, None)


def credential_from_request() -> Any:
    body = request.get_json(silent=True)
    return body.get("credential") if isinstance(body, dict) else None


def name_from_request() -> str | None:
    body = request.get_json(silent=True)
    name = body.get("name") if isinstance(body, dict) else None
    return name if isinstance(name, str) else None


def failure(message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def success(redirect_to: str) -> Response:
    return jsonify({"redirect": redirect_to})
