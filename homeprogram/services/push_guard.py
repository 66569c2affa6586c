"""Where push messages may go: https endpoints of the push services, on public addresses.

A subscription's endpoint is a URL the browser hands us, so a signed-in user chooses where
the server connects (server-side request forgery). Two checks: ``EndpointPolicy.refusal``
on the URL (when a subscription is stored and before each send), and ``guarded_session``,
whose connections resolve the name themselves, refuse it when any address is not public
and connect only to the checked address (a name can resolve differently later).
Redirects are never followed. ``allow_insecure`` (tests only) turns both checks off.
"""

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection as urllib3_connection

# The browsers' push services: Chrome/Android (FCM), Firefox (autopush), Safari, Edge (WNS).
DEFAULT_PUSH_HOSTS: tuple[str, ...] = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
)
MAX_ENDPOINT_LENGTH = 1024
# NAT64 prefixes carry an IPv4 address in their last 32 bits (RFC 6052, RFC 8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# Not global, though some Python 3.11 releases call them so: carrier-grade NAT and the
# IETF protocol assignments.
_NOT_GLOBAL_V4 = (ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("192.0.0.0/24"))


def is_public_address(value: str) -> bool:
    """True only for a global unicast address; IPv4 hidden in IPv6 is judged as IPv4."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            value.split("%", 1)[0]
        )
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(str(ip.ipv4_mapped))
        if any(ip in net for net in _NAT64):
            return False  # a translator reaches an IPv4 address we did not check: refuse
        if ip.sixtofour is not None or ip.teredo is not None:
            return False  # tunnels to an IPv4 address: no push service uses them
    if isinstance(ip, ipaddress.IPv4Address) and any(ip in net for net in _NOT_GLOBAL_V4):
        return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )


def normalise_hosts(hosts: Iterable[str] | str | None) -> tuple[str, ...]:
    if hosts is None:
        return ()
    if isinstance(hosts, str):
        hosts = hosts.split(",")
    return tuple(h.strip().strip(".").lower() for h in hosts if h and h.strip().strip("."))


def _literal_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class EndpointPolicy:
    """The push services a subscription may point at (host suffixes), and the test switch."""

    allowed_hosts: tuple[str, ...] = DEFAULT_PUSH_HOSTS
    allow_insecure: bool = False  # tests only: any http(s) URL, any address

    @classmethod
    def from_config(cls, config: Any) -> "EndpointPolicy":
        """The defaults plus ``PUSH_ALLOWED_HOSTS``; ``PUSH_ALLOW_INSECURE_ENDPOINTS``."""
        extra = normalise_hosts(config.get("PUSH_ALLOWED_HOSTS"))
        return cls(
            allowed_hosts=DEFAULT_PUSH_HOSTS
            + tuple(h for h in extra if h not in DEFAULT_PUSH_HOSTS),
            allow_insecure=bool(config.get("PUSH_ALLOW_INSECURE_ENDPOINTS", False)),
        )

    def host_allowed(self, host: str) -> bool:
        host = host.strip(".").lower()
        return any(host == s or host.endswith("." + s) for s in self.allowed_hosts)

    def refusal(self, endpoint: Any) -> str | None:
        """Why this endpoint may not be stored or sent to (for logs), or None."""
        if not isinstance(endpoint, str) or len(endpoint) > MAX_ENDPOINT_LENGTH:
            return "not a URL"
        try:
            parts = urlsplit(endpoint)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            return "not a URL"
        schemes = {"https", "http"} if self.allow_insecure else {"https"}
        if parts.scheme not in schemes or not parts.hostname:
            return "not an https URL"
        if self.allow_insecure:
            return None
        if parts.username is not None or parts.password is not None:
            return "credentials in the URL"
        host = parts.hostname
        if _literal_ip(host):
            return "an address, not a push service name" + (
                "" if is_public_address(host) else " (not public)"
            )
        if not self.host_allowed(host):
            return "not a known push service"
        return None


# --- the connection check ---------------------------------------------------------------------


class RefusedAddress(NewConnectionError):
    """The endpoint's name resolved to an address that is not public: nothing was sent."""


def _connect_public(conn: HTTPConnection) -> socket.socket:
    host, port = conn.host, conn.port
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise NewConnectionError(conn, f"Failed to resolve {host}: {exc}") from exc
    addresses = [info[4][0] for info in infos]
    refused = [a for a in addresses if not is_public_address(a)]
    if refused or not addresses:  # one private answer is enough: the name is not trusted
        found = refused[0] if refused else "(none)"
        raise RefusedAddress(conn, f"{host} resolves to a non-public address {found}")
    last: OSError | None = None
    for address in dict.fromkeys(addresses):
        try:
            sock = urllib3_connection.create_connection(
                (address, port),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except OSError as exc:
            last = exc
            continue
        peer = sock.getpeername()[0]
        if not is_public_address(peer):  # belt and braces: the address actually connected to
            sock.close()
            raise RefusedAddress(conn, f"{host} connected to a non-public address {peer}")
        return sock
    raise NewConnectionError(conn, f"Failed to establish a new connection: {last}")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_public(self)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_public(self)  # TLS still checks the certificate against the name


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


class _NoRedirects(requests.Session):
    def get_redirect_target(self, resp: requests.Response) -> None:
        return None  # a 3xx is the push service's answer, not a new place to post to


def guarded_session(policy: EndpointPolicy) -> requests.Session:
    """A session that never follows redirects nor uses proxies from the environment and,
    unless the policy is the test one, connects only to public addresses."""
    session = _NoRedirects()
    session.trust_env = False  # an HTTPS_PROXY would connect somewhere we did not check
    if not policy.allow_insecure:
        adapter = _GuardedAdapter()
        session.mount("https://", adapter)
        session.mount("http://", adapter)
    return session


_E = TypeVar("_E", bound=BaseException)


def cause_of_type(exc: BaseException, kind: type[_E]) -> _E | None:
    """The ``kind`` exception behind an HTTP client's error (requests or aiohttp wrap the
    connection's error in theirs), if that is what it was."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, kind):
            return item
        if isinstance(item, BaseException):
            stack.extend([item.__cause__, item.__context__])
            stack.extend(getattr(item, name, None) for name in ("reason", "os_error"))
            stack.extend(a for a in item.args if isinstance(a, BaseException))
    return None


def refused_address(exc: BaseException) -> RefusedAddress | None:
    """The ``RefusedAddress`` behind a requests error, if that is what it was."""
    return cause_of_type(exc, RefusedAddress)
