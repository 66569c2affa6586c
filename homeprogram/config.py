"""Configuration: defaults, then ``instance/config.py``, then ``HOMEPROGRAM_*`` variables."""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # default: SQLite file in the instance folder
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "hp_session",
    "PREFERRED_URL_SCHEME": "http",
    "STAFF_IDLE_TIMEOUT_MINUTES": 30,
    "FAMILY_IDLE_TIMEOUT_MINUTES": 60 * 24 * 14,
    "INVITE_EXPIRY_DAYS": 7,
    "RATELIMIT_STORAGE_URL": "memory://",
    "RATELIMIT_ENABLED": True,
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",
    "LOGIN_LIMIT_PER_IP": "30 per 15 minutes",
    "API_RATE_LIMIT": "600 per minute",
    "PASSWORD_RESET_LIMIT": "10 per hour",
    "HSTS_ENABLED": None,  # default: on when PREFERRED_URL_SCHEME is https
    "HSTS_MAX_AGE": 31536000,
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_HEADERS": ["X-CSRFToken"],
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
    "DEFAULT_TIMEZONE": "America/New_York",
    # Web Push: keys from here, or generated into the instance folder on first run.
    "VAPID_PRIVATE_KEY": None,
    "VAPID_PUBLIC_KEY": None,
    "VAPID_CONTACT": None,  # mailto: or https: contact the push services can reach
    "SMTP_HOST": None,  # email of therapist summaries is off unless set
    "SMTP_PORT": 587,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_FROM": None,
}

# Settings read from the environment with their type.
_ENV_TYPES: dict[str, type] = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "SESSION_COOKIE_SECURE": bool,
    "STAFF_IDLE_TIMEOUT_MINUTES": int,
    "FAMILY_IDLE_TIMEOUT_MINUTES": int,
    "INVITE_EXPIRY_DAYS": int,
    "RATELIMIT_STORAGE_URL": str,
    "RATELIMIT_ENABLED": bool,
    "PREFERRED_URL_SCHEME": str,
    "DEFAULT_TIMEZONE": str,
    "VAPID_PRIVATE_KEY": str,
    "VAPID_PUBLIC_KEY": str,
    "VAPID_CONTACT": str,
    "SMTP_HOST": str,
    "SMTP_PORT": int,
    "SMTP_USER": str,
    "SMTP_PASSWORD": str,
    "SMTP_FROM": str,
    "API_RATE_LIMIT": str,
    "HSTS_ENABLED": bool,
}


def _parse(kind: type, raw: str) -> Any:
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return kind(raw)


def load(instance_path: Path, overrides: dict[str, Any] | None) -> dict[str, Any]:
    config = dict(DEFAULTS)
    config_file = instance_path / "config.py"
    if config_file.is_file():
        namespace: dict[str, Any] = {}
        exec(compile(config_file.read_text(), str(config_file), "exec"), namespace)  # noqa: S102
        config.update({k: v for k, v in namespace.items() if k.isupper()})
    for name, kind in _ENV_TYPES.items():
        raw = os.environ.get(f"HOMEPROGRAM_{name}")
        if raw is not None:
            config[name] = _parse(kind, raw)
    if overrides:
        config.update(overrides)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'homeprogram.sqlite3'}"
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret_key(instance_path)
    config["RATELIMIT_STORAGE_URI"] = config["RATELIMIT_STORAGE_URL"]
    config["INVITE_VALID_FOR"] = timedelta(days=config["INVITE_EXPIRY_DAYS"])
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        minutes=max(config["STAFF_IDLE_TIMEOUT_MINUTES"], config["FAMILY_IDLE_TIMEOUT_MINUTES"])
    )
    config["SESSION_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"] or (
        config["PREFERRED_URL_SCHEME"] == "https"
    )
    if config["HSTS_ENABLED"] is None:
        config["HSTS_ENABLED"] = config["PREFERRED_URL_SCHEME"] == "https"
    return config


def _instance_secret_key(instance_path: Path) -> str:
    """Read the instance secret key, creating it (mode 600) on first run."""
    key_file = instance_path / "secret_key"
    if key_file.is_file():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
