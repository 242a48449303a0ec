"""REST API of usage: `GET /v1/sites/{siteId}/usage?range=24h|7d|30d` (docs/api.md,
"Usage"). Whoever may read the site may read its usage."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sites.selectors import site_for
from usage.selectors import RANGES, parse_range, site_usage

_POINT = inline_serializer(
    "UsagePoint", {"time": serializers.DateTimeField(), "value": serializers.FloatField()}
)
_ANSWER = inline_serializer(
    "Usage",
    {
        "range": serializers.ChoiceField(choices=list(RANGES)),
        "buildSeconds": serializers.FloatField(),
        "deployments": serializers.IntegerField(),
        "storageBytes": serializers.IntegerField(),
        "requests": serializers.IntegerField(),
        "bandwidthBytes": serializers.IntegerField(),
        "series": inline_serializer(
            "UsageSeries",
            {
                "requests": _POINT.__class__(many=True),
                "bandwidthBytes": _POINT.__class__(many=True),
                "buildSeconds": _POINT.__class__(many=True),
            },
        ),
    },
)


class SiteUsageView(APIView):
    """The site's build seconds, deployments, stored bytes, requests and bandwidth over a
    range, with a series of each (hourly for 24h, daily for 7d and 30d)."""

    @extend_schema(
        parameters=[OpenApiParameter("range", OpenApiTypes.STR, enum=list(RANGES), default="24h")],
        responses=_ANSWER,
    )
    def get(self, request: Request, site_id: str) -> Response:
        site = site_for(request.user, site_id, "view")
        period = parse_range(request.query_params.get("range"))
        return Response(site_usage(site=site, period=period))
