"""REST API for a site's custom domains."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import filters, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.viewsets import ApiViewSet
from core.api.fields import StrictCharField, iso_datetime
from sites import domains
from sites.models import Domain, DomainStatus, Site
from sites.selectors import site_for


class DomainRecordSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="TXT, CNAME, A or AAAA.")
    name = serializers.CharField()
    value = serializers.CharField()


class DomainSerializer(serializers.Serializer):
    """A custom domain as the API shows it, with the DNS records that verify it."""

    id = serializers.CharField(read_only=True)
    siteId = serializers.CharField(source="site_id", read_only=True)
    domain = serializers.CharField(read_only=True, help_text="Lowercase ASCII (IDNA) form.")
    status = serializers.ChoiceField(choices=DomainStatus.choices, read_only=True)
    verified = serializers.BooleanField(read_only=True)
    verifiedAt = serializers.DateTimeField(source="verified_at", read_only=True, allow_null=True)
    lastCheckedAt = serializers.DateTimeField(
        source="last_checked_at", read_only=True, allow_null=True
    )
    lastError = serializers.CharField(
        source="last_error",
        read_only=True,
        allow_null=True,
        help_text="Why the last check failed (null when it passed or none ran).",
    )
    records = DomainRecordSerializer(
        many=True,
        read_only=True,
        help_text="Add the TXT record, and the CNAME or the A/AAAA records, then verify.",
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def to_representation(self, domain: Domain) -> dict[str, Any]:
        return {
            "id": domain.id,
            "siteId": domain.site_id,
            "domain": domain.domain,
            "status": domain.status,
            "verified": domain.verified,
            "verifiedAt": iso_datetime(domain.verified_at),
            "lastCheckedAt": iso_datetime(domain.last_checked_at),
            "lastError": domain.last_error or None,
            "records": domains.domain_records(domain),
            "createdAt": iso_datetime(domain.created_at),
            "updatedAt": iso_datetime(domain.updated_at),
        }


class DomainCreateSerializer(serializers.Serializer):
    domain = StrictCharField(
        max_length=1024, help_text="e.g. www.example.com (Unicode names are stored in IDNA)."
    )


class DomainViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """A site's custom domains: members read them; owners add, verify and remove them."""

    envelope_key = "domains"
    serializer_class = DomainSerializer
    lookup_url_kwarg = "domain_id"
    filter_backends = [filters.SearchFilter]
    search_fields = ["domain"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def site(self, action: str = "view") -> Site:
        return site_for(self.request.user, self.kwargs["site_id"], action)

    def get_queryset(self) -> QuerySet[Domain]:
        return self.site().domains.all()

    def get_object(self) -> Domain:
        site = self.site("view" if self.action == "retrieve" else "manage_domains")
        domain = site.domains.filter(pk=self.kwargs["domain_id"]).first()
        if domain is None:
            raise NotFound(f"Domain '{self.kwargs['domain_id']}' not found.")
        return domain

    @extend_schema(request=DomainCreateSerializer, responses={201: DomainSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        site = self.site("manage_domains")
        serializer = DomainCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        domain = domains.domain_create(site=site, domain=serializer.validated_data["domain"])
        return Response(DomainSerializer(domain).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=DomainSerializer)
    @action(detail=True, methods=["patch"])
    def verify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Check the DNS records; 200 either way, with `status` and `lastError`."""
        domain = domains.domain_verify(domain=self.get_object())
        return Response(DomainSerializer(domain).data)

    def perform_destroy(self, instance: Domain) -> None:
        domains.domain_delete(domain=instance)
