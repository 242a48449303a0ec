"""Bar charts as server-rendered SVG, from the usage API's series (no script, nothing
from the internet): the geometry here, the drawing in
templates/dashboard/includes/bar_chart.html."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

WIDTH = 720
HEIGHT = 180
TOP = 12  # room above the tallest bar
BOTTOM = 22  # room below the bars for the time labels
LEFT = 4
LABELS = 6  # time labels under the bars, at most


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str  # the point's time and value, shown on hover and read by screen readers


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    title: str
    total: str
    peak: str  # the value of the top of the scale
    bars: list[Bar]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    top: float = TOP


def bar_chart(
    title: str,
    points: Sequence[dict[str, Any]],
    *,
    hourly: bool,
    show: Callable[[float], str],
    total: float,
) -> Chart:
    """One bar per point of a series (`[{time, value}]`, the API's), scaled to the
    largest value; `show` writes a value for people (bytes, minutes)."""
    count = max(1, len(points))
    slot = (WIDTH - LEFT) / count
    peak = max((float(p["value"]) for p in points), default=0.0)
    room = HEIGHT - TOP - BOTTOM
    bars: list[Bar] = []
    ticks: list[Tick] = []
    every = max(1, -(-count // LABELS))
    for i, point in enumerate(points):
        at = datetime.strptime(point["time"], "%Y-%m-%dT%H:%M:%SZ")
        label = at.strftime("%H:%M") if hourly else at.strftime("%b %d")
        value = float(point["value"])
        height = room * value / peak if peak else 0.0
        if value and height < 1:
            height = 1.0  # a bar that is not zero shows
        x = LEFT + i * slot
        bars.append(
            Bar(
                x=round(x + slot * 0.1, 2),
                y=round(HEIGHT - BOTTOM - height, 2),
                width=round(slot * 0.8, 2),
                height=round(height, 2),
                title=f"{at:%Y-%m-%d %H:%M} UTC: {show(value)}",
            )
        )
        if i % every == 0:
            ticks.append(Tick(x=round(x + slot / 2, 2), text=label))
    return Chart(title=title, total=show(total), peak=show(peak), bars=bars, ticks=ticks)
