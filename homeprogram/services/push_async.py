"""Many Web Push sends in flight from one process: asyncio and aiohttp, per-service pauses.

Why not threads: an aiohttp POST costs about 0.19 ms of CPU, a ``requests`` POST from a
pool of 128 threads about 0.96 ms (bench/herd.py measures both ends); with push services
answering in 80 ms, a thousand reminders a second need about a hundred sends in flight,
which one event loop keeps cheaply.

What pywebpush does is kept, and the same checks apply as in ``push.PushSender``: the
body is encrypted as pywebpush's ``WebPusher.encode`` does it (http_ece, aes128gcm, a fresh
ECDH key per message); ``TTL``, ``Urgency``
and ``Topic`` are headers; the endpoint passes ``EndpointPolicy.refusal`` before each send;
the name is resolved by a resolver that refuses any non-public address; redirects are not
followed and no environment proxy is used. The VAPID header is signed once per push
service (audience) and reused until an hour before its ``exp`` (12 h): pywebpush signs
only when given claims, so passing the header ourselves is what its API allows.

Backpressure: a 429 or 5xx from a push service pauses sends to that service (its origin)
for ``Retry-After`` (or an exponential backoff); sends waiting for a pause hold no slot,
so other services' sends go on at full speed. A retry reuses the same body and ``Topic``.
A pause longer than a send may wait (``max_retry_wait``) ends the send with ``retry_in``:
the dispatcher puts the reminder back to be sent after it, while it is still useful.
"""

import asyncio
import base64
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import http_ece
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from cryptography.hazmat.primitives.asymmetric import ec

from homeprogram.services.push import (
    MAX_ATTEMPTS,
    MAX_RETRY_WAIT_SECONDS,
    REQUEST_TIMEOUT_SECONDS,
    PushMessage,
    PushSender,
    SendResult,
    log,
    retry_delay,
)
from homeprogram.services.push_guard import EndpointPolicy, cause_of_type, is_public_address
from homeprogram.services.vapid import VapidKeys

DEFAULT_IN_FLIGHT = 200
VAPID_LIFETIME_SECONDS = 12 * 3600
VAPID_RENEW_BEFORE_SECONDS = 3600
_GONE = {404, 410}
ABANDONED = "abandoned: the lease ran out before sending"


