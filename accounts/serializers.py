"""The API's serializers for the account, its API keys, teams and memberships."""

from typing import Any

from rest_framework import serializers

from accounts import audit
from accounts.models import Invitation, Membership, Role
from accounts.selectors import find_user
from core.api.fields import StrictBooleanField, StrictCharField, StrictIntegerField
from core.ids import client_id_validator

MAX_KEY_DAYS = 3650  # expiresIn: at most ten years


class AccountSerializer(serializers.Serializer):
    id = serializers.CharField(source="pk", read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)
    name = serializers.CharField(source="get_full_name", read_only=True)
    staff = serializers.BooleanField(source="is_staff", read_only=True)
    createdAt = serializers.DateTimeField(source="date_joined", read_only=True)


class ApiKeySerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    name = StrictCharField(max_length=128)
    prefix = serializers.CharField(read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    lastUsedAt = serializers.DateTimeField(source="last_used_at", read_only=True, allow_null=True)
    expiresAt = serializers.DateTimeField(source="expires_at", read_only=True, allow_null=True)
    teamId = serializers.CharField(source="team_id", read_only=True, allow_null=True)
    readOnly = serializers.BooleanField(source="read_only", read_only=True)


class ApiKeyCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=128)
    expiresAt = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the key stops working."
    )
    expiresIn = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_KEY_DAYS,
        help_text="Days from now until the key stops working (instead of expiresAt).",
    )
    teamId = StrictCharField(
        required=False,
        allow_null=True,
        max_length=36,
        help_text="The one team (of yours) whose sites and resources the key reaches.",
    )
    readOnly = StrictBooleanField(
        required=False, default=False, help_text="The key may only read (GET, HEAD)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("expiresIn") is not None and attrs.get("expiresAt") is not None:
            raise serializers.ValidationError({"expiresIn": "Give expiresIn or expiresAt."})
        return attrs


class ApiKeyCreatedSerializer(ApiKeySerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once; store it now.")


class TeamSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    teamId = StrictCharField(
        write_only=True, required=False, max_length=36, validators=[client_id_validator]
    )
    name = StrictCharField(max_length=128)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)


ROLE_CHOICES = [role.value for role in Role]


class MembershipSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    teamId = serializers.CharField(source="team_id", read_only=True)
    userId = serializers.CharField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=ROLE_CHOICES), min_length=1, max_length=1
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def to_representation(self, instance: Membership) -> dict[str, Any]:
        instance.roles = [instance.role]
        return super().to_representation(instance)


class MembershipCreateSerializer(MembershipSerializer):
    username = StrictCharField(required=False, max_length=150)
    email = StrictCharField(required=False, max_length=254)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        identifier = attrs.get("username") or attrs.get("email")
        if not identifier:
            raise serializers.ValidationError({"username": "Give a username or an email."})
        user = find_user(identifier)
        if user is None and attrs.get("username"):
            raise serializers.ValidationError({"username": f"No user '{identifier}' exists."})
        # No account with that email: the view sends an invitation instead (user None).
        attrs["user"] = user
        return attrs


class AuditActorSerializer(serializers.Serializer):
    type = serializers.CharField(source="actor_type")
    id = serializers.CharField(source="actor_id", allow_null=True)
    name = serializers.CharField(source="actor_name")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["id"] = data["id"] or None
        if instance.actor_type == "key":  # a key names its user too
            data["user"] = {"id": str(instance.user_id), "name": instance.user_name}
        return data


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    action = serializers.CharField(read_only=True)
    actor = AuditActorSerializer(source="*", read_only=True)
    resource = serializers.CharField(read_only=True)
    resourceId = serializers.CharField(source="resource_id", read_only=True)
    ip = serializers.IPAddressField(read_only=True, allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # `data` (the diff, or the facts of the change) is added here: a class attribute
        # of that name would hide the serializer's own `data`.
        fields = super().get_fields()
        fields["data"] = serializers.JSONField(read_only=True)
        return fields


class AuditFilterSerializer(serializers.Serializer):
    """`?resource=` and `?action=` of the audit list: exact names, or left out."""

    resource = serializers.RegexField(
        audit.RESOURCE_PATTERN,
        required=False,
        error_messages={"invalid": "A resource is a name such as 'site' or 'api_key'."},
    )
    action = serializers.RegexField(
        audit.ACTION_PATTERN,
        required=False,
        error_messages={"invalid": "An action is '<resource>.<verb>', such as 'site.update'."},
    )


class InvitationSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    teamId = serializers.CharField(source="team_id", read_only=True)
    email = serializers.EmailField(read_only=True)
    roles = serializers.SerializerMethodField()
    status = serializers.ChoiceField(
        choices=["pending", "accepted", "expired"],
        read_only=True,
        help_text="pending: the link works; expired: it no longer does.",
    )
    invitedBy = serializers.CharField(
        source="invited_by.username", read_only=True, allow_null=True, default=None
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    expiresAt = serializers.DateTimeField(source="expires_at", read_only=True)

    def get_roles(self, invitation: Invitation) -> list[str]:
        return [invitation.role]
