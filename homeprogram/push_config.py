"""The app's VAPID keys and push sender, loaded once per process from config or instance/."""

import logging
from pathlib import Path

from flask import Flask

from homeprogram.services import push
from homeprogram.services.vapid import PushConfigError, VapidKeys, load_keys

log = logging.getLogger(__name__)
_KEYS = "homeprogram_vapid_keys"
_INSECURE = "homeprogram_push_insecure_warned"


def keys(app: Flask) -> VapidKeys:
    found = app.extensions.get(_KEYS)
    if found is None:
        found = app.extensions[_KEYS] = load_keys(Path(app.instance_path), app.config)
    return found


def sender(app: Flask) -> push.PushSender:
    """A sender, or ``PushConfigError`` (logged) when push may not send from this server."""
    if app.config.get("PUSH_ALLOW_INSECURE_ENDPOINTS") and not app.extensions.get(_INSECURE):
        app.extensions[_INSECURE] = True
        log.warning(
            "PUSH_ALLOW_INSECURE_ENDPOINTS is on: push messages may go to any http address. "
            "It is for tests only, never for production."
        )
    try:
        return push.sender_from_config(keys(app), app.config)
    except PushConfigError as exc:
        # Once per process and message: the scheduler asks every minute.
        warned = app.extensions.setdefault("homeprogram_push_warned", set())
        if str(exc) not in warned:
            warned.add(str(exc))
            log.error("Push notifications are not sent: %s", exc)
        raise


def forget_keys(app: Flask) -> None:
    app.extensions.pop(_KEYS, None)
