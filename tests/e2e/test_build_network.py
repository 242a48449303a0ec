"""Builds reach neither the host nor the builds beside them. Traffic goes only to
listeners this test starts: on the host's bridge addresses, and in a container of its
own on the builds' network."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading

import docker
import pytest
from django.conf import settings

from builds.network import BRIDGE
from tests.e2e.conftest import RUNTIME_IMAGE
from tests.e2e.helpers import deploy, log_of, wait_for
from tests.factories import api_client, make_site, make_team, make_user

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

PROBE = (
    "const net=require('net');const [h,p]=process.argv.slice(2);"
    "const s=net.connect(+p,h);s.setTimeout(3000);"
    "s.on('connect',()=>{console.log('REACHED '+h);process.exit(0)});"
    "s.on('timeout',()=>{console.log('BLOCKED '+h);process.exit(0)});"
    "s.on('error',e=>{console.log('BLOCKED '+h+' '+e.code);process.exit(0)});"
)


def _host_address(interface: str) -> str:
    """The host's IPv4 address on a bridge (Docker's IPAM does not always record it)."""
    line = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "dev", interface],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return line.split(" inet ", 1)[1].split("/", 1)[0]


class Listener:
    """A TCP listener on one of the host's bridge addresses, counting connections."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket()
        self.sock.bind((address, 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.address, self.port = self.sock.getsockname()
        self.accepted = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping:
            try:
                connection, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.stopping = True
        self.thread.join()
        self.sock.close()


def _probe_command(targets: list[tuple[str, int]]) -> str:
    probes = " && ".join(f"node probe.js {host} {port}" for host, port in targets)
    return f"{probes} && mkdir -p out && echo ok > out/index.html"


def test_a_build_reaches_neither_the_host_nor_another_build(worker):
    client = docker.from_env()
    owner = make_user()
    site = make_site(make_team(owner), framework="other", install_command="")
    # A first build makes the builds' network; its gateway is then a host address too.
    site.build_command = "mkdir -p out && echo ok > out/index.html"
    site.output_directory = "out"
    site.save()
    assert wait_for(deploy(api_client(owner), site, {"a": "b"})).status == "ready"
    network = settings.SHIPWAY_BUILD_NETWORK

    neighbour = client.containers.run(
        RUNTIME_IMAGE,
        ["node", "-e", "require('net').createServer(s=>s.end()).listen(8080)"],
        network=network,
        labels={"shipway.test": "build-network"},
        detach=True,
        remove=True,
    )
    listeners = [Listener(_host_address("docker0")), Listener(_host_address(BRIDGE))]
    try:
        neighbour.reload()
        neighbour_ip = neighbour.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
        targets = [(lis.address, lis.port) for lis in listeners] + [(neighbour_ip, 8080)]
        site.build_command = _probe_command(targets)
        site.save()
        deployment = wait_for(deploy(api_client(owner), site, {"probe.js": PROBE}))
        log = log_of(api_client(owner), deployment)
    finally:
        for listener in listeners:
            listener.close()
        with contextlib.suppress(docker.errors.NotFound):
            neighbour.remove(force=True)
    assert deployment.status == "ready", log
    for host, _port in targets:
        assert f"BLOCKED {host}" in log, log
    assert "REACHED" not in log
    assert [lis.accepted for lis in listeners] == [0, 0]
