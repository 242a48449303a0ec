"""The framework catalog: what Shipway knows how to build, with each adapter's defaults.

`static` adapters publish the output directory as files. `ssr` adapters build the same
way, then package two things out of the build (builds/serverpack.py): the static assets
the edge serves itself, laid out at their URL paths, and the server, a directory run
with `start_command` in a container of its own, holding only what `Packaging.server`
keeps (no source, no build workspace).
"""

from dataclasses import dataclass, field
from typing import Any

from core import catalogs


@dataclass(frozen=True)
class Keep:
    """One path of the build (relative to the site's root directory) that packaging keeps,
    and where it goes: in the server's directory, or (static) under the URL path `to`."""

    source: str
    to: str  # "." (or "") for the top
    optional: bool = False  # absent is fine (e.g. Next.js's `public/`)


@dataclass(frozen=True)
class Packaging:
    """What an ssr build leaves and what of it is kept."""

    required: str  # the file the framework's server build must have written
    missing: str  # the build's failure when it did not, saying how to fix the config
    server: tuple[Keep, ...]
    static: tuple[Keep, ...]
    # Prune devDependencies from node_modules (the server needs production packages only).
    production_modules: bool = False


@dataclass(frozen=True)
class Adapter:
    key: str  # "static" or "ssr"
    install_command: str
    build_command: str
    output_directory: str
    fallback_file: str = ""
    start_command: str = ""  # ssr: run in the packaged server's directory
    packaging: Packaging | None = None  # ssr: None when Shipway cannot run its server yet


@dataclass(frozen=True)
class Framework:
    key: str
    name: str
    build_runtime: str
    adapters: dict[str, Adapter] = field(default_factory=dict)

    @property
    def default_adapter(self) -> str:
        return "static" if "static" in self.adapters else next(iter(self.adapters))

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "buildRuntime": self.build_runtime,
            "defaultAdapter": self.default_adapter,
            "adapters": [
                {
                    "key": a.key,
                    "installCommand": a.install_command,
                    "buildCommand": a.build_command,
                    "outputDirectory": a.output_directory,
                    "fallbackFile": a.fallback_file,
                    "startCommand": a.start_command,
                }
                for a in self.adapters.values()
            ],
        }


NPM_INSTALL = "npm install"
RUNTIME = "node-22"


def _framework(key: str, name: str, *adapters: Adapter, runtime: str = RUNTIME) -> Framework:
    return Framework(key, name, runtime, {a.key: a for a in adapters})


def _spa(output: str, build: str = "npm run build") -> Adapter:
    return Adapter("static", NPM_INSTALL, build, output, "index.html")


def _ssr(
    build: str,
    output: str,
    start: str,
    packaging: Packaging | None,
) -> Adapter:
    return Adapter("ssr", NPM_INSTALL, build, output, "", start, packaging)


# Production node_modules next to package.json: what `node build` (SvelteKit), Astro's
# entry and react-router-serve import at run time.
_MODULES = (Keep("package.json", "package.json"), Keep("node_modules", "node_modules", True))

