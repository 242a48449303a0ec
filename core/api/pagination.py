"""Lists answer `{"total": N, "<plural>": [...]}` with `?limit=` and `?offset=`."""

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, QuerySet, Window
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class EnvelopePagination(LimitOffsetPagination):
    """Limit/offset paging; a bad `limit` or `offset` is a 400 naming it, not a silent clamp.

    The view names the list's key with `envelope_key` (e.g. "sites").
    """

    default_limit = 25
    max_limit = 100
    # Past PostgreSQL's bigint an OFFSET is an error of the database (a 500), not an
    # empty page; no list is near this long.
    max_offset = 2**31 - 1

    def get_limit(self, request: Request) -> int:
        return self._read(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request: Request) -> int:
        return self._read(request, self.offset_query_param, 0, 0, self.max_offset)

    @staticmethod
    def _read(request: Request, name: str, default: int, low: int, high: int | None) -> int:
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise serializers.ValidationError({name: f"Must be a whole number {bound}."})
        return value

    def paginate_queryset(
        self,
        queryset: QuerySet[Any, Any] | Sequence[Any],  # DRF's is generic over both
        request: Request,
        view: APIView | None = None,
    ) -> list[Any] | None:
        """One query for the page and the total (`COUNT(*) OVER ()`), not two."""
        self.envelope_key = getattr(view, "envelope_key", "items")
        if not isinstance(queryset, QuerySet):
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        window = queryset.annotate(_envelope_total=Window(Count("*")))
        page = list(window[self.offset : self.offset + self.limit])
        if page:
            self.count = page[0]._envelope_total
        else:  # past the end (or empty): the total needs its own question
            self.count = queryset.count() if self.offset else 0
        self.display_page_controls = self.count > self.limit and self.template is not None
        return page

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response({"total": self.count, self.envelope_key: data})

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {
                "minimum": 1,
                "maximum": self.max_limit,
                "default": self.default_limit,
            },
            self.offset_query_param: {"minimum": 0, "maximum": self.max_offset, "default": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The envelope in the OpenAPI schema; core/api/schema.py sets `envelope_key`
        from the view, as paginate_queryset does."""
        key = getattr(self, "envelope_key", "items")
        return {
            "type": "object",
            "required": ["total", key],
            "properties": {
                "total": {"type": "integer", "minimum": 0, "example": 1},
                key: schema,
            },
        }
