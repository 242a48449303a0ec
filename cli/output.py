"""Where output goes: results on stdout, everything else (progress, logs, messages) on
stderr, with no progress bars or colours when stderr is not a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TransferSpeedColumn,
)
from rich.table import Table

err = Console(stderr=True, highlight=False)


def interactive() -> bool:
    """Whether stderr is a terminal (progress bars are shown only then)."""
    return sys.stderr.isatty()


def result(text: str) -> None:
    """The command's result, alone on stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def result_json(value: Any) -> None:
    result(json.dumps(value, indent=2))


def info(text: str) -> None:
    err.print(text, markup=False, soft_wrap=True)


def log_text(text: str) -> None:
    """A piece of a log, on stderr, as it came."""
    sys.stderr.write(text)
    sys.stderr.flush()


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table as the result: aligned for a terminal, tab-separated for a pipe."""
    if not sys.stdout.isatty():
        for row in rows:
            result("\t".join("" if v is None else str(v) for v in row))
        return
    shown = Table(*columns, box=None, header_style="bold")
    for row in rows:
        shown.add_row(*("" if v is None else str(v) for v in row))
    Console().print(shown)


@contextmanager
def upload_progress(total: int, label: str) -> Iterator[Any]:
    """A callback taking the bytes sent so far: a bar on a terminal, nothing otherwise."""
    if not interactive():
        yield lambda done: None
        return
    with Progress(
        TextColumn(label),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.update(task, completed=done)
