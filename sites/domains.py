"""Custom domains' names and DNS checks: what a name may be, which records prove it, and
the lookups that check them. The claims themselves are written in sites/services.py.

A site claims a name (pending); `domain_verify` looks up the records `domain_records`
asks for (a TXT token, and a CNAME to the site's address or A/AAAA records to this
server) and marks it verified. Several sites may claim one name, so that nobody can
hold a name they cannot prove: the first proof wins and the other claims are `taken`.
A later proof from another site takes the name when the verified claim's own records
no longer hold (that claim is then `lost`). Verified names are checked again every
SHIPWAY_DOMAIN_RECHECK_SECONDS (`recheck_due`, a Celery beat task): one that no longer
points to its site is `lost`. Only verified domains serve, and only they get
certificates on demand (Caddy's on-demand TLS asks edge/tls.py; Shipway's own hosts are
under one wildcard certificate). Which site a verified name serves is read in
sites/selectors.py.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

import dns.exception
import dns.name
import dns.nameserver
import dns.resolver
import structlog
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.errors import Invalid
from sites.models import MAX_DOMAIN_LENGTH, Domain

log = structlog.get_logger(__name__)

CHALLENGE_LABEL = "_shipway-challenge"
# Seconds for each DNS lookup (verify runs several, inside an API request).
DNS_LIFETIME = 4.0
# RFC 1123: letters, digits and "-", 1 to 63 characters, no "-" at either end.
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")

# Why a verification failed, in words (stored as the domain's `last_error`).
CHECK_ERRORS = {
    "txt_missing": "No TXT record {challenge}.",
    "txt_mismatch": "The TXT record {challenge} does not hold this domain's token ({token}).",
    "cname_elsewhere": "{domain} is a CNAME to {target}, not to {site_host}.",
    "not_pointed": "{domain} has no CNAME record to {site_host}.",
    "not_pointed_or_ip": "{domain} has no CNAME record to {site_host} and no A/AAAA record to "
    "this server ({server_ips}).",
    "other_addresses": "{domain} points to {addresses}, not only to this server ({server_ips}).",
    "lookup_failed": "The DNS lookup of {rdtype} {name} failed ({reason}); try again later.",
}
LOOKUP_FAILED_PREFIX = CHECK_ERRORS["lookup_failed"].split("{", 1)[0]


# -- names --------------------------------------------------------------------------


def challenge_name(domain: str) -> str:
    return f"{CHALLENGE_LABEL}.{domain}"


def _invalid(message: str) -> Invalid:
    return Invalid({"domain": message})


def _ascii_label(label: str) -> str:
    """One label in its ASCII form (IDNA 2008 with UTS 46 mapping for Unicode ones)."""
    codec = dns.name.IDNA_2008_Practical
    try:
        if not label.isascii():
            label = codec.encode(label).decode("ascii")
        elif label.startswith("xn--"):
            codec.decode(label.encode("ascii"))  # must be valid punycode
    except (dns.exception.DNSException, UnicodeError):
        raise _invalid(f"'{label}' is not a valid internationalized domain label.") from None
    return label.lower()


def normalize_domain(raw: str) -> str:
    """The domain in lowercase ASCII (IDNA) form, or Invalid naming `domain`, saying
    what is wrong: a host name of two or more RFC 1123 labels, at most 253 characters,
    without scheme, port, path or wildcard, and not an IP address."""
    value = raw.strip()
    if not value:
        raise _invalid("Enter a domain name, e.g. www.example.com.")
    if "://" in value:
        raise _invalid("Give the domain name alone, without a scheme (https://).")
    if any(mark in value for mark in "/?#"):
        raise _invalid("Give the domain name alone, without a path.")
    if "*" in value:
        raise _invalid("Wildcard domains are not supported; add each name.")
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        pass
    else:
        raise _invalid("Use a domain name, not an IP address.")
    if ":" in value:
        raise _invalid("Give the domain name alone, without a port.")
    value = value.lower()
    value = value.removesuffix(".")  # the fully qualified form names the same domain
    labels = value.split(".")
    if "" in labels:
        raise _invalid("A domain name cannot have an empty label ('..', or a leading dot).")
    labels = [_ascii_label(label) for label in labels]
    for label in labels:
        if not _LABEL.match(label):
            raise _invalid(
                f"'{label}' is not a valid label: use letters, digits and '-', 1 to 63 "
                "characters, not starting or ending with '-'."
            )
    if len(labels) < 2:
        raise _invalid("Give a full domain name of at least two labels, e.g. www.example.com.")
    if labels[-1].isdigit():
        raise _invalid("The last label of a domain name cannot be all digits.")
    name = ".".join(labels)
    if len(name) > MAX_DOMAIN_LENGTH:
        raise _invalid(f"A domain name has at most {MAX_DOMAIN_LENGTH} characters.")
    return name


def refuse_platform(name: str) -> None:
    """Shipway's own host names (and localhost) cannot be claimed by a site."""
    sites_domain = settings.SITES_DOMAIN.lower().rstrip(".")
    if name == sites_domain or name.endswith(f".{sites_domain}"):
        raise _invalid(
            f"Names under {sites_domain} are Shipway's own; every site already answers on "
            f"{{siteId}}.{sites_domain}."
        )
    platform_hosts = {
        *settings.SHIPWAY_PLATFORM_HOSTS,
        urlsplit(settings.SHIPWAY_PUBLIC_URL).hostname,
    }
    if name in {host.lower().rstrip(".") for host in platform_hosts if host}:
        raise _invalid(f"'{name}' is this Shipway's own address.")
    if name == "localhost" or name.endswith(".localhost"):
        raise _invalid("Names under localhost cannot be custom domains.")


