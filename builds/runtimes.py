"""The runtime catalog: names like `node-22` and the local image tags builds run in."""

from __future__ import annotations

from dataclasses import dataclass

IMAGE_REPOSITORY = "shipway/runtime"


@dataclass(frozen=True)
class Runtime:
    name: str
    major: int

    @property
    def image(self) -> str:
        return f"{IMAGE_REPOSITORY}:{self.name}"


RUNTIMES: dict[str, Runtime] = {
    r.name: r for r in (Runtime("node-18", 18), Runtime("node-20", 20), Runtime("node-22", 22))
}


class UnknownRuntime(ValueError):
    pass


def get_runtime(name: str) -> Runtime:
    try:
        return RUNTIMES[name]
    except KeyError:
        known = ", ".join(RUNTIMES)
        raise UnknownRuntime(f"'{name}' is not a known runtime. Known: {known}.") from None
