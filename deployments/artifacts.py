"""Where deployments' files live: Django's "artifacts" storage (filesystem or S3)."""

import shutil

import structlog
from django.core.files.storage import FileSystemStorage, Storage, storages

log = structlog.get_logger(__name__)

# Under sites/{siteId}/deployments/{deploymentId}/ (docs/architecture.md, "Storage layout"):
SOURCE_FILE = "source.tar.gz"
OUTPUT_DIR = "output"
OUTPUT_ARCHIVE = "output.tar.gz"
MANIFEST_FILE = "manifest.json"
LOG_FILE = "build.log"


def artifacts() -> Storage:
    return storages["artifacts"]


def delete_prefix(prefix: str) -> int:
    """Delete every stored file under `prefix`; returns how many were deleted."""
    storage = artifacts()
    count = _delete_files(storage, prefix)
    if isinstance(storage, FileSystemStorage):  # leave no empty directories behind
        shutil.rmtree(storage.path(prefix), ignore_errors=True)
    log.info("storage.prefix_deleted", prefix=prefix, files=count)
    return count


def _delete_files(storage: Storage, prefix: str) -> int:
    try:
        directories, files = storage.listdir(prefix)
    except FileNotFoundError:
        return 0
    for name in files:
        storage.delete(f"{prefix}/{name}")
    return len(files) + sum(_delete_files(storage, f"{prefix}/{d}") for d in directories)
