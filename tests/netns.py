"""A second "machine" for tests: a network namespace joined to this one by a veth pair,
and TCP relays on the host's end of it, so that a process inside reaches PostgreSQL,
Redis or S3 (which listen on loopback here) only over that network, as a worker on
another box would. Everything it makes goes with `close()`, even after a failure:
a leftover interface would change what other tests see of this machine's addresses."""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True, timeout=30)


class Namespace:
    """`shipway-t{n}` with the host at 10.214.{n}.1 and the namespace at 10.214.{n}.2."""

    def __init__(self) -> None:
        n = os.getpid() % 200 + 20
        self.name = f"shipway-t{n}"
        self.host_end, self.inner_end = f"shipt{n}h", f"shipt{n}n"
        self.host_address, self.address = f"10.214.{n}.1", f"10.214.{n}.2"
        self._relays: list[_Relay] = []

    def open(self) -> Namespace:
        self.close()  # what a killed run of this pid's number left
        try:
            _ip("netns", "add", self.name)
            _ip("link", "add", self.host_end, "type", "veth", "peer", "name", self.inner_end)
            _ip("link", "set", self.inner_end, "netns", self.name)
            _ip("addr", "add", f"{self.host_address}/24", "dev", self.host_end)
            _ip("link", "set", self.host_end, "up")
            for args in (
                ("addr", "add", f"{self.address}/24", "dev", self.inner_end),
                ("link", "set", self.inner_end, "up"),
                ("link", "set", "lo", "up"),
            ):
                _ip("-n", self.name, *args)
        except BaseException:
            self.close()
            raise
        return self

    def relay(self, port: int) -> int:
        """A port on the host's end of the link that carries connections to
        127.0.0.1:`port`; returns it."""
        relay = _Relay(self.host_address, port)
        self._relays.append(relay)
        return relay.port

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv`, run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def close(self) -> None:
        for relay in self._relays:
            relay.close()
        self._relays.clear()
        _ip("link", "del", self.host_end, check=False)  # takes its peer with it
        _ip("netns", "del", self.name, check=False)


class Engine:
    """A Docker engine of the namespace's own (its own data root, bridge and firewall, as
    another build machine has), with the named images copied from this machine's."""

    def __init__(self, network: Namespace, root: Path) -> None:
        self.network, self.root = network, root
        self.socket = root / "docker.sock"
        self.host = f"unix://{self.socket}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, images: Sequence[str]) -> Engine:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "dockerd.log", "wb") as log:
            dockerd = (
                f"exec dockerd --data-root={self.root / 'data'} --exec-root={self.root / 'exec'}"
                f" --pidfile={self.root / 'docker.pid'} --host={self.host}"
            )
            # `ip netns exec` mounts a sysfs of the namespace over /sys, which hides the
            # cgroup hierarchies dockerd needs: they are mounted again on top, first.
            self._process = subprocess.Popen(
                self.network.command(["sh", "-c", _cgroup_mounts() + dockerd]),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the namespace's dockerd did not start: {self.root}")
            time.sleep(0.2)
        for image in images:
            save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
            subprocess.run(
                ["docker", "-H", self.host, "load", "-q"], stdin=save.stdout, check=True,
                capture_output=True, timeout=300,
            )  # fmt: skip
            save.wait(timeout=30)
        return self

    def _answers(self) -> bool:
        done = subprocess.run(["docker", "-H", self.host, "version"], capture_output=True)
        return done.returncode == 0

    def stop(self) -> None:
        if self._process is None:
            return
        subprocess.run(  # what its builds left running, before the engine goes
            ["sh", "-c", f"docker -H {self.host} ps -aq | xargs -r docker -H {self.host} rm -f"],
            capture_output=True, timeout=120,
        )  # fmt: skip
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
        # Its exec root holds mounts (netns and overlay); they go before the files do.
        unmount = f"grep -o ' {self.root}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"
        subprocess.run(["sh", "-c", unmount], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def _cgroup_mounts() -> str:
    """Shell commands that mount this machine's cgroup hierarchies where they are."""
    commands = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        source, target, kind, options, *_ = line.split()
        if target == "/sys/fs/cgroup" or target.startswith("/sys/fs/cgroup/"):
            commands.append(f"mkdir -p {target} && mount -t {kind} -o {options} {source} {target}")
    return "".join(f"{command} && " for command in commands)


class _Relay:
    """Accepts on host:ephemeral port and pipes each connection to loopback:`target`, in
    one thread with a selector."""

    def __init__(self, host: str, target: int) -> None:
        self.target = target
        self._listener = socket.create_server((host, 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._peers: dict[socket.socket, socket.socket] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"relay-{target}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    self._accept()
                else:
                    self._pipe(sock)

    def _accept(self) -> None:
        with contextlib.suppress(BlockingIOError):
            client, _ = self._listener.accept()
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                return
            for one, other in ((client, upstream), (upstream, client)):
                one.setblocking(False)
                self._peers[one] = other
                self._selector.register(one, selectors.EVENT_READ)

    def _pipe(self, sock: socket.socket) -> None:
        other = self._peers.get(sock)
        if other is None:  # closed with its peer earlier in this round
            return
        try:
            data = sock.recv(65536)
            if data:
                other.setblocking(True)
                other.sendall(data)
                other.setblocking(False)
                return
        except OSError:
            pass
        for one in (sock, other):
            if one in self._peers:
                self._selector.unregister(one)
                del self._peers[one]
                one.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in [self._listener, *self._peers]:
            sock.close()
        self._selector.close()
