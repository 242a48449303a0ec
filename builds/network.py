"""The network builds run on: a Docker bridge of Shipway's own that reaches the internet
(the package registries) and nothing of the host's, the local network's or other builds'.

Docker's default bridge lets a container open connections to every service bound on the
host's addresses and, with inter-container traffic on, to the builds running beside it
(on a cloud host, also to its metadata service). This bridge has inter-container traffic
off, and firewall rules (iptables, in the chains Docker leaves to users) drop:
- every packet from the bridge to the host itself (INPUT), whatever host address it names;
- forwarded packets to private, shared, link-local and loopback ranges (DOCKER-USER),
  except the networks in SHIPWAY_BUILD_EGRESS_ALLOW (where a registry resolves to a
  private address, say).
DNS keeps working: Docker's resolver inside each container forwards to the host's name
servers (from the container's network), so port 53 of those stays open even where they
have private addresses.

The rules live on the machine of the engine; with a remote DOCKER_HOST they must be
installed there (docs/security.md shows them).
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import docker
import structlog
from django.conf import settings
from docker.errors import NotFound

from deployments.errors import BuildError, ErrorCode

log = structlog.get_logger(__name__)

BRIDGE = "shipway0"
BLOCKED = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "0.0.0.0/8",
    "224.0.0.0/4",
)
_ready = threading.Lock()
_ensured_for: set[str] = set()


def name_servers(resolv_conf: Path = Path("/etc/resolv.conf")) -> list[str]:
    """The host's IPv4 name servers, as Docker's resolver will forward to them."""
    servers = []
    for line in resolv_conf.read_text().splitlines() if resolv_conf.exists() else []:
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver" and "." in parts[1]:
            servers.append(parts[1])
    return servers


def rules() -> list[list[str]]:
    """The iptables rules, in order (each an `iptables` argument list without -I/-A)."""
    dns = [
        ["DOCKER-USER", "-i", BRIDGE, "-d", server, "-p", proto, "--dport", "53", "-j", "RETURN"]
        for server in name_servers()
        for proto in ("udp", "tcp")
    ]
    allow = dns + [
        ["DOCKER-USER", "-i", BRIDGE, "-d", network, "-j", "RETURN"]
        for network in settings.SHIPWAY_BUILD_EGRESS_ALLOW
    ]
    drop = [["DOCKER-USER", "-i", BRIDGE, "-d", network, "-j", "DROP"] for network in BLOCKED]
    return [["INPUT", "-i", BRIDGE, "-j", "DROP"], *allow, *drop]


def ensure(client: docker.DockerClient) -> str:
    """Make sure the network and its rules exist (once per process); return its name."""
    name: str = settings.SHIPWAY_BUILD_NETWORK
    if not settings.SHIPWAY_BUILD_NETWORK_ISOLATION:
        return "bridge"
    with _ready:
        if name in _ensured_for:
            return name
        _create_network(client, name)
        _install_rules()
        _ensured_for.add(name)
    return name


def _create_network(client: docker.DockerClient, name: str) -> None:
    try:
        client.networks.get(name)
    except NotFound:
        client.networks.create(
            name,
            driver="bridge",
            options={
                "com.docker.network.bridge.name": BRIDGE,
                "com.docker.network.bridge.enable_icc": "false",
            },
            labels={"shipway.managed": "true", "shipway.role": "build-network"},
        )
        log.info("build_network.created", network=name)


def _install_rules() -> None:
    """Insert each missing rule at the top of its chain, last rule first, so the chain
    reads in the order `rules()` gives (allows ahead of drops)."""
    try:
        for rule in reversed(rules()):
            chain, spec = rule[0], rule[1:]
            present = subprocess.run(
                ["iptables", "-w", "-C", chain, *spec], capture_output=True, check=False
            )
            if present.returncode != 0:
                subprocess.run(
                    ["iptables", "-w", "-I", chain, "1", *spec], capture_output=True, check=True
                )
    except (OSError, subprocess.CalledProcessError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        log.error("build_network.rules_failed", error=str(exc), stderr=stderr.decode()[:500])
        raise BuildError(
            ErrorCode.BUILD_NETWORK_UNAVAILABLE,
            "Shipway could not install the firewall rules that keep builds away from this "
            "host and its network (iptables, as root, on the Docker engine's machine). "
            "Builds do not run without them; SHIPWAY_BUILD_NETWORK_ISOLATION=false runs "
            "them on Docker's default bridge instead, which can reach the host.",
        ) from exc
