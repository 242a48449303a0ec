"""Caddy's on-demand TLS `ask` (deploy/Caddyfile): which hosts get a certificate of their own."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.schema import error_response
from sites.hosts import HostKind, parse
from sites.selectors import verified_site_for_domain


def certificate_allowed(host: str) -> bool:
    """Whether a certificate may be issued on demand for `host`: only for a verified
    custom domain. Every host under SITES_DOMAIN is one label deep and covered by one
    wildcard certificate, so none of them is approved here (one tenant making deployment
    after deployment would otherwise spend the certificate authority's rate limits for
    the whole domain); the platform's own hosts have certificates of their own
    (deploy/Caddyfile). One indexed query at most."""
    parsed = parse(host, settings.SITES_DOMAIN, frozenset(settings.SHIPWAY_PLATFORM_HOSTS))
    return parsed.kind == HostKind.CUSTOM and verified_site_for_domain(host) is not None


@extend_schema(
    parameters=[OpenApiParameter("domain", OpenApiTypes.STR, required=True)],
    responses={
        200: inline_serializer("TlsAllowed", {"allowed": serializers.BooleanField()}),
        404: error_response(
            404, "not_found", "No certificate for this host.", "Not a verified custom domain."
        ),
    },
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def tls_ask(request: Request) -> Response:
    """Caddy's on-demand TLS `ask`: 200 for a verified custom domain, else 404 (hosts
    under SITES_DOMAIN have one wildcard certificate). No credentials (Caddy calls it),
    so it says nothing but yes or no."""
    host = request.query_params.get("domain", "")
    if not host:
        raise ValidationError({"domain": "This query parameter is required."})
    if not certificate_allowed(host):
        raise NotFound("No certificate for this host.")
    return Response({"allowed": True})
