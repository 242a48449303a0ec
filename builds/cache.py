"""A site's build cache: a Docker volume (DockerRunner) or a directory (LocalRunner),
named by the site's server-made identity, removed when the site is deleted."""

from __future__ import annotations

import shutil
from pathlib import Path

import docker
import requests
import structlog
from django.conf import settings
from docker.errors import DockerException, NotFound

from builds.runners.docker import cache_volume_name

log = structlog.get_logger(__name__)


def remove_build_cache(cache_id: str) -> None:
    """Remove the cache of `cache_id` wherever it exists; nothing when there is none."""
    shutil.rmtree(Path(settings.SHIPWAY_LOCAL_BUILD_CACHE) / cache_id, ignore_errors=True)
    try:
        docker.from_env(timeout=60).volumes.get(cache_volume_name(cache_id)).remove(force=True)
    except NotFound:
        pass
    except (DockerException, requests.RequestException):
        log.warning("build_cache.not_removed", cache_id=cache_id, exc_info=True)
        raise
    log.info("build_cache.removed", cache_id=cache_id)
