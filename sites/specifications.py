"""Build and runtime sizes a site can choose (cpus, memory in MB)."""

from dataclasses import dataclass
from typing import Any

from core import catalogs


@dataclass(frozen=True)
class Specification:
    slug: str
    cpus: float
    memory: int  # MB

    def as_dict(self) -> dict[str, Any]:
        return {"slug": self.slug, "cpus": self.cpus, "memory": self.memory}


SPECIFICATIONS: dict[str, Specification] = {
    s.slug: s
    for s in [
        Specification("s-0.5vcpu-512mb", 0.5, 512),
        Specification("s-1vcpu-1gb", 1, 1024),
        Specification("s-2vcpu-2gb", 2, 2048),
        Specification("s-4vcpu-4gb", 4, 4096),
    ]
}
DEFAULT_SPECIFICATION = "s-1vcpu-1gb"


class UnknownSpecification(ValueError):
    pass


def get_specification(slug: str) -> Specification:
    return catalogs.entry(SPECIFICATIONS, slug, "specification", UnknownSpecification)


def catalog() -> list[dict[str, Any]]:
    return [s.as_dict() for s in SPECIFICATIONS.values()]
