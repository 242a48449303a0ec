"""ANSI colours in build logs become spans; everything else is escaped or dropped."""

from dashboard.ansi import AnsiState, to_html


def html(text: str) -> str:
    return str(to_html(text)[0])


def test_plain_text_is_escaped() -> None:
    assert html("<script>alert('x')</script> & done\n") == (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; done\n"
    )


def test_foreground_colours_bright_colours_and_bold() -> None:
    assert html("\x1b[32mok\x1b[0m") == '<span class="ansi-32">ok</span>'
    assert html("\x1b[91mhot\x1b[39m cold") == '<span class="ansi-91">hot</span> cold'
    assert html("\x1b[1;33mwarn\x1b[22m!\x1b[m.") == (
        '<span class="ansi-33 ansi-bold">warn</span><span class="ansi-33">!</span>.'
    )


def test_other_sequences_and_controls_are_dropped() -> None:
    assert html("a\x1b[2Kb\x1b[1Gc\x07d") == "abcd"
    assert html("\x1b[38;5;208mx\x1b[48;2;1;2;3my\x1b[0m") == "xy"  # 256-colour, RGB
    assert html("line\r\nnext\rover") == "line\nnext\nover"


def test_the_state_carries_over_and_is_reported() -> None:
    first, state = to_html("\x1b[1;31mred and")
    assert str(first) == '<span class="ansi-31 ansi-bold">red and</span>'
    assert state == AnsiState(fg=31, bold=True)
    assert state.as_dict() == {"fg": 31, "bold": True}
    second, state = to_html(" still red\x1b[0m", state)
    assert str(second) == '<span class="ansi-31 ansi-bold"> still red</span>'
    assert state == AnsiState()
