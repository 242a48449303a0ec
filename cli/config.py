"""Where the command finds its platform, key and site.

`shipway login` stores the platform's URL and an API key in the user's config directory
(a file only its owner can read); `shipway link` writes `.shipway/project.json` in a
project directory. `SHIPWAY_URL`, `SHIPWAY_TOKEN` and `SHIPWAY_SITE` take precedence
over both, for CI.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from cli.errors import NotAuthenticated, UsageError

PROJECT_DIR = ".shipway"
PROJECT_FILE = "project.json"
DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str


def config_dir() -> Path:
    """The user's config directory (`SHIPWAY_CONFIG_DIR` overrides it)."""
    override = os.environ.get("SHIPWAY_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("shipway"))


def config_path() -> Path:
    return config_dir() / "config.json"


def _stored() -> dict[str, str]:
    try:
        data = json.loads(config_path().read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def platform_url() -> str:
    """The platform's base URL, without a trailing slash."""
    url = os.environ.get("SHIPWAY_URL") or _stored().get("url") or DEFAULT_URL
    return url.rstrip("/")


def credentials() -> Credentials:
    """The URL and key to use; NotAuthenticated when there is no key."""
    token = os.environ.get("SHIPWAY_TOKEN") or _stored().get("token")
    if not token:
        raise NotAuthenticated("Not logged in: run `shipway login` or set SHIPWAY_TOKEN.")
    return Credentials(url=platform_url(), token=token)


def save_credentials(creds: Credentials) -> Path:
    """Store the URL and key in a file readable by its owner only (0600)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({"url": creds.url, "token": creds.token}, file, indent=2)
        file.write("\n")
    os.chmod(path, 0o600)  # an older file keeps its mode through O_CREAT
    return path


def project_file(start: Path | None = None) -> Path | None:
    """`.shipway/project.json` in `start` (the current directory) or one above it."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / PROJECT_DIR / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def linked_site(start: Path | None = None) -> str | None:
    found = project_file(start)
    if found is None:
        return None
    try:
        data = json.loads(found.read_text())
    except (OSError, ValueError):
        return None
    site = data.get("siteId") if isinstance(data, dict) else None
    return site if isinstance(site, str) and site else None


def site_id(explicit: str | None = None, start: Path | None = None) -> str:
    """The site to act on: `--site`, then SHIPWAY_SITE, then the linked project."""
    site = explicit or os.environ.get("SHIPWAY_SITE") or linked_site(start)
    if not site:
        raise UsageError(
            "No site: pass --site SITE, set SHIPWAY_SITE, or run `shipway link SITE` here."
        )
    return site


def link(site: str, directory: Path | None = None) -> Path:
    """Write `.shipway/project.json` naming the site in `directory` (the current one)."""
    target = (directory or Path.cwd()) / PROJECT_DIR
    target.mkdir(exist_ok=True)
    path = target / PROJECT_FILE
    path.write_text(json.dumps({"siteId": site}, indent=2) + "\n")
    return path
