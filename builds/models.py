"""The installation's identity: one row, made by the first migration."""

from __future__ import annotations

import uuid

from django.db import models


class Installation(models.Model):
    """Which Shipway installation this database belongs to. Every container and volume
    it makes carries the id, so two installations on one Docker engine (a laptop's
    `make run` beside a test run) never clean up each other's."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    def __str__(self) -> str:
        return self.uid.hex


def installation_id() -> str:
    """This installation's id (12 hex digits). Read each time (once per build or cleanup,
    not per request): a process-wide copy would outlive a test database's flush."""
    return Installation.objects.get_or_create(pk=1)[0].uid.hex[:12]
