"""Sources from git: check the repository address, fetch one reference, pack the tree.

The fetch runs in the worker (the deployment's log shows it), with real git, no
prompts, no system or user git configuration, a depth of one and a time limit; the tree
then goes through the same intake as an upload.
"""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from deployments import intake
from deployments.errors import BuildError, ErrorCode

REFERENCE_TYPES = ("branch", "commit", "tag")
_REFERENCE = re.compile(r"^[A-Za-z0-9._/+-]{1,255}$")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
FETCH_TIMEOUT = 300


class RepositoryRejected(ValueError):
    """The repository or reference is refused; the message names the field and why."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Fetched:
    source: intake.Source
    commit_hash: str
    commit_message: str


def check(repository: str, reference: str, reference_type: str) -> None:
    """Refuse addresses and references git could misread or that reach the host."""
    parts = urlsplit(repository)
    allowed = {"https", "http"} | ({"file"} if settings.SHIPWAY_VCS_ALLOW_LOCAL else set())
    if (
        parts.scheme not in allowed
        or repository.startswith("-")
        or any(c.isspace() or ord(c) < 32 for c in repository)
    ):
        schemes = " or ".join(sorted(f"{s}://" for s in allowed))
        raise RepositoryRejected("repository", f"Use a {schemes} address of a git repository.")
    if parts.scheme != "file" and not parts.hostname:
        raise RepositoryRejected("repository", "The address has no host.")
    if reference_type not in REFERENCE_TYPES:
        raise RepositoryRejected("type", "Use 'branch', 'commit' or 'tag'.")
    if reference_type == "commit" and not _COMMIT.match(reference):
        raise RepositoryRejected("reference", "A commit is 7 to 40 lowercase hex digits.")
    if (
        not _REFERENCE.match(reference)
        or reference.startswith(("-", "/"))
        or ".." in reference
        or reference.endswith((".lock", "/"))
    ):
        raise RepositoryRejected("reference", "That is not a valid git branch or tag name.")


def split_credentials(repository: str) -> tuple[str, str]:
    """(the address without credentials, the `user:token` it carried or "")."""
    parts = urlsplit(repository)
    if not (parts.password or parts.username):
        return repository, ""
    userinfo, _, hostport = parts.netloc.rpartition("@")
    return parts._replace(netloc=hostport).geturl(), userinfo


def with_credentials(repository: str, userinfo: str) -> str:
    """The address with `userinfo` (from split_credentials) put back."""
    if not userinfo:
        return repository
    parts = urlsplit(repository)
    return parts._replace(netloc=f"{userinfo}@{parts.netloc}").geturl()


def fetch(repository: str, reference: str, reference_type: str, root_directory: str) -> Fetched:
    """Fetch the reference (depth 1) and return its tree as a checked source archive."""
    check(repository, reference, reference_type)
    with tempfile.TemporaryDirectory(prefix="shipway-git-") as work:
        tree = Path(work) / "tree"
        tree.mkdir()
        refspec = {
            "branch": f"refs/heads/{reference}",
            "tag": f"refs/tags/{reference}",
            "commit": reference,
        }[reference_type]
        _git(tree, "init", "--quiet")
        _git(tree, "fetch", "--depth", "1", "--no-tags", "--quiet", "--", repository, refspec)
        _git(tree, "checkout", "--quiet", "--detach", "FETCH_HEAD")
        commit = _git(tree, "rev-parse", "HEAD").strip()
        message = _git(tree, "log", "-1", "--format=%B").strip()
        archive = Path(work) / "source.tar.gz"
        with tarfile.open(archive, "w:gz") as packed:
            for entry in sorted(tree.iterdir()):
                if entry.name != ".git":
                    packed.add(entry, arcname=entry.name)
        with open(archive, "rb") as handle:
            try:
                source = intake.check_and_repack(handle, root_directory=root_directory)
            except intake.ArchiveRejected as exc:
                raise BuildError(ErrorCode.SOURCE_INVALID, str(exc)) from None
    return Fetched(source, commit, message[:2000])


def _git(cwd: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_ALLOW_PROTOCOL": "https:http" + (":file" if settings.SHIPWAY_VCS_ALLOW_LOCAL else ""),
    }
    for name in ("SSL_CERT_FILE", "GIT_SSL_CAINFO"):
        if name in os.environ:
            env[name] = os.environ[name]
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=FETCH_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BuildError(
            ErrorCode.SOURCE_INVALID, f"git {args[0]} took longer than {FETCH_TIMEOUT} s."
        ) from None
    if done.returncode != 0:
        error = (done.stderr or done.stdout).strip().splitlines()
        raise BuildError(
            ErrorCode.SOURCE_INVALID,
            f"git {args[0]} failed: {error[-1] if error else 'exit ' + str(done.returncode)}",
        )
    return done.stdout
