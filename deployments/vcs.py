"""Sources from git: check the repository address, fetch one reference, pack the tree.

The address is a user's choice of where the platform connects, so it goes through
`core.outbound` twice: when the API accepts it and again in the worker just before
the fetch (a name can resolve elsewhere by then), and git connects only to the
addresses that second check returned. The fetch runs with real git, no prompts, no
system or user configuration, no redirects, no proxy, a depth of one, a time limit and
a size limit; its tree then goes through the same intake as an upload. git's own error
text goes to the server's log only: in the build log it would tell a user what answers
on any host and port (a port scanner), so the build log says one sentence per kind of
failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

import structlog
from django.conf import settings

from core import outbound
from deployments import intake
from deployments.errors import BuildError, ErrorCode

log = structlog.get_logger(__name__)

REFERENCE_TYPES = ("branch", "commit", "tag")
_REFERENCE = re.compile(r"^[A-Za-z0-9._/+-]{1,255}$")
_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
FETCH_TIMEOUT = 300
WATCH_EVERY = 0.25  # seconds between two looks at a running git's size and clock
_OUTPUT_CAP = 1024 * 1024  # bytes of git's stdout or stderr read back


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


def check(repository: str, reference: str, reference_type: str) -> outbound.ResolvedTarget | None:
    """Refuse addresses and references git could misread, and hosts the platform may not
    connect to. Returns the checked host and addresses (None for a file:// address)."""
    _check_address(repository)
    check_reference(reference, reference_type)
    if urlsplit(repository).scheme == "file":
        return None
    try:
        return outbound.check_url(repository, subject="The repository", verb="fetch from")
    except outbound.OutboundRefused as exc:
        raise RepositoryRejected("repository", str(exc)) from None


def _check_address(repository: str) -> None:
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


def check_reference(reference: str, reference_type: str) -> None:
    if reference_type not in REFERENCE_TYPES:
        raise RepositoryRejected("type", "Use 'branch', 'commit' or 'tag'.")
    if reference_type == "commit" and not _COMMIT.match(reference):
        raise RepositoryRejected("reference", "A commit is 7 to 64 lowercase hex digits.")
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


def fetch(
    repository: str,
    reference: str,
    reference_type: str,
    root_directory: str,
    within: Path | None = None,
) -> Fetched:
    """Fetch the reference (depth 1) and return its tree as a checked source archive.
    The work happens in a temporary directory (inside `within`, a build's own, if given)."""
    try:
        target = check(repository, reference, reference_type)  # again: DNS may have moved
    except RepositoryRejected as exc:
        raise BuildError(ErrorCode.SOURCE_REFUSED, str(exc)) from None
    git = _Git(_options(target), _secrets(repository))
    fetch_limit = settings.SHIPWAY_VCS_MAX_FETCH_SIZE
    with tempfile.TemporaryDirectory(prefix="shipway-git-", dir=within) as work:
        tree = Path(work) / "tree"
        tree.mkdir()
        refspec = {
            "branch": f"refs/heads/{reference}",
            "tag": f"refs/tags/{reference}",
            "commit": reference,
        }[reference_type]
        git(tree, "init", "--quiet")
        fetch_args = ("--depth", "1", "--no-tags", "--quiet", "--", repository, refspec)
        git(tree, "fetch", *fetch_args, watch=tree / ".git", limit=fetch_limit)
        # A small pack can check out huge (zeros compress well): the tree is capped too.
        checkout_limit = fetch_limit + settings.SHIPWAY_MAX_UNPACKED_SIZE
        git(tree, "checkout", "--quiet", "--detach", "FETCH_HEAD", watch=tree, limit=checkout_limit)
        commit = git(tree, "rev-parse", "HEAD").strip()
        message = git(tree, "log", "-1", "--format=%B").strip()
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


def _options(target: outbound.ResolvedTarget | None) -> tuple[str, ...]:
    """git's `-c` options: everything the fetch may do, and nothing more."""
    pairs = [
        ("http.followRedirects", "false"),  # a redirect's target was never checked
        ("protocol.allow", "never"),  # only the protocols below, submodules included
        ("protocol.https.allow", "always"),
        ("protocol.http.allow", "always"),
        ("http.proxy", ""),  # direct: a proxy would resolve the name itself, unchecked
        ("credential.helper", ""),  # only the credentials in the address
        ("fetch.recurseSubmodules", "false"),
        ("submodule.recurse", "false"),
    ]
    if settings.SHIPWAY_VCS_ALLOW_LOCAL:
        pairs.append(("protocol.file.allow", "always"))
    if target is not None and not target.is_literal:
        # curl connects to the addresses the check saw instead of resolving the name
        # again; TLS (SNI, the certificate's name) and the Host header keep the name.
        addresses = ",".join(f"[{a}]" if a.version == 6 else str(a) for a in target.addresses)
        pairs.append(("http.curloptResolve", f"{target.host}:{target.port}:{addresses}"))
    return tuple(arg for name, value in pairs for arg in ("-c", f"{name}={value}"))


def _secrets(repository: str) -> tuple[str, ...]:
    """The parts of the address's credentials to mask in what is logged, longest first."""
    _, userinfo = split_credentials(repository)
    if not userinfo:
        return ()
    parts = {userinfo, *userinfo.split(":", 1)}
    parts |= {unquote(p) for p in parts}
    return tuple(sorted((p for p in parts if len(p) >= 4), key=len, reverse=True))


# -- Running git ----------------------------------------------------------------------

_CONNECT = "Shipway could not connect to the repository's host."
_TLS = "Shipway could not make a trusted TLS connection to the repository's host."
_NOT_FOUND = "The repository, or the reference in it, was not found."
_AUTH = "The repository asks for credentials, or refused the ones in the address."
_REDIRECT = (
    "The repository's address answers with a redirect, which Shipway does not follow; "
    "use the address it redirects to."
)
_OTHER_FETCH = "git could not fetch from the repository's host."

# What git or curl says (lower case) -> the sentence the build log shows instead, in
# the order they are tried.
_FETCH_FAILURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("returned error: 30",), _REDIRECT),
    (
        (
            "returned error: 401",
            "returned error: 403",
            "authentication failed",
            "could not read username",
            "could not read password",
        ),
        _AUTH,
    ),
    (
        (
            "not found",
            "returned error: 404",
            "couldn't find remote ref",
            "not our ref",
            "unadvertised object",
        ),
        _NOT_FOUND,
    ),
    (("ssl", "tls", "certificate"), _TLS),
    (
        (
            "failed to connect",
            "couldn't connect",
            "could not resolve",
            "connection refused",
            "connection reset",
            "timed out",
            "empty reply",
            "recv failure",
            "send failure",
        ),
        _CONNECT,
    ),
)


