"""The edge's invalidation listener stops when its task is cancelled, whenever that is.

redis-py can swallow a cancellation that arrives while it connects or runs a command;
the listener then went on to wait for messages forever, and so did the event loop's
shutdown (uvicorn's, or asyncio.run's), which waits for the cancelled task."""

from __future__ import annotations

import asyncio
import threading

from edge import invalidation


class _Edge:
    def invalidate(self, site_id: str | None) -> None:
        pass


def _start_then_stop(delay: float) -> None:
    async def main() -> None:
        listener = asyncio.ensure_future(invalidation.listen(_Edge()))
        await asyncio.sleep(delay)
        assert not listener.cancelled()  # asyncio.run cancels it, and waits for it

    asyncio.run(main())


def test_the_listener_stops_when_cancelled_at_any_moment():
    # Cancel after 0 to 8 ms: before, during and after connecting, subscribing and the
    # first command (a hang showed within some tens of tries at random moments).
    for step in range(200):
        delay = step * 0.00004
        thread = threading.Thread(target=_start_then_stop, args=(delay,), daemon=True)
        thread.start()
        thread.join(10)
        assert not thread.is_alive(), f"the event loop never stopped (cancelled after {delay}s)"
