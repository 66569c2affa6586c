"""Web Push: subscriptions, and sending encrypted messages through pywebpush.

What the stack gets wrong by default and is handled here (see PITFALLS.md): pywebpush
writes ``aud`` and ``exp`` into the claims dict it is given, so every send gets a fresh
one; TTL defaults to 0 and the timeout to none, so both are always set; ``Urgency`` and
``Topic`` have no keyword and go in the headers. A 404 or 410 means the subscription is
gone; 429 and 5xx are retried (bounded) honouring ``Retry-After``. Payloads never carry
health details: a title, a short line and the URL to open. Endpoints are checked by
``push_guard`` when stored and when sent (push services only, public addresses only, no
redirects); a refused send is logged with the subscription id and not retried.
"""

import base64
import binascii
import email.utils
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from flask_babel import gettext
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from homeprogram.models import PushSubscription
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.services.push_guard import EndpointPolicy, guarded_session, refused_address
from homeprogram.services.vapid import VapidKeys, check_contact

log = logging.getLogger(__name__)

REMINDER_TTL_SECONDS = 4 * 3600  # a reminder is useless after a few hours
REQUEST_TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 3
MAX_RETRY_WAIT_SECONDS = 30  # a longer Retry-After gives up on this send
DEFAULT_WORKERS = 16
_TOPIC_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_GONE = {404, 410}


@dataclass(frozen=True)
class PushMessage:
    """What a notification shows. Keep it free of health details."""

    title: str
    body: str
    url: str
    ttl: int = REMINDER_TTL_SECONDS
    urgency: str = "normal"  # very-low | low | normal | high
    topic: str | None = None
    tag: str | None = None

    def __post_init__(self) -> None:
        if self.topic is not None and (
            len(self.topic) > 32 or not set(self.topic) <= _TOPIC_ALPHABET
        ):
            raise ValueError(f"Topic must be at most 32 base64url characters: {self.topic!r}")

    def payload(self) -> str:
        data = {"title": self.title, "body": self.body, "url": self.url}
        if self.tag:
            data["tag"] = self.tag
        return json.dumps(data, separators=(",", ":"))

    def headers(self) -> dict[str, str]:
        headers = {"Urgency": self.urgency}
        if self.topic:
            headers["Topic"] = self.topic
        return headers


@dataclass
class SendResult:
    endpoint: str
    ok: bool
    status: int | None = None
    gone: bool = False
    error: str | None = None
    attempts: int = 1
    retry_in: float | None = None  # the push service asked to come back this much later


@dataclass(frozen=True)
class PushJob:
    """One message to one subscription; ``key`` lets the caller match the result."""

    subscription: dict[str, Any]
    message: PushMessage
    key: Any = None


def retry_delay(retry_after: str | None, attempt: int, now: float | None = None) -> float:
    """Seconds to wait before the next attempt: Retry-After (seconds or HTTP date) or backoff."""
    if retry_after:
        value = retry_after.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            current = now if now is not None else time.time()
            return max(0.0, when.timestamp() - current)
    return 0.5 * 2 ** (attempt - 1)


