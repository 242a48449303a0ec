"""Packaging streams each file (hashed and compressed a chunk at a time) and reads only
regular files of the output, never through a link."""

import gzip
import hashlib
import json
import tracemalloc

import brotli
import pytest

from builds.packaging import RULES_MAX_BYTES, package
from deployments.artifacts import artifacts, read_manifest
from deployments.errors import BuildError, ErrorCode


def stored(prefix: str, name: str) -> bytes:
    with artifacts().open(f"{prefix}/{name}", "rb") as handle:
        return handle.read()


def test_a_large_file_is_packaged_in_flat_memory_with_its_variants(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    data = b"".join(b"console.log(%d);\n" % i for i in range(1_500_000))  # 27 MB of JS
    (out / "app.js").write_bytes(data)
    del data
    tracemalloc.start()
    try:
        packaged = package(out, "p1", "out")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * 1024 * 1024  # the file once in memory was 27 MB, twice 54
    data = (out / "app.js").read_bytes()
    entry = read_manifest("p1")["files"]["/app.js"]
    assert entry["size"] == len(data) == packaged.output_size
    assert entry["hash"] == hashlib.sha256(data).hexdigest()
    assert stored("p1", "output/app.js") == data
    assert gzip.decompress(stored("p1", "compressed/app.js.gz")) == data
    assert brotli.decompress(stored("p1", "compressed/app.js.br")) == data
    assert entry["gzip"] == len(stored("p1", "compressed/app.js.gz")) < len(data)


def test_small_and_incompressible_files_have_no_variants(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.html").write_text("<p>small</p>")
    (out / "b.png").write_bytes(b"\x89PNG" + bytes(5000))
    package(out, "p2", "out")
    files = read_manifest("p2")["files"]
    assert (files["/a.html"]["gzip"], files["/b.png"]["br"]) == (None, None)
    assert not artifacts().exists("p2/compressed/a.html.gz")


def test_links_left_in_the_output_are_never_read(tmp_path):
    host = tmp_path / "host.txt"
    host.write_text("host line without a colon\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("hi")
    (out / "_headers").symlink_to(host)  # would quote the host's line in its error
    (out / "passwd").symlink_to("/etc/passwd")
    (out / "same.html").symlink_to("index.html")
    package(out, "p3", "out")
    manifest = read_manifest("p3")
    assert sorted(manifest["files"]) == ["/index.html"]
    assert manifest["rules"] == {"redirects": [], "headers": []}


def test_a_rules_file_past_its_size_fails_as_rules_invalid(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("hi")
    (out / "_redirects").write_bytes(b"# comment\n" * (RULES_MAX_BYTES // 10 + 1))
    with pytest.raises(BuildError) as failure:
        package(out, "p4", "out")
    assert failure.value.code == ErrorCode.RULES_INVALID
    assert failure.value.detail == "_redirects is larger than 8 MB."


def test_rules_are_read_with_universal_newlines(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("hi")
    (out / "_redirects").write_bytes(b"/a /b\r/c /d 302\r\n")
    package(out, "p5", "out")
    rules = json.loads(stored("p5", "manifest.json"))["rules"]["redirects"]
    assert [(r["from"], r["to"], r["line"]) for r in rules] == [("/a", "/b", 1), ("/c", "/d", 2)]
