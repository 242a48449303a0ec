"""Users are Django's; teams group them, with one role each, and API keys act for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from core.ids import client_id_validator, new_id

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    DEVELOPER = "developer", "Developer"
    OWNER = "owner", "Owner"


def key_team_scope(user: User | AnonymousUser) -> str | None:
    """The one team the API key (or realtime token) this user object came with is
    limited to; None when it is not limited.

    Authentication with a team-scoped key marks the user object it answers
    (`limit_to_team`); every permission check (`Team.objects.for_user`,
    `Site.objects.for_user`, and so `team_for` and `site_for`) then leaves out
    everything of other teams."""
    return getattr(user, "_key_team_scope", None)


def limit_to_team(user: User, team_id: str | None) -> None:
    """Mark this user object (of this request only) as limited to one team."""
    user._key_team_scope = team_id  # type: ignore[attr-defined]  # this object's own mark


class TeamQuerySet(models.QuerySet["Team"]):
    def for_user(self, user: User | AnonymousUser) -> TeamQuerySet:
        """Teams the user belongs to (every team for a superuser, none when anonymous),
        within the scope of the API key they came with."""
        if not user.is_authenticated:
            return self.none()
        teams = self.all() if user.is_superuser else self.filter(memberships__user=user)
        scope = key_team_scope(user)
        return teams if scope is None else teams.filter(pk=scope)


class Team(models.Model):
    """A team owns sites. Each role is a Django group that object permissions go to."""

    id = models.CharField(primary_key=True, max_length=36, validators=[client_id_validator])
    name = models.CharField(max_length=128)
    viewer_group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="+")
    developer_group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="+")
    owner_group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="+")
    build_limit = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Builds of this team's sites at once; empty: SHIPWAY_TEAM_BUILD_LIMIT.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    def group_for(self, role: str) -> Group:
        return {
            Role.VIEWER: self.viewer_group,
            Role.DEVELOPER: self.developer_group,
            Role.OWNER: self.owner_group,
        }[Role(role)]

    @property
    def groups(self) -> list[Group]:
        return [self.viewer_group, self.developer_group, self.owner_group]


class Membership(models.Model):
    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Not a field: the API's `roles` (a list of the one role), which
    # MembershipSerializer.to_representation sets before rendering.
    roles: list[str]

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.team_id}"


class ApiKey(models.Model):
    """A bearer key acting as its user. Only the SHA-256 of the secret is stored."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=128)
    prefix = models.CharField(max_length=16, help_text="The secret's first characters.")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Scope: the one team whose sites and resources the key reaches (None: every team of
    # its user), and whether it may only read (safe methods).
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="api_keys"
    )
    read_only = models.BooleanField(default=False)
    # Not a field (never stored): the plain secret, set on a key just created so that
    # the API's answer shows it, once.
    secret: str

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditRefused(Exception):
    """An audit entry was to be changed or removed: entries are never edited."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Reads only: `update()` and `delete()` refuse (the table's trigger refuses them too)."""

    def update(self, **kwargs: object) -> int:
        raise AuditRefused("Audit entries are never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditRefused("Audit entries are never removed.")

    def bulk_update(self, *args: object, **kwargs: object) -> int:
        raise AuditRefused("Audit entries are never changed.")


class ActorType(models.TextChoices):
    USER = "user", "User"
    KEY = "key", "API key"
    SYSTEM = "system", "System"


class AuditEntry(models.Model):
    """One write, as accounts/audit.py `record` saw it. Written once, never changed.

    No foreign keys: an entry outlives the team, site, user or key it names (a deleted
    team's entries stay, under its id)."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    team_id = models.CharField(max_length=36, blank=True)  # indexed below, with the time
    action = models.CharField(max_length=64)
    resource = models.CharField(max_length=32)
    resource_id = models.CharField(max_length=64, blank=True)
    actor_type = models.CharField(max_length=8, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField(max_length=160, blank=True)
    # The user acting (themselves, or through their key `key_id`); None for the system.
    user_id = models.IntegerField(null=True, blank=True)
    user_name = models.CharField(max_length=150, blank=True)
    key_id = models.CharField(max_length=36, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["team_id", "-created_at", "-id"], name="audit_team_newest"),
            models.Index(
                fields=["team_id", "resource", "-created_at", "-id"], name="audit_team_resource"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.resource_id} by {self.actor_type} {self.actor_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditRefused("Audit entries are never changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditRefused("Audit entries are never removed.")


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def open(self) -> InvitationQuerySet:
        """Neither accepted nor expired: the link still works."""
        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An email address asked to join a team with a role, before it has an account.

    The link's token is shown only in the mail; the row keeps its SHA-256. Accepting it
    once sets `accepted_at`, and the link stops working."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["team", "accepted_at", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.email} to {self.team_id} as {self.role}"

    @property
    def status(self) -> str:
        """`pending`, `accepted` or `expired`."""
        if self.accepted_at is not None:
            return "accepted"
        return "pending" if self.expires_at > timezone.now() else "expired"
