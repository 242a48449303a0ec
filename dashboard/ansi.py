"""Build logs with ANSI colours as HTML: SGR colours and bold become spans, everything
else is escaped, other escape sequences are dropped.

static/dashboard/log.js does the same in the browser for the live log; both use the
class names `ansi-<code>` (30-37, 90-97) and `ansi-bold`, and carry the state (colour,
bold) across pieces so a log rendered here continues correctly there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# An escape sequence: CSI (ESC [ params final), or ESC and one more character.
_ESCAPE = re.compile(r"\x1b\[([0-9;?]*)([@-~])|\x1b[^\[]?")
# Control characters a log should not show (tab and newline are kept).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")
FOREGROUNDS = frozenset(range(30, 38)) | frozenset(range(90, 98))


@dataclass
class AnsiState:
    fg: int | None = None
    bold: bool = False

    def apply(self, params: str) -> None:
        """Apply one SGR sequence's parameters ("" means reset)."""
        codes = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else [0]
        index = 0
        while index < len(codes):
            code = codes[index]
            if code == 0:
                self.fg, self.bold = None, False
            elif code == 1:
                self.bold = True
            elif code == 22:
                self.bold = False
            elif code == 39:
                self.fg = None
            elif code in FOREGROUNDS:
                self.fg = code
            elif code in (38, 48):  # 256-colour or RGB: skip their arguments
                index += 2 if codes[index + 1 : index + 2] == [5] else 4
            index += 1

    @property
    def classes(self) -> str:
        names = [f"ansi-{self.fg}"] if self.fg is not None else []
        if self.bold:
            names.append("ansi-bold")
        return " ".join(names)

    def as_dict(self) -> dict[str, int | bool | None]:
        return {"fg": self.fg, "bold": self.bold}


def _normalize(text: str) -> str:
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def to_html(text: str, state: AnsiState | None = None) -> tuple[SafeString, AnsiState]:
    """`text` as escaped HTML with colour spans; returns the state at its end too."""
    state = state or AnsiState()
    parts: list[str] = []

    def emit(piece: str) -> None:
        piece = _normalize(piece)
        if not piece:
            return
        classes = state.classes
        text = escape(piece)
        parts.append(f'<span class="{classes}">{text}</span>' if classes else text)

    position = 0
    for match in _ESCAPE.finditer(text):
        emit(text[position : match.start()])
        if match.group(2) == "m":
            state.apply(match.group(1) or "")
        position = match.end()
    emit(text[position:])
    return mark_safe("".join(parts)), state  # noqa: S308 (every piece is escaped above)
