from collections.abc import Callable
from typing import cast

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from core.adminwrites import RecordsAdmin, ServiceWritesAdmin
from core.errors import Refused
from deployments import git_services, services
from deployments.models import Delivery, Deployment, Purge, Upload
from sites.models import DeployHook, Repository


@admin.register(Deployment)
class DeploymentAdmin(ServiceWritesAdmin):
    list_display = [
        "id",
        "site",
        "status",
        "trigger",
        "environment",
        "branch",
        "framework",
        "error_code",
        "output_size",
        "build_started_at",
        "build_ended_at",
        "created_by",
        "created_at",
    ]
    list_filter = [
        "status",
        "source_type",
        "trigger",
        "environment",
        "framework",
        "error_code",
        "created_at",
    ]
    search_fields = ["id", "site__id", "site__name", "commit_hash", "repository"]
    list_select_related = ["site", "created_by"]
    date_hierarchy = "created_at"
    actions = ["activate", "cancel", "redeploy"]
    exclude = ["repository_credentials"]  # encrypted, and of no use to read

    def get_readonly_fields(self, request: HttpRequest, obj: Deployment | None = None) -> list[str]:
        # A deployment is the immutable record of a build: every field is read-only.
        return [f.name for f in Deployment._meta.fields if f.name != "repository_credentials"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def service_delete(self, request: HttpRequest, obj: Deployment) -> None:
        services.deployment_delete(deployment=obj)

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Deployment],
        operation: Callable[[Deployment], object],
        done: str,
    ) -> None:
        count = 0
        for deployment in queryset.select_related("site"):
            try:
                operation(deployment)
                count += 1
            except Refused as exc:
                self.message_user(request, f"{deployment.id}: {exc.message}", messages.ERROR)
        if count:
            self.message_user(request, f"{done} {count} deployment(s).", messages.SUCCESS)

    @admin.action(description="Activate (roll back or forward to) the selected deployment")
    def activate(self, request: HttpRequest, queryset: QuerySet[Deployment]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one deployment to activate.", messages.ERROR)
            return
        self._each(
            request, queryset, lambda d: services.deployment_activate(deployment=d), "Activated"
        )

    @admin.action(description="Cancel the selected waiting or building deployments")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Deployment]) -> None:
        self._each(
            request, queryset, lambda d: services.deployment_cancel(deployment=d), "Canceled"
        )

    @admin.action(description="Redeploy the selected deployments (a new build of each)")
    def redeploy(self, request: HttpRequest, queryset: QuerySet[Deployment]) -> None:
        self._each(
            request,
            queryset,
            # The admin's views are for signed-in staff only: a User.
            lambda d: services.deployment_redeploy(deployment=d, user=cast(User, request.user)),
            "Queued a new build of",
        )


@admin.register(Upload)
class UploadAdmin(ServiceWritesAdmin):
    list_display = ["id", "site", "user", "received_size", "total_size", "updated_at"]
    search_fields = ["id", "site__id"]
    list_select_related = ["site", "user"]
    readonly_fields = [
        "id",
        "site",
        "user",
        "received_size",
        "total_size",
        "activate",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def service_delete(self, request: HttpRequest, obj: Upload) -> None:
        services.upload_discard(upload=obj)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """What each webhook delivery did (read-only: deliveries are records)."""

    list_display = ["received_at", "site", "event", "delivery_id", "summary"]
    list_filter = ["event", "received_at"]
    search_fields = ["site__id", "delivery_id"]
    list_select_related = ["site"]
    readonly_fields = ["site", "delivery_id", "event", "summary", "deployments", "received_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False


@admin.register(Repository)
class RepositoryAdmin(ServiceWritesAdmin):
    """Linked repositories, read-only: linking and rotating go through
    deployments.git_services (the API and the dashboard's Git tab); deleting one here
    unlinks it (git_services.repository_unlink)."""

    list_display = ["site", "provider", "url", "production_branch", "updated_at"]
    list_filter = ["provider"]
    search_fields = ["site__id", "url"]
    fields = readonly_fields = (
        "site",
        "provider",
        "url",
        "production_branch",
        "watch_paths",
        "build_tags",
        "remove_deleted_branches",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Repository | None = None) -> bool:
        return False

    def service_delete(self, request: HttpRequest, obj: Repository) -> None:
        git_services.repository_unlink(site=obj.site, user=cast(User, request.user))


@admin.register(DeployHook)
class DeployHookAdmin(ServiceWritesAdmin):
    list_display = ["name", "site", "branch", "last_used_at", "created_at"]
    search_fields = ["site__id", "name"]
    fields = readonly_fields = ("site", "name", "branch", "last_used_at", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DeployHook | None = None) -> bool:
        return False

    def service_delete(self, request: HttpRequest, obj: DeployHook) -> None:
        git_services.deploy_hook_delete(hook=obj, user=cast(User, request.user))


@admin.register(Purge)
class PurgeAdmin(RecordsAdmin):
    """Background removals of deleted files, and why one is still pending (read-only:
    the maintenance worker writes them)."""

    list_display = ["created_at", "site_id", "site_gone", "attempts", "attempted_at", "done_at"]
    list_filter = ["done_at", "site_gone"]
    search_fields = ["site_id"]
    readonly_fields = [
        "site_id",
        "prefixes",
        "site_gone",
        "deployment_ids",
        "attempts",
        "last_error",
        "created_at",
        "attempted_at",
        "done_at",
    ]
