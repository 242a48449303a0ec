from django.contrib import admin

from deployments.models import Deployment


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "site",
        "status",
        "source_type",
        "framework",
        "error_code",
        "build_started_at",
        "build_ended_at",
        "created_at",
    ]
    list_filter = ["status", "source_type", "framework", "error_code"]
    search_fields = ["id", "site__id", "site__name", "commit_hash"]
    list_select_related = ["site"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Deployments are immutable records of a build.
        return [f.name for f in Deployment._meta.fields]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
