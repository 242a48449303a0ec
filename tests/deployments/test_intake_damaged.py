"""Damaged archives (issue 9, item 4): a .tar.gz or .zip cut short or corrupted anywhere
is a 400 saying so, before any row, stored file or temp file exists."""

import gzip
import io
import os
import struct
import tarfile
import zipfile

import pytest

from tests.archives import tar_gz, zip_bytes

pytestmark = pytest.mark.django_db

DAMAGED = "The archive is damaged"


def _site_tar_gz() -> bytes:
    # Random content keeps the deflate stream long, so the cut points fall inside it.
    return tar_gz({"index.html": "<h1>hello</h1>", "assets/app.js": os.urandom(20000).hex()})


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


GOOD = _site_tar_gz()

# Where a .tar.gz is cut: in its gzip header, in the deflate data, right after it (no
# trailer at all), inside the trailer (CRC32, then ISIZE) and one byte short.
CUTS = {
    "in the gzip header": 5,
    "after 300 bytes": 300,
    "half way": len(GOOD) // 2,
    "before the trailer": len(GOOD) - 8,
    "inside the CRC": len(GOOD) - 6,
    "inside ISIZE": len(GOOD) - 3,
    "one byte short": len(GOOD) - 1,
}


@pytest.mark.parametrize("cut", CUTS.values(), ids=list(CUTS))
def test_a_tar_gz_cut_short_is_refused(uploader, cut):
    message = uploader.refused(GOOD[:cut])
    assert message.startswith(f"code: {DAMAGED}"), message


def test_a_tar_gz_cut_at_every_point_is_refused(uploader):
    """Every cut of a small archive, each through the whole intake (no HTTP, for speed;
    the parametrised cases above go through the API)."""
    from deployments import intake

    data = tar_gz({"index.html": "<h1>hello</h1>"})
    for cut in range(2, len(data)):  # 1 byte is not even a gzip magic
        with pytest.raises(intake.ArchiveRejected, match=DAMAGED):
            intake.check_and_repack(io.BytesIO(data[:cut]))


