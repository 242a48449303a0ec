"""Pack a project directory as a .tar.gz for upload.

Files matched by `.gitignore` or `.shipwayignore` (in the directory or any folder under
it, with git's rules: a deeper file's patterns win, `!` re-includes) are left out, and so
are `.git` and `.shipway`, always.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pathspec

IGNORE_FILES = (".gitignore", ".shipwayignore")
NEVER = frozenset({".git", ".shipway"})


@dataclass(frozen=True)
class _Rules:
    base: PurePosixPath  # the folder the ignore file is in, relative to the root
    spec: pathspec.GitIgnoreSpec


def _rules_in(root: Path, relative: PurePosixPath) -> list[_Rules]:
    lines: list[str] = []
    for name in IGNORE_FILES:
        path = root / relative / name
        if path.is_file():
            lines += path.read_text(errors="replace").splitlines()
    if not lines:
        return []
    return [_Rules(relative, pathspec.GitIgnoreSpec.from_lines(lines))]


def _ignored(rules: list[_Rules], path: PurePosixPath, is_dir: bool) -> bool:
    """Whether git would ignore `path` (relative to the root): the deepest rules that say
    anything about it decide."""
    verdict = False
    for rule in rules:
        relative = path.relative_to(rule.base).as_posix() + ("/" if is_dir else "")
        result = rule.spec.check_file(relative)
        if result.include is not None:
            verdict = result.include
    return verdict


def files_to_pack(root: Path) -> list[PurePosixPath]:
    """The files (and symlinks) that go into the archive, relative to `root`, sorted."""
    root = root.resolve()
    chosen: list[PurePosixPath] = []
    rules_of: dict[PurePosixPath, list[_Rules]] = {}
    for current, dirs, files in os.walk(root):
        here = PurePosixPath(Path(current).relative_to(root).as_posix())
        inherited = rules_of.get(here.parent, []) if here != PurePosixPath(".") else []
        rules = inherited + _rules_in(root, here)
        rules_of[here] = rules
        kept_dirs = []
        for name in sorted(dirs):
            path = here / name
            if name in NEVER or _ignored(rules, path, is_dir=True):
                continue
            if (Path(current) / name).is_symlink():  # packed as a link, not followed
                chosen.append(path)
                continue
            kept_dirs.append(name)
        dirs[:] = kept_dirs
        for name in sorted(files):
            path = here / name
            if name in NEVER or _ignored(rules, path, is_dir=False):
                continue
            chosen.append(path)
    return sorted(chosen)


def pack(root: Path) -> Path:
    """Write the directory's files to a temporary .tar.gz and return its path; the caller
    removes it."""
    files = files_to_pack(root)
    descriptor, name = tempfile.mkstemp(prefix="shipway-", suffix=".tar.gz")
    os.close(descriptor)
    with tarfile.open(name, "w:gz") as archive:
        for path in files:
            archive.add(root / path, arcname=path.as_posix(), recursive=False)
    return Path(name)