def server_addresses() -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """SHIPWAY_SERVER_IPS, parsed."""
    try:
        return [ipaddress.ip_address(ip) for ip in settings.SHIPWAY_SERVER_IPS]
    except ValueError as exc:
        raise ImproperlyConfigured(f"SHIPWAY_SERVER_IPS: {exc}") from None


def domain_records(domain: Domain) -> list[dict[str, str]]:
    """The DNS records to add: the TXT token, and a CNAME to the site's address or (when
    this server's addresses are configured) an A/AAAA record per address."""
    records = [
        {"type": "TXT", "name": challenge_name(domain.domain), "value": domain.verification_token},
        {"type": "CNAME", "name": domain.domain, "value": site_address(domain.site_id)},
    ]
    for address in server_addresses():
        kind = "A" if address.version == 4 else "AAAA"
        records.append({"type": kind, "name": domain.domain, "value": str(address)})
    return records


def site_address(site_id: str) -> str:
    return f"{site_id}.{settings.SITES_DOMAIN}".lower()


# -- DNS ----------------------------------------------------------------------------


class _LookupFailed(Exception):
    pass


def _resolver() -> dns.resolver.Resolver:
    """The system's resolver, or SHIPWAY_DNS_NAMESERVERS ("ip" or "ip:port") when set."""
    servers = settings.SHIPWAY_DNS_NAMESERVERS
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = [_nameserver(server) for server in servers]
    resolver.lifetime = DNS_LIFETIME
    resolver.timeout = DNS_LIFETIME
    return resolver


def _nameserver(text: str) -> dns.nameserver.Do53Nameserver:
    text = text.strip()
    if text.startswith("["):  # [IPv6]:port
        address, _, port = text[1:].partition("]")
        return dns.nameserver.Do53Nameserver(address, int(port.lstrip(":") or 53))
    if text.count(":") == 1:  # IPv4:port
        address, port = text.split(":")
        return dns.nameserver.Do53Nameserver(address, int(port))
    return dns.nameserver.Do53Nameserver(text)


def _lookup(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> list[Any]:
    """The records of `rdtype` at `name` ([] when there are none), each of the rdata class
    of `rdtype` (TXT's `strings`, CNAME's `target`, A's `address`)."""
    try:
        return list(resolver.resolve(f"{name}.", rdtype, search=False))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.resolver.LifetimeTimeout:
        reason = "no answer in time"
    except dns.resolver.NoNameservers:
        reason = "no DNS server answered"
    except dns.exception.DNSException as exc:
        reason = type(exc).__name__
    raise _LookupFailed(
        CHECK_ERRORS["lookup_failed"].format(rdtype=rdtype, name=name, reason=reason)
    )


def dns_problem(domain: str, token: str | None, site_host: str) -> str:
    """What keeps `domain` from being verified, in words; "" when nothing does. With no
    `token`, only whether it points here (the TXT record is not looked up)."""
    try:
        resolver = _resolver()
    except dns.exception.DNSException:
        return CHECK_ERRORS["lookup_failed"].format(
            rdtype="TXT", name=challenge_name(domain), reason="no DNS resolver is configured"
        )
    try:
        return _problem(resolver, domain, token, site_host)
    except _LookupFailed as exc:
        return str(exc)


def _problem(
    resolver: dns.resolver.Resolver, domain: str, token: str | None, site_host: str
) -> str:
    words = {"domain": domain, "challenge": challenge_name(domain), "site_host": site_host}
    if token is not None:
        texts = _lookup(resolver, challenge_name(domain), "TXT")
        if not texts:
            return CHECK_ERRORS["txt_missing"].format(**words)
        values = {b"".join(text.strings).decode(errors="replace").strip() for text in texts}
        if token not in values:
            return CHECK_ERRORS["txt_mismatch"].format(token=token, **words)

    cnames = _lookup(resolver, domain, "CNAME")
    targets = [cname.target.to_text(omit_final_dot=True).lower() for cname in cnames]
    if site_host in targets:
        return ""
    ours = server_addresses()
    found = []
    if ours:  # an A/AAAA lookup follows CNAMEs, so a chain ending here counts too
        found = [
            ipaddress.ip_address(record.address)
            for rdtype in ("A", "AAAA")
            for record in _lookup(resolver, domain, rdtype)
        ]
        if found and all(address in ours for address in found):
            return ""
    server_ips = ", ".join(str(address) for address in ours)
    if targets:
        return CHECK_ERRORS["cname_elsewhere"].format(target=targets[0], **words)
    if found:
        addresses = ", ".join(sorted({str(address) for address in found}))
        return CHECK_ERRORS["other_addresses"].format(
            addresses=addresses, server_ips=server_ips, **words
        )
    if ours:
        return CHECK_ERRORS["not_pointed_or_ip"].format(server_ips=server_ips, **words)
    return CHECK_ERRORS["not_pointed"].format(**words)
