from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.models import ApiKey, AuditEntry, Invitation, Membership, Team
from core.adminwrites import RecordsAdmin, ServiceWritesAdmin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Team | None = None) -> bool:
        return False  # membership changes go through accounts.services (groups follow roles)


@admin.register(Team)
class TeamAdmin(ServiceWritesAdmin):
    list_display = ["id", "name", "member_count", "created_at"]
    search_fields = ["id", "name"]
    readonly_fields = ["id", "viewer_group", "developer_group", "owner_group", "created_at"]
    inlines = [MembershipInline]

    @admin.display(description="members")
    def member_count(self, team: Team) -> int:
        return team.memberships.count()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # teams are made by accounts.services.team_create (groups, owner)

    def service_save(self, request: HttpRequest, obj: Team, changed: dict[str, Any]) -> None:
        if "name" in changed:
            services.team_update(team=Team.objects.get(pk=obj.pk), name=changed["name"])

    def service_delete(self, request: HttpRequest, obj: Team) -> None:
        services.team_delete(team=obj)


@admin.register(Membership)
class MembershipAdmin(ServiceWritesAdmin):
    list_display = ["id", "team", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["team__id", "team__name", "user__username", "user__email"]
    list_select_related = ["team", "user"]
    readonly_fields = ["id", "team", "user", "role", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def service_delete(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_delete(membership=obj)


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceWritesAdmin):
    """Keys are read here and revoked (deleted); their scope and expiry are fixed when
    they are made."""

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

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # no service changes a key: revoke it and make another

    def service_delete(self, request: HttpRequest, obj: ApiKey) -> None:
        services.api_key_delete(key=obj)


@admin.register(AuditEntry)
class AuditEntryAdmin(RecordsAdmin):
    """Read only: entries are never added, changed or removed here (nor anywhere)."""

    list_display = [
        "created_at", "team_id", "action", "resource_id", "actor_type", "actor_name", "ip"
    ]  # fmt: skip
    list_filter = ["resource", "actor_type", "created_at"]
    search_fields = ["team_id", "action", "resource_id", "actor_name", "user_name", "key_id"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in AuditEntry._meta.fields]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email", "team", "role", "invited_by", "created_at", "expires_at", "accepted_at"
    ]  # fmt: skip
    list_filter = ["role", "created_at", "accepted_at"]
    search_fields = ["email", "team__id", "team__name"]
    list_select_related = ["team", "invited_by"]
    readonly_fields = [
        "id", "team", "email", "role", "token_hash", "invited_by", "created_at", "expires_at",
        "accepted_at", "accepted_by",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the token is mailed once: invite with the API or the team's page

    def has_change_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Invitation) -> None:
        services.invitation_delete(invitation=obj)  # cancel, as owners do

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        for invitation in queryset:
            services.invitation_delete(invitation=invitation)