@dataclass
class PushSender:
    """Sends push messages signed with our VAPID key; safe to use from many threads."""

    keys: VapidKeys
    contact: str
    timeout: float = REQUEST_TIMEOUT_SECONDS
    max_attempts: int = MAX_ATTEMPTS
    max_retry_wait: float = MAX_RETRY_WAIT_SECONDS
    workers: int = DEFAULT_WORKERS
    sleep: Callable[[float], None] = time.sleep
    policy: EndpointPolicy = field(default_factory=EndpointPolicy)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def __post_init__(self) -> None:
        self.contact = check_contact(self.contact)

    def _http(self) -> requests.Session:
        # One connection pool per thread: requests.Session is not documented thread-safe.
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = guarded_session(self.policy)
        return http

    def _claims(self) -> dict[str, str | int]:
        # Fresh per send: webpush() writes aud/exp into it, and a reused dict carries one
        # push service's audience to the next (403). exp stays under Apple's 24 h limit.
        return {"sub": self.contact, "exp": int(time.time()) + 12 * 3600}

    def _refused(self, subscription: dict[str, Any], reason: str) -> SendResult:
        # Not retried, and the reason stays in the log: the page says only "did not accept".
        log.warning("push to subscription %s refused: %s", subscription.get("id"), reason)
        return SendResult(str(subscription.get("endpoint", "")), False, error="refused")

    def send(self, subscription: dict[str, Any], message: PushMessage) -> SendResult:
        endpoint = str(subscription.get("endpoint", ""))
        reason = self.policy.refusal(subscription.get("endpoint"))
        if reason is not None:
            return self._refused(subscription, f"{urlsplit(endpoint).netloc[:100]}: {reason}")
        attempt = 0
        while True:
            attempt += 1
            try:
                webpush(
                    subscription_info=subscription,
                    data=message.payload(),
                    vapid_private_key=self.keys.vapid,
                    vapid_claims=self._claims(),
                    ttl=message.ttl,
                    headers=message.headers(),
                    timeout=self.timeout,
                    requests_session=self._http(),
                )
                return SendResult(endpoint, ok=True, status=201, attempts=attempt)
            except WebPushException as exc:
                status = exc.status_code
                if status in _GONE:
                    return SendResult(
                        endpoint, False, status, gone=True, error="gone", attempts=attempt
                    )
                retryable = status is not None and (status == 429 or status >= 500)
                error = f"HTTP {status}" if status else (exc.message or "push failed")[:200]
                wait = retry_delay(exc.retry_after, attempt) if retryable else None
            except requests.RequestException as exc:
                refused = refused_address(exc)
                if refused is not None:
                    return self._refused(subscription, str(refused))
                status, error = None, f"{type(exc).__name__}"
                wait = retry_delay(None, attempt)
            except Exception as exc:  # a bad key or payload: record it, keep the batch going
                log.warning("push to %s failed: %r", urlsplit(endpoint).netloc, exc)
                return SendResult(endpoint, False, None, error=repr(exc)[:200], attempts=attempt)
            if wait is None or attempt >= self.max_attempts or wait > self.max_retry_wait:
                return SendResult(endpoint, False, status, error=error, attempts=attempt)
            self.sleep(wait)

    def send_many(self, jobs: Sequence[PushJob]) -> list[tuple[PushJob, SendResult]]:
        """Send concurrently (bounded thread pool); results in the order of ``jobs``."""
        if not jobs:
            return []
        if len(jobs) == 1 or self.workers <= 1:
            return [(job, self.send(job.subscription, job.message)) for job in jobs]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(jobs))) as pool:
            results = list(pool.map(lambda job: self.send(job.subscription, job.message), jobs))
        return list(zip(jobs, results, strict=True))


def sender_from_config(keys: VapidKeys, config: dict[str, Any]) -> PushSender:
    """A sender, or ``PushConfigError`` when the contact is missing or a placeholder."""
    return PushSender(
        keys=keys,
        contact=config.get("VAPID_CONTACT") or "",
        workers=int(config.get("PUSH_WORKERS", DEFAULT_WORKERS)),
        policy=EndpointPolicy.from_config(config),
    )


# --- subscriptions --------------------------------------------------------------------------


