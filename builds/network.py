"""The networks builds and site servers run on: Docker bridges of Shipway's own that
reach the internet (the package registries, a server's APIs) and nothing of the host's,
the local network's or other containers' on the same bridge.

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

Site servers (runtime/) run on a second such bridge, `shipway1`, whose only difference
is that the host (the edge) opens connections to them: the replies, and only packets of
connections the host opened, pass INPUT ahead of the drop (ESTABLISHED,RELATED).

The rules live on the machine of the engine; with a remote DOCKER_HOST they must be
installed there (docs/security.md shows them).
"""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
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


@dataclass(frozen=True)
class IsolatedNetwork:
    """One of Shipway's isolated bridges: its Docker name, its Linux bridge, its role
    label, and whether the host may open connections into it (and get the replies)."""

    name: str
    bridge: str
    role: str
    host_connects: bool = False
    refusal: ErrorCode = ErrorCode.BUILD_NETWORK_UNAVAILABLE
    what: str = "builds"


def builds_network() -> IsolatedNetwork:
    return IsolatedNetwork(settings.SHIPWAY_BUILD_NETWORK, BRIDGE, "build-network")


def name_servers(resolv_conf: Path = Path("/etc/resolv.conf")) -> list[str]:
    """The host's IPv4 name servers, as Docker's resolver will forward to them."""
    servers = []
    for line in resolv_conf.read_text().splitlines() if resolv_conf.exists() else []:
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver" and "." in parts[1]:
            servers.append(parts[1])
    return servers


def rules(network: IsolatedNetwork | None = None) -> list[list[str]]:
    """The iptables rules, in order (each an `iptables` argument list without -I/-A)."""
    bridge = (network or builds_network()).bridge
    dns = [
        ["DOCKER-USER", "-i", bridge, "-d", server, "-p", proto, "--dport", "53", "-j", "RETURN"]
        for server in name_servers()
        for proto in ("udp", "tcp")
    ]
    allow = dns + [
        ["DOCKER-USER", "-i", bridge, "-d", net, "-j", "RETURN"]
        for net in settings.SHIPWAY_BUILD_EGRESS_ALLOW
    ]
    drop = [["DOCKER-USER", "-i", bridge, "-d", net, "-j", "DROP"] for net in BLOCKED]
    replies = []
    if network is not None and network.host_connects:
        # Only the answers to connections the host opened come back in; a container
        # still opens none to the host (the DROP after this).
        established = ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"]
        replies = [["INPUT", "-i", bridge, *established]]
    return [*replies, ["INPUT", "-i", bridge, "-j", "DROP"], *allow, *drop]


def ensure(client: docker.DockerClient, network: IsolatedNetwork | None = None) -> str:
    """Make sure the network and its rules exist (once per process); return its name."""
    network = network or builds_network()
    if not settings.SHIPWAY_BUILD_NETWORK_ISOLATION:
        return "bridge"
    with _ready:
        if network.name in _ensured_for:
            return network.name
        _create_network(client, network)
        _install_rules(network)
        _ensured_for.add(network.name)
    return network.name


def _create_network(client: docker.DockerClient, network: IsolatedNetwork) -> None:
    try:
        client.networks.get(network.name)
    except NotFound:
        client.networks.create(
            network.name,
            driver="bridge",
            options={
                "com.docker.network.bridge.name": network.bridge,
                "com.docker.network.bridge.enable_icc": "false",
            },
            labels={"shipway.managed": "true", "shipway.role": network.role},
        )
        log.info("isolated_network.created", network=network.name, bridge=network.bridge)


def _install_rules(network: IsolatedNetwork) -> None:
    """Insert each missing rule at the top of its chain, last rule first, so the chain
    reads in the order `rules()` gives (allows ahead of drops)."""
    try:
        for rule in reversed(rules(network)):
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
        log.error(
            "isolated_network.rules_failed",
            network=network.name,
            error=str(exc),
            stderr=stderr.decode()[:500],
        )
        raise BuildError(
            network.refusal,
            f"Shipway could not install the firewall rules that keep {network.what} away "
            "from this host and its network (iptables, as root, on the Docker engine's "
            f"machine). {network.what.capitalize()} do not run without them; "
            "SHIPWAY_BUILD_NETWORK_ISOLATION=false runs them on Docker's default bridge "
            "instead, which can reach the host.",
        ) from exc
