"""What a site used, by hour: the edge's requests and bytes (rolled up from Redis), the
seconds its builds ran and the deployments made (from the deployments' rows)."""

from django.db import models


class SiteUsage(models.Model):
    """One site's use in one hour (UTC, the hour's start). Written only by the roll-up
    (usage/services.py), which adds the edge's counts once and raises the build figures."""

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    requests = models.BigIntegerField(default=0)
    bandwidth_bytes = models.BigIntegerField(default=0)
    build_seconds = models.FloatField(default=0)
    deployments = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "hour"], name="usage_one_row_per_site_hour")
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.hour:%Y-%m-%d %H}h"


class RolledBatch(models.Model):
    """A batch of the edge's counts (a Redis key the roll-up renamed) that is in
    SiteUsage: written in the same transaction as its counts, so a roll-up that stopped
    after that transaction knows not to add the batch again."""

    name = models.CharField(max_length=128, primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class RollupState(models.Model):
    """One row: the hours before `builds_through` have their build figures in
    SiteUsage; the selector computes the later ones from the deployments as it reads."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    builds_through = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"builds through {self.builds_through}"
