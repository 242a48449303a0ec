"""The packaged server's checked re-write into server.tar.gz (builds/serverpack.py): from
a tar stream as Docker sends it and from a directory (the local runner); hostile members
are skipped or stop the build; nothing is extracted on the host."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from builds.output import OutputLimits
from builds.runners import BuildJob, BuildSpec, Step
from builds.runners.base import MISSING_EXIT, command_failed
from builds.runners.local import LocalRunner
from builds.serverpack import SERVER_DIR, STATIC_DIR, pack_directory, pack_tar, package_step
from deployments.errors import BuildError, ErrorCode
from sites.frameworks import get_framework


def entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **fields) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = 0o644 if kind == tarfile.REGTYPE else 0o755
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data


def link(name: str, target: str) -> tuple:  # type: ignore[type-arg]
    return entry(name, tarfile.SYMTYPE, linkname=target)


def stream(*entries: tuple, chunk: int = 4096) -> list[bytes]:  # type: ignore[type-arg]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in entries:
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    raw = buffer.getvalue()
    return [raw[i : i + chunk] for i in range(0, len(raw), chunk)]


def pack(tmp_path: Path, *entries: tuple, limits: OutputLimits | None = None):  # type: ignore[no-untyped-def, type-arg]
    said: list[str] = []
    destination = tmp_path / "server.tar.gz"
    packed = pack_tar(
        stream(*entries), "server", destination, limits or OutputLimits(), said.append
    )
    with tarfile.open(destination, "r:gz") as archive:
        members = {m.name: m for m in archive.getmembers()}
    return packed, members, "".join(said)


def test_files_directories_and_inside_links_are_kept_relative_and_owned_by_root(tmp_path):
    packed, members, said = pack(
        tmp_path,
        entry("server", tarfile.DIRTYPE),
        entry("server/build", tarfile.DIRTYPE, uid=10001, uname="builder"),
        entry("server/build/index.js", data=b"console.log(1)", uid=10001, mode=0o4755),
        entry("server/node_modules/pkg/bin.js", data=b"#!/usr/bin/env node", mode=0o755),
        link("server/node_modules/.bin/pkg", "../pkg/bin.js"),
        link("server/current", "build"),  # a link to a directory inside is fine
        entry("server/build/copy.js", tarfile.LNKTYPE, linkname="server/build/index.js"),
    )
    assert said == ""
    assert set(members) == {
        "build",
        "build/index.js",
        "build/copy.js",
        "node_modules/pkg/bin.js",
        "node_modules/.bin/pkg",
        "current",
    }
    assert all(m.uid == 0 and m.gid == 0 and m.uname == "" for m in members.values())
    assert members["build/index.js"].mode == 0o755  # set-uid dropped, executable kept
    assert members["node_modules/.bin/pkg"].linkname == "../pkg/bin.js"
    assert members["build/copy.js"].islnk()
    assert packed.size == (tmp_path / "server.tar.gz").stat().st_size
    # Links come last: nothing is ever extracted through one.
    with tarfile.open(tmp_path / "server.tar.gz", "r:gz") as archive:
        kinds = [m.issym() for m in archive.getmembers()]
    assert kinds == sorted(kinds)


@pytest.mark.parametrize(
    ("hostile", "reason"),
    [
        (entry("server/../escape.js", data=b"x"), "outside the server's directory"),
        (entry("/etc/passwd", data=b"x"), "outside the server's directory"),
        (entry("elsewhere/file.js", data=b"x"), "outside the server's directory"),
        (link("server/out", "../../etc"), "leading outside"),
        (link("server/abs", "/etc/passwd"), "absolute path"),
        (entry("server/dev", tarfile.CHRTYPE, devmajor=1, devminor=3), "a device or a pipe"),
        (entry("server/fifo", tarfile.FIFOTYPE), "a device or a pipe"),
        (entry("server/hard", tarfile.LNKTYPE, linkname="/etc/shadow"), "a hard link"),
    ],
)
def test_hostile_members_are_skipped_with_a_line(tmp_path, hostile, reason):
    _packed, members, said = pack(tmp_path, entry("server/ok.js", data=b"ok"), hostile)
    assert set(members) == {"ok.js"}
    assert "Skipped" in said and reason in said


def test_a_link_that_leaves_through_another_link_is_refused(tmp_path):
    # `up` points at the top, so `a/b/up/..` is above it: lexically `a/b/x` is inside,
    # but the kernel would follow `up` first.
    _packed, members, said = pack(
        tmp_path,
        entry("server/a/b", tarfile.DIRTYPE),
        link("server/a/b/up", "../.."),
        link("server/sneaky", "a/b/up/../x"),
        link("server/loop1", "loop2"),
        link("server/loop2", "loop1"),
    )
    assert "sneaky" not in members
    assert "a/b/up" in members  # `../..` from a/b is the top itself: inside
    assert "loop1" not in members and "a symbolic link in a loop" in said


def test_nothing_is_written_below_a_link(tmp_path):
    _packed, members, said = pack(
        tmp_path,
        entry("server/real", tarfile.DIRTYPE),
        link("server/dir", "real"),
        entry("server/dir/file.js", data=b"through the link"),
    )
    assert "dir/file.js" not in members and "below a link" in said


def test_too_many_entries_stop_the_build(tmp_path):
    entries = [entry(f"server/f{i}.js", data=b"x") for i in range(6)]
    with pytest.raises(BuildError) as caught:
        pack(tmp_path, *entries, limits=OutputLimits(max_files=5))
    assert caught.value.code == ErrorCode.TOO_MANY_OUTPUT_FILES
    assert "SHIPWAY_OUTPUT_MAX_FILES" in caught.value.detail


def test_too_big_stops_at_the_header(tmp_path):
    big = tarfile.TarInfo("server/huge.bin")
    big.size = 10 * 1024**4  # a terabyte, announced: refused before any of it is read

    def chunks():  # type: ignore[no-untyped-def]
        yield big.tobuf(format=tarfile.PAX_FORMAT)
        raise AssertionError("the data was read")

    with pytest.raises(BuildError) as caught:
        pack_tar(chunks(), "server", tmp_path / "s.tar.gz", OutputLimits(), lambda _: None)
    assert caught.value.code == ErrorCode.OUTPUT_FILE_TOO_LARGE

    with pytest.raises(BuildError) as caught:
        pack(
            tmp_path,
            entry("server/a", data=b"x" * 600),
            entry("server/b", data=b"x" * 600),
            limits=OutputLimits(max_bytes=1000, max_file_bytes=800),
        )
    assert caught.value.code == ErrorCode.OUTPUT_TOO_LARGE


def test_a_directory_is_packed_without_following_links(tmp_path):
    root = tmp_path / "server"
    (root / "build").mkdir(parents=True)
    (root / "build" / "index.js").write_text("x")
    outside = tmp_path / "secret.txt"
    outside.write_text("host file")
    os.symlink(outside, root / "abs")
    os.symlink("../secret.txt", root / "rel")
    os.symlink("build/index.js", root / "main.js")
    os.link(root / "build" / "index.js", root / "hard.js")
    said: list[str] = []
    pack_directory(root, tmp_path / "s.tar.gz", OutputLimits(), said.append)
    with tarfile.open(tmp_path / "s.tar.gz", "r:gz") as archive:
        names = {m.name: m for m in archive.getmembers()}
        assert b"host file" not in b"".join(
            archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in names.values()
            if m.isfile()
        )
    assert {"build", "build/index.js", "main.js"} <= set(names)
    assert "abs" not in names and "rel" not in names
    assert names["hard.js"].islnk() or names["build/index.js"].islnk()


def test_package_step_fails_with_the_frameworks_sentence():
    packaging = get_framework("nextjs").adapters["ssr"].packaging
    assert packaging is not None
    step = package_step(packaging, "npm")
    assert step.missing.startswith("Next.js wrote no .next/standalone")
    error = command_failed(step, MISSING_EXIT)
    assert (error.code, error.detail) == (ErrorCode.OUTPUT_MISSING, step.missing)
    assert command_failed(step, 1).code == ErrorCode.COMMAND_FAILED


def test_local_runner_packages_static_assets_and_the_server(tmp_path, settings):
    """The package step of SvelteKit run for real (a fake build's output), through the
    local runner: static at URL paths, the server with build/, package.json, node_modules."""
    settings.SHIPWAY_LOCAL_BUILD_CACHE = tmp_path / "cache"
    source = tmp_path / "source.tar.gz"
    files = {
        "package.json": "{}",
        "src/routes/+page.svelte": "source",
        "build/index.js": "server",
        "build/client/_app/immutable/x.js": "asset",
        "build/client/static.txt": "marker",
        "node_modules/lib/index.js": "lib",
    }
    with tarfile.open(source, "w:gz") as archive:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text)
            archive.addfile(info, io.BytesIO(text.encode()))
    packaging = get_framework("sveltekit").adapters["ssr"].packaging
    assert packaging is not None
    step = package_step(packaging, "yarn")  # no prune: no npm needed on the host
    spec = BuildSpec(
        site_id="s1",
        deployment_id="d1",
        runtime="node-22",
        image="unused",
        steps=[Step("build", "true"), step],
        workdir="",
        output_directory=STATIC_DIR,
        timeout=30.0,
        server_directory=SERVER_DIR,
    )
    output: list[str] = []
    job = BuildJob(
        spec, source, tmp_path / "out", output.append, lambda: False, tmp_path / "s.tar.gz"
    )
    result = LocalRunner().run(job)
    assert result.server == tmp_path / "s.tar.gz"
    static = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")}
    assert {"static.txt", "_app/immutable/x.js"} <= static
    with tarfile.open(result.server, "r:gz") as archive:
        names = set(archive.getnames())
    assert {"build/index.js", "build/client/static.txt", "package.json"} <= names
    assert "node_modules/lib/index.js" in names
    assert not any(n.startswith("src") for n in names)
