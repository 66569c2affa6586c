"""VAPID keys and contact: where they come from, and the checks before anything is sent.

The key pair is read from configuration (``HOMEPROGRAM_VAPID_PRIVATE_KEY``) or from
``instance/vapid_private.pem``, which is created (mode 600) on first use. Browsers get the
public key as the applicationServerKey: the unpadded base64url of the 65-byte point.
"""

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from py_vapid.utils import b64urlencode

KEY_FILE = "vapid_private.pem"

# Domains that cannot receive mail or serve a page for a push service to reach us at;
# Apple's push service rejects them, the others are placeholders left in a config.
_PLACEHOLDER_DOMAINS = {"example.com", "example.org", "example.net", "localhost", "localdomain"}
_PLACEHOLDER_TLDS = {"example", "test", "invalid", "localhost", "local", "internal"}


class PushConfigError(Exception):
    """Push is not configured well enough to send; nothing is sent."""


@dataclass(frozen=True)
class VapidKeys:
    vapid: Vapid
    public_key: str  # applicationServerKey form

    @classmethod
    def from_vapid(cls, vapid: Vapid) -> "VapidKeys":
        return cls(vapid=vapid, public_key=application_server_key(vapid))


def application_server_key(vapid: Vapid) -> str:
    point = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64urlencode(point)


def _write_private_key(path: Path, vapid: Vapid, *, replace: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not replace:
        # O_EXCL: when two processes start at once, the second one reads the first's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(vapid.private_pem())
        return
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(vapid.private_pem())
    os.replace(tmp, path)


def keys_from_config(config: dict[str, Any]) -> bool:
    return bool(config.get("VAPID_PRIVATE_KEY"))


def load_keys(instance_path: Path, config: dict[str, Any]) -> VapidKeys:
    """The key pair in use, generating the instance key file on first run."""
    configured = config.get("VAPID_PRIVATE_KEY")
    if configured:
        text = str(configured).strip()
        try:
            vapid = (
                Vapid.from_pem(text.encode()) if "-----BEGIN" in text else Vapid.from_string(text)
            )
        except Exception as exc:
            raise PushConfigError(f"VAPID_PRIVATE_KEY cannot be read: {exc}") from exc
        keys = VapidKeys.from_vapid(vapid)
        public = config.get("VAPID_PUBLIC_KEY")
        if public and public.strip().rstrip("=") != keys.public_key:
            raise PushConfigError("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY")
        return keys
    path = instance_path / KEY_FILE
    if not path.is_file():
        vapid = Vapid()
        vapid.generate_keys()
        try:
            _write_private_key(path, vapid, replace=False)
        except FileExistsError:
            pass
        else:
            return VapidKeys.from_vapid(vapid)
    return VapidKeys.from_vapid(Vapid.from_file(str(path)))


def rotate_keys(instance_path: Path, config: dict[str, Any]) -> VapidKeys:
    """Replace the instance key pair. Subscriptions made with the old key stop working."""
    if keys_from_config(config):
        raise PushConfigError(
            "The VAPID keys come from configuration (VAPID_PRIVATE_KEY): change them there."
        )
    vapid = Vapid()
    vapid.generate_keys()
    _write_private_key(instance_path / KEY_FILE, vapid, replace=True)
    return VapidKeys.from_vapid(vapid)


def _placeholder_host(host: str) -> bool:
    host = host.strip().strip("[]").lower().rstrip(".")
    if not host or ("." not in host and not _is_ip(host)):
        return True
    if _is_ip(host):
        address = ipaddress.ip_address(host)
        return address.is_loopback or address.is_private or address.is_unspecified
    if host in _PLACEHOLDER_DOMAINS or any(host.endswith("." + d) for d in _PLACEHOLDER_DOMAINS):
        return True
    return host.rsplit(".", 1)[-1] in _PLACEHOLDER_TLDS


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_contact(contact: str | None) -> str:
    """The VAPID ``sub`` claim, or ``PushConfigError`` saying what is wrong with it."""
    if not contact or not contact.strip():
        raise PushConfigError(
            "HOMEPROGRAM_VAPID_CONTACT is not set: give a mailto: address or https: page "
            "where push services can reach the operator of this server."
        )
    contact = contact.strip()
    mail = re.fullmatch(r"mailto:[^@\s]+@([^@\s]+)", contact, re.IGNORECASE)
    web = re.fullmatch(r"https://([^/:\s]+)(:\d+)?(/\S*)?", contact, re.IGNORECASE)
    match = mail or web
    if match is None:
        raise PushConfigError(
            f"HOMEPROGRAM_VAPID_CONTACT must be a mailto: address or an https: URL, "
            f"not {contact!r}."
        )
    if _placeholder_host(match.group(1)):
        raise PushConfigError(
            f"HOMEPROGRAM_VAPID_CONTACT uses a placeholder or local domain ({contact!r}); "
            "push services such as Apple's reject it. Use a real contact."
        )
    return contact
