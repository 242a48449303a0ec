from django.contrib import admin
from django.http import HttpRequest
from guardian.admin import GuardedModelAdmin

from sites.models import DeployHook, Repository, Site, Variable


class VariableInline(admin.TabularInline):
    model = Variable
    extra = 0
    # Tuples: one value fits both attributes' types (a list would be invariant).
    fields = readonly_fields = ("key", "scope", "environment", "secret", "updated_at")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Site | None = None) -> bool:
        return False


@admin.register(Site)
class SiteAdmin(GuardedModelAdmin):
    list_display = [
        "id",
        "name",
        "team",
        "framework",
        "adapter",
        "enabled",
        "keep_deployments",
        "deployment",
        "updated_at",
    ]
    list_filter = ["framework", "adapter", "enabled", "specification", "build_runtime"]
    search_fields = ["id", "name", "team__id", "team__name"]
    list_select_related = ["team"]
    readonly_fields = ["id", "team", "deployment", "created_at", "updated_at"]
    inlines = [VariableInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sites.services.site_create grants the team's permissions


@admin.register(Variable)
class VariableAdmin(admin.ModelAdmin):
    """Variables without their values: a secret is never shown, not even to staff."""

    list_display = ["key", "site", "scope", "environment", "secret", "updated_at"]
    list_filter = ["scope", "environment", "secret"]
    search_fields = ["key", "site__id", "site__name"]
    list_select_related = ["site"]
    fields = readonly_fields = (
        "id",
        "site",
        "key",
        "scope",
        "environment",
        "secret",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    """Linked repositories, read-only: linking, rotating and unlinking go through
    deployments.git_services (the API and the dashboard's Git tab)."""

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


@admin.register(DeployHook)
class DeployHookAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "branch", "last_used_at", "created_at"]
    search_fields = ["site__id", "name"]
    fields = readonly_fields = ("site", "name", "branch", "last_used_at", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DeployHook | None = None) -> bool:
        return False
