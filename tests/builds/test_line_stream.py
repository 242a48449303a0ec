"""LineStream and SecretMasker: whole masked lines out, long lines cut in flat memory."""

import time

import pytest

from builds.runners.base import LineStream
from core.masking import MASK, SecretMasker

SECRET = "s3cr3t-value-123"


def stream(max_line: int = 100, secrets: tuple[str, ...] = (SECRET,)):  # type: ignore[no-untyped-def]
    out: list[str] = []
    return LineStream(out.append, SecretMasker(list(secrets)), max_line), out


def feed_in_pieces(lines: LineStream, data: bytes, size: int) -> None:
    for start in range(0, len(data), size):
        lines.feed(data[start : start + size])


def test_a_line_that_never_ends_is_cut_in_linear_time_and_flat_memory():
    lines, out = stream(max_line=64 * 1024)
    started = time.monotonic()
    feed_in_pieces(lines, b"a" * 20_000_000, 4096)  # 20 MB without a newline
    assert len(lines._pending) == 0  # nothing of it is held
    feed_in_pieces(lines, b"a" * 1000 + b"\nafter\n", 4096)
    lines.close()
    assert time.monotonic() - started < 5  # 16 s and 20 MB held before
    text = "".join(out)
    assert text == "a" * 64 * 1024 + "… [line cut at 64 KB]\nafter\n"


def test_a_long_line_that_arrives_whole_is_cut_too():
    lines, out = stream()
    lines.feed(b"b" * 500 + b"\r\nshort\n")
    lines.close()
    assert "".join(out) == "b" * 100 + "… [line cut at 100 bytes]\nshort\n"


def test_the_end_of_a_cut_line_is_dropped_up_to_its_break_only():
    lines, out = stream()
    lines.feed(b"c" * 300)
    lines.feed(b"c" * 300 + b"\r\n\nnext")
    lines.close()
    assert "".join(out) == "c" * 100 + "… [line cut at 100 bytes]\n\nnext\n"


@pytest.mark.parametrize("offset", range(80, 101))
def test_a_cut_never_leaves_part_of_a_secret(offset):
    lines, out = stream()
    line = ("x" * offset + SECRET + "y" * 500).encode()
    feed_in_pieces(lines, line, 7)
    lines.close()
    shown = "".join(out).split("…")[0]
    assert not any(SECRET[:n] in shown for n in range(2, len(SECRET) + 1))
    assert shown == "x" * offset + MASK[: 100 - offset] + "y" * max(0, 92 - offset)


def test_a_secret_split_across_reads_is_masked():
    lines, out = stream(max_line=1000)
    lines.feed(b"token: s3cr3t-")
    lines.feed(b"value-123 done\n")
    assert "".join(out) == f"token: {MASK} done\n"


def test_each_step_starts_afresh_after_close():
    lines, out = stream()
    lines.feed(b"d" * 300)
    lines.close()
    lines.feed(b"next step\n")
    assert "".join(out) == "d" * 100 + "… [line cut at 100 bytes]\nnext step\n"


def test_secrets_are_masked_as_repr_json_and_urls_quote_them():
    secret = 'it\'s "quoted" \\ and\tspaced'
    masker = SecretMasker([secret])
    for text in (
        f"got {secret!r}",
        f"got {(secret + chr(39))!r}",  # repr escapes ' when the text has both quotes
        '{"value": "it\'s \\"quoted\\" \\\\ and\\tspaced"}',
        "https://x/it%27s%20%22quoted%22%20%5C%20and%09spaced",
    ):
        assert "quoted" not in masker(text), text


def test_short_values_are_not_masked():
    assert SecretMasker(["abc"])("abc abc") == "abc abc"
