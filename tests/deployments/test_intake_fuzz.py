"""Mutated archives: whatever the bytes, the intake accepts or refuses with a short
message (a 400); it never raises anything else (a 500) and never leaves a file.

The tar mutations are made inside the gzip stream (and recompressed), so they reach the
tar reader rather than stop at gzip's CRC; a zip's headers have no CRC at all. The seed
is fixed, so a failure reproduces."""

import gzip
import io
import os
import random
import tarfile
import tempfile
import zipfile

import pytest

from deployments import intake
from tests.archives import directory, file, symlink, tar_of

pytestmark = pytest.mark.django_db

ROUNDS = 400


def _tar() -> bytes:
    long_name, content = file("a/" + "long-name/" * 20 + "index.html", "<h1>hi</h1>")
    timed, timed_content = file("timed.txt", "t")
    timed.pax_headers = {"mtime": "1700000000.5", "comment": "hello"}
    return gzip.decompress(
        tar_of(
            directory("a"),
            file("a/index.html", "<h1>hi</h1>"),
            (long_name, content),
            (timed, timed_content),
            symlink("a/latest", "index.html"),
            format=tarfile.PAX_FORMAT,
        )
    )


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/", "")
        archive.writestr(zipfile.ZipInfo("a/index.html"), "<h1>hi</h1>" * 20, zipfile.ZIP_DEFLATED)
        archive.writestr("b.txt", "plain", zipfile.ZIP_STORED)
        link = zipfile.ZipInfo("a/latest")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "index.html")
        archive.comment = b"a comment"
    return buffer.getvalue()


def _mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data))
        choice = rng.random()
        if choice < 0.6:
            data[at] = rng.randrange(256)
        elif choice < 0.8:
            data[at : at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\0\0\0\0", b"9999"])
        else:
            del data[at : at + rng.randint(1, 64)]
    return bytes(data)


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_mutated_archives_are_accepted_or_refused_never_crash(
    kind, settings, tmp_path, monkeypatch
):
    settings.SHIPWAY_MAX_UNPACKED_SIZE = 1 << 20
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rng = random.Random(f"intake-{kind}")
    original = _tar() if kind == "tar.gz" else _zip()
    outcomes = {"accepted": 0, "refused": 0}
    for round_ in range(ROUNDS):
        data = _mutate(original, rng)
        upload = gzip.compress(data) if kind == "tar.gz" else data
        try:
            source = intake.check_and_repack(io.BytesIO(upload))
        except intake.ArchiveRejected as exc:
            assert len(str(exc)) < 500, (round_, str(exc)[:1000])
            outcomes["refused"] += 1
        else:
            source.discard()
            outcomes["accepted"] += 1
    assert outcomes["refused"] > ROUNDS / 4, outcomes
    assert os.listdir(tmp_path) == []
