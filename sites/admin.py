from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from guardian.admin import GuardedModelAdmin

from core.adminwrites import ServiceWritesAdmin
from sites import services
from sites.models import Site, Variable


class VariableInline(admin.TabularInline):
    model = Variable
    extra = 0
    # Tuples: one value fits both attributes' types (a list would be invariant).
    fields = readonly_fields = ("key", "scope", "environment", "secret", "updated_at")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Site | None = None) -> bool:
        return False


@admin.register(Site)
# The stubs type ModelAdmin's change_form_template as a class variable and guardian's
# as an instance one; the two agree at run time (guardian's wins: its page).
class SiteAdmin(ServiceWritesAdmin, GuardedModelAdmin):  # type: ignore[misc]
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
    inlines = [VariableInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Site | None = None) -> list[str]:
        # Only the settings a site may change (sites.services.SITE_SETTINGS), as the API.
        return [f.name for f in Site._meta.fields if f.name not in services.SITE_SETTINGS]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sites.services.site_create grants the team's permissions

    def service_save(self, request: HttpRequest, obj: Site, changed: dict[str, Any]) -> None:
        if changed:
            services.site_update(site=obj, **changed)

    def service_delete(self, request: HttpRequest, obj: Site) -> None:
        services.site_delete(site=obj)


@admin.register(Variable)
class VariableAdmin(ServiceWritesAdmin):
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

    def service_delete(self, request: HttpRequest, obj: Variable) -> None:
        services.variable_delete(variable=obj)
