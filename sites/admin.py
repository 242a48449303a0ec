from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from sites.models import Site, Variable


class VariableInline(admin.TabularInline):
    model = Variable
    extra = 0
    fields = ["key", "scope", "secret", "updated_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
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
        "deployment",
        "updated_at",
    ]
    list_filter = ["framework", "adapter", "enabled", "specification", "build_runtime"]
    search_fields = ["id", "name", "team__id", "team__name"]
    list_select_related = ["team"]
    readonly_fields = ["id", "team", "deployment", "created_at", "updated_at"]
    inlines = [VariableInline]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False  # sites.services.site_create grants the team's permissions


@admin.register(Variable)
class VariableAdmin(admin.ModelAdmin):
    """Variables without their values: a secret is never shown, not even to staff."""

    list_display = ["key", "site", "scope", "secret", "updated_at"]
    list_filter = ["scope", "secret"]
    search_fields = ["key", "site__id", "site__name"]
    list_select_related = ["site"]
    fields = ["id", "site", "key", "scope", "secret", "created_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
