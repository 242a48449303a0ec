"""A site: what to build, how, and which deployment its domains serve."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import key_team_scope
from core.ids import new_id, site_id_validator
from sites import crypto
from sites.frameworks import get_framework
from sites.permissions import ACTIONS
from sites.runtimes import get_runtime
from sites.specifications import DEFAULT_SPECIFICATION, get_specification

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

MAX_BUILD_TIMEOUT = 3600
# How many ready deployments a site may keep besides its active one and its branches'
# newest previews (retention, deployments/retention.py).
MAX_KEEP_DEPLOYMENTS = 1000


def _check_catalog(lookup: Callable[[str], object], value: str) -> None:
    try:
        lookup(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def validate_framework(value: str) -> None:
    _check_catalog(get_framework, value)


def validate_specification(value: str) -> None:
    _check_catalog(get_specification, value)


def validate_runtime(value: str) -> None:
    _check_catalog(get_runtime, value)


def validate_relative_path(value: str) -> None:
    """A path inside the source tree: relative, no "..", no NUL, no backslash."""
    parts = value.split("/")
    if value.startswith("/") or "\\" in value or "\x00" in value or ".." in parts:
        raise ValidationError("Use a relative path inside the project, without '..'.")


class SiteQuerySet(models.QuerySet["Site"]):
    def for_user(self, user: User | AnonymousUser, action: str = "view") -> SiteQuerySet:
        """The sites `user` may `action` ("view", "change", "delete", "manage_domains").

        One query in the database over django-guardian's object permissions (granted to
        the user or to their team role groups), never a loop in Python. Written as two
        plain subqueries rather than guardian's `get_objects_for_user`, whose query costs
        several times more to plan and run (bench/RESULTS.md, "API"). A user object from
        a team-scoped API key sees only that team's sites.
        """
        if not user.is_authenticated:
            return self.none()
        scope = key_team_scope(user)  # an API key limited to one team
        if scope is not None:
            return self._by_permission(user, action).filter(team_id=scope)
        return self._by_permission(user, action)

    def _by_permission(self, user: User, action: str) -> SiteQuerySet:
        if user.is_superuser:
            return self.all()
        codename = ACTIONS[action]
        by_group = SiteGroupObjectPermission.objects.filter(
            group__user=user, permission__codename=codename
        ).values("content_object_id")
        by_user = SiteUserObjectPermission.objects.filter(
            user=user, permission__codename=codename
        ).values("content_object_id")
        return self.filter(models.Q(pk__in=by_group) | models.Q(pk__in=by_user))


class Adapter(models.TextChoices):
    STATIC = "static", "Static"
    SSR = "ssr", "Server-side rendering"


class Access(models.TextChoices):
    """Who may open a site's addresses (the edge asks members to sign in on the dashboard)."""

    PUBLIC = "public", "Anyone, everywhere"
    PREVIEWS = "previews", "Anyone on production; team members on deployment previews"
    TEAM = "team", "Only team members, everywhere"


