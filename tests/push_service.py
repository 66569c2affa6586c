"""A local Web Push service for tests and the benchmark (one copy, imported by both).

A real HTTP server on 127.0.0.1 in a thread. For each push it checks the VAPID
``Authorization: vapid t=...,k=...`` header (signature, ``aud`` = this origin, ``exp``
under 24 h, a ``sub``), reads exactly Content-Length bytes and decrypts the aes128gcm
body with the simulated browser's private key and auth secret (http_ece), so tests
assert what a phone would really receive. Endpoints can be scripted to answer 404/410
(gone) or 429/5xx with Retry-After before succeeding.
"""

import base64
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from py_vapid.jwt import decode as decode_jwt


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Device:
    """A simulated browser subscription: its P-256 key pair and 16-byte auth secret."""

    path: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    base_url: str

    @property
    def endpoint(self) -> str:
        return self.base_url + self.path

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def subscription(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives the page."""
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth_secret)},
        }


@dataclass
class Received:
    """One push as the service accepted it."""

    path: str
    headers: dict[str, str]
    claims: dict[str, Any]
    vapid_key: str
    payload: bytes | None
    at: float = field(default_factory=time.monotonic)  # when the service accepted it

    @property
    def json(self) -> Any:
        assert self.payload is not None
        return json.loads(self.payload)

    @property
    def ttl(self) -> int:
        return int(self.headers["ttl"])

    @property
    def urgency(self) -> str | None:
        return self.headers.get("urgency")

    @property
    def topic(self) -> str | None:
        return self.headers.get("topic")


@dataclass
class _State:
    devices: dict[str, Device] = field(default_factory=dict)
    scripts: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    gone: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    attempts: Counter = field(default_factory=Counter)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    tried: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Topic) each POST
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real push services
    disable_nagle_algorithm = True  # a small write must not wait for a delayed ACK
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/_stats":
            service = self.server.service
            with service.state.lock:
                counts = Counter(r.path for r in service.state.received)
            body = json.dumps(
                {"received": dict(counts), "rejected": len(service.state.rejected)}
            ).encode()
            return self._answer(200, body, {"Content-Type": "application/json"})
        return self._answer(404)

    def do_POST(self) -> None:
        service = self.server.service
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)  # exactly Content-Length bytes, never to EOF
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = self.path
        state = service.state
        with state.lock:
            state.attempts[path] += 1
            state.tried.append((path, headers.get("topic")))
            gone = state.gone.get(path)
            script = state.scripts.get(path)
            scripted = script.pop(0) if script else None
        if gone:
            return self._answer(gone)
        try:
            claims, key = service.check_vapid(headers.get("authorization", ""))
            if "ttl" not in headers:
                raise ValueError("no TTL header")
            payload = None
            if body:
                if headers.get("content-encoding") != "aes128gcm":
                    raise ValueError("content-encoding is not aes128gcm")
                payload = service.decrypt(path, body)
        except Exception as exc:
            with state.lock:
                state.rejected.append((path, repr(exc)))
            return self._answer(403 if "vapid" in repr(exc).lower() else 400, repr(exc).encode())
        if scripted is not None:
            status, extra = scripted
            return self._answer(status, b"", extra)
        with state.lock:
            state.received.append(Received(path, headers, claims, key, payload))
        return self._answer(201, b"", {"Location": path + "/msg"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    service: "LocalPushService"


class LocalPushService:
    """Start with ``with LocalPushService() as service:``; ``service.device()`` subscribes."""

    def __init__(self, *, decrypt: bool = True, port: int = 0) -> None:
        self.decrypt_bodies = decrypt
        self.state = _State()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.service = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"

    def __enter__(self) -> "LocalPushService":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- arranging ---------------------------------------------------------------------------

    def device(self) -> Device:
        path = "/push/" + b64url(os.urandom(18))
        dev = Device(path, ec.generate_private_key(ec.SECP256R1()), os.urandom(16), self.base_url)
        with self.state.lock:
            self.state.devices[path] = dev
        return dev

    def respond(self, device: Device, *answers: tuple[int, dict[str, str]]) -> None:
        """Answer the next pushes to ``device`` with these statuses, then accept again."""
        with self.state.lock:
            self.state.scripts.setdefault(device.path, []).extend(answers)

    def make_gone(self, device: Device, status: int = 410) -> None:
        with self.state.lock:
            self.state.gone[device.path] = status

    # --- checking ----------------------------------------------------------------------------

    def check_vapid(self, authorization: str) -> tuple[dict[str, Any], str]:
        scheme, _, params = authorization.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError(f"vapid: expected 'vapid t=...,k=...', got {authorization[:30]!r}")
        parts = dict(p.split("=", 1) for p in params.split(","))
        if not Vapid02.verify(authorization):
            raise ValueError("vapid: bad signature")
        claims = decode_jwt(parts["t"], parts["k"])
        if claims.get("aud") != self.base_url:
            raise ValueError(f"vapid: aud {claims.get('aud')!r} is not {self.base_url!r}")
        if not 0 < int(claims["exp"]) - time.time() <= 24 * 3600:
            raise ValueError("vapid: exp must be in the next 24 hours")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError("vapid: no sub")
        return claims, parts["k"]

    def decrypt(self, path: str, body: bytes) -> bytes | None:
        if not self.decrypt_bodies:
            return None
        with self.state.lock:
            dev = self.state.devices[path]
        return http_ece.decrypt(
            body, private_key=dev.private_key, auth_secret=dev.auth_secret, version="aes128gcm"
        )

    @property
    def received(self) -> list[Received]:
        with self.state.lock:
            return list(self.state.received)

    def received_by(self, device: Device) -> list[Received]:
        return [r for r in self.received if r.path == device.path]

    def topics_tried(self, device: Device) -> list[str | None]:
        """The Topic header of every request to ``device``, answered or refused."""
        with self.state.lock:
            return [topic for path, topic in self.state.tried if path == device.path]

    def attempts(self, device: Device) -> int:
        with self.state.lock:
            return self.state.attempts[device.path]

    @property
    def rejected(self) -> list[tuple[str, str]]:
        with self.state.lock:
            return list(self.state.rejected)
