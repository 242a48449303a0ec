from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.models import ApiKey, AuditEntry, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Team | None = None) -> bool:
        return False  # membership changes go through accounts.services (groups follow roles)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "member_count", "created_at"]
    search_fields = ["id", "name"]
    readonly_fields = ["id", "viewer_group", "developer_group", "owner_group", "created_at"]
    inlines = [MembershipInline]

    @admin.display(description="members")
    def member_count(self, team: Team) -> int:
        return team.memberships.count()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # teams are made by accounts.services.team_create (groups, owner)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["team__id", "team__name", "user__username", "user__email"]
    list_select_related = ["team", "user"]
    readonly_fields = ["id", "team", "user", "role", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name", "prefix", "user", "team", "read_only", "created_at", "last_used_at", "expires_at"
    ]  # fmt: skip
    list_filter = ["read_only", "created_at", "last_used_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user", "team"]
    # The scope's team is fixed: changing it could widen what a key reaches.
    readonly_fields = [
        "id", "user", "prefix", "secret_hash", "team", "created_at", "last_used_at"
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the secret is shown once: create keys with the API or `createapikey`


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read only: entries are never added, changed or removed here (nor anywhere)."""

    list_display = [
        "created_at", "team_id", "action", "resource_id", "actor_type", "actor_name", "ip"
    ]  # fmt: skip
    list_filter = ["resource", "actor_type", "created_at"]
    search_fields = ["team_id", "action", "resource_id", "actor_name", "user_name", "key_id"]
    date_hierarchy = "created_at"
    actions = None  # not even the bulk "delete selected"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
