"""The API's serializers for deployments and the requests that make or change them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import StrictBooleanField, StrictCharField
from deployments import buildline
from deployments.models import Deployment, Environment, SourceType, Status, Trigger


class RuntimeSerializer(serializers.Serializer):
    """An ssr deployment's server (docs/api.md, "Deployments"); documents `runtime`."""

    state = serializers.ChoiceField(choices=["stopped", "starting", "running", "failed"])
    startedAt = serializers.DateTimeField(allow_null=True)
    lastRequestAt = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class DeploymentSerializer(serializers.Serializer):
    """A deployment as the API shows it (docs/api.md, "Deployments")."""

    id = serializers.CharField(read_only=True)
    siteId = serializers.CharField(source="site_id", read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    sourceType = serializers.ChoiceField(
        source="source_type", choices=SourceType.choices, read_only=True
    )
    sourceSize = serializers.IntegerField(source="source_size", read_only=True)
    outputSize = serializers.IntegerField(source="output_size", read_only=True)
    framework = serializers.CharField(read_only=True)
    adapter = serializers.CharField(
        read_only=True, help_text='What the build made: "static" files or an "ssr" server.'
    )
    buildRuntime = serializers.CharField(source="build_runtime", read_only=True)
    buildStartedAt = serializers.DateTimeField(
        source="build_started_at", read_only=True, allow_null=True
    )
    buildEndedAt = serializers.DateTimeField(
        source="build_ended_at", read_only=True, allow_null=True
    )
    buildDuration = serializers.FloatField(
        source="build_duration", read_only=True, allow_null=True, help_text="Seconds."
    )
    activate = serializers.BooleanField(read_only=True)
    active = serializers.SerializerMethodField()
    url = serializers.CharField(read_only=True)
    errorCode = serializers.SerializerMethodField()
    logSize = serializers.IntegerField(source="log_size", read_only=True)
    # Stored without credentials (deployments.services keeps them apart, encrypted).
    repository = serializers.CharField(read_only=True)
    reference = serializers.CharField(read_only=True)
    commitHash = serializers.CharField(source="commit_hash", read_only=True)
    commitMessage = serializers.CharField(source="commit_message", read_only=True)
    referenceType = serializers.CharField(source="reference_type", read_only=True)
    environment = serializers.ChoiceField(choices=Environment.choices, read_only=True)
    branch = serializers.CharField(read_only=True)
    branchUrl = serializers.CharField(
        source="branch_url",
        read_only=True,
        allow_null=True,
        help_text="A preview's branch address: the branch's newest ready preview.",
    )
    trigger = serializers.ChoiceField(choices=Trigger.choices, read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    runtime = serializers.SerializerMethodField()
    queuePosition = serializers.SerializerMethodField(
        help_text="A waiting deployment's place among its team's waiting builds (1: next); "
        "null once it is building or done."
    )

    def get_active(self, deployment: Deployment) -> bool:
        return deployment.site.deployment_id == deployment.id

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_errorCode(self, deployment: Deployment) -> str | None:
        return deployment.error_code or None

    @extend_schema_field(serializers.IntegerField(allow_null=True, min_value=1))
    def get_queuePosition(self, deployment: Deployment) -> int | None:
        """Lists annotate it (buildline.with_line_positions); one read otherwise."""
        return buildline.line_position(deployment)

    @extend_schema_field(RuntimeSerializer(allow_null=True))
    def get_runtime(self, deployment: Deployment) -> dict[str, Any] | None:
        """An ssr deployment's server: {state, startedAt, lastRequestAt, error}; null for
        any other (static, or not built yet). Lists select_related("server")."""
        if deployment.adapter != "ssr":
            return None
        try:
            server = deployment.server
        except ObjectDoesNotExist:  # never started yet
            return {"state": "stopped", "startedAt": None, "lastRequestAt": None, "error": None}
        return RuntimeSerializer(
            {
                "state": server.state,
                "startedAt": server.started_at,
                "lastRequestAt": server.last_request_at,
                "error": server.error or None,
            }
        ).data


class UploadSerializer(serializers.Serializer):
    code = serializers.FileField(help_text="The source: a .tar.gz, .tgz or .zip archive.")
    activate = StrictBooleanField(required=False, default=True)


class VcsSerializer(serializers.Serializer):
    repository = StrictCharField(max_length=1024)
    reference = StrictCharField(max_length=255)
    type = serializers.ChoiceField(choices=["branch", "commit", "tag"])
    activate = StrictBooleanField(required=False, default=True)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[Status.CANCELED.value])


class RedeploySerializer(serializers.Serializer):
    cache = StrictBooleanField(required=False, default=True)


class RepositoryLinkSerializer(serializers.Serializer):
    """PUT /v1/sites/{siteId}/repository (docs/api.md, "Git")."""

    url = StrictCharField(max_length=1024, help_text="The repository's http(s) clone address.")
    provider = serializers.ChoiceField(choices=["github", "gitlab", "gitea"], default="github")
    productionBranch = StrictCharField(max_length=255, default="main")
    token = StrictCharField(
        max_length=1024,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="For private repositories and commit statuses; omitted keeps it, '' removes it.",
    )
    watchPaths = serializers.ListField(
        child=StrictCharField(max_length=255), required=False, max_length=50
    )
    buildTags = StrictBooleanField(required=False)
    removeDeletedBranches = StrictBooleanField(required=False)


class RepositorySerializer(serializers.Serializer):
    """A linked repository; `webhookSecret` only in the answer that made the secret."""

    url = serializers.CharField()
    provider = serializers.CharField()
    productionBranch = serializers.CharField(source="production_branch")
    hasToken = serializers.SerializerMethodField()
    watchPaths = serializers.ListField(source="watch_paths", child=serializers.CharField())
    buildTags = serializers.BooleanField(source="build_tags")
    removeDeletedBranches = serializers.BooleanField(source="remove_deleted_branches")
    webhookUrl = serializers.SerializerMethodField()
    webhookSecret = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    def get_hasToken(self, repository: Any) -> bool:
        return bool(repository.encrypted_token)

    def get_webhookUrl(self, repository: Any) -> str:
        return str(self.context["webhook_url"])

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_webhookSecret(self, repository: Any) -> str | None:
        return self.context.get("webhook_secret")


class DeployHookCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=128)
    branch = StrictCharField(max_length=255)


class DeployHookSerializer(serializers.Serializer):
    """A deploy hook; `url` (its secret address) only in the answer that made it."""

    id = serializers.CharField()
    name = serializers.CharField()
    branch = serializers.CharField()
    url = serializers.CharField(allow_null=True, default=None)
    lastUsedAt = serializers.DateTimeField(source="last_used_at", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")


class DeliveryAnswerSerializer(serializers.Serializer):
    """What a webhook or deploy hook delivery did."""

    message = serializers.CharField()
    deployments = DeploymentSerializer(many=True)
