"""A software WebAuthn authenticator for tests: real P-256 keys, real signatures, "none"
attestation. It answers the options our server sends exactly as a browser would post them
(``passkey.js`` serializes the same fields), so the server's checks run for real.
"""

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """``origin``: what the browser would put in clientDataJSON (the page's origin)."""

    origin: str
    user_verified: bool = True
    credentials: list[Credential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin},
            separators=(",", ":"),
        ).encode()

    def _flags(self) -> int:
        return UP | (UV if self.user_verified else 0)

    def create(
        self, options: dict[str, Any], *, origin: str | None = None, challenge: str | None = None
    ) -> dict[str, Any]:
        """The answer to ``navigator.credentials.create`` for these options."""
        rp_id = options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        cred_id = secrets.token_bytes(16)
        credential = Credential(cred_id, key, rp_id, unb64url(options["user"]["id"]))
        self.credentials.append(credential)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags() | AT])
            + (0).to_bytes(4, "big")
            + bytes(16)
            + len(cred_id).to_bytes(2, "big")
            + cred_id
            + cose
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data(
            "webauthn.create", challenge or options["challenge"], origin
        )
        return {
            "id": b64url(cred_id),
            "rawId": b64url(cred_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        """The answer to ``navigator.credentials.get``: the first (or given) credential."""
        credential = credential or self.credentials[0]
        credential.sign_count = sign_count if sign_count is not None else credential.sign_count + 1
        auth_data = (
            hashlib.sha256(credential.rp_id.encode()).digest()
            + bytes([self._flags()])
            + credential.sign_count.to_bytes(4, "big")
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(credential.id),
            "rawId": b64url(credential.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(credential.user_handle),
            },
            "clientExtensionResults": {},
        }