class AddressRefused(OSError):
    """A push service name resolved to an address that is not public: nothing was sent."""


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default, and refuses the name when any address is not public."""

    def __init__(self) -> None:
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        refused = [r["host"] for r in found if not is_public_address(r["host"])]
        if refused or not found:  # one private answer is enough: the name is not trusted
            raise AddressRefused(f"{host} resolves to a non-public address {refused[:1]}")
        return found

    async def close(self) -> None:
        await self._inner.close()


def _b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def origin_of(endpoint: str) -> str:
    """The push service an endpoint belongs to: its scheme and host (the VAPID audience)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class ServiceGate:
    """When each push service may be sent to again (monotonic seconds)."""

    clock: Callable[[], float] = time.monotonic
    _until: dict[str, float] = field(default_factory=dict)

    def remaining(self, origin: str) -> float:
        return max(0.0, self._until.get(origin, 0.0) - self.clock())

    def pause(self, origin: str, seconds: float) -> None:
        until = self.clock() + seconds
        if until > self._until.get(origin, 0.0):
            self._until[origin] = until
            log.warning("push service %s paused for %.1f s", origin[:100], seconds)


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass
class AsyncPushSender:
    """Sends from one event loop, ``in_flight`` requests at a time; open it with ``async with``."""

    keys: VapidKeys
    contact: str
    policy: EndpointPolicy = field(default_factory=EndpointPolicy)
    in_flight: int = DEFAULT_IN_FLIGHT
    timeout: float = REQUEST_TIMEOUT_SECONDS
    max_attempts: int = MAX_ATTEMPTS
    max_retry_wait: float = MAX_RETRY_WAIT_SECONDS
    sleep: Callable[[float], Awaitable[None]] = _sleep
    gate: ServiceGate = field(default_factory=ServiceGate)
    _vapid: dict[str, tuple[float, str]] = field(default_factory=dict, repr=False)
    _http: aiohttp.ClientSession | None = field(default=None, repr=False)
    _slots: asyncio.Semaphore | None = field(default=None, repr=False)
    waiting: int = 0  # sends paused by a push service's backpressure, holding no slot

    @classmethod
    def like(cls, sender: PushSender, in_flight: int = DEFAULT_IN_FLIGHT) -> "AsyncPushSender":
        """The same key, contact, policy, timeout and retry limits as a ``PushSender``."""
        sleep: Callable[[float], Awaitable[None]] = _sleep
        if sender.sleep is not time.sleep:  # a test's instant sleep

            async def sleep(seconds: float) -> None:
                sender.sleep(seconds)
                await asyncio.sleep(0)

        return cls(
            keys=sender.keys,
            contact=sender.contact,
            policy=sender.policy,
            in_flight=in_flight,
            timeout=sender.timeout,
            max_attempts=sender.max_attempts,
            max_retry_wait=sender.max_retry_wait,
            sleep=sleep,
        )

    async def __aenter__(self) -> "AsyncPushSender":
        connector = aiohttp.TCPConnector(
            limit=self.in_flight,
            resolver=None if self.policy.allow_insecure else GuardedResolver(),
        )
        self._http = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            trust_env=False,  # an HTTPS_PROXY would connect somewhere we did not check
        )
        self._slots = asyncio.Semaphore(self.in_flight)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def vapid_header(self, origin: str) -> str:
        """``vapid t=…,k=…`` for this push service, signed once per lifetime (system clock:
        push services check ``exp`` against theirs)."""
        now = time.time()
        cached = self._vapid.get(origin)
        if cached is not None and cached[0] - VAPID_RENEW_BEFORE_SECONDS > now:
            return cached[1]
        exp = int(now) + VAPID_LIFETIME_SECONDS  # Apple refuses more than 24 h
        claims = {"sub": self.contact, "aud": origin, "exp": exp}
        header = self.keys.vapid.sign(claims)["Authorization"]
        self._vapid[origin] = (exp, header)
        return header

    def _request(
        self, subscription: dict[str, Any], message: PushMessage, origin: str
    ) -> tuple[bytes, dict[str, str]]:
        # What pywebpush's WebPusher.encode does for aes128gcm, without its deep copy of the
        # subscription: a fresh ECDH key per message, RFC 8188 with the browser's secret.
        keys = subscription["keys"]
        body = http_ece.encrypt(
            message.payload().encode(),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            dh=_b64url(keys["p256dh"]),
            auth_secret=_b64url(keys["auth"]),
            version="aes128gcm",
        )
        headers = {
            **message.headers(),
            "TTL": str(message.ttl),
            "Content-Encoding": "aes128gcm",
            "Authorization": self.vapid_header(origin),
        }
        return body, headers

    def _refused(self, subscription: dict[str, Any], reason: str) -> SendResult:
        log.warning("push to subscription %s refused: %s", subscription.get("id"), reason)
        return SendResult(str(subscription.get("endpoint", "")), False, error="refused")

    async def send(
        self,
        subscription: dict[str, Any],
        message: PushMessage,
        still_ours: Callable[[], bool] | None = None,
    ) -> SendResult:
        """One push, retried as the push service asks. ``still_ours`` is asked right before
        each request: when it says no (the caller's lease on the reminder ran out, another
        process may be sending it), nothing more is sent and the result is ``ABANDONED``."""
        endpoint = str(subscription.get("endpoint", ""))
        reason = self.policy.refusal(subscription.get("endpoint"))
        if reason is not None:
            return self._refused(subscription, f"{urlsplit(endpoint).netloc[:100]}: {reason}")
        assert self._http is not None and self._slots is not None, "use `async with`"
        origin = origin_of(endpoint)
        try:
            body, headers = self._request(subscription, message, origin)
        except Exception as exc:  # a bad key: record it, keep the batch going
            log.warning("push to %s failed: %r", urlsplit(endpoint).netloc, exc)
            return SendResult(endpoint, False, None, error=repr(exc)[:200])
        attempt = 0
        while True:
            attempt += 1
            pause = self.gate.remaining(origin)
            if pause > self.max_retry_wait:  # longer than a send may wait: come back later
                return SendResult(
                    endpoint,
                    False,
                    429,
                    error="push service paused",
                    attempts=attempt - 1,
                    retry_in=pause,
                )
            if pause > 0:  # wait without a slot: other services' sends go on
                self.waiting += 1
                try:
                    await self.sleep(pause)
                finally:
                    self.waiting -= 1
            status, retry_after, error = None, None, None
            async with self._slots:
                if still_ours is not None and not still_ours():
                    return SendResult(endpoint, False, error=ABANDONED, attempts=attempt - 1)
                try:
                    async with self._http.post(
                        endpoint, data=body, headers=headers, allow_redirects=False
                    ) as response:
                        await response.read()
                        status, retry_after = response.status, response.headers.get("Retry-After")
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    refused = cause_of_type(exc, AddressRefused)
                    if refused is not None:
                        return self._refused(subscription, str(refused))
                    error = type(exc).__name__
            if status is not None and status <= 202:
                return SendResult(endpoint, True, status, attempts=attempt)
            if status in _GONE:
                return SendResult(
                    endpoint, False, status, gone=True, error="gone", attempts=attempt
                )
            retryable = status is None or status == 429 or status >= 500
            error = error or f"HTTP {status}"
            if not retryable or attempt >= self.max_attempts:
                return SendResult(endpoint, False, status, error=error, attempts=attempt)
            wait = retry_delay(retry_after, attempt)
            if wait > self.max_retry_wait:
                if status is not None:
                    self.gate.pause(origin, wait)
                return SendResult(
                    endpoint, False, status, error=error, attempts=attempt, retry_in=wait
                )
            if status is not None:
                self.gate.pause(origin, wait)  # the whole service, not just this send
            else:
                await self.sleep(wait)  # a connection error: this send backs off alone
