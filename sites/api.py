"""REST API for sites, their variables, and the framework and specification catalogs."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import team_for
from accounts.viewsets import EditableCollectionViewSet, ReadCachedListMixin
from sites import frameworks, services, specifications
from sites.models import Site, Variable
from sites.selectors import site_for, variable_for
from sites.serializers import (
    SiteCreateSerializer,
    SiteSerializer,
    SiteUpdateSerializer,
    VariableSerializer,
)


# ReadCachedListMixin wraps the list. The ignore: on a cache hit its as_view's view and its
# list answer a plain HttpResponse, not the Response that DRF's signatures promise.
class SiteViewSet(ReadCachedListMixin, EditableCollectionViewSet):  # type: ignore[misc]
    """Sites the caller may read; writes need the role docs/api.md names. The list is what
    API clients poll, so it is answered from the read cache when it can."""

    envelope_key = "sites"
    lookup_url_kwarg = "site_id"
    search_fields = ["name", "id"]

    def get_queryset(self) -> QuerySet[Site]:
        return Site.objects.for_user(self.request.user, "view")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return {"create": SiteCreateSerializer, "partial_update": SiteUpdateSerializer}.get(
            self.action, SiteSerializer
        )

    def get_object(self) -> Site:
        action = {"partial_update": "change", "destroy": "delete"}.get(self.action, "view")
        return site_for(self.request.user, self.kwargs["site_id"], action)

    @extend_schema(request=SiteCreateSerializer, responses={201: SiteSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._validated(SiteCreateSerializer(data=request.data))
        team = team_for(request.user, data.pop("teamId"), "deploy")
        site = services.site_create(team=team, site_id=data.pop("siteId", None), **data)
        body = SiteSerializer(site, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=SiteUpdateSerializer, responses=SiteSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        site = self.get_object()
        data = self._validated(SiteUpdateSerializer(site, data=request.data, partial=True))
        data.pop("teamId", None)
        site = services.site_update(site=site, **data)
        return Response(SiteSerializer(site, context=self.get_serializer_context()).data)

    def perform_destroy(self, instance: Site) -> None:
        services.site_delete(site=instance)

    @staticmethod
    def _validated(serializer: serializers.Serializer) -> dict[str, Any]:
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


_ADAPTER = inline_serializer(
    "FrameworkAdapter",
    {
        "key": serializers.CharField(help_text='"static" or "ssr".'),
        "installCommand": serializers.CharField(),
        "buildCommand": serializers.CharField(),
        "outputDirectory": serializers.CharField(),
        "fallbackFile": serializers.CharField(),
        "startCommand": serializers.CharField(),
    },
)
_FRAMEWORKS = inline_serializer(
    "FrameworksList",
    {
        "total": serializers.IntegerField(min_value=0),
        "frameworks": inline_serializer(
            "Framework",
            {
                "key": serializers.CharField(),
                "name": serializers.CharField(),
                "buildRuntime": serializers.CharField(),
                "defaultAdapter": serializers.ChoiceField(choices=["static", "ssr"]),
                "adapters": _ADAPTER.__class__(many=True),
            },
            many=True,
        ),
    },
)
_SPECIFICATIONS = inline_serializer(
    "SpecificationsList",
    {
        "total": serializers.IntegerField(min_value=0),
        "specifications": inline_serializer(
            "Specification",
            {
                "slug": serializers.CharField(),
                "cpus": serializers.FloatField(),
                "memory": serializers.IntegerField(help_text="MB."),
            },
            many=True,
        ),
    },
)


@extend_schema(responses=_FRAMEWORKS)
@api_view(["GET"])
@permission_classes([AllowAny])
def framework_catalog(request: Request) -> Response:
    """Every framework Shipway builds, with each adapter's default commands."""
    items = frameworks.catalog()
    return Response({"total": len(items), "frameworks": items})


@extend_schema(responses=_SPECIFICATIONS)
@api_view(["GET"])
@permission_classes([AllowAny])
def specification_catalog(request: Request) -> Response:
    """Build sizes: `{slug, cpus, memory}` with memory in MB."""
    items = specifications.catalog()
    return Response({"total": len(items), "specifications": items})


class VariableViewSet(EditableCollectionViewSet):
    envelope_key = "variables"
    serializer_class = VariableSerializer
    lookup_url_kwarg = "variable_id"
    search_fields = ["key"]

    def site(self, action: str = "view") -> Site:
        return site_for(self.request.user, self.kwargs["site_id"], action)

    def get_queryset(self) -> QuerySet[Variable]:
        return self.site().variables.all()

    def get_object(self) -> Variable:
        action = "view" if self.action == "retrieve" else "change"
        return variable_for(
            self.request.user, self.kwargs["site_id"], self.kwargs["variable_id"], action
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        site = self.site("change")
        serializer = VariableSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        variable = services.variable_create(site=site, **serializer.validated_data)
        return Response(VariableSerializer(variable).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        variable = self.get_object()
        serializer = VariableSerializer(variable, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        variable = services.variable_update(variable=variable, **serializer.validated_data)
        return Response(VariableSerializer(variable).data)

    def perform_destroy(self, instance: Variable) -> None:
        services.variable_delete(variable=instance)
