"""The framework catalog: what Shipway knows how to build, with each adapter's defaults.

`static` adapters publish the output directory as files; `ssr` adapters (where the
framework can render on a server) are listed so the catalog matches the reference
platform's, with the output their server build leaves.
"""

from dataclasses import dataclass, field
from typing import Any

from core import catalogs


@dataclass(frozen=True)
class Adapter:
    key: str  # "static" or "ssr"
    install_command: str
    build_command: str
    output_directory: str
    fallback_file: str = ""


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
            Adapter("ssr", NPM_INSTALL, "npm run build", ".next"),
        ),
        _framework(
            "nuxt",
            "Nuxt",
            Adapter("static", NPM_INSTALL, "npm run generate", ".output/public"),
            Adapter("ssr", NPM_INSTALL, "npm run build", ".output"),
        ),
        _framework(
            "sveltekit",
            "SvelteKit",
            Adapter("static", NPM_INSTALL, "npm run build", "build"),
            Adapter("ssr", NPM_INSTALL, "npm run build", "build"),
        ),
        _framework(
            "astro",
            "Astro",
            Adapter("static", NPM_INSTALL, "npm run build", "dist"),
            Adapter("ssr", NPM_INSTALL, "npm run build", "dist"),
        ),
        _framework(
            "angular",
            "Angular",
            _spa("dist/browser"),
            Adapter("ssr", NPM_INSTALL, "npm run build", "dist"),
        ),
        _framework(
            "remix",
            "Remix",
            Adapter("static", NPM_INSTALL, "npm run build", "build/client"),
            Adapter("ssr", NPM_INSTALL, "npm run build", "build"),
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


__all__ = ["FRAMEWORKS", "Adapter", "Framework", "UnknownFramework", "catalog", "get_framework"]
