"""REST API for a site's deployments."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.viewsets import ApiViewSet, signed_in_user
from core.api.downloads import file_download
from core.api.renderers import PlainTextRenderer
from core.errors import Invalid
from deployments import buildline, services, uploads
from deployments.artifacts import artifacts, output_archive_path, source_path
from deployments.models import Deployment, Environment, Upload
from deployments.selectors import deployment_for, log_text, server_log_from, server_of
from deployments.serializers import (
    DeploymentSerializer,
    RedeploySerializer,
    StatusSerializer,
    UploadSerializer,
    VcsSerializer,
)
from sites.models import Site
from sites.selectors import site_for
from sites.serializers import SiteSerializer

_UPLOAD_STATE = inline_serializer(
    "UploadState",
    {
        "uploadId": serializers.CharField(),
        "sizeReceived": serializers.IntegerField(help_text="Bytes so far: resume from here."),
        "sizeTotal": serializers.IntegerField(),
        "complete": serializers.BooleanField(),
    },
)
_CHUNK_HEADERS = [
    OpenApiParameter(
        "Content-Range",
        str,
        OpenApiParameter.HEADER,
        description="Send the archive in chunks: `bytes START-END/TOTAL` for this chunk "
        "(`code` holds it). Without it, `code` is the whole archive.",
    ),
    OpenApiParameter(
        "X-Upload-Id",
        str,
        OpenApiParameter.HEADER,
        description="Every chunk after the first: the `uploadId` the first one answered.",
    ),
    OpenApiParameter(
        "X-Upload-Id",
        str,
        OpenApiParameter.HEADER,
        response=[202],
        description="A chunked upload's id.",
    ),
]


def _upload_state(upload: Upload) -> dict[str, Any]:
    return {
        "uploadId": upload.id,
        "sizeReceived": upload.received_size,
        "sizeTotal": upload.total_size,
        "complete": False,
    }


class DeploymentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ApiViewSet
):
    """A site's deployments, newest first."""

    envelope_key = "deployments"
    serializer_class = DeploymentSerializer
    lookup_url_kwarg = "deployment_id"
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def site(self, action: str = "view") -> Site:
        return site_for(self.request.user, self.kwargs["site_id"], action)

    def get_queryset(self) -> QuerySet[Deployment]:
        deployments = buildline.with_line_positions(
            self.site().deployments.select_related("site", "server")
        )
        if self.action != "list":
            return deployments
        environment = self.request.query_params.get("environment")
        if environment is not None:
            if environment not in Environment.values:
                raise Invalid({"environment": "Use 'production' or 'preview'."})
            deployments = deployments.filter(environment=environment)
        branch = self.request.query_params.get("branch")
        if branch is not None:
            deployments = deployments.filter(branch=branch)
        return deployments

    @extend_schema(
        parameters=[
            OpenApiParameter("environment", enum=Environment.values),
            OpenApiParameter("branch", str, description="Only this git branch's deployments."),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_object(self) -> Deployment:
        read_only = self.action in ("retrieve", "download", "logs")
        return deployment_for(
            self.request.user,
            self.kwargs["site_id"],
            self.kwargs["deployment_id"],
            "view" if read_only else "change",
        )

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        parameters=_CHUNK_HEADERS,
        responses={
            202: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="UploadAnswer",
                    serializers=[DeploymentSerializer, _UPLOAD_STATE],
                    resource_type_field_name=None,
                ),
                description="The deployment (a whole archive, or a chunked upload's last "
                "chunk, with its `uploadId`), or how much of a chunked upload has arrived.",
            )
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        site = self.site("change")
        serializer = UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        archive = serializer.validated_data["code"]
        activate = serializer.validated_data["activate"]
        content_range = request.headers.get("Content-Range")
        if content_range is None:
            created = services.deployment_create_from_upload(
                site=site, archive=archive, activate=activate, user=signed_in_user(request)
            )
            return Response(DeploymentSerializer(created).data, status=status.HTTP_202_ACCEPTED)
        upload, deployment = uploads.receive_chunk(
            site=site,
            chunk=archive,
            content_range=uploads.ContentRange.parse(content_range),
            upload_id=request.headers.get("X-Upload-Id"),
            activate=activate,
            user=signed_in_user(request),
        )
        body = DeploymentSerializer(deployment).data if deployment else _upload_state(upload)
        return Response(
            {**body, "uploadId": upload.id},
            status=status.HTTP_202_ACCEPTED,
            headers={"X-Upload-Id": upload.id},
        )

    @extend_schema(methods=["GET"], request=None, responses=_UPLOAD_STATE)
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=False, methods=["get", "delete"], url_path=r"uploads/(?P<upload_id>[a-z0-9]+)")
    def upload_status(
        self, request: Request, *args: Any, upload_id: str, **kwargs: Any
    ) -> Response:
        """GET: how much of a chunked upload has arrived (resume from `sizeReceived`).
        DELETE: cancel it, and free its bytes and its place."""
        site = self.site("change")
        if request.method == "DELETE":
            uploads.cancel(site=site, upload_id=upload_id)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(_upload_state(uploads.upload_for(site, upload_id)))

    @extend_schema(request=VcsSerializer, responses={202: DeploymentSerializer})
    @action(detail=False, methods=["post"])
    def vcs(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Deploy a branch, tag or commit of a git repository."""
        site = self.site("change")
        serializer = VcsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        deployment = services.deployment_create_from_vcs(
            site=site,
            repository=data["repository"],
            reference=data["reference"],
            reference_type=data["type"],
            activate=data["activate"],
            user=signed_in_user(request),
        )
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_202_ACCEPTED)

    def perform_destroy(self, instance: Deployment) -> None:
        services.deployment_delete(deployment=instance)

    @extend_schema(request=None, responses=SiteSerializer)
    @action(detail=True, methods=["patch"])
    def activate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        site = services.deployment_activate(deployment=self.get_object())
        return Response(SiteSerializer(site).data)

    @extend_schema(request=StatusSerializer, responses=DeploymentSerializer)
    @action(detail=True, methods=["patch"], url_path="status")
    def update_status(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deployment = self.get_object()
        StatusSerializer(data=request.data).is_valid(raise_exception=True)
        deployment = services.deployment_cancel(deployment=deployment)
        return Response(DeploymentSerializer(deployment).data)

    @extend_schema(request=RedeploySerializer, responses={202: DeploymentSerializer})
    @action(detail=True, methods=["post"])
    def redeploy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = RedeploySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deployment = services.deployment_redeploy(
            deployment=self.get_object(),
            use_cache=serializer.validated_data["cache"],
            user=signed_in_user(request),
        )
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[OpenApiParameter("type", enum=["source", "output"], default="source")],
        responses={(200, "application/gzip"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        deployment = self.get_object()
        kind = request.query_params.get("type", "source")
        paths = {"source": source_path, "output": output_archive_path}
        if kind not in paths:
            raise serializers.ValidationError({"type": "Use 'source' or 'output'."})
        path = paths[kind](deployment.storage_prefix)
        if not artifacts().exists(path):
            raise NotFound(f"This deployment has no {kind} archive.")
        return file_download(
            request,
            artifacts().open(path, "rb"),
            filename=f"{deployment.site_id}-{deployment.id}-{kind}.tar.gz",
            content_type="application/gzip",
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("type", enum=["build", "runtime"], default="build"),
            OpenApiParameter("offset", int, default=0),
            *(
                OpenApiParameter(
                    name, type_, OpenApiParameter.HEADER, response=[200], description=text
                )
                for name, type_, text in [
                    (
                        "X-Log-Offset",
                        int,
                        "Where this text starts (runtime logs keep the newest part).",
                    ),
                    ("X-Log-Size", int, "The whole log's size so far: the next `offset`."),
                    ("X-Deployment-Status", str, "The deployment's status."),
                ]
            ),
        ],
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    # Text, whatever the caller accepts; `Accept: text/plain` included (not a 406).
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PlainTextRenderer])
    def logs(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        deployment = self.get_object()
        raw = request.query_params.get("offset", "0")
        if not raw.isdigit():
            raise serializers.ValidationError({"offset": "Must be a whole number of at least 0."})
        kind = request.query_params.get("type", "build")
        if kind not in ("build", "runtime"):
            raise serializers.ValidationError({"type": "Use 'build' or 'runtime'."})
        offset = int(raw)
        if kind == "runtime":  # the server's output (ssr): the newest part is kept
            offset, text = server_log_from(deployment, offset)
            server = server_of(deployment)
            size = server.log_size if server else 0
        else:
            text, size = log_text(deployment, offset), deployment.log_size
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        response["X-Log-Offset"] = str(offset)
        response["X-Log-Size"] = str(size)
        response["X-Deployment-Status"] = deployment.status
        return response
