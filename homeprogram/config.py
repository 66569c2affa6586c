"""Configuration: defaults, then ``instance/config.py``, then ``HOMEPROGRAM_*`` variables.

A value the app cannot understand stops it with one line naming the setting: a misspelt
``HOMEPROGRAM_RATELIMIT_ENABLED=enabled`` used to read as "off" and switch a protection off
without a word.
"""

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from homeprogram.paths import private_folder

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
    "HSTS_ENABLED": None,  # default: on when PREFERRED_URL_SCHEME is https or behind a proxy
    "TRUSTED_PROXIES": 0,  # TLS proxies in front whose X-Forwarded-For/-Proto count
    "HSTS_MAX_AGE": 31536000,
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_HEADERS": ["X-CSRFToken"],
    "BABEL_DEFAULT_LOCALE": "en",
    # The languages people can choose (docs/translating.md adds one); English is the source.
    "LANGUAGES": ("en", "es"),
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
    "DEFAULT_TIMEZONE": "America/New_York",
    # Web Push: keys from here, or generated into the instance folder on first run.
    "VAPID_PRIVATE_KEY": None,
    "VAPID_PUBLIC_KEY": None,
    "VAPID_CONTACT": None,  # mailto: or https: contact the push services can reach
    "PUSH_ALLOWED_HOSTS": (),  # push-service host suffixes added to the browsers' own
    "PUSH_ALLOW_INSECURE_ENDPOINTS": False,  # tests only: http and any address; never in production
    "SMTP_HOST": None,  # email of therapist summaries is off unless set
    "SMTP_PORT": 587,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_FROM": None,
    # Reminder dispatch (issue 26): sends in flight per scheduler process, the seconds one
    # slot's reminders are spread over, and how long a claimed batch is a process's own.
    "PUSH_IN_FLIGHT": 200,
    "REMINDER_SPREAD_SECONDS": 50,
    "REMINDER_LEASE_SECONDS": 120,
    # Passkeys: the site's host name (RP ID) and origin; default: the request's own.
    "WEBAUTHN_RP_ID": None,
    "WEBAUTHN_ORIGIN": None,
    # Therapists' video clips: the folder they live in (default: <instance>/media; a shared
    # volume when several hosts serve), each organisation's quota, and who transcodes them:
    # "thread" (the web process that took the upload, at once) or "scheduler" (its job).
    "MEDIA_DIR": None,
    "MEDIA_QUOTA_MB": 20_000,
    "MEDIA_WORKER": "thread",
}

RATE_LIMIT = "rate limit"  # a Flask-Limiter string such as "10 per hour"
HOST_LIST = "host list"  # comma-separated host names such as "push.example.org"
LANGUAGE_LIST = "language list"  # comma-separated language codes such as "en,es"
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")

# Settings read from the environment (``HOMEPROGRAM_<NAME>``) with their kind.
ENV_SETTINGS: dict[str, type | str] = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "SESSION_COOKIE_SECURE": bool,
    "STAFF_IDLE_TIMEOUT_MINUTES": int,
    "FAMILY_IDLE_TIMEOUT_MINUTES": int,
    "INVITE_EXPIRY_DAYS": int,
    "RATELIMIT_STORAGE_URL": str,
    "RATELIMIT_ENABLED": bool,
    "LOGIN_LIMIT_PER_ACCOUNT": RATE_LIMIT,
    "LOGIN_LIMIT_PER_IP": RATE_LIMIT,
    "PASSWORD_RESET_LIMIT": RATE_LIMIT,
    "API_RATE_LIMIT": RATE_LIMIT,
    "PREFERRED_URL_SCHEME": str,
    "DEFAULT_TIMEZONE": str,
    "VAPID_PRIVATE_KEY": str,
    "VAPID_PUBLIC_KEY": str,
    "VAPID_CONTACT": str,
    "PUSH_ALLOWED_HOSTS": HOST_LIST,
    "SMTP_HOST": str,
    "SMTP_PORT": int,
    "SMTP_USER": str,
    "SMTP_PASSWORD": str,
    "SMTP_FROM": str,
    "PUSH_IN_FLIGHT": int,
    "REMINDER_SPREAD_SECONDS": int,
    "REMINDER_LEASE_SECONDS": int,
    "WEBAUTHN_RP_ID": str,
    "WEBAUTHN_ORIGIN": str,
    "HSTS_ENABLED": bool,
    "HSTS_MAX_AGE": int,
    "TRUSTED_PROXIES": int,
    "LANGUAGES": LANGUAGE_LIST,
    "MEDIA_DIR": str,
    "MEDIA_QUOTA_MB": int,
    "MEDIA_WORKER": str,
}
# The conventional name, read when neither HOMEPROGRAM_DATABASE_URL nor instance/config.py
# names a database (an app's own settings beat a variable other programs may share).
PLAIN_DATABASE_URL = "DATABASE_URL"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# Only psycopg 3 is installed; SQLAlchemy's default PostgreSQL driver is psycopg2.
_POSTGRES_WITHOUT_DRIVER = {"postgres", "postgresql"}


