"""OpenAPI schema (drf-spectacular): the hooks and the AutoSchema that make
`/v1/openapi.json` describe what the API answers, errors and list envelopes included."""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core.api.fields import ReadsAsNullCharField


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


class ReadsAsNullExtension(OpenApiSerializerFieldExtension):
    target_class = ReadsAsNullCharField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "response":
            schema["nullable"] = True
        return schema


class ErrorSerializer(serializers.Serializer):
    """Every 4xx and 5xx answer (core/api/errors.py)."""

    message = serializers.CharField(help_text="One sentence for people.")
    code = serializers.IntegerField(help_text="The HTTP status, again.")
    type = serializers.RegexField(
        r"^[a-z][a-z0-9_]*$",
        help_text="What went wrong, for programs to match on: `validation_error`, "
        "`unauthorized`, `forbidden`, `not_found`, `conflict`, `rate_limited`...",
    )

    class Meta:
        ref_name = "Error"

    def get_fields(self) -> dict[str, serializers.Field]:
        # `fields` is added here: a class attribute of that name would hide the
        # serializer's own `fields`.
        fields = super().get_fields()
        fields["fields"] = serializers.DictField(
            child=serializers.CharField(),
            required=False,
            help_text="Validation errors only: the first message of each field, by its name.",
        )
        return fields


def error_response(status: int, kind: str, message: str, description: str, **extra: Any) -> Any:
    """The envelope as an operation's answer for `status`, with an example."""
    example = {"message": message, "code": status, "type": kind, **extra}
    return OpenApiResponse(
        response=ErrorSerializer,
        description=description,
        examples=[OpenApiExample(kind, value=example, status_codes=[str(status)])],
    )


ERRORS = {
    400: error_response(
        400,
        "validation_error",
        "name: This field is required.",
        "Malformed input: the message names the field.",
        fields={"name": "This field is required."},
    ),
    401: error_response(
        401,
        "unauthorized",
        "Authentication credentials were not provided.",
        "No session or API key, or a key that is unknown, expired or revoked.",
    ),
    403: error_response(
        403,
        "forbidden",
        "You do not have permission to perform this action.",
        "The caller may see the object, but its role (or a read-only key) does not allow this.",
    ),
    404: error_response(
        404,
        "not_found",
        "Not found.",
        "It does not exist, or the caller may not see it.",
    ),
    409: error_response(
        409,
        "conflict",
        "Only a ready deployment can be activated.",
        "Well formed, but the object's state forbids it now.",
    ),
    413: error_response(
        413,
        "request_too_large",
        "A request body is at most 1048576 bytes.",
        "The body is larger than this route takes.",
    ),
    415: error_response(
        415,
        "unsupported_media_type",
        'Unsupported media type "text/xml" in request.',
        "A body in a content type this operation does not read.",
    ),
    429: error_response(
        429,
        "rate_limited",
        "Request was throttled. Expected available in 30 seconds.",
        "Too many requests (or too many failed API key attempts from this address), or "
        "the caller already holds as many of something as this server allows "
        "(`too_many`).",
    ),
}


class ApiSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error envelope on every operation (for the
    statuses it can answer) and each list's envelope key (`{"total", "sites": [...]}`)."""

    def _get_paginator(self) -> Any:
        paginator = super()._get_paginator()
        if paginator is not None:
            paginator.envelope_key = getattr(self.view, "envelope_key", "items")
        return paginator

    def get_paginated_name(self, serializer_name: str) -> str:
        # One component per envelope: the same serializer may be listed under two keys.
        key = getattr(self.view, "envelope_key", "items")
        return f"{key[:1].upper()}{key[1:]}List"

    def _error_statuses(self) -> list[int]:
        statuses = [400]
        public = all(isinstance(p, AllowAny) for p in self.view.get_permissions())
        if not public:
            statuses += [401, 403]
        # A path's object, or one a body names (a site's teamId), that the caller cannot see.
        if "{" in self.path or self.method in ("POST", "PUT", "PATCH"):
            statuses.append(404)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            statuses.append(409)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses += [413, 415]
        statuses.append(429)
        return statuses

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._error_statuses():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    ERRORS[status], str(status), direction=direction
                )
        return responses