class Site(models.Model):
    id = models.CharField(primary_key=True, max_length=36, validators=[site_id_validator])
    # Site ids are chosen by users and free again once a site is deleted; whatever must
    # never pass to the next site of that id (its build cache, preview cookies) is keyed
    # by this server-made identity instead.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=128)
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="sites")
    framework = models.CharField(max_length=32, validators=[validate_framework])
    adapter = models.CharField(max_length=16, choices=Adapter.choices, default=Adapter.STATIC)
    build_runtime = models.CharField(max_length=32, validators=[validate_runtime])
    install_command = models.CharField(max_length=1024, blank=True)
    # ssr only: what starts the server, in the packaged server's directory ("" for the
    # framework's default).
    start_command = models.CharField(max_length=1024, blank=True)
    build_command = models.CharField(max_length=1024, blank=True)
    output_directory = models.CharField(
        max_length=256, blank=True, validators=[validate_relative_path]
    )
    fallback_file = models.CharField(
        max_length=256, blank=True, validators=[validate_relative_path]
    )
    root_directory = models.CharField(
        max_length=256, blank=True, validators=[validate_relative_path]
    )
    timeout = models.PositiveIntegerField(
        default=900, validators=[MinValueValidator(1), MaxValueValidator(MAX_BUILD_TIMEOUT)]
    )
    specification = models.CharField(
        max_length=32,
        default=DEFAULT_SPECIFICATION,
        validators=[validate_specification],
    )
    enabled = models.BooleanField(default=True)
    access = models.CharField(max_length=16, choices=Access.choices, default=Access.PREVIEWS)
    # Ready deployments kept besides the active one and each branch's newest preview;
    # None: the platform's SHIPWAY_KEEP_DEPLOYMENTS.
    keep_deployments = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_KEEP_DEPLOYMENTS)],
    )
    deployment = models.ForeignKey(
        "deployments.Deployment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The active deployment, served on the site's domains.",
    )
    # ssr only: the deployment whose server takes the site's traffic. It follows
    # `deployment` once that one's server passes its health check, so that a switch or a
    # rollback drops no request (the runtime manager moves it).
    live_server = models.ForeignKey(
        "deployments.Deployment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The deployment whose server answers on the site's domains (ssr).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        permissions = [("manage_domains", "Can add, verify and remove the site's domains")]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    def clean(self) -> None:
        try:
            framework = get_framework(self.framework)
        except ValueError:
            return  # the field's own validator reports it
        if self.adapter not in framework.adapters:
            supported = ", ".join(framework.adapters)
            raise ValidationError(
                {"adapter": f"{framework.name} supports the adapters: {supported}."}
            )

    @property
    def kept_deployments(self) -> int:
        """How many other ready deployments retention keeps (the site's or the default)."""
        return self.keep_deployments or settings.SHIPWAY_KEEP_DEPLOYMENTS

    @property
    def hostname(self) -> str:
        return f"{self.id}.{settings.SITES_DOMAIN}"

    @property
    def url(self) -> str:
        return settings.SITES_URL_TEMPLATE.format(host=self.hostname)


class SiteUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Site, on_delete=models.CASCADE)


class SiteGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Site, on_delete=models.CASCADE)


class VariableScope(models.TextChoices):
    BUILD = "build", "Build"
    RUNTIME = "runtime", "Runtime"
    ALL = "all", "Build and runtime"


variable_key_validator = RegexValidator(
    r"^[A-Za-z_][A-Za-z0-9_]*\Z",
    "Use letters, digits and '_', not starting with a digit (an environment variable name).",
)
MAX_VARIABLE_VALUE = 8192


class VariableEnvironment(models.TextChoices):
    """Which deployments see a variable: production ones, previews, or both."""

    PRODUCTION = "production", "Production"
    PREVIEW = "preview", "Preview"
    ALL = "all", "Production and preview"


class Variable(models.Model):
    """An environment variable for a site's builds or runtime; the value is encrypted."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="variables")
    key = models.CharField(max_length=255, validators=[variable_key_validator])
    encrypted_value = models.TextField(editable=False)
    secret = models.BooleanField(default=False)
    scope = models.CharField(
        max_length=16, choices=VariableScope.choices, default=VariableScope.ALL
    )
    environment = models.CharField(
        max_length=16, choices=VariableEnvironment.choices, default=VariableEnvironment.ALL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["site", "key"], name="unique_variable_key_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site_id}:{self.key}"

    @property
    def value(self) -> str:
        return crypto.decrypt(self.encrypted_value)

    @value.setter
    def value(self, plain: str) -> None:
        self.encrypted_value = crypto.encrypt(plain)


def new_verification_token() -> str:
    """The value a domain's `_shipway-challenge` TXT record must hold (unguessable)."""
    return secrets.token_hex(16)


MAX_DOMAIN_LENGTH = 253  # the longest name DNS allows, in text without the final dot