def _sentence(command: str, stderr: str) -> str:
    """What the build log says when `git command` failed with `stderr`."""
    if command == "fetch":
        said = stderr.lower()
        for phrases, sentence in _FETCH_FAILURES:
            if any(phrase in said for phrase in phrases):
                return sentence
        return _OTHER_FETCH
    if command == "checkout":
        return "git could not check out the fetched commit."
    return f"git {command} failed."


class _TooLarge(Exception):
    pass


class _TimedOut(Exception):
    pass


@dataclass(frozen=True)
class _Git:
    """git with the fetch's options; its failures become BuildErrors with fixed sentences."""

    options: tuple[str, ...]
    secrets: tuple[str, ...]

    def __call__(self, cwd: Path, *args: str, watch: Path | None = None, limit: int = 0) -> str:
        command = args[0]
        try:
            code, stdout, stderr = _run(
                ["git", *self.options, *args],
                cwd,
                _environment(cwd),
                watch=watch or cwd,
                limit=limit,
                timeout=FETCH_TIMEOUT,
            )
        except _TooLarge:
            raise BuildError(
                ErrorCode.SOURCE_TOO_LARGE,
                f"git {command} passed {_mib(limit)}, this server's limit for a git source, "
                "and was stopped.",
            ) from None
        except _TimedOut:
            raise BuildError(
                ErrorCode.SOURCE_INVALID,
                f"git {command} took longer than {FETCH_TIMEOUT} s and was stopped.",
            ) from None
        if code != 0:
            said = self._mask(stderr or stdout).strip()
            # git's words, for the operator: the server's log, never the build log.
            log.warning("vcs.git_failed", command=command, exit_code=code, stderr=said[-4000:])
            raise BuildError(ErrorCode.SOURCE_INVALID, _sentence(command, said))
        return stdout

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def _environment(cwd: Path) -> dict[str, str]:
    """git's whole environment: none of the worker's own, so no proxy variables either."""
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
    return env


def _run(
    argv: list[str], cwd: Path, env: dict[str, str], *, watch: Path, limit: int, timeout: float
) -> tuple[int, str, str]:
    """Run a command while watching its clock and, with a `limit`, the size of `watch`;
    kill it (and what it started) when either runs over. Output goes to files, so a
    chatty command cannot block on a full pipe while we watch it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        pause = WATCH_EVERY
        try:
            while not _finished(process, pause):
                if time.monotonic() > deadline:
                    raise _TimedOut
                if limit:
                    started = time.monotonic()
                    if _size(watch) > limit:
                        raise _TooLarge
                    # A big tree takes a while to measure: look less often than it takes.
                    pause = max(WATCH_EVERY, 4 * (time.monotonic() - started))
        finally:
            if process.returncode is None:
                _kill(process)
        if limit and _size(watch) > limit:  # it went over and ended between two looks
            raise _TooLarge
        return process.returncode, _read(out), _read(err)


def _finished(process: subprocess.Popen[bytes], pause: float) -> bool:
    try:
        process.wait(timeout=pause)
    except subprocess.TimeoutExpired:
        return False
    return True


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill git and its helpers (git-remote-http, index-pack): its whole session."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read(_OUTPUT_CAP).decode(errors="replace")


def _size(path: Path) -> int:
    """The bytes of the files under `path` (files may come and go while we count)."""
    total = 0
    for directory, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
    return total


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"