def _b64url_bytes(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def validate_subscription(
    data: Any, *, allow_insecure: bool = False, policy: EndpointPolicy | None = None
) -> tuple[str, str, str]:
    """Endpoint and keys of a ``PushSubscription.toJSON()``, checked; ValidationFailed if bad.

    ``policy`` says which endpoints are accepted (default: the browsers' push services,
    https, no addresses; ``allow_insecure`` is the tests' local http push service).
    """
    policy = policy or EndpointPolicy(allow_insecure=allow_insecure)
    if not isinstance(data, dict):
        raise ValidationFailed({"subscription": gettext("The subscription is missing.")})
    endpoint = data.get("endpoint")
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    errors: dict[str, str] = {}
    if policy.refusal(endpoint) is not None:
        errors["endpoint"] = gettext(
            "The push endpoint must be an https URL of a browser's push service."
        )
    point = _b64url_bytes(p256dh) if isinstance(p256dh, str) else None
    if point is None or len(point) != 65 or point[0] != 4:
        errors["p256dh"] = gettext("The subscription's public key is not a P-256 point.")
    secret = _b64url_bytes(auth) if isinstance(auth, str) else None
    if secret is None or len(secret) != 16:
        errors["auth"] = gettext("The subscription's auth secret must be 16 bytes.")
    if errors:
        raise ValidationFailed(errors)
    return endpoint, p256dh.rstrip("="), auth.rstrip("=")


def save_subscription(
    session: Session,
    user_id: int,
    data: Any,
    device_name: str,
    *,
    allow_insecure: bool = False,
    policy: EndpointPolicy | None = None,
) -> PushSubscription:
    """Store (or take over) a subscription for the user; the endpoint identifies the device."""
    endpoint, p256dh, auth = validate_subscription(
        data, allow_insecure=allow_insecure, policy=policy
    )
    name = " ".join((device_name or "").split())[:80] or gettext("This device")
    sub = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if sub is None:
        sub = PushSubscription(endpoint=endpoint, user_id=user_id)
        session.add(sub)
    # Same endpoint again (a re-subscribe, or someone else logged in on that browser):
    # the device belongs to whoever subscribed last.
    sub.user_id = user_id
    sub.p256dh, sub.auth, sub.device_name = p256dh, auth, name
    sub.last_error = None
    session.flush()
    return sub


def renew_subscription(
    session: Session,
    old_endpoint: str,
    data: Any,
    *,
    allow_insecure: bool = False,
    policy: EndpointPolicy | None = None,
) -> PushSubscription:
    """Replace a subscription the browser rotated (``pushsubscriptionchange``).

    Knowing the old endpoint (an unguessable capability URL) is the proof; the new
    subscription keeps the old one's user and device name.
    """
    old = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == old_endpoint))
    if old is None:
        raise NotFound()
    user_id, name = old.user_id, old.device_name
    endpoint, _, _ = validate_subscription(data, allow_insecure=allow_insecure, policy=policy)
    if endpoint != old_endpoint:
        session.delete(old)
        session.flush()
    return save_subscription(
        session, user_id, data, name, allow_insecure=allow_insecure, policy=policy
    )


def devices(session: Session, user_id: int) -> list[PushSubscription]:
    return list(
        session.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == user_id)
            .order_by(PushSubscription.created_at, PushSubscription.id)
        )
    )


def remove_device(session: Session, user_id: int, subscription_id: int) -> PushSubscription:
    sub = session.get(PushSubscription, subscription_id)
    if sub is None or sub.user_id != user_id:
        raise NotFound()
    session.delete(sub)
    session.flush()
    return sub


def subscriptions_by_user(
    session: Session, user_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    ids = sorted(set(user_ids))
    found: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(
                PushSubscription.id,
                PushSubscription.user_id,
                PushSubscription.endpoint,
                PushSubscription.p256dh,
                PushSubscription.auth,
            ).where(PushSubscription.user_id.in_(ids[start : start + 500]))
        )
        for sub_id, user_id, endpoint, p256dh, auth in rows:
            found.setdefault(user_id, []).append(
                {"id": sub_id, "endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}
            )
    return found


def record_results(session: Session, results: Iterable[SendResult], now: datetime) -> None:
    """Forget gone subscriptions, note successes and failures on the others."""
    gone, ok, failed = [], [], []
    for result in results:
        if result.gone:
            gone.append(result.endpoint)
        elif result.ok:
            ok.append(result.endpoint)
        else:
            failed.append(result)
    for start in range(0, len(gone), 500):
        session.execute(
            delete(PushSubscription).where(PushSubscription.endpoint.in_(gone[start : start + 500]))
        )
    for start in range(0, len(ok), 500):
        session.execute(
            update(PushSubscription)
            .where(PushSubscription.endpoint.in_(ok[start : start + 500]))
            .values(last_success_at=now, last_error=None)
        )
    for result in failed:
        session.execute(
            update(PushSubscription)
            .where(PushSubscription.endpoint == result.endpoint)
            .values(last_failure_at=now, last_error=(result.error or "failed")[:255])
        )