class ConfigError(click.ClickException):
    """A setting the app cannot run with.

    A ``ClickException`` so that ``homeprogram`` (and ``flask --app homeprogram``) print it
    as one line and exit 1 instead of a traceback; a WSGI server shows the message too.
    """


def _parse(kind: type | str, value: Any, source: str) -> Any:
    """``value`` as ``kind``; ``source`` says where it came from, for the error."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        word = value.strip().lower() if isinstance(value, str) else None
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ConfigError(
            f"{source} = {value!r} is not an on/off value: use true or false "
            "(1/0, yes/no and on/off work too)."
        )
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{source} = {value!r} is not a whole number.") from None
    if kind == HOST_LIST:
        items = value.split(",") if isinstance(value, str) else list(value)
        hosts = tuple(str(h).strip().strip(".").lower() for h in items if str(h).strip(" ."))
        for host in hosts:
            if not _HOST.fullmatch(host):
                raise ConfigError(f"{source} = {value!r}: {host!r} is not a host name.")
        return hosts
    if kind == LANGUAGE_LIST:
        items = value.split(",") if isinstance(value, str) else list(value)
        codes = tuple(str(code).strip() for code in items if str(code).strip())
        if "en" not in codes:
            raise ConfigError(f"{source} = {value!r} must include en (the source language).")
        return codes
    if kind == RATE_LIMIT:
        try:
            parse_many(str(value))
        except ValueError:
            raise ConfigError(
                f"{source} = {value!r} is not a rate limit such as '10 per hour'."
            ) from None
        return value
    return value


def _database_url(url: str) -> str:
    """Give a PostgreSQL URL without a driver (``postgres://``, as hosting services hand
    them out) the installed one."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # Not repeated in the message: it may carry a password.
        raise ConfigError(
            "The database URL (HOMEPROGRAM_DATABASE_URL) is not of the form "
            "dialect+driver://user@host/database."
        ) from None
    if parsed.drivername in _POSTGRES_WITHOUT_DRIVER:
        parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    return url


def load(instance_path: Path, overrides: dict[str, Any] | None) -> dict[str, Any]:
    config = dict(DEFAULTS)
    config_file = instance_path / "config.py"
    if config_file.is_file():
        namespace: dict[str, Any] = {}
        exec(compile(config_file.read_text(), str(config_file), "exec"), namespace)  # noqa: S102
        from_file = {k: v for k, v in namespace.items() if k.isupper()}
        for name, value in from_file.items():
            kind = ENV_SETTINGS.get(name)
            if kind is not None and not (name == "HSTS_ENABLED" and value is None):
                value = _parse(kind, value, f"{name} in {config_file}")
            config[name] = value
    for name, kind in ENV_SETTINGS.items():
        raw = os.environ.get(f"HOMEPROGRAM_{name}")
        if raw is not None:
            config[name] = _parse(kind, raw, f"HOMEPROGRAM_{name}")
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = os.environ.get(PLAIN_DATABASE_URL)
    if overrides:
        config.update(overrides)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'homeprogram.sqlite3'}"
    config["DATABASE_URL"] = _database_url(config["DATABASE_URL"])
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
    if config["TRUSTED_PROXIES"] < 0:
        raise ConfigError(
            f"HOMEPROGRAM_TRUSTED_PROXIES = {config['TRUSTED_PROXIES']} is below 0: give the "
            "number of proxies in front of the app (0 when there is none)."
        )
    if config["HSTS_ENABLED"] is None:
        # Sent only on requests that came over https (see security.py), so a proxy that
        # says which ones did is enough to switch it on.
        config["HSTS_ENABLED"] = (
            config["PREFERRED_URL_SCHEME"] == "https" or config["TRUSTED_PROXIES"] > 0
        )
    return config


def _instance_secret_key(instance_path: Path) -> str:
    """Read the instance secret key, creating it (mode 600) on first run."""
    key_file = instance_path / "secret_key"
    if key_file.is_file():
        return key_file.read_text().strip()
    private_folder(instance_path)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
