"""The project's URL map plus the bench's own views.

- `/bench/bare`: the cheapest JSON answer Django gives: the same server, settings and
  middleware as the API, but no authentication, no database and no DRF. The yardstick.
- `/bench/auth-only`: API-key authentication and DRF, a constant body: the floor of any
  endpoint of the API that goes through DRF.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]

BARE_BODY = {"ok": True, "service": "shipway", "version": "1.0.0"}


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse(BARE_BODY)


class AuthOnly(APIView):
    """The floor of any API endpoint behind DRF: the project's authentication (an API key,
    from the read cache or one query) and DRF's request and response, a constant body."""

    def get(self, request: Request) -> Response:
        return Response(BARE_BODY)


urlpatterns = [
    path("bench/bare", bare, name="bench-bare"),
    path("bench/auth-only", AuthOnly.as_view(), name="bench-auth-only"),
    *project_urlpatterns,
]
