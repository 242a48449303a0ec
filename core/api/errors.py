"""Every API error answers `{"message", "code", "type"}` (docs/api.md, "Errors")."""

from typing import Any

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from core import errors

log = structlog.get_logger(__name__)

# DRF's exception codes -> the `type` clients match on.
_TYPES = {
    "not_authenticated": "unauthorized",
    "authentication_failed": "unauthorized",
    "permission_denied": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "not_acceptable": "not_acceptable",
    "unsupported_media_type": "unsupported_media_type",
    "throttled": "rate_limited",
    "parse_error": "invalid_body",
    "invalid": "validation_error",
}

# The domain's refusals (core/errors.py) -> their status; their `code` is the `type`.
_STATUSES: dict[type[errors.Refused], int] = {
    errors.Invalid: 400,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooMany: 429,
}


def _flatten(detail: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Turn DRF's nested error detail into (field path, message) pairs."""
    if isinstance(detail, dict):
        pairs: list[tuple[str, str]] = []
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            pairs.extend(_flatten(value, path))
        return pairs
    if isinstance(detail, list):
        pairs = []
        for index, item in enumerate(detail):
            nested = isinstance(item, dict | list)
            pairs.extend(_flatten(item, f"{prefix}[{index}]" if nested else prefix))
        return pairs
    return [(prefix, str(detail))]


def error_body(message: str, code: int, kind: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "code": code, "type": kind, **extra}


def _invalid_body(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A 400's body: every message in one sentence, and the first message of each field."""
    message = "; ".join(f"{field}: {text}" if field else text for field, text in pairs)
    fields = {field: text for field, text in reversed(pairs) if field}
    return error_body(message or "Invalid input.", 400, "validation_error", fields=fields)


def _refused_response(exc: errors.Refused) -> Response:
    status = next(code for kind, code in _STATUSES.items() if isinstance(exc, kind))
    if isinstance(exc, errors.Invalid):
        return Response(_invalid_body(exc.errors), status=status)
    return Response(error_body(exc.message, status, exc.code), status=status)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: the error envelope for every failure, 500 included."""
    from rest_framework.views import set_rollback  # rest_framework.views imports settings

    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "The requested resource was not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, errors.Refused):
        set_rollback()
        return _refused_response(exc)
    if not isinstance(exc, exceptions.APIException):
        log.exception("api.unhandled_error", path=context["request"].path)
        set_rollback()
        body = error_body("Internal server error.", 500, "internal_error")
        return Response(body, status=500)

    headers = {}
    if auth_header := getattr(exc, "auth_header", None):  # DRF sets it on 401s
        headers["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):  # Throttled
        headers["Retry-After"] = str(int(wait))

    if isinstance(exc, exceptions.ValidationError):
        body = _invalid_body(_flatten(exc.detail))
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        kind = _TYPES.get(code, code)
        body = error_body(str(exc.detail), exc.status_code, kind)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler404 for paths outside DRF's views (an unknown /v1/... path)."""
    return JsonResponse(
        error_body("The requested resource was not found.", 404, "not_found"), status=404
    )


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("Internal server error.", 500, "internal_error"), status=500)