NEXTJS_SSR = _ssr(
    "npm run build",
    ".next",
    "node server.js",
    Packaging(
        required=".next/standalone/server.js",
        missing="Next.js wrote no .next/standalone: set output: 'standalone' in next.config.js.",
        # The standalone server serves .next/static and public/ itself only when they are
        # copied next to it; the edge serves them first anyway.
        server=(
            Keep(".next/standalone", "."),
            Keep(".next/static", ".next/static"),
            Keep("public", "public", optional=True),
        ),
        static=(Keep(".next/static", "_next/static"), Keep("public", ".", optional=True)),
    ),
)
NUXT_SSR = _ssr(
    "npm run build",
    ".output",
    "node .output/server/index.mjs",
    Packaging(
        required=".output/server/index.mjs",
        missing="Nuxt wrote no .output/server/index.mjs: build with `nuxt build` (Nitro's "
        "node-server preset), not `nuxt generate`.",
        server=(Keep(".output", ".output"),),  # Nitro bundles its own node_modules
        static=(Keep(".output/public", "."),),
    ),
)
SVELTEKIT_SSR = _ssr(
    "npm run build",
    "build",
    "node build",
    Packaging(
        required="build/index.js",
        missing="SvelteKit wrote no build/index.js: use @sveltejs/adapter-node in "
        "svelte.config.js.",
        server=(Keep("build", "build"), *_MODULES),
        static=(Keep("build/client", "."),),
        production_modules=True,
    ),
)
ASTRO_SSR = _ssr(
    "npm run build",
    "dist",
    "node ./dist/server/entry.mjs",
    Packaging(
        required="dist/server/entry.mjs",
        missing="Astro wrote no dist/server/entry.mjs: use @astrojs/node with mode: "
        "'standalone' in astro.config.mjs.",
        server=(Keep("dist", "dist"), *_MODULES),
        static=(Keep("dist/client", "."),),
        production_modules=True,
    ),
)
REMIX_SSR = _ssr(
    "npm run build",
    "build",
    # Through its relative .bin link, so that no PATH to node_modules/.bin is needed.
    "./node_modules/.bin/react-router-serve ./build/server/index.js",
    Packaging(
        required="build/server/index.js",
        missing="React Router wrote no build/server/index.js: build with `react-router "
        "build` and keep ssr enabled in react-router.config.",
        server=(
            Keep("build/server", "build/server"),
            Keep("build/client", "build/client"),
            *_MODULES,
        ),
        static=(Keep("build/client", "."),),
        production_modules=True,
    ),
)
# Angular's server entry is named after the project (dist/<project>/server/server.mjs):
# listed for the catalog, refused by the build until it is packaged.
ANGULAR_SSR = _ssr("npm run build", "dist", "", None)

FRAMEWORKS: dict[str, Framework] = {
    f.key: f
    for f in [
        # "auto": the build reads the source and picks the framework (builds/detection.py).
        _framework("auto", "Detect automatically", Adapter("static", "", "", "")),
        _framework("static", "Static HTML", Adapter("static", "", "", ".")),
        _framework("vite", "Vite (vanilla)", _spa("dist")),
        _framework("react", "React (Vite)", _spa("dist")),
        _framework("vue", "Vue (Vite)", _spa("dist")),
        _framework("svelte", "Svelte (Vite)", _spa("dist")),
        _framework(
            "nextjs",
            "Next.js",
            Adapter("static", NPM_INSTALL, "npm run build", "out"),
            NEXTJS_SSR,
        ),
        _framework(
            "nuxt",
            "Nuxt",
            Adapter("static", NPM_INSTALL, "npm run generate", ".output/public"),
            NUXT_SSR,
        ),
        _framework(
            "sveltekit",
            "SvelteKit",
            Adapter("static", NPM_INSTALL, "npm run build", "build"),
            SVELTEKIT_SSR,
        ),
        _framework(
            "astro",
            "Astro",
            Adapter("static", NPM_INSTALL, "npm run build", "dist"),
            ASTRO_SSR,
        ),
        _framework(
            "angular",
            "Angular",
            _spa("dist/browser"),
            ANGULAR_SSR,
        ),
        _framework(
            "remix",
            "Remix",
            Adapter("static", NPM_INSTALL, "npm run build", "build/client"),
            REMIX_SSR,
        ),
        _framework(
            "docusaurus", "Docusaurus", Adapter("static", NPM_INSTALL, "npm run build", "build")
        ),
        _framework(
            "vitepress",
            "VitePress",
            Adapter("static", NPM_INSTALL, "npm run docs:build", ".vitepress/dist"),
        ),
        _framework("gatsby", "Gatsby", Adapter("static", NPM_INSTALL, "npm run build", "public")),
        _framework("other", "Other", Adapter("static", "", "", ".")),
    ]
}


class UnknownFramework(ValueError):
    pass


def get_framework(key: str) -> Framework:
    return catalogs.entry(FRAMEWORKS, key, "framework", UnknownFramework)


def catalog() -> list[dict[str, Any]]:
    return [f.as_dict() for f in FRAMEWORKS.values()]


__all__ = [
    "FRAMEWORKS",
    "Adapter",
    "Framework",
    "Keep",
    "Packaging",
    "UnknownFramework",
    "catalog",
    "get_framework",
]
