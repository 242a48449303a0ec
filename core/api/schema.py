"""OpenAPI schema hooks (drf-spectacular)."""

from typing import Any


def drop_trailing_slashes(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """Document paths as docs/api.md writes them (`/v1/sites`, not `/v1/sites/`).

    The routers accept an optional trailing slash (`/?`), which the schema generator
    renders as a required one.
    """
    return [(path.rstrip("/") if path != "/" else path, *rest) for path, *rest in endpoints]


def json_bodies_only(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A body the API takes as JSON is documented as JSON only.

    The form parsers are there for the browsable API; listing their media types too
    made every generated client's body a union of three copies of one type. Uploads,
    which take multipart alone, keep it.
    """
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                for media_type in list(content):
                    if media_type != "application/json":
                        del content[media_type]
    return result
