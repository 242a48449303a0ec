"""A bounded least-recently-used map: what the edge keeps in memory has a size limit.

Every cache the edge fills from what visitors send (the Host, the path) must be bounded,
or anyone can grow the web process without end by asking for new names. `Lru` keeps at
most `max_entries` entries and, when given a weight function, at most `max_bytes` of
their summed weights; the entry used longest ago goes first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    def __init__(
        self,
        max_entries: int,
        max_bytes: int = 0,
        weigh: Callable[[V], int] | None = None,
    ) -> None:
        self.max_entries = max(0, max_entries)
        self.max_bytes = max_bytes if weigh is not None else 0
        self._weigh = weigh
        self._data: OrderedDict[K, V] = OrderedDict()
        self.bytes = 0  # the summed weights of what is kept (0 without a weight function)

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self.pop(key)
        weight = self._weigh(value) if self._weigh is not None else 0
        if self.max_entries == 0 or (self.max_bytes and weight > self.max_bytes):
            return  # never kept: it alone is over the bound
        self._data[key] = value
        self.bytes += weight
        while len(self._data) > self.max_entries or (
            self.max_bytes and self.bytes > self.max_bytes
        ):
            _key, dropped = self._data.popitem(last=False)
            self._forget(dropped)

    def pop(self, key: K) -> V | None:
        value = self._data.pop(key, None)
        if value is not None:
            self._forget(value)
        return value

    def clear(self) -> None:
        self._data.clear()
        self.bytes = 0

    def items(self) -> list[tuple[K, V]]:
        return list(self._data.items())

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._data))

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def _forget(self, value: V) -> None:
        if self._weigh is not None:
            self.bytes -= self._weigh(value)
