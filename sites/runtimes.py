"""The runtime catalog: the Node versions a site's builds can run on, and the image each
one builds in (builds/runtimes.py makes and checks those images)."""

from dataclasses import dataclass

from core import catalogs

IMAGE_REPOSITORY = "shipway/runtime"
LABEL_RUNTIME = "shipway.runtime"
LABEL_RECIPE = "shipway.runtime-recipe"
# Bump when what an image holds or how it is labelled changes: `runtimes build
# --missing-only` rebuilds an image made by an older recipe.
IMAGE_RECIPE = "2"


@dataclass(frozen=True)
class Runtime:
    """One entry of the catalog: a Node major version and the image builds use for it."""

    name: str  # "node-20": what a site's build_runtime names
    major: int  # 20
    image: str  # "shipway/runtime:node-20"
    corepack: str  # the corepack release line that supports this Node major (npm spec)

    @property
    def labels(self) -> dict[str, str]:
        # No management label: every container made from the image would inherit it.
        # Cleanups select by the role and installation labels each container is given.
        return {LABEL_RUNTIME: self.name, LABEL_RECIPE: IMAGE_RECIPE}

    @property
    def registry_base(self) -> str:
        """The official image the registry path starts from."""
        return f"node:{self.major}-bookworm-slim"


def _runtime(major: int, corepack: str) -> Runtime:
    name = f"node-{major}"
    return Runtime(name=name, major=major, image=f"{IMAGE_REPOSITORY}:{name}", corepack=corepack)


# corepack 0.34 dropped Node 18 and 0.35 dropped Node 20 (see its "engines"). Pinned per
# runtime because npm picks by the engines of the *host's* Node, not the image's.
RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        _runtime(18, "corepack@~0.33.0"),
        _runtime(20, "corepack@~0.34.0"),
        _runtime(22, "corepack@~0.36.0"),
    )
}


class UnknownRuntime(ValueError):
    """A runtime name that is not in the catalog."""


def get_runtime(name: str) -> Runtime:
    """The catalog entry called `name`; raises UnknownRuntime naming the known ones."""
    return catalogs.entry(RUNTIMES, name, "runtime", UnknownRuntime)
