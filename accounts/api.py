"""REST API for the signed-in account, its API keys, teams and memberships."""

from datetime import timedelta
from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import ApiKey, AuditEntry, Invitation, Membership, Team, key_team_scope
from accounts.selectors import invitation_for, invitations_of, membership_for, team_for
from accounts.serializers import (
    AccountSerializer,
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    AuditEntrySerializer,
    AuditFilterSerializer,
    InvitationSerializer,
    MembershipCreateSerializer,
    MembershipSerializer,
    TeamSerializer,
)
from accounts.viewsets import ApiViewSet, EditableCollectionViewSet, signed_in_user


class AccountView(APIView):
    """The signed-in user."""

    @extend_schema(responses=AccountSerializer)
    def get(self, request: Request) -> Response:
        return Response(AccountSerializer(request.user).data)


class ApiKeyViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, ApiViewSet):
    """The caller's own API keys. Keys are made with a session (the dashboard, the
    browsable API) or `manage.py createapikey`, never with another key."""

    envelope_key = "keys"
    serializer_class = ApiKeySerializer
    lookup_url_kwarg = "key_id"

    def get_queryset(self) -> QuerySet[ApiKey]:
        return ApiKey.objects.filter(user=signed_in_user(self.request))

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer})
    def create(self, request: Request) -> Response:
        if isinstance(request.auth, ApiKey):
            raise PermissionDenied(
                "An API key cannot create API keys: create one signed in (the dashboard's "
                "/account/keys/, a session) or with `manage.py createapikey`."
            )
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        team = None
        if data.get("teamId"):
            team = Team.objects.filter(pk=data["teamId"]).first()
            if team is None:
                raise serializers.ValidationError(
                    {"teamId": f"You are not a member of team '{data['teamId']}'."}
                )
        days = data.get("expiresIn")
        key, secret = services.api_key_create(
            user=signed_in_user(request),
            name=data["name"],
            expires_in=timedelta(days=days) if days else None,
            expires_at=data.get("expiresAt"),
            team=team,
            read_only=data["readOnly"],
        )
        key.secret = secret
        return Response(ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiKey) -> None:
        key = self.request.auth
        if isinstance(key, ApiKey) and key.pk != instance.pk:
            raise PermissionDenied(
                "An API key can delete only itself; sign in to delete your other keys."
            )
        services.api_key_delete(key=instance)


class TeamViewSet(EditableCollectionViewSet):
    """Teams the caller belongs to; the creator of a team becomes its owner."""

    envelope_key = "teams"
    serializer_class = TeamSerializer
    lookup_url_kwarg = "team_id"
    search_fields = ["name", "id"]

    def get_queryset(self) -> QuerySet[Team]:
        return Team.objects.for_user(self.request.user)

    def get_object(self) -> Team:
        action = "view" if self.action == "retrieve" else "manage"
        return team_for(self.request.user, self.kwargs["team_id"], action)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        scope = key_team_scope(request.user)
        if scope is not None:
            raise PermissionDenied(
                f"This API key is limited to team '{scope}': it cannot create teams."
            )
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = serializer.validated_data
        serializer.instance = services.team_create(
            user=signed_in_user(self.request), name=data["name"], team_id=data.get("teamId")
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        # cast: update() made the serializer with get_object()'s team.
        team = cast(Team, serializer.instance)
        name = serializer.validated_data.get("name", team.name)
        serializer.instance = services.team_update(team=team, name=name)

    def perform_destroy(self, instance: Team) -> None:
        services.team_delete(team=instance)


class MembershipViewSet(EditableCollectionViewSet):
    """A team's members; any member reads them, owners change them."""

    envelope_key = "memberships"
    serializer_class = MembershipSerializer
    lookup_url_kwarg = "membership_id"
    search_fields = ["user__username", "user__email"]

    def team(self, action: str) -> Team:
        return team_for(self.request.user, self.kwargs["team_id"], action)

    def get_queryset(self) -> QuerySet[Membership]:
        return self.team("view").memberships.select_related("user")

    def get_object(self) -> Membership:
        action = "view" if self.action == "retrieve" else "manage"
        return membership_for(
            self.request.user, self.kwargs["team_id"], self.kwargs["membership_id"], action
        )

    @extend_schema(
        request=MembershipCreateSerializer,
        responses={201: MembershipSerializer, 202: InvitationSerializer},
        description=(
            "Adds the user with this username or email (201, the membership). An email "
            "that no account has gets an invitation instead (202, the invitation): a "
            "mail with a link that makes the account and joins the team."
        ),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.team("manage")
        serializer = MembershipCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["user"] is None:
            invitation, _token = services.invitation_create(
                team=team,
                email=data["email"],
                role=data["roles"][0],
                invited_by=signed_in_user(request),
            )
            return Response(InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)
        membership = services.membership_create(team=team, user=data["user"], role=data["roles"][0])
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        roles = serializer.validated_data.get("roles")
        if roles:
            # cast: update() made the serializer with get_object()'s membership.
            membership = cast(Membership, serializer.instance)
            serializer.instance = services.membership_update(membership=membership, role=roles[0])

    def perform_destroy(self, instance: Membership) -> None:
        services.membership_delete(membership=instance)


@extend_schema(
    parameters=[
        OpenApiParameter("resource", str, description="Only this resource: `site`, `api_key`..."),
        OpenApiParameter("action", str, description="Only this action: `site.update`..."),
    ]
)
class AuditViewSet(mixins.ListModelMixin, ApiViewSet):
    """The team's audit log, newest first: every write, by whom, from where. Owners
    and developers read it; entries are never changed (there is no other method)."""

    envelope_key = "entries"
    serializer_class = AuditEntrySerializer

    def get_queryset(self) -> QuerySet[AuditEntry]:
        team = team_for(self.request.user, self.kwargs["team_id"], "audit")
        filters = AuditFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.audit_entries(team=team, **filters.validated_data)


class InvitationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ApiViewSet
):
    """A team's invitations not yet accepted (pending or expired); owners only. They are
    made by adding a member by an email that has no account; DELETE cancels one."""

    envelope_key = "invitations"
    serializer_class = InvitationSerializer
    lookup_url_kwarg = "invitation_id"

    def get_queryset(self) -> QuerySet[Invitation]:
        return invitations_of(team_for(self.request.user, self.kwargs["team_id"], "manage"))

    def get_object(self) -> Invitation:
        return invitation_for(
            self.request.user, self.kwargs["team_id"], self.kwargs["invitation_id"], "manage"
        )

    def perform_destroy(self, instance: Invitation) -> None:
        services.invitation_delete(invitation=instance)
