"""OpenAPI schema hooks (drf-spectacular)."""

from typing import Any


def drop_trailing_slashes(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """Document paths as docs/api.md writes them (`/v1/sites`, not `/v1/sites/`).

    The routers accept an optional trailing slash (`/?`), which the schema generator
    renders as a required one.
    """
    return [(path.rstrip("/") if path != "/" else path, *rest) for path, *rest in endpoints]
