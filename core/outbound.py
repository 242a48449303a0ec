"""May the platform connect out to this address?

Everything Shipway fetches or calls on a user's behalf (git sources, commit statuses on
a forge; outgoing webhooks later) asks `check_url` first and then connects only to the
addresses it returned, so a name cannot resolve one way for the check and another for
the connection (DNS rebinding); `request` does both for one HTTP request. Refused:
loopback, private, link-local, multicast, reserved, unspecified and shared (CGNAT)
addresses, the same wrapped in IPv6 forms (IPv4-mapped, 6to4, NAT64), and the
platform's own names and addresses, unless the address is in a network of
`SHIPWAY_OUTBOUND_ALLOW`.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import itertools
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = {"http": 80, "https": 443}
# Names as curl and Python's URL parser both read them: ASCII letters, digits, `-` and
# `_` in dot-separated labels. Anything else (percent-escapes, backslashes, a trailing
# dot, Unicode) could be read as another host by git's URL parser than by ours.
_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known NAT64 prefix (RFC 6052)
_OWN = "own"


class OutboundRefused(ValueError):
    """The platform may not connect there; the message says why, in words."""


class OutboundFailed(OSError):
    """No HTTP answer came: no connection, no trusted TLS, a time-out, or not HTTP. The
    message says which in a few words (for the server's log)."""


@dataclass(frozen=True)
class ResolvedTarget:
    """Where a checked URL may be connected to: its host, port and checked addresses."""

    scheme: str
    host: str  # lower case, as in the URL (no brackets around IPv6)
    port: int
    addresses: tuple[IPAddress, ...]

    @property
    def is_literal(self) -> bool:
        """The URL names an IP address, so nothing resolves it."""
        return _literal(self.host) is not None


def check_url(
    url: str, *, subject: str = "The address", verb: str = "connect to"
) -> ResolvedTarget:
    """Resolve the URL's host and return its addresses if every one may be reached.

    Raises OutboundRefused otherwise, with a sentence built from `subject` ("The
    repository") and `verb` ("fetch from"). Nothing is connected to.
    """
    parts = urlsplit(url)
    host, port = _host_and_port(url, subject)
    where = f"{subject}'s host {host}"
    try:
        addresses = tuple(dict.fromkeys(resolve(host, port)))
    except (OSError, UnicodeError):
        addresses = ()
    if not addresses:
        raise OutboundRefused(f"{where} could not be resolved.")
    own = functools.cache(_own_addresses)  # looked up once, and only for public addresses
    own_name = host in _own_names()
    for address in addresses:
        kind = refusal(address, own=own, own_name=own_name)
        if kind is not None:
            raise OutboundRefused(_refused(where, address, kind, verb, _literal(host) is not None))
    numeric = _numeric(host)
    if numeric is not None and _literal(host) is None:
        # 2130706433 or 0x7f.1: curl and the resolver agree on these today, but an
        # address written only one way leaves nothing to disagree about.
        raise OutboundRefused(f"{where} is an IP address; write it as {numeric}.")
    return ResolvedTarget(parts.scheme, host, port, addresses)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (tests replace this to answer without DNS)."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(a[4][0]).split("%", 1)[0]) for a in answers]


def refusal(
    address: IPAddress,
    *,
    own: Callable[[], frozenset[IPAddress]] | None = None,
    own_name: bool = False,
) -> str | None:
    """Why the platform may not connect to `address` (a short kind), or None if it may.

    SHIPWAY_OUTBOUND_ALLOW wins over everything else: the operator named the network,
    the platform's own addresses in it included. `own` gives the platform's own
    addresses (default: look them up); `own_name`: the address came from one of the
    platform's own host names.
    """
    unwrapped = _unwrap(address)
    if any(address in net or unwrapped in net for net in allowed_networks()):
        return None
    kind = _kind(unwrapped)  # the more telling word when both apply: "loopback"
    if kind is not None:
        return kind
    mine = (own or _own_addresses)()
    if own_name or address in mine or unwrapped in mine:
        return _OWN
    return None


def _host_and_port(url: str, subject: str) -> tuple[str, int]:
    """The URL's host (lower case) and port, if both parsers would read the same ones."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if "\\" in parts.netloc or parts.netloc.count("@") > 1:
        raise OutboundRefused(f"{subject} has a host part that can be read more than one way.")
    if not host or not (_literal(host) or _NAME.match(host)):
        raise OutboundRefused(
            f"{subject} must name its host in ASCII letters, digits, '-' and dots, "
            "or as an IP address."
        )
    try:
        return host, parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        raise OutboundRefused(f"{subject} has an invalid port.") from None


# -- One HTTP request to a checked address -------------------------------------------


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: its status and the start of its body."""

    status: int
    body: bytes


def request(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    timeout: float,
    max_body: int = 64 * 1024,
    subject: str = "The address",
    verb: str = "connect to",
) -> Answer:
    """Send one http(s) request to `url`, connected only to the addresses `check_url`
    returned for it, and return the answer, whatever its status.

    The Host header and TLS (SNI, the certificate's name, checked against the system's
    trusted authorities) keep the URL's host. A redirect is an answer like any other,
    never followed; no proxy is used. The whole exchange, connecting included, ends
    within `timeout` seconds, and at most `max_body` bytes of the body are read. Raises
    OutboundRefused (not http(s), or the check refused it; nothing was connected to) or
    OutboundFailed (no answer). `subject` and `verb` word the refusal as in check_url.
    """
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise OutboundRefused(f"{subject} must be an http:// or https:// address.")
    target = check_url(url, subject=subject, verb=verb)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = (_PinnedHTTPS if target.scheme == "https" else _PinnedHTTP)(target, timeout)
    # Each socket operation has `timeout`; this caps their sum (an answer that trickles in
    # a byte at a time would pass every one).
    deadline = threading.Timer(timeout, connection.abort)
    deadline.daemon = True
    deadline.start()
    try:
        connection.request(
            method, path, body=body, headers={"User-Agent": "Shipway", **(headers or {})}
        )
        answer = connection.getresponse()
        received = answer.read(max_body)
    except (OSError, http.client.HTTPException) as exc:
        said = "timed out" if connection.aborted else _failure(exc)
        raise OutboundFailed(said) from None
    finally:
        deadline.cancel()
        connection.close()
    if connection.aborted:  # cut short, which can read like an answer that ended there
        raise OutboundFailed("timed out")
    return Answer(answer.status, received)


class _PinnedHTTP(http.client.HTTPConnection):
    """http.client's connection to a checked target: to its checked addresses, in turn,
    instead of resolving its host again."""

    def __init__(self, target: ResolvedTarget, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses = target.addresses
        self._deadline = time.monotonic() + timeout
        self._raw: socket.socket | None = None
        self.aborted = False

    def connect(self) -> None:
        self.sock = self._raw = _connect(self._addresses, self.port, self._deadline)
        if self.aborted:  # the deadline passed while connecting
            raise TimeoutError

    def abort(self) -> None:
        """Give up from another thread: a blocked read or write returns at once."""
        self.aborted = True
        if self._raw is not None:
            with contextlib.suppress(OSError):
                self._raw.shutdown(socket.SHUT_RDWR)


class _PinnedHTTPS(_PinnedHTTP):
    default_port = 443

    def connect(self) -> None:
        super().connect()
        tls = ssl.create_default_context()
        self.sock = tls.wrap_socket(self.sock, server_hostname=self.host)


def _connect(addresses: tuple[IPAddress, ...], port: int, deadline: float) -> socket.socket:
    """A connection to the first of `addresses` that accepts one before `deadline`."""
    failure: OSError = OSError("no address to connect to")
    for address in addresses:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        try:
            return socket.create_connection((str(address), port), timeout=left)
        except OSError as exc:
            failure = exc
    raise failure


def _failure(exc: Exception) -> str:
    """A few words for a failed exchange (never the request, which may carry a token)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc.__class__.__name__})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.HTTPException):
        return f"not an HTTP answer ({exc.__class__.__name__})"
    return getattr(exc, "strerror", None) or exc.__class__.__name__


def allowed_networks() -> list[IPNetwork]:
    """SHIPWAY_OUTBOUND_ALLOW, parsed (settings.py has already checked every entry)."""
    return _parse_networks(tuple(settings.SHIPWAY_OUTBOUND_ALLOW))


# -- Kinds of address ---------------------------------------------------------------

# kind -> (the address, as in "resolves to 10.0.0.5, a private address";
#          the networks, as in "Shipway does not fetch from private networks")
_WORDS = {
    "loopback": ("a loopback address", "loopback addresses"),
    "link-local": ("a link-local address", "link-local networks"),
    "multicast": ("a multicast address", "multicast addresses"),
    "unspecified": ("the unspecified address", "unspecified addresses"),
    "shared": ("a shared (carrier-grade NAT) address", "shared networks"),
    "reserved": ("a reserved address", "reserved networks"),
    "private": ("a private address", "private networks"),
    "non-public": ("a non-public address", "non-public networks"),
    _OWN: ("one of this server's own addresses", "itself"),
}


def _refused(where: str, address: IPAddress, kind: str, verb: str, literal: bool) -> str:
    what, networks = _WORDS[kind]
    said = f"{where} is {what}" if literal else f"{where} resolves to {address}, {what}"
    return (
        f"{said}; Shipway does not {verb} {networks} "
        "(SHIPWAY_OUTBOUND_ALLOW allows named networks)."
    )


def _kind(address: IPAddress) -> str | None:
    """The first kind that applies, most telling first; None for a public address."""
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("shared", address in _SHARED),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-public", not address.is_global),
    )
    return next((kind for kind, applies in checks if applies), None)


def _unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv6 one that carries it (connecting to one reaches
    the other): IPv4-mapped ::ffff:a.b.c.d, 6to4 2002:aabb:ccdd::, NAT64 64:ff9b::a.b.c.d."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _literal(host: str) -> IPAddress | None:
    """The address if `host` is an IP address written the usual way."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _numeric(host: str) -> IPAddress | None:
    """The address if the resolver reads `host` as a number (2130706433, 0x7f.1, ...)."""
    try:
        answers = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        return None
    return ipaddress.ip_address(str(answers[0][4][0]).split("%", 1)[0])


# -- The platform's own names and addresses ---------------------------------------


def _own_names() -> set[str]:
    """SHIPWAY_PUBLIC_URL's host and SHIPWAY_PLATFORM_HOSTS."""
    public = (urlsplit(settings.SHIPWAY_PUBLIC_URL).hostname or "").lower()
    return {h.lower() for h in settings.SHIPWAY_PLATFORM_HOSTS if h} | ({public} - {""})


def _own_addresses() -> frozenset[IPAddress]:
    """The machine's interface addresses, SHIPWAY_SERVER_IPS, and what the platform's
    own host names resolve to."""
    named = _resolve_names(_own_names())
    literals = (_literal(ip) for ip in settings.SHIPWAY_SERVER_IPS)
    configured = {address for address in literals if address is not None}
    return _interface_addresses(_minute()) | named | frozenset(configured)


def _minute() -> int:
    """A cache key that changes every minute, as interfaces can."""
    return int(time.monotonic() // 60)


def _resolve_names(names: set[str]) -> frozenset[IPAddress]:
    found: set[IPAddress] = set()
    for name in names:
        literal = _literal(name)
        if literal is not None:
            found.add(literal)
        elif "." in name:  # one-label names (testserver) are not asked of DNS
            # A platform name that does not resolve is nobody's address.
            with contextlib.suppress(OSError, UnicodeError):
                found.update(resolve(name, 443))
    return frozenset(found)


def local_ipv4(fib_trie: str) -> set[ipaddress.IPv4Address]:
    """The IPv4 addresses /proc/net/fib_trie lists as this host's own: the address on the
    line before each `/32 host LOCAL`. A second LOCAL line (the same address in another
    table, as network namespaces and swarm set-ups make) follows the first, not an
    address, and adds nothing."""
    found = set()
    for previous, line in itertools.pairwise(fib_trie.splitlines()):
        address = previous.split()[-1] if previous.split() else ""
        if line.strip() == "/32 host LOCAL" and address[:1].isdigit():
            found.add(ipaddress.IPv4Address(address))
    return found


@functools.lru_cache(maxsize=2)
def _interface_addresses(_minute: int) -> frozenset[IPAddress]:
    """This machine's own addresses, from /proc on Linux (nothing elsewhere: list the
    public ones in SHIPWAY_SERVER_IPS). A public IP on an interface matters most: a
    service bound to 0.0.0.0 answers on it as it does on 127.0.0.1."""
    try:
        found: set[IPAddress] = set(local_ipv4(Path("/proc/net/fib_trie").read_text()))
    except OSError:
        found = set()
    try:
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            found.add(ipaddress.IPv6Address(int(line.split()[0], 16)))
    except (OSError, ValueError, IndexError):
        pass
    return frozenset(found)


@functools.lru_cache(maxsize=8)
def _parse_networks(entries: tuple[str, ...]) -> list[IPNetwork]:
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]
