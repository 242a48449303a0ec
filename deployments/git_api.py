"""REST API of push to deploy: a site's linked repository and deploy hooks, and the
two addresses forges and schedulers deliver to (docs/api.md, "Git")."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttles import HookThrottle
from accounts.viewsets import ApiViewSet, signed_in_user
from core.api.schema import error_response
from core.errors import NotFound
from deployments import git_services, webhooks
from deployments.selectors import deploy_hook_for, repository_of
from deployments.serializers import (
    DeliveryAnswerSerializer,
    DeployHookCreateSerializer,
    DeployHookSerializer,
    DeploymentSerializer,
    RepositoryLinkSerializer,
    RepositorySerializer,
)
from sites.models import DeployHook, Repository
from sites.selectors import site_for


def _repository_answer(repository: Repository, secret: str | None = None) -> dict[str, Any]:
    context = {"webhook_url": git_services.webhook_url(repository), "webhook_secret": secret}
    return RepositorySerializer(repository, context=context).data


class RepositoryView(APIView):
    """The site's linked repository: members read it, developers link and unlink it."""

    def _site(self, action: str) -> Any:
        return site_for(self.request.user, self.kwargs["site_id"], action)

    @extend_schema(responses=RepositorySerializer)
    def get(self, request: Request, site_id: str) -> Response:
        repository = repository_of(self._site("view"))
        if repository is None:
            raise NotFound("The site has no linked repository.")
        return Response(_repository_answer(repository))

    @extend_schema(request=RepositoryLinkSerializer, responses=RepositorySerializer)
    def put(self, request: Request, site_id: str) -> Response:
        site = self._site("change")
        serializer = RepositoryLinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        linked = git_services.repository_link(
            site=site,
            url=data["url"],
            provider=data["provider"],
            production_branch=data["productionBranch"],
            token=data.get("token"),
            watch_paths=data.get("watchPaths"),
            build_tags=data.get("buildTags"),
            remove_deleted_branches=data.get("removeDeletedBranches"),
            user=signed_in_user(request),
        )
        return Response(_repository_answer(linked.repository, linked.webhook_secret))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, site_id: str) -> Response:
        git_services.repository_unlink(site=self._site("change"), user=signed_in_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RepositorySecretView(APIView):
    """POST: a new webhook secret, shown once; the old one stops working."""

    @extend_schema(request=None, responses=RepositorySerializer)
    def post(self, request: Request, site_id: str) -> Response:
        site = site_for(request.user, site_id, "change")
        secret = git_services.repository_rotate_secret(site=site, user=signed_in_user(request))
        return Response(_repository_answer(site.repository, secret))


class DeployHookViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, ApiViewSet):
    """A site's deploy hooks: a POST to a hook's `url` builds its branch."""

    envelope_key = "hooks"
    serializer_class = DeployHookSerializer
    lookup_url_kwarg = "hook_id"
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self) -> Any:
        return site_for(self.request.user, self.kwargs["site_id"], "view").deploy_hooks.all()

    def get_object(self) -> DeployHook:
        return deploy_hook_for(
            self.request.user, self.kwargs["site_id"], self.kwargs["hook_id"], "change"
        )

    @extend_schema(request=DeployHookCreateSerializer, responses={201: DeployHookSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        site = site_for(request.user, self.kwargs["site_id"], "change")
        serializer = DeployHookCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hook, url = git_services.deploy_hook_create(
            site=site, user=signed_in_user(request), **serializer.validated_data
        )
        data = {**DeployHookSerializer(hook).data, "url": url}
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: DeployHook) -> None:
        git_services.deploy_hook_delete(hook=instance, user=signed_in_user(self.request))


class _Unsigned(APIException):
    # Not DRF's AuthenticationFailed: with no authentication classes DRF makes that a 403.
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "authentication_failed"
    default_detail = "The delivery's signature is missing or does not match the webhook's secret."


class _TooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class _HookView(APIView):
    """No session, no key: the address (and a forge's signature) is the credential."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [HookThrottle]

    def body(self, request: Request) -> bytes:
        """The body, refused past SHIPWAY_WEBHOOK_MAX_BODY before any of it is read
        (core/limits.py already refuses it ahead of Django under ASGI; Django reads no
        more than Content-Length)."""
        limit = settings.SHIPWAY_WEBHOOK_MAX_BODY
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit() or int(declared) > limit:
            raise _TooLarge(f"A delivery is at most {limit} bytes.")
        return bytes(request.body)


class GitWebhookView(_HookView):
    """POST /v1/hooks/git/{hookId}: a forge's event for a linked repository."""

    @extend_schema(
        request=None,
        responses={
            202: DeliveryAnswerSerializer,
            200: DeliveryAnswerSerializer,
            401: error_response(
                401, "unauthorized", _Unsigned.default_detail, "Missing or wrong signature."
            ),
        },
    )
    def post(self, request: Request, hook_id: str) -> Response:
        body = self.body(request)
        repository = Repository.objects.select_related("site").filter(hook_id=hook_id).first()
        if repository is None:
            raise NotFound("No linked repository has this webhook address.")
        try:
            webhooks.verify(repository.provider, repository.webhook_secret, request.headers, body)
        except webhooks.Unsigned:
            raise _Unsigned from None
        received = webhooks.read(repository.provider, request.headers, body)
        outcome = git_services.delivery_received(repository=repository, received=received)
        answer = {
            "message": outcome.summary,
            "deployments": DeploymentSerializer(outcome.deployments, many=True).data,
        }
        built = any(d.status != "canceled" for d in outcome.deployments)
        return Response(answer, status=status.HTTP_202_ACCEPTED if built else status.HTTP_200_OK)


class DeployHookCallView(_HookView):
    """POST /v1/hooks/deploy/{secret}: build the hook's branch head."""

    @extend_schema(request=None, responses={202: DeliveryAnswerSerializer})
    def post(self, request: Request, secret: str) -> Response:
        self.body(request)
        deployment = git_services.deploy_hook_called(secret=secret)
        answer = {
            "message": f"Building {deployment.reference}.",
            "deployments": [DeploymentSerializer(deployment).data],
        }
        return Response(answer, status=status.HTTP_202_ACCEPTED)