CORRUPT = {
    "bad CRC32 in the trailer": _flip(GOOD, len(GOOD) - 8),
    "bad ISIZE in the trailer": _flip(GOOD, len(GOOD) - 2),
    "a flipped byte in the data": _flip(GOOD, len(GOOD) // 2),
    "garbage after the gzip stream": GOOD + b"this is not gzip",
    "a lone byte after the gzip stream": GOOD + b"\x1f",
}


@pytest.mark.parametrize("data", CORRUPT.values(), ids=list(CORRUPT))
def test_a_corrupt_tar_gz_is_refused(uploader, data):
    message = uploader.refused(data)
    assert message.startswith(f"code: {DAMAGED}"), message


def test_a_tar_without_its_end_marker_is_refused(uploader):
    """A tar cut at a member boundary and then compressed whole: gzip is intact, but the
    tar's end-of-archive blocks are missing."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        info = tarfile.TarInfo("index.html")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    message = uploader.refused(gzip.compress(raw.getvalue()[:1024]))
    assert DAMAGED in message and "end" in message, message


def test_a_tar_cut_inside_a_file_and_then_compressed_is_refused(uploader):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        info = tarfile.TarInfo("index.html")
        info.size = 5000
        archive.addfile(info, io.BytesIO(b"x" * 5000))
    message = uploader.refused(gzip.compress(raw.getvalue()[:3000]))
    assert DAMAGED in message, message


def test_zero_padding_after_the_gzip_stream_is_accepted(uploader):
    """Tape and block devices pad with zeros; gzip itself ignores them."""
    uploader.accepted(GOOD + bytes(4096))


def test_several_gzip_members_are_one_stream(uploader):
    """`cat a.gz b.gz` is a valid gzip file (RFC 1952) and gunzip reads it whole."""
    raw = gzip.decompress(GOOD)
    half = len(raw) // 2
    uploader.accepted(gzip.compress(raw[:half]) + gzip.compress(raw[half:]))


# Zips --------------------------------------------------------------------------------


def _stored_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _with_a_bad_crc(name: str, content: bytes, *, mode: int = 0) -> bytes:
    """A zip whose entry `name` fails its CRC check: the content's first byte is changed
    after writing (stored, so the change survives)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo(name)
        info.external_attr = mode << 16
        archive.writestr(info, content)
        archive.writestr("index.html", "<h1>hello</h1>")
    data = buffer.getvalue()
    at = data.index(content)
    return _flip(data, at)


ZIP = zip_bytes({"index.html": "<h1>hello</h1>", "assets/app.js": os.urandom(3000).hex()})

ZIP_DAMAGE = {
    "a file with a bad CRC": _with_a_bad_crc("app.js", b"console.log('hello')"),
    "a link with a bad CRC": _with_a_bad_crc("latest", b"index.html", mode=0o120777),
    # Nothing reads a directory's data; it is checked all the same.
    "a directory with a bad CRC": _with_a_bad_crc("assets/", b"hidden bytes"),
    "cut after 100 bytes": ZIP[:100],
    "cut half way": ZIP[: len(ZIP) // 2],
    "cut inside its end record": ZIP[:-10],
    "one byte short": ZIP[:-1],
}


@pytest.mark.parametrize("data", ZIP_DAMAGE.values(), ids=list(ZIP_DAMAGE))
def test_a_damaged_zip_is_refused(uploader, data):
    message = uploader.refused(data, "site.zip")
    assert message.startswith(f"code: {DAMAGED}"), message


def test_a_zip_cut_inside_its_comment_is_refused(uploader):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "<h1>hello</h1>")
        archive.comment = b"made by a test " * 4
    message = uploader.refused(buffer.getvalue()[:-5], "site.zip")
    assert message.startswith(f"code: {DAMAGED}"), message


def test_a_zip_whose_entry_claims_more_data_than_it_has_is_refused(uploader):
    data = bytearray(_stored_zip({"index.html": b"<h1>hello</h1>"}))
    # The central directory's uncompressed size (offset 24 in its 46-byte record).
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<L", data, central + 24, 10_000)
    message = uploader.refused(bytes(data), "site.zip")
    assert DAMAGED in message, message


def test_a_good_zip_is_still_accepted(uploader):
    uploader.accepted(ZIP, "site.zip")


def _with_size_field(field: bytes) -> bytes:
    """A tar.gz whose one file header states this size field (checksum fixed up)."""
    info = tarfile.TarInfo("index.html")
    info.size = 2
    header = bytearray(info.tobuf(tarfile.USTAR_FORMAT))
    header[124:136] = field
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return gzip.compress(bytes(header) + b"hi".ljust(512, b"\0") + bytes(1024))


def test_a_negative_size_is_refused(uploader):
    """A base-256 size field can be negative; read as "read everything", it would be a
    bomb of its own."""
    message = uploader.refused(_with_size_field(b"\xff" * 12))
    assert DAMAGED in message and "negative size" in message, message


def test_a_size_beyond_the_data_is_refused(uploader):
    message = uploader.refused(_with_size_field(b"%011o\0" % 1_000_000))
    assert DAMAGED in message, message


def test_much_zero_padding_after_the_gzip_stream_is_refused(uploader):
    """gzip.GzipFile skipped 20 MB of zeros a byte at a time, for 8 s."""
    message = uploader.refused(GOOD + bytes(20 * 1024 * 1024))
    assert "more than 1048576 bytes of padding" in message, message


def test_thousands_of_gzip_members_are_refused(uploader):
    message = uploader.refused(GOOD + gzip.compress(b"") * 10_001)
    assert "more than 10000 gzip streams" in message, message


def test_padding_between_gzip_members_is_read_through(uploader):
    raw = gzip.decompress(GOOD)
    uploader.accepted(gzip.compress(raw[:1000]) + bytes(1000) + gzip.compress(raw[1000:]))
