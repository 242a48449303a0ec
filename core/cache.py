"""JSON for Django's Redis cache, whose default serializer pickles: whoever can write to
Redis must not run code in the processes that read the cache (docs/security.md).

Integers are stored bare, as Django's own serializer stores them, so that `incr` works;
everything else as JSON. So a cached value is what JSON holds (dicts, lists, strings,
numbers, booleans, None): a tuple comes back a list, and setting anything else (a
response, a model) raises TypeError rather than pickling it.
"""

from __future__ import annotations

import json
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class JSONSerializer:
    def dumps(self, obj: Any) -> int | bytes:
        if type(obj) is int:  # not bool
            return obj
        return json.dumps(obj, separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Any:
        try:
            return int(data)
        except ValueError:
            pass
        try:
            return json.loads(data)
        except ValueError:  # not JSON (UnicodeDecodeError is one): not ours, a miss
            log.warning("cache.value_not_json")
            return None
