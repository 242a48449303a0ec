"""The bundle's re-pack both schedulers give an engine: plain files, directories and
links only, root's, no set-id bits, nothing outside its directory; under a prefix for
an image's build context."""

from __future__ import annotations

import io
import tarfile

import pytest

from runtime.schedulers.bundles import sanitized


def _bundle() -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, mode in (("./server.js", 0o4755), ("../escape.js", 0o644), ("lib/a.js", 0o600)):
            data = b"x"
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid, info.uname = len(data), mode, 1000, "someone"
            archive.addfile(info, io.BytesIO(data))
        device = tarfile.TarInfo("null")
        device.type = tarfile.CHRTYPE
        archive.addfile(device)
        link = tarfile.TarInfo("current")
        link.type, link.linkname = tarfile.SYMTYPE, "lib"
        archive.addfile(link)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("prefix", ["", "app/"])
def test_the_repack_keeps_plain_files_owned_by_root_under_the_prefix(prefix):
    target = io.BytesIO()
    sanitized(_bundle(), target, prefix=prefix)
    target.seek(0)
    with tarfile.open(fileobj=target) as archive:
        members = {m.name: m for m in archive.getmembers()}
    expected = {f"{prefix}server.js", f"{prefix}lib/a.js", f"{prefix}current"}
    assert set(members) == (expected | {"app"} if prefix else expected)
    for member in members.values():
        assert (member.uid, member.gid, member.uname) == (0, 0, "")
    assert members[f"{prefix}server.js"].mode == 0o755  # executable, no set-uid
    assert members[f"{prefix}lib/a.js"].mode == 0o644  # readable by the server's user
    assert members[f"{prefix}current"].issym()
