"""Framework detection for sites whose framework is `auto`: read the source tree, not
guess. Looks at package.json dependencies and scripts, config files, lock files and a
root index.html."""

from __future__ import annotations

import json
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
                return Detection(framework, manager, install, lock, reason)
    for filename, framework in _BY_CONFIG_FILE:
        if (root / filename).is_file():
            return Detection(framework, manager, install, lock, f"found {filename}")
    if package is not None:
        has_build = "build" in package.get("scripts", {})
        reason = "package.json with a build script" if has_build else "package.json"
        return Detection("other", manager, install, lock, reason)
    if (root / "index.html").is_file():
        return Detection("static", "", "", "", "found index.html at the root")
    return Detection("other", "", "", "", "nothing recognisable; building as 'other'")


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
