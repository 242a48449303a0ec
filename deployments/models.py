"""A deployment: one immutable build of a site's source, and its state machine."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.ids import new_id
from deployments.artifacts import deployment_prefix
from sites.hosts import branch_host, deployment_host


class Status(models.TextChoices):
    WAITING = "waiting", "Waiting"
    PROCESSING = "processing", "Processing"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


# Status moves only forward (docs/api.md, Deployments): the allowed next states of each state.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.WAITING: frozenset({Status.PROCESSING, Status.FAILED, Status.CANCELED}),
    Status.PROCESSING: frozenset({Status.BUILDING, Status.FAILED, Status.CANCELED}),
    Status.BUILDING: frozenset({Status.READY, Status.FAILED, Status.CANCELED}),
    Status.READY: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELED: frozenset(),
}
FINAL_STATUSES = frozenset({Status.READY, Status.FAILED, Status.CANCELED})


class SourceType(models.TextChoices):
    UPLOAD = "upload", "Upload"
    VCS = "vcs", "Git repository"


class Trigger(models.TextChoices):
    """What made a deployment (docs/api.md, "Git")."""

    UPLOAD = "upload", "Upload"
    API = "api", "API"
    PUSH = "push", "Git push"
    HOOK = "hook", "Deploy hook"
    REDEPLOY = "redeploy", "Redeploy"


class Environment(models.TextChoices):
    """Production deployments go live; previews are served on their own addresses."""

    PRODUCTION = "production", "Production"
    PREVIEW = "preview", "Preview"


class LiveDeployments(models.Manager["Deployment"]):
    """Deployments that are not deleted: the default manager, so every read (the API,
    the dashboard, downloads, logs, the edge, the front proxy's map, the realtime feed,
    the admin, related managers such as `site.deployments`) leaves out a row that
    retention or a delete marked (`deleted_at`). `Deployment.all_objects` reads them
    too: only where a test allows it (tests/deployments/test_deleted_404.py)."""

    def get_queryset(self) -> models.QuerySet[Deployment]:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Deployment(models.Model):
    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="deployments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    source_type = models.CharField(max_length=8, choices=SourceType.choices)
    source_size = models.BigIntegerField(default=0)
    output_size = models.BigIntegerField(default=0)
    framework = models.CharField(max_length=32, blank=True)
    # What the build made: "static" files, or an "ssr" server plus its static assets
    # (resolved when it builds: the site's choice, or detection's for "auto").
    adapter = models.CharField(max_length=16, blank=True)
    build_runtime = models.CharField(max_length=32, blank=True)
    build_started_at = models.DateTimeField(null=True, blank=True)
    build_ended_at = models.DateTimeField(null=True, blank=True)
    activate = models.BooleanField(default=True)
    error_code = models.CharField(max_length=32, blank=True)
    # The address without credentials; a token in it is kept apart, encrypted, and only
    # until the source is fetched (deployments.services).
    repository = models.CharField(max_length=1024, blank=True)
    repository_credentials = models.TextField(blank=True, editable=False)
    reference = models.CharField(max_length=256, blank=True)
    reference_type = models.CharField(max_length=8, blank=True)  # branch, commit or tag
    commit_hash = models.CharField(max_length=64, blank=True)
    commit_message = models.TextField(blank=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.API)
    environment = models.CharField(
        max_length=16, choices=Environment.choices, default=Environment.PRODUCTION
    )
    # The git branch it was built from, and that branch's label in its stable address
    # (sites.hosts.branch_label): a preview's branchUrl shows its newest ready one.
    branch = models.CharField(max_length=255, blank=True)
    branch_label = models.CharField(max_length=63, blank=True)
    use_cache = models.BooleanField(default=True)
    log_size = models.BigIntegerField(default=0, help_text="Characters in the build log so far.")
    build_attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True, help_text="Who is building it.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When the build line (deployments/buildline.py) sent its build to the workers; null
    # while it waits for its site's other build or its team's limit.
    dispatched_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when retention or a delete removed it: the row stays (what it was, for the
    # record) but no read finds it, and its stored files go in the background (Purge).
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = LiveDeployments()
    all_objects = models.Manager()  # noqa: DJ012 (a manager, which ruff takes for a field)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Related lookups and cascades reach every row, marked or not.
        base_manager_name = "all_objects"
        indexes = [
            models.Index(fields=["site", "-created_at"]),
            models.Index(fields=["status"]),
            models.Index(
                fields=["created_at", "id"],
                name="waiting_line",
                condition=models.Q(status="waiting", deleted_at__isnull=True),
            ),
            models.Index(fields=["site", "branch_label", "-created_at"], name="branch_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id}/{self.id} ({self.status})"

    @property
    def build_duration(self) -> float | None:
        if self.build_started_at and self.build_ended_at:
            return (self.build_ended_at - self.build_started_at).total_seconds()
        return None

    @property
    def hostname(self) -> str:
        """Its own address, one label under SITES_DOMAIN: {deploymentId}--{siteId}."""
        return deployment_host(self.id, self.site_id, settings.SITES_DOMAIN)

    @property
    def url(self) -> str:
        return settings.SITES_URL_TEMPLATE.format(host=self.hostname)

    @property
    def branch_url(self) -> str | None:
        """A preview's branch address, which shows the branch's newest ready preview."""
        if self.environment != Environment.PREVIEW or not self.branch_label:
            return None
        host = branch_host(self.branch_label, self.site_id, settings.SITES_DOMAIN)
        return settings.SITES_URL_TEMPLATE.format(host=host)

    @property
    def storage_prefix(self) -> str:
        return deployment_prefix(self.site_id, self.id)


class LogChunk(models.Model):
    """A piece of a deployment's build log, starting at `offset` (in characters).

    The log is append-only: a client that joined late reads from an offset and then
    follows the realtime feed without gaps or repeats.
    """

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="log_chunks")
    offset = models.BigIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["deployment", "offset"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "offset"], name="one_chunk_per_offset")
        ]

    def __str__(self) -> str:
        return f"{self.deployment_id}@{self.offset}"


class Upload(models.Model):
    """A source arriving in chunks (`Content-Range`); resumable until it is complete.

    The bytes live as pieces in the artifacts storage (deployments.artifacts'
    `upload_prefix`), so any web process takes the next chunk; the row says how many
    have arrived. The last chunk turns it into a deployment and both are removed.
    """

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="uploads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+"
    )
    total_size = models.BigIntegerField()
    received_size = models.BigIntegerField(default=0)
    activate = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"upload {self.id} ({self.received_size}/{self.total_size})"


class RuntimeState(models.TextChoices):
    STOPPED = "stopped", "Stopped"
    STARTING = "starting", "Starting"
    RUNNING = "running", "Running"
    FAILED = "failed", "Failed"


class Server(models.Model):
    """The server of a server-rendered (ssr) deployment: whether it runs, where, and why
    not. Written by the runtime manager only (deployments.services' server_* functions);
    any web process routes by it."""

    deployment = models.OneToOneField(
        Deployment, on_delete=models.CASCADE, primary_key=True, related_name="server"
    )
    state = models.CharField(
        max_length=16, choices=RuntimeState.choices, default=RuntimeState.STOPPED
    )
    address = models.CharField(
        max_length=255, blank=True, help_text="host:port the edge connects to, when running."
    )
    handle = models.CharField(
        max_length=255, blank=True, help_text="What the scheduler calls it (a container id)."
    )
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_request_at = models.DateTimeField(null=True, blank=True)
    log_size = models.BigIntegerField(default=0, help_text="Characters the server has printed.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.deployment_id} server ({self.state})"


class ServerLogChunk(models.Model):
    """A piece of a server's output, starting at `offset` (in characters). Bounded: the
    oldest chunks are dropped once the kept text passes SHIPWAY_RUNTIME_LOG_MAX_CHARS."""

    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="server_log_chunks"
    )
    offset = models.BigIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["deployment", "offset"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "offset"], name="one_server_chunk_per_offset"
            )
        ]

    def __str__(self) -> str:
        return f"{self.deployment_id} server@{self.offset}"


class Delivery(models.Model):
    """A webhook delivery a linked repository's forge sent: kept so that a repeated one
    (same delivery id) builds nothing twice, and so the dashboard can say what each did."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=128, help_text="The forge's id of the delivery.")
    event = models.CharField(max_length=64)
    summary = models.CharField(max_length=512, blank=True, help_text="What it did, a sentence.")
    deployments = models.ManyToManyField(Deployment, blank=True, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "delivery_id"], name="one_delivery_per_id")
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.site_id}: {self.event} {self.delivery_id}"


class Purge(models.Model):
    """Stored things of deleted deployments or a deleted site still to remove: kept in
    the database (not only in a queued message) until storage, listed again, shows each
    prefix empty. A task on SHIPWAY_MAINTENANCE_QUEUE works through it with backoff; the
    cleanup sends again any left undone (a lost message, retries used up)."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    site_id = models.CharField(max_length=36)
    # The storage prefixes to empty (artifacts' layout), and the site's own prefix once
    # no site of that id exists any more (a deleted site's).
    prefixes = models.JSONField(default=list)
    site_gone = models.BooleanField(default=False)
    deployment_ids = models.JSONField(default=list)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["done_at", "attempted_at"], name="purge_pending")]

    def __str__(self) -> str:
        return f"purge {self.id} of {self.site_id} ({'done' if self.done_at else 'pending'})"
