"""`python manage.py cleanup [--dry-run] [--site SITE]`: retention now, the same service
the beat task runs (deployments.services.deployment_cleanup).

Prints one line per deployment deleted (`--dry-run`: that would be) and a total.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deployments import services
from sites.models import Site


class Command(BaseCommand):
    help = "Delete the deployments retention does not keep (--dry-run lists them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be deleted, delete nothing"
        )
        parser.add_argument("--site", metavar="SITE", help="only this site (its id)")

    def handle(self, *args: Any, dry_run: bool, site: str | None, **options: Any) -> None:
        only = None
        if site is not None:
            only = Site.objects.filter(pk=site).first()
            if only is None:
                raise CommandError(f"No site with id '{site}'.")
        removed = services.deployment_cleanup(site=only, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for deployment in removed:
            self.stdout.write(
                f"{verb} {deployment.site_id}/{deployment.id} ({deployment.status}, "
                f"created {deployment.created_at.isoformat(timespec='seconds')})"
            )
        count = len(removed)
        total = "would be deleted" if dry_run else "deleted"
        self.stdout.write(f"{count} deployment{'' if count == 1 else 's'} {total}.")
