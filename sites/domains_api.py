"""REST API for a site's custom domains."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import (
    action,
)
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.viewsets import CollectionViewSet
from sites import services
from sites.models import Domain, Site
from sites.selectors import domain_for, site_for
from sites.serializers import DomainCreateSerializer, DomainSerializer


class DomainViewSet(CollectionViewSet):
    """A site's custom domains: members read them; owners add, verify and remove them."""

    envelope_key = "domains"
    serializer_class = DomainSerializer
    lookup_url_kwarg = "domain_id"
    search_fields = ["domain"]

    def site(self, action: str = "view") -> Site:
        return site_for(self.request.user, self.kwargs["site_id"], action)

    def get_queryset(self) -> QuerySet[Domain]:
        return self.site().domains.all()

    def get_object(self) -> Domain:
        action = "view" if self.action == "retrieve" else "manage_domains"
        return domain_for(
            self.request.user, self.kwargs["site_id"], self.kwargs["domain_id"], action
        )

    @extend_schema(request=DomainCreateSerializer, responses={201: DomainSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        site = self.site("manage_domains")
        serializer = DomainCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        domain = services.domain_create(site=site, domain=serializer.validated_data["domain"])
        return Response(DomainSerializer(domain).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=DomainSerializer)
    @action(detail=True, methods=["patch"])
    def verify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Check the DNS records; 200 either way, with `status` and `lastError`."""
        domain = services.domain_verify(domain=self.get_object())
        return Response(DomainSerializer(domain).data)

    def perform_destroy(self, instance: Domain) -> None:
        services.domain_delete(domain=instance)
