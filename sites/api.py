"""REST API for sites, their variables, and the framework and specification catalogs."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import filters, mixins, serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import team_for
from accounts.viewsets import ApiViewSet, ReadCachedListMixin
from core.api.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    iso_datetime,
)
from core.ids import site_id_validator
from sites import frameworks, services, specifications
from sites.models import MAX_VARIABLE_VALUE, Access, Site, Variable, VariableScope
from sites.selectors import site_for

# Ids that name catalog endpoints under /v1/sites/ and so cannot be site ids.
RESERVED_SITE_IDS = frozenset({"frameworks", "specifications"})


class SiteSerializer(serializers.Serializer):
    """A site as the API shows it (docs/api.md, "Sites")."""

    id = serializers.CharField(read_only=True)
    name = StrictCharField(max_length=128)
    teamId = serializers.CharField(source="team_id", read_only=True)
    framework = StrictCharField(max_length=32)
    adapter = StrictCharField(max_length=16, required=False)
    buildRuntime = StrictCharField(source="build_runtime", max_length=32, required=False)
    installCommand = StrictCharField(
        source="install_command", max_length=1024, required=False, allow_blank=True
    )
    buildCommand = StrictCharField(
        source="build_command", max_length=1024, required=False, allow_blank=True
    )
    outputDirectory = StrictCharField(
        source="output_directory", max_length=256, required=False, allow_blank=True
    )
    fallbackFile = StrictCharField(
        source="fallback_file", max_length=256, required=False, allow_blank=True
    )
    rootDirectory = StrictCharField(
        source="root_directory", max_length=256, required=False, allow_blank=True
    )
    timeout = StrictIntegerField(required=False, min_value=1, max_value=3600)
    specification = StrictCharField(max_length=32, required=False)
    enabled = StrictBooleanField(required=False)
    access = serializers.ChoiceField(
        choices=Access.choices,
        required=False,
        help_text="public; previews (deployment addresses need team sign-in); team (all).",
    )
    deploymentId = serializers.CharField(source="deployment_id", read_only=True, allow_null=True)
    url = serializers.CharField(read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    links = serializers.SerializerMethodField(
        help_text="The site's collections, so the browsable API can be walked."
    )

    def get_links(self, site: Site) -> dict[str, str]:
        origin = self.context.get("origin")
        if origin is None:
            request = self.context.get("request")
            origin = request.build_absolute_uri("/")[:-1] if request is not None else ""
            self.context["origin"] = origin  # once per response, not once per site
        base = f"{origin}/v1/sites/{site.id}"
        return {name: f"{base}/{name}" for name in ("deployments", "variables", "domains")}

    def to_representation(self, site: Site) -> dict[str, Any]:
        """The fields above, read directly: lists render 25 sites per request and DRF's
        generic field walk cost about half a millisecond per site (bench/RESULTS.md)."""
        return {
            "id": site.id,
            "name": site.name,
            "teamId": site.team_id,
            "framework": site.framework,
            "adapter": site.adapter,
            "buildRuntime": site.build_runtime,
            "installCommand": site.install_command,
            "buildCommand": site.build_command,
            "outputDirectory": site.output_directory,
            "fallbackFile": site.fallback_file,
            "rootDirectory": site.root_directory,
            "timeout": site.timeout,
            "specification": site.specification,
            "enabled": site.enabled,
            "access": site.access,
            "deploymentId": site.deployment_id,
            "url": site.url,
            "createdAt": iso_datetime(site.created_at),
            "updatedAt": iso_datetime(site.updated_at),
            "links": self.get_links(site),
        }


class SiteCreateSerializer(SiteSerializer):
    siteId = StrictCharField(required=False, max_length=36, validators=[site_id_validator])
    teamId = StrictCharField(max_length=36)

    def validate_siteId(self, value: str) -> str:
        if value in RESERVED_SITE_IDS:
            raise serializers.ValidationError(f"'{value}' is reserved; choose another id.")
        return value


class SiteUpdateSerializer(SiteSerializer):
    teamId = StrictCharField(required=False, max_length=36)

    def validate_teamId(self, value: str) -> str:
        if value != self.instance.team_id:
            raise serializers.ValidationError("A site's team cannot be changed.")
        return value


class SiteViewSet(
    ReadCachedListMixin,  # before ListModelMixin, whose list it wraps
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Sites the caller may read; writes need the role docs/api.md names. The list is what
    API clients poll, so it is answered from the read cache when it can."""

    envelope_key = "sites"
    lookup_url_kwarg = "site_id"
    filter_backends = [filters.SearchFilter]
    search_fields = ["name", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

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


@extend_schema(responses={200: dict})
@api_view(["GET"])
@permission_classes([AllowAny])
def framework_catalog(request: Request) -> Response:
    """Every framework Shipway builds, with each adapter's default commands."""
    items = frameworks.catalog()
    return Response({"total": len(items), "frameworks": items})


@extend_schema(responses={200: dict})
@api_view(["GET"])
@permission_classes([AllowAny])
def specification_catalog(request: Request) -> Response:
    """Build sizes: `{slug, cpus, memory}` with memory in MB."""
    items = specifications.catalog()
    return Response({"total": len(items), "specifications": items})


class VariableSerializer(serializers.Serializer):
    """A variable; a secret's value reads as null and is never sent back."""

    id = serializers.CharField(read_only=True)
    siteId = serializers.CharField(source="site_id", read_only=True)
    key = StrictCharField(max_length=255)
    value = StrictCharField(max_length=MAX_VARIABLE_VALUE, allow_blank=True, trim_whitespace=False)
    secret = StrictBooleanField(required=False)
    scope = serializers.ChoiceField(choices=VariableScope.choices, required=False)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def to_representation(self, instance: Variable) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.secret:
            data["value"] = None
        return data


class VariableViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    envelope_key = "variables"
    serializer_class = VariableSerializer
    lookup_url_kwarg = "variable_id"
    filter_backends = [filters.SearchFilter]
    search_fields = ["key"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def site(self, action: str = "view") -> Site:
        return site_for(self.request.user, self.kwargs["site_id"], action)

    def get_queryset(self) -> QuerySet[Variable]:
        return self.site().variables.all()

    def get_object(self) -> Variable:
        action = "view" if self.action == "retrieve" else "change"
        site = self.site(action)
        variable = site.variables.filter(pk=self.kwargs["variable_id"]).first()
        if variable is None:
            raise NotFound(f"Variable '{self.kwargs['variable_id']}' not found.")
        return variable

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
