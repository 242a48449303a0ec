"""The copy of a build's output out of the build (builds/output.py): from a tar stream as
Docker sends it, and from a directory on this host. Only files and directories land;
links become copies or are skipped with a line; limits are checked from headers."""

import io
import os
import tarfile
from pathlib import Path

import pytest

from builds.output import MAX_NOTES, OutputLimits, copy_directory, copy_tar, describe_size
from deployments.errors import BuildError, ErrorCode


def entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **fields) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data


def tar_stream(*entries: tuple, chunk: int = 4096) -> list[bytes]:  # type: ignore[type-arg]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in entries:
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    raw = buffer.getvalue()
    return [raw[i : i + chunk] for i in range(0, len(raw), chunk)]


def copy(chunks, tmp_path: Path, limits: OutputLimits | None = None) -> tuple[Path, str]:  # type: ignore[no-untyped-def]
    said: list[str] = []
    destination = tmp_path / "copied"
    copy_tar(chunks, "out", destination, limits or OutputLimits(), said.append, "out")
    return destination, "".join(said)


def tree(root: Path) -> dict[str, str]:
    """Every entry under root: "dir" for directories, the text of regular files; anything
    else would show as "OTHER"."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[relative] = "OTHER"
        elif path.is_dir():
            found[relative] = "dir"
        elif path.is_file():
            found[relative] = path.read_text()
        else:
            found[relative] = "OTHER"
    return found


HOSTILE = (
    entry("out", tarfile.DIRTYPE),
    entry("out/index.html", data=b"hi"),
    entry("out/sub", tarfile.DIRTYPE),
    entry("out/sub/page.html", data=b"page"),
    entry("out/root", tarfile.SYMTYPE, linkname="/"),
    entry("out/up", tarfile.SYMTYPE, linkname="../.."),
    entry("out/passwd", tarfile.SYMTYPE, linkname="/etc/passwd"),
    entry("out/sub/etc", tarfile.SYMTYPE, linkname="../../../etc"),
    entry("out/folder", tarfile.SYMTYPE, linkname="sub"),
    entry("out/self", tarfile.SYMTYPE, linkname="."),
    entry("out/same.html", tarfile.SYMTYPE, linkname="index.html"),
    entry("out/sub/home.html", tarfile.SYMTYPE, linkname="../index.html"),
    entry("out/chain.html", tarfile.SYMTYPE, linkname="same.html"),
    entry("out/through.html", tarfile.SYMTYPE, linkname="folder/page.html"),
    # sub/parent is the output itself, so its ".." is the directory above the output.
    entry("out/sub/parent", tarfile.SYMTYPE, linkname=".."),
    entry("out/escape", tarfile.SYMTYPE, linkname="sub/parent/../sub/page.html"),
    entry("out/escape2", tarfile.SYMTYPE, linkname="up/etc/passwd"),
    entry("out/dangling", tarfile.SYMTYPE, linkname="missing.html"),
    entry("out/loop-a", tarfile.SYMTYPE, linkname="loop-b"),
    entry("out/loop-b", tarfile.SYMTYPE, linkname="loop-a"),
    entry("out/hard.html", tarfile.LNKTYPE, linkname="out/index.html"),
    entry("out/hard-out", tarfile.LNKTYPE, linkname="etc/shadow"),
    entry("out/fifo", tarfile.FIFOTYPE),
    entry("out/device", tarfile.CHRTYPE, devmajor=1, devminor=3),
)


def test_links_become_copies_inside_the_output_and_are_skipped_otherwise(tmp_path):
    destination, said = copy(tar_stream(*HOSTILE), tmp_path)
    assert tree(destination) == {
        "chain.html": "hi",
        "hard.html": "hi",
        "index.html": "hi",
        "same.html": "hi",
        "sub": "dir",
        "sub/home.html": "hi",
        "sub/page.html": "page",
        "through.html": "page",
    }
    for line in [
        "Skipped out/root: a symbolic link leading outside the output (/)",
        "Skipped out/up: a symbolic link leading outside the output (../..)",
        "Skipped out/passwd: a symbolic link leading outside the output (/etc/passwd)",
        "Skipped out/sub/etc: a symbolic link leading outside the output (../../../etc)",
        "Skipped out/escape: a symbolic link leading outside the output (sub/parent/../sub/",
        "Skipped out/escape2: a symbolic link leading outside the output (up/etc/passwd)",
        "Skipped out/folder: a symbolic link to a directory (sub)",
        "Skipped out/self: a symbolic link to a directory (.)",
        "Skipped out/sub/parent: a symbolic link to a directory (..)",
        "Skipped out/dangling: a symbolic link to nothing in the output (missing.html)",
        "Skipped out/loop-a: a symbolic link in a loop (loop-b)",
        "Skipped out/hard-out: a hard link to a file outside the output",
        "Skipped out/fifo: a device or a pipe, not a regular file, directory or link",
        "Skipped out/device: a device or a pipe, not a regular file, directory or link",
    ]:
        assert line in said


def test_a_terabyte_header_is_refused_before_its_data_is_read(tmp_path):
    def header(info: tarfile.TarInfo) -> bytes:
        return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")

    big, _ = entry("out/big")
    big.size = 1 << 40  # past the ustar field: its size comes in a PAX header
    index, data = entry("out/index.html", data=b"hi")
    start = header(entry("out", tarfile.DIRTYPE)[0]) + header(index) + data.ljust(512, b"\0")
    start += header(big)
    pulled = 0

    def endless():  # type: ignore[no-untyped-def]
        """The headers, then zeros for ever: what Docker sends for a sparse terabyte."""
        nonlocal pulled
        pulled += len(start)
        yield start
        while True:
            pulled += 1 << 20
            yield bytes(1 << 20)

    with pytest.raises(BuildError) as failure:
        copy(endless(), tmp_path)
    assert failure.value.code == ErrorCode.OUTPUT_FILE_TOO_LARGE
    assert failure.value.detail == (
        "out/big is 1 TB, more than the 256 MB a file of the output may have "
        "(SHIPWAY_OUTPUT_MAX_FILE_BYTES)."
    )
    assert pulled < 4 << 20  # a few chunks at most, never the terabyte


def test_the_total_counts_copies_of_links_too(tmp_path):
    data = b"x" * 600
    stream = tar_stream(
        entry("out", tarfile.DIRTYPE),
        entry("out/a", data=data),
        entry("out/b", tarfile.SYMTYPE, linkname="a"),
    )
    with pytest.raises(BuildError) as failure:
        copy(stream, tmp_path, OutputLimits(max_bytes=1000))
    assert failure.value.code == ErrorCode.OUTPUT_TOO_LARGE
    assert "1000 bytes, the limit set by SHIPWAY_OUTPUT_MAX_BYTES (passed at out/b)" in str(
        failure.value
    )


def test_every_entry_counts_against_the_file_limit(tmp_path):
    stream = tar_stream(
        entry("out", tarfile.DIRTYPE),
        *[entry(f"out/d{i}", tarfile.DIRTYPE) for i in range(5)],
        entry("out/link", tarfile.SYMTYPE, linkname="/"),
    )
    copy(stream, tmp_path / "six", OutputLimits(max_files=6))
    with pytest.raises(BuildError) as failure:
        copy(stream, tmp_path / "five", OutputLimits(max_files=5))
    assert failure.value.code == ErrorCode.TOO_MANY_OUTPUT_FILES
    assert "more than 5 files, directories and links" in str(failure.value)
    assert "SHIPWAY_OUTPUT_MAX_FILES" in str(failure.value)


def test_many_skipped_entries_are_summed_up_and_names_are_escaped(tmp_path):
    stream = tar_stream(
        entry("out", tarfile.DIRTYPE),
        entry("out/evil\x1b[31m\nname", tarfile.SYMTYPE, linkname="/etc\n/passwd"),
        *[entry(f"out/l{i:02}", tarfile.SYMTYPE, linkname="/") for i in range(MAX_NOTES + 5)],
    )
    _destination, said = copy(stream, tmp_path)
    lines = said.splitlines()
    assert len(lines) == MAX_NOTES + 1
    assert lines[0] == (
        "Skipped out/evil\\x1b[31m\\nname: a symbolic link leading outside the output "
        "(/etc\\n/passwd)"
    )
    assert lines[-1] == "Skipped 6 more entries of the output."


def test_entries_outside_the_top_or_with_dot_dot_are_never_written(tmp_path):
    stream = tar_stream(
        entry("out", tarfile.DIRTYPE),
        entry("out/../escaped.txt", data=b"no"),
        entry("elsewhere.txt", data=b"no"),
        entry("out/ok.txt", data=b"ok"),
    )
    destination, said = copy(stream, tmp_path)
    assert tree(destination) == {"ok.txt": "ok"}
    assert not (tmp_path / "escaped.txt").exists()
    assert said.count("an entry outside the output") == 2


def test_the_output_may_be_the_root_directory_itself(tmp_path):
    stream = tar_stream(
        entry(".", tarfile.DIRTYPE),
        entry("./index.html", data=b"hi"),
        entry("./same.html", tarfile.SYMTYPE, linkname="index.html"),
        entry("./up", tarfile.SYMTYPE, linkname=".."),
    )
    said: list[str] = []
    copy_tar(stream, ".", tmp_path / "copied", OutputLimits(), said.append, ".")
    assert tree(tmp_path / "copied") == {"index.html": "hi", "same.html": "hi"}
    assert said == ["Skipped up: a symbolic link leading outside the output (..)\n"]


def test_a_directory_copy_resolves_links_without_following_them(tmp_path):
    host = tmp_path / "host-secret.txt"
    host.write_text("host-only")
    root = tmp_path / "workspace" / "out"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("hi")
    (root / "host.txt").symlink_to(host)
    (root / "relative-host.txt").symlink_to("../../host-secret.txt")
    (root / "root").symlink_to("/")
    (root / "folder").symlink_to("sub")
    (root / "same.html").symlink_to("index.html")
    os.link(host, root / "hard-host.txt")  # a name of a file outside the output
    os.link(root / "index.html", root / "sub" / "hard.html")  # both names inside
    os.mkfifo(root / "fifo")
    said: list[str] = []
    destination = tmp_path / "copied"
    copy_directory(root, destination, OutputLimits(), said.append, "out")
    assert tree(destination) == {
        "index.html": "hi",
        "same.html": "hi",
        "sub": "dir",
        "sub/hard.html": "hi",
    }
    text = "".join(said)
    assert "Skipped out/hard-host.txt: a hard link to a file outside the output" in text
    assert f"Skipped out/host.txt: a symbolic link leading outside the output ({host})" in text
    assert "Skipped out/relative-host.txt: a symbolic link leading outside the output" in text
    assert "Skipped out/root: a symbolic link leading outside the output (/)" in text
    assert "Skipped out/folder: a symbolic link to a directory (sub)" in text
    assert "Skipped out/fifo: a device, a pipe or a socket" in text


def test_a_sparse_terabyte_on_disk_is_refused_from_its_size(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    with open(root / "big", "wb") as handle:
        handle.truncate(1 << 40)
    with pytest.raises(BuildError) as failure:
        copy_directory(root, tmp_path / "copied", OutputLimits(), lambda _: None, "out")
    assert failure.value.code == ErrorCode.OUTPUT_FILE_TOO_LARGE
    assert not (tmp_path / "copied" / "big").exists()


@pytest.mark.parametrize(
    ("size", "shown"),
    [(10 * 1024**2, "10 MB"), (1024**3, "1 GB"), (100 * 1024, "100 KB"), (1536, "1.5 KB")],
)
def test_sizes_are_described_in_binary_units(size, shown):
    assert describe_size(size) == shown
