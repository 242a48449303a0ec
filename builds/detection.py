"""Framework detection for sites whose framework is `auto`: read the source tree, not
guess. Looks at package.json dependencies and scripts, config files, lock files and a
root index.html; and, for frameworks that can render on a server, whether this app does
(the `ssr` adapter) or is exported as files (`static`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

# Checked in order: the first framework whose dependency is present wins (meta-frameworks
# before the libraries they are built on).
_BY_DEPENDENCY: list[tuple[str, str]] = [
    ("next", "nextjs"),
    ("nuxt", "nuxt"),
    ("@sveltejs/kit", "sveltekit"),
    ("astro", "astro"),
    ("@angular/core", "angular"),
    ("@remix-run/react", "remix"),
    ("@react-router/dev", "remix"),
    ("@docusaurus/core", "docusaurus"),
    ("vitepress", "vitepress"),
    ("gatsby", "gatsby"),
    ("react", "react"),
    ("vue", "vue"),
    ("svelte", "svelte"),
    ("vite", "vite"),
]
_BY_CONFIG_FILE: list[tuple[str, str]] = [
    ("next.config.js", "nextjs"),
    ("next.config.mjs", "nextjs"),
    ("nuxt.config.ts", "nuxt"),
    ("svelte.config.js", "sveltekit"),
    ("astro.config.mjs", "astro"),
    ("angular.json", "angular"),
    ("remix.config.js", "remix"),
    ("react-router.config.ts", "remix"),
    ("docusaurus.config.js", "docusaurus"),
    ("gatsby-config.js", "gatsby"),
    ("vite.config.js", "vite"),
    ("vite.config.ts", "vite"),
]
# Lock file -> the package manager's install command.
_LOCK_FILES: list[tuple[str, str, str]] = [
    ("pnpm-lock.yaml", "pnpm", "corepack enable pnpm && pnpm install --frozen-lockfile"),
    ("yarn.lock", "yarn", "corepack enable yarn && yarn install --frozen-lockfile"),
    ("bun.lockb", "bun", "npx --yes bun install"),
    ("package-lock.json", "npm", "npm ci"),
]


@dataclass(frozen=True)
class Detection:
    framework: str
    package_manager: str  # "npm", "yarn", "pnpm", "bun" or "" (no package.json)
    install_command: str
    lock_file: str
    reason: str
    adapter: str = "static"  # "ssr" when the app renders on a server
    adapter_reason: str = ""  # why, for the build log ("" for a plain static site)


def detect(root: Path) -> Detection:
    """What the source at `root` is, and how to install its packages."""
    manager, install, lock = _package_manager(root)
    package = _read_package_json(root)
    if package is None and (root / "package.json").exists():
        # Let the package manager's own error say what is wrong with it.
        return Detection("other", manager, install, lock, "package.json is not valid JSON")
    if package is not None:
        deps = {**package.get("devDependencies", {}), **package.get("dependencies", {})}
        for dependency, framework in _BY_DEPENDENCY:
            if dependency in deps:
                reason = f"package.json depends on '{dependency}'"
                adapter, why = detect_adapter(root, framework, package)
                return Detection(framework, manager, install, lock, reason, adapter, why)
    for filename, framework in _BY_CONFIG_FILE:
        if (root / filename).is_file():
            adapter, why = detect_adapter(root, framework, package or {})
            reason = f"found {filename}"
            return Detection(framework, manager, install, lock, reason, adapter, why)
    if package is not None:
        has_build = "build" in package.get("scripts", {})
        reason = "package.json with a build script" if has_build else "package.json"
        return Detection("other", manager, install, lock, reason)
    if (root / "index.html").is_file():
        return Detection("static", "", "", "", "found index.html at the root")
    return Detection("other", "", "", "", "nothing recognisable; building as 'other'")


_NEXT_CONFIGS = ("next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs")
_REACT_ROUTER_CONFIGS = ("react-router.config.ts", "react-router.config.js")
_CONFIG_MAX_BYTES = 256 * 1024  # a config file is read whole; a bigger one is not a config
_NEXT_EXPORT = re.compile(r"""output\s*:\s*['"`]export['"`]""")
_SSR_OFF = re.compile(r"""\bssr\s*:\s*false\b""")


def detect_adapter(root: Path, framework: str, package: dict) -> tuple[str, str]:
    """("ssr" or "static", why) for a detected framework, from its config: Next.js unless
    `output: 'export'`; SvelteKit with @sveltejs/adapter-node; Astro with @astrojs/node;
    Nuxt unless its build script is `nuxt generate`; React Router unless `ssr: false`."""
    deps = {**package.get("devDependencies", {}), **package.get("dependencies", {})}
    if framework == "nextjs":
        config = next((name for name in _NEXT_CONFIGS if (root / name).is_file()), None)
        if config is None:
            return "ssr", "no next.config, so no output: 'export'"
        if _NEXT_EXPORT.search(_read_config(root / config)):
            return "static", f"{config} has output: 'export'"
        return "ssr", f"{config} has no output: 'export'"
    if framework == "sveltekit" and "@sveltejs/adapter-node" in deps:
        return "ssr", "package.json depends on '@sveltejs/adapter-node'"
    if framework == "astro" and "@astrojs/node" in deps:
        return "ssr", "package.json depends on '@astrojs/node'"
    if framework == "nuxt":
        build = str(package.get("scripts", {}).get("build", ""))
        if "nuxt generate" in build:
            return "static", "its build script is `nuxt generate`"
        return "ssr", "its build script is not `nuxt generate`"
    if framework == "remix":
        config = next((name for name in _REACT_ROUTER_CONFIGS if (root / name).is_file()), None)
        if config and _SSR_OFF.search(_read_config(root / config)):
            return "static", f"{config} has ssr: false"
        return "ssr", f"{config} does not turn ssr off" if config else "ssr is on by default"
    return "static", ""


def _read_config(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(_CONFIG_MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def _package_manager(root: Path) -> tuple[str, str, str]:
    for filename, manager, install in _LOCK_FILES:
        if (root / filename).is_file():
            return manager, install, filename
    if (root / "package.json").is_file():
        return "npm", "npm install", ""
    return "", "", ""


def _read_package_json(root: Path) -> dict | None:
    path = root / "package.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