class DomainStatus(models.TextChoices):
    """A site's claim on a name (sites/services.py). Several sites may claim one name;
    at most one claim is verified at a time."""

    PENDING = "pending", "Pending"  # waiting for its DNS proof
    VERIFIED = "verified", "Verified"  # proved: serves the site, gets a certificate
    TAKEN = "taken", "Taken"  # another site's claim is verified
    LOST = "lost", "Lost"  # was verified; its records moved (or another site proved it)


class Domain(models.Model):
    """A site's claim on a custom domain; only a verified one serves (sites/services.py).

    `domain` is the lowercase ASCII (IDNA) form. A site claims a name once; several
    sites may claim it, and the first DNS proof wins (at most one verified claim per
    name, which also serves the edge's and Caddy's lookups by name). A removed claim's
    row is deleted.
    """

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=MAX_DOMAIN_LENGTH)
    verification_token = models.CharField(
        max_length=64, default=new_verification_token, editable=False
    )
    status = models.CharField(
        max_length=16, choices=DomainStatus.choices, default=DomainStatus.PENDING
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Not a field: the DNS records to create (sites.domains.domain_records), which the
    # dashboard's domain list sets for its template.
    records: list[dict[str, str]]

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["site", "domain"], name="one_claim_per_site"),
            models.UniqueConstraint(
                fields=["domain"],
                condition=models.Q(status="verified"),
                name="one_verified_claim_per_domain",
            ),
        ]
        indexes = [
            models.Index(fields=["domain"], name="domain_name"),
            models.Index(fields=["status", "last_checked_at"], name="domain_recheck"),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def verified(self) -> bool:
        return self.status == DomainStatus.VERIFIED


class Provider(models.TextChoices):
    """The forges a repository is linked from: what their push events look like."""

    GITHUB = "github", "GitHub"
    GITLAB = "gitlab", "GitLab"
    GITEA = "gitea", "Gitea or Forgejo"


def new_webhook_secret() -> str:
    """A push webhook's signing secret (unguessable; shown once)."""
    return secrets.token_urlsafe(32)


class Repository(models.Model):
    """A site's linked git repository: pushes to it build the site (docs/api.md, "Git").

    The token (for private repositories and commit statuses) and the webhook secret are
    encrypted at rest; the secret is shown once, when it is made. `hook_id` names the
    webhook's address, `/v1/hooks/git/{hook_id}`: random, so that it says nothing about
    the site, and a site that takes a deleted site's id gets a new one.
    """

    site = models.OneToOneField(
        Site, on_delete=models.CASCADE, primary_key=True, related_name="repository"
    )
    url = models.CharField(max_length=1024, help_text="The clone address, without credentials.")
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.GITHUB)
    production_branch = models.CharField(max_length=255, default="main")
    encrypted_token = models.TextField(blank=True, editable=False)
    encrypted_webhook_secret = models.TextField(editable=False)
    hook_id = models.CharField(max_length=36, unique=True, default=new_id, editable=False)
    # Monorepos: path prefixes a push must touch to be built (empty: every push builds).
    watch_paths = models.JSONField(default=list, blank=True)
    build_tags = models.BooleanField(
        default=False, help_text="A pushed tag builds a preview of it."
    )
    remove_deleted_branches = models.BooleanField(
        default=False,
        help_text="Deleting a branch deletes its previews (the ones not serving the site).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return f"{self.site_id}: {self.url}"

    @property
    def token(self) -> str:
        return crypto.decrypt(self.encrypted_token) if self.encrypted_token else ""

    @property
    def webhook_secret(self) -> str:
        return crypto.decrypt(self.encrypted_webhook_secret)


class DeployHook(models.Model):
    """A secret address that builds a branch's head when POSTed to (CMS changes,
    schedulers). Only the secret's SHA-256 is kept: the address is shown once."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="deploy_hooks")
    name = models.CharField(max_length=128)
    branch = models.CharField(max_length=255)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.site_id}: {self.name} ({self.branch})"
