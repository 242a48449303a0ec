"""Archive header bombs (issue 10, item 4): a small upload must not make the web process
read or hold much more than it sent, nor answer with a body much bigger than a line.

Headers a reader loads whole (zip link targets, tar PAX and GNU long-name payloads, a
zip's central directory) are bounded before they are read, and each refusal is a 400
with a short message that quotes at most a short, escaped excerpt of the upload."""

import gzip
import io
import math
import struct
import tarfile
import tracemalloc
import zipfile

import pytest

from deployments.artifacts import SOURCE_FILE, artifacts
from tests.archives import file, symlink, tar_gz, tar_of, zip_bytes

pytestmark = pytest.mark.django_db

BIG = 20 * 1024 * 1024  # zeros: 20 MB unpacked, about 20 KB compressed


def _refused_within(uploader, data: bytes, name: str = "site.tar.gz", memory: int = 16 << 20):
    """Refused, with a short answer, and without the process allocating `memory`."""
    tracemalloc.start()
    try:
        message = uploader.refused(data, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(message) < 400, message[:1000]
    assert peak < memory, f"peak {peak / 1e6:.0f} MB for a {len(data) / 1e3:.0f} KB upload"
    return message


def _zip_link(target: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("link")
        info.external_attr = 0o120777 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, target)
    return buffer.getvalue()


def test_a_zip_link_with_a_huge_target_is_refused_briefly(uploader):
    message = _refused_within(uploader, _zip_link(bytes(BIG)), "site.zip")
    assert "target longer than 4096 bytes" in message, message


def test_a_zip_link_with_a_long_printable_target_is_refused_briefly(uploader):
    message = _refused_within(uploader, _zip_link(b"a/" * 3000), "site.zip")
    assert "target longer than 4096 bytes" in message, message


def test_a_huge_pax_header_is_refused(uploader):
    info, content = file("index.html", "<h1>hi</h1>")
    info.pax_headers = {"comment": "x" * BIG}
    message = _refused_within(uploader, tar_of((info, content), format=tarfile.PAX_FORMAT))
    assert "extended header" in message and "65536" in message, message


def test_a_huge_global_pax_header_is_refused(uploader):
    data = tar_of(file("index.html"), format=tarfile.PAX_FORMAT, pax_headers={"c": "x" * BIG})
    message = _refused_within(uploader, data)
    assert "extended header" in message, message


def test_a_huge_gnu_long_name_is_refused(uploader):
    info, content = file("a" * BIG)
    message = _refused_within(uploader, tar_of((info, content), format=tarfile.GNU_FORMAT))
    assert "extended header" in message, message


def test_a_name_longer_than_a_path_can_be_is_refused(uploader):
    info, content = file("d/" * 3000 + "index.html")
    message = _refused_within(uploader, tar_of((info, content), format=tarfile.PAX_FORMAT))
    assert "longer than 4096 bytes" in message and "…" in message, message


def test_a_refusal_quotes_a_short_escaped_excerpt(uploader):
    info, content = file("/" + "\x1b[31m" * 700)
    message = uploader.refused(tar_of((info, content), format=tarfile.PAX_FORMAT))
    assert "absolute path" in message
    assert "\x1b" not in message and "\\x1b" in message
    assert len(message) < 300, message


def _raw_pax_header(records: dict[str, str], kind: bytes = tarfile.XHDTYPE) -> bytes:
    return tarfile.TarInfo._create_pax_generic_header(records, kind, "utf-8")


def _raw_tar(*chunks: bytes) -> bytes:
    """Hand-made tar blocks, then one file and the end-of-archive marker, gzipped."""
    info = tarfile.TarInfo("index.html")
    info.size = 2
    tail = info.tobuf(tarfile.USTAR_FORMAT) + b"hi".ljust(512, b"\0") + bytes(1024)
    return gzip.compress(b"".join(chunks) + tail)


def test_thousands_of_extended_headers_in_a_row_are_refused(uploader):
    """tarfile follows each one with a recursive call: a RecursionError, so a 500."""
    data = _raw_tar(*[_raw_pax_header({"comment": "x"})] * 3000)
    message = uploader.refused(data)
    assert "extended headers in a row" in message, message


def test_extended_headers_beyond_their_total_are_refused(uploader, monkeypatch):
    from deployments import intake

    monkeypatch.setattr(intake, "MAX_EXTENDED_HEADERS_TOTAL", 1 << 20)
    members = []
    for i in range(40):
        info, content = file(f"f{i}.txt")
        info.pax_headers = {"comment": "x" * 60_000}
        members.append((info, content))
    message = uploader.refused(tar_of(*members, format=tarfile.PAX_FORMAT))
    assert "extended headers" in message, message


@pytest.mark.parametrize("mtime", ["nan", "inf", "-inf", "-1", "1e30", "not a number"])
def test_an_impossible_pax_mtime_is_stored_as_zero(uploader, mtime):
    """A PAX mtime of nan or inf used to raise in int(): a 500. Such times (and negative
    or far-future ones) only come from crafted archives, and a file's time does not
    matter to a build: they are stored as 0 rather than refused."""
    info, content = file("index.html", "<h1>hi</h1>")
    info.pax_headers = {"mtime": mtime}
    deployment = uploader.accepted(tar_of((info, content), format=tarfile.PAX_FORMAT))
    path = f"{deployment.storage_prefix}/{SOURCE_FILE}"
    with artifacts().open(path, "rb") as handle, tarfile.open(fileobj=handle) as archive:
        (member,) = archive.getmembers()
    assert member.mtime == 0
    assert "mtime" not in member.pax_headers


def test_a_fractional_pax_mtime_keeps_its_seconds(uploader):
    info, content = file("index.html", "<h1>hi</h1>")
    info.pax_headers = {"mtime": "1700000000.75"}
    deployment = uploader.accepted(tar_of((info, content), format=tarfile.PAX_FORMAT))
    path = f"{deployment.storage_prefix}/{SOURCE_FILE}"
    with artifacts().open(path, "rb") as handle, tarfile.open(fileobj=handle) as archive:
        assert math.floor(archive.getmembers()[0].mtime) == 1700000000


def test_a_sparse_member_is_refused(uploader):
    info = tarfile.TarInfo("holes.bin")
    info.type = tarfile.GNUTYPE_SPARSE
    message = uploader.refused(_raw_tar(info.tobuf(tarfile.GNU_FORMAT)))
    assert "sparse" in message, message


def test_a_pax_sparse_map_bomb_is_refused(uploader):
    """GNU sparse format 1.0 keeps its map in the data; tarfile reads all of it."""
    map_ = b"400000\n" + b"0\n1\n" * 200_000
    header = _raw_pax_header(
        {
            "GNU.sparse.major": "1",
            "GNU.sparse.minor": "0",
            "GNU.sparse.name": "holes.bin",
            "GNU.sparse.realsize": "1",
        }
    )
    info = tarfile.TarInfo("GNUSparseFile.0/holes.bin")
    info.size = len(map_)
    padded = map_ + bytes(-len(map_) % 512)
    data = gzip.compress(header + info.tobuf(tarfile.USTAR_FORMAT) + padded + bytes(1024))
    message = uploader.refused(data)
    assert "sparse" in message, message


def test_a_bomb_after_the_end_of_the_tar_is_refused(uploader):
    raw = gzip.decompress(tar_gz({"index.html": "<h1>hi</h1>"}))
    message = _refused_within(uploader, gzip.compress(raw + bytes(BIG)))
    assert "after the end of the tar" in message, message


# Zip central directories -----------------------------------------------------------


def _eocd(data: bytes) -> int:
    return data.rindex(b"PK\x05\x06")


def _forbid_loading_the_central_directory(monkeypatch):
    def refuse(self):  # type: ignore[no-untyped-def]
        raise AssertionError("the central directory was loaded")

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", refuse)


def test_a_zip_that_states_too_many_entries_is_refused_unread(uploader, settings, monkeypatch):
    settings.SHIPWAY_MAX_ARCHIVE_ENTRIES = 5
    data = bytearray(zip_bytes({f"f{i}.txt": "x" for i in range(3)}))
    struct.pack_into("<HH", data, _eocd(data) + 8, 60_000, 60_000)
    _forbid_loading_the_central_directory(monkeypatch)
    message = uploader.refused(bytes(data), "site.zip")
    assert "more than 5 entries" in message, message


def test_a_zip_that_holds_more_entries_than_it_states_is_refused_unread(
    uploader, settings, monkeypatch
):
    """zipfile reads central-directory records until their stated size is used up, and
    never looks at the stated count: so the records themselves are counted first."""
    settings.SHIPWAY_MAX_ARCHIVE_ENTRIES = 5
    data = bytearray(zip_bytes({f"f{i}.txt": "x" for i in range(10)}))
    struct.pack_into("<HH", data, _eocd(data) + 8, 1, 1)
    _forbid_loading_the_central_directory(monkeypatch)
    message = uploader.refused(bytes(data), "site.zip")
    assert "more than 5 entries" in message, message


def test_a_zip_whose_central_directory_lies_outside_it_is_refused(uploader):
    data = bytearray(zip_bytes({"index.html": "x"}))
    struct.pack_into("<L", data, _eocd(data) + 12, 1 << 30)  # the directory's size
    message = uploader.refused(bytes(data), "site.zip")
    assert "The archive is damaged" in message, message


def _patched_zip(patch) -> bytes:  # type: ignore[no-untyped-def]
    data = bytearray(zip_bytes({"index.html": "<h1>hi</h1>"}))
    patch(data, data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02"))
    return bytes(data)


def test_a_zip_with_an_unsupported_compression_method_is_refused(uploader):
    def deflate64(data, local, central):  # type: ignore[no-untyped-def]
        struct.pack_into("<H", data, local + 8, 9)
        struct.pack_into("<H", data, central + 10, 9)

    message = uploader.refused(_patched_zip(deflate64), "site.zip")
    assert "not supported" in message and "compression method" in message, message


def test_a_zip_name_marked_utf8_that_is_not_is_refused(uploader):
    def bad_utf8(data, local, central):  # type: ignore[no-untyped-def]
        for header, flags_at, name_at in ((local, 6, 30), (central, 8, 46)):
            (flags,) = struct.unpack_from("<H", data, header + flags_at)
            struct.pack_into("<H", data, header + flags_at, flags | 0x800)
            data[header + name_at : header + name_at + 4] = b"\xff\xfe\xfd\xfc"

    message = uploader.refused(_patched_zip(bad_utf8), "site.zip")
    assert "UTF-8" in message, message


# Deep paths ----------------------------------------------------------------------


DEEP = "a/" * 2000  # 4000 bytes, under the 4096 a name may have, and 2000 levels deep


def _accepted_within(uploader, data: bytes, memory: int = 48 << 20) -> None:
    tracemalloc.start()
    try:
        uploader.accepted(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < memory, f"peak {peak / 1e6:.0f} MB for a {len(data) / 1e3:.0f} KB upload"


def test_deep_paths_cost_their_length_not_its_square(uploader):
    """Each entry 2000 levels deep implies 2000 directories; held as prefix strings they
    cost 4 MB per entry (a 2 KB upload grew the process by 250 MB, for 12 s)."""
    data = tar_of(*[file(f"x{i}/{DEEP}index.html") for i in range(60)], format=tarfile.PAX_FORMAT)
    _accepted_within(uploader, data)


def test_deep_link_targets_cost_their_length_not_its_square(uploader):
    links = [symlink(f"l{i}", f"{DEEP}x{i}") for i in range(60)]
    _accepted_within(uploader, tar_of(file("index.html"), *links, format=tarfile.PAX_FORMAT))


def test_paths_beyond_twice_the_entry_limit_are_refused(uploader, settings):
    """Entries, the directories they imply and the paths links go through."""
    settings.SHIPWAY_MAX_ARCHIVE_ENTRIES = 1000
    message = uploader.refused(tar_of(file(f"{DEEP}index.html"), format=tarfile.PAX_FORMAT))
    assert "more than 2000 paths" in message, message
    message = uploader.refused(tar_of(symlink("l", f"{DEEP}x"), format=tarfile.PAX_FORMAT))
    assert "more than 2000 paths" in message, message


def test_a_deep_tree_within_the_limits_is_accepted(uploader):
    target = "../" * 1000 + "a/b.txt"
    data = tar_of(
        file(f"{DEEP}index.html"),
        symlink("d/" * 1000 + "up", target),
        file("a/b.txt"),
        format=tarfile.PAX_FORMAT,
    )
    deployment = uploader.accepted(data)
    path = f"{deployment.storage_prefix}/{SOURCE_FILE}"
    with artifacts().open(path, "rb") as handle, tarfile.open(fileobj=handle) as archive:
        assert archive.getmember("d/" * 1000 + "up").linkname == target


def test_a_name_part_longer_than_a_file_name_can_be_is_refused(uploader):
    message = uploader.refused(tar_of(file("docs/" + "n" * 300 + ".html")))
    assert "longer than 255 bytes" in message, message
