"""May the platform connect out to this address?

Everything Shipway fetches or calls on a user's behalf (git sources today, outgoing
webhooks later) asks `check_url` first and then connects only to the addresses it
returned, so a name cannot resolve one way for the check and another for the
connection (DNS rebinding). Refused: loopback, private, link-local, multicast,
reserved, unspecified and shared (CGNAT) addresses, the same wrapped in IPv6 forms
(IPv4-mapped, 6to4, NAT64), and the platform's own names and addresses, unless the
address is in a network of `SHIPWAY_OUTBOUND_ALLOW`.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import itertools
import re
import socket
import time
from collections.abc import Callable
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


@functools.lru_cache(maxsize=2)
def _interface_addresses(_minute: int) -> frozenset[IPAddress]:
    """This machine's own addresses, from /proc on Linux (nothing elsewhere: list the
    public ones in SHIPWAY_SERVER_IPS). A public IP on an interface matters most: a
    service bound to 0.0.0.0 answers on it as it does on 127.0.0.1."""
    found: set[IPAddress] = set()
    try:
        lines = Path("/proc/net/fib_trie").read_text().splitlines()
    except OSError:
        lines = []
    for previous, line in itertools.pairwise(lines):
        if line.strip() == "/32 host LOCAL":
            found.add(ipaddress.IPv4Address(previous.split()[-1]))
    try:
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            found.add(ipaddress.IPv6Address(int(line.split()[0], 16)))
    except (OSError, ValueError, IndexError):
        pass
    return frozenset(found)


@functools.lru_cache(maxsize=8)
def _parse_networks(entries: tuple[str, ...]) -> list[IPNetwork]:
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]
