"""What the runtime manager asks of wherever servers run (the local Docker engine, or
Docker Swarm services): start one from a spec, tell whether it still runs, follow its output, stop
it, and list this installation's servers for cleanup. Nothing outside runtime/schedulers
talks to the engine about servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Protocol

PORT = 3000  # what every server listens on (its PORT variable)


class SchedulerError(Exception):
    """The server could not be started; the message is a sentence for its `error`."""


@dataclass(frozen=True)
class ServerSpec:
    """Everything a scheduler needs to run one deployment's server; it reads nothing else
    (no database, no settings)."""

    site_id: str
    deployment_id: str
    image: str
    command: str  # run by `sh -c` in the bundle's top directory
    env: dict[str, str] = field(default_factory=dict)
    cpus: float = 1.0
    memory_mb: int = 1024
    pids: int = 256
    tmp_mb: int = 64
    port: int = PORT


@dataclass(frozen=True)
class Started:
    handle: str  # what the scheduler calls it (a container id)
    address: str  # "host:port" the edge connects to


@dataclass(frozen=True)
class Status:
    running: bool
    exit_code: int | None  # once it has exited
    out_of_memory: bool = False  # killed by the kernel for passing its memory limit


class Scheduler(Protocol):
    def start(self, spec: ServerSpec, bundle: Callable[[], IO[bytes]]) -> Started:
        """Run the server; `bundle` opens its server.tar.gz (read only when the
        deployment's files are not there yet). Raises SchedulerError."""
        ...

    def status(self, handle: str) -> Status | None:
        """Whether it still runs and how it exited; None when it is gone."""
        ...

    def follow(self, handle: str, since: float | None = None) -> Iterator[bytes]:
        """Its output (stdout and stderr) from the start, or from Unix time `since`, until
        it exits."""
        ...

    def stop(self, handle: str) -> None:
        """Stop and remove it (gone already is fine)."""
        ...

    def servers(self) -> dict[str, str]:
        """This installation's servers, running or not: handle -> deployment id."""
        ...

    def remove_files(self, deployment_id: str) -> None:
        """Drop what was kept to start this deployment's server again (its volume)."""
        ...

    def kept_files(self) -> set[str]:
        """The deployment ids whose server files are kept."""
        ...
