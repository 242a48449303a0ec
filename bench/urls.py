"""The project's URL map plus the bench's own views.

- `/bench/bare`: the cheapest JSON answer Django gives: the same server, settings and
  middleware as the API, but no authentication, no database and no DRF. The yardstick.
- `/bench/sites-lean`: `GET /v1/sites` rewritten the way bench/RESULTS.md suggests (the
  permission filter as one plain-SQL subquery, the total counted by a window in the page's
  query, SiteSerializer's fields read without DRF's per-field machinery), answering the
  same body as `/v1/sites` (bench/api.py checks that): it measures what those suggestions
  are worth before the app changes.
- `/bench/auth-only`: API-key authentication and DRF, a constant body: the floor of any
  endpoint of the API.
"""

from collections.abc import Callable
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, QuerySet, Window
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import ACTIONS
from config.api.fields import StrictCharField, StrictIntegerField
from config.api.pagination import EnvelopePagination
from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns
from sites.api import SiteSerializer
from sites.models import Site

__all__ = ["handler404", "handler500", "urlpatterns"]

BARE_BODY = {"ok": True, "service": "shipway", "version": "1.0.0"}


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse(BARE_BODY)


# The sites a user was granted an action on, directly or through one of their groups.
# Plain SQL: the same rows as guardian's query, without its cost of building and
# compiling nested querysets on every request (see bench/RESULTS.md).
_GRANTED_SITE_IDS = """
SELECT gp.content_object_id FROM sites_sitegroupobjectpermission gp
  JOIN auth_user_groups ug ON ug.group_id = gp.group_id
  WHERE ug.user_id = %s AND gp.permission_id = (
    SELECT id FROM auth_permission WHERE content_type_id = %s AND codename = %s)
UNION
SELECT up.content_object_id FROM sites_siteuserobjectpermission up
  WHERE up.user_id = %s AND up.permission_id = (
    SELECT id FROM auth_permission WHERE content_type_id = %s AND codename = %s)
"""


def visible_sites(user: AbstractBaseUser | AnonymousUser, action: str = "view") -> QuerySet[Site]:
    """`Site.objects.for_user`, answering the same rows as guardian's
    `get_objects_for_user(..., accept_global_perms=False)`: everything for a superuser,
    nothing for an anonymous caller, else the sites granted to the user or their groups."""
    if not user.is_authenticated:
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    content_type = ContentType.objects.get_for_model(Site).pk  # cached by Django
    codename = ACTIONS[action]
    params = [user.pk, content_type, codename, user.pk, content_type, codename]
    return Site.objects.filter(pk__in=RawSQL(_GRANTED_SITE_IDS, params))


def _datetime(value: datetime) -> str:
    """DRF's DateTimeField output: ISO 8601 in the current time zone, UTC as "Z"."""
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _converter(field: serializers.Field) -> Callable[[Any], Any]:
    """The conversion `field.to_representation` does, as a plain function where the
    field's type allows (exact types only: a subclass may have its own), else the method."""
    kind = type(field)
    if kind is serializers.DateTimeField:
        output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
        if output_format == ISO_8601 and getattr(field, "timezone", None) is None:
            return _datetime
    if kind in (serializers.CharField, StrictCharField):
        return str
    if kind in (serializers.IntegerField, StrictIntegerField):
        return int
    return field.to_representation


def fast_representation(serializer: serializers.Serializer) -> Callable[[Any], dict]:
    """`serializer.to_representation` for a page of instances, as a function that decides
    once per page (not for every instance and field) which attribute each field reads and
    how it converts it. Same output (context-dependent fields such as a
    SerializerMethodField go through the field, bound to `serializer` and its context)."""
    readers = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        plain = field.source != "*" and "." not in field.source
        read = attrgetter(field.source) if plain else field.get_attribute
        readers.append((name, read, _converter(field)))

    def represent(instance: Any) -> dict[str, Any]:
        data = {}
        for name, read, convert in readers:
            value = read(instance)
            data[name] = None if value is None else convert(value)
        return data

    return represent


class LeanSiteList(APIView):
    """`GET /v1/sites` with the suggested changes; the project's authentication,
    permission classes, renderers and limit/offset rules (no `?search=`: not measured)."""

    def get(self, request: Request) -> Response:
        paginator = EnvelopePagination()
        limit, offset = paginator.get_limit(request), paginator.get_offset(request)
        sites = visible_sites(request.user, "view")
        page = list(sites.annotate(total_count=Window(Count("pk")))[offset : offset + limit])
        # The window counts every matching row before LIMIT; an empty page has no row to
        # carry it, so only then is there a second query.
        total = page[0].total_count if page else sites.count()
        context = {"request": request, "format": self.format_kwarg, "view": self}
        represent = fast_representation(SiteSerializer(context=context))
        return Response({"total": total, "sites": [represent(site) for site in page]})


class AuthOnly(APIView):
    """The floor of any API endpoint: the project's authentication (an API key: one
    query) and DRF's request and response, with a constant body and no other query."""

    def get(self, request: Request) -> Response:
        return Response(BARE_BODY)


urlpatterns = [
    path("bench/bare", bare, name="bench-bare"),
    path("bench/auth-only", AuthOnly.as_view(), name="bench-auth-only"),
    path("bench/sites-lean", LeanSiteList.as_view(), name="bench-sites-lean"),
    *project_urlpatterns,
]
