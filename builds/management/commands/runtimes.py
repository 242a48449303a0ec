"""`python manage.py runtimes list` and `runtimes build [NAME ...] [--missing-only]`."""

from __future__ import annotations

from typing import Any

import docker
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from docker.errors import DockerException

from builds.runtimes import RUNTIMES, build_runtime_image, get_runtime, list_runtimes


class Command(BaseCommand):
    help = "List or build the runtime images builds run in."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="show each runtime and whether its image is present")
        build = sub.add_parser("build", help="build runtime images (all when none named)")
        build.add_argument("names", nargs="*", metavar="NAME")
        build.add_argument(
            "--missing-only",
            action="store_true",
            help="skip runtimes whose image is already present",
        )
        build.add_argument("--source", choices=["auto", "registry", "offline"], default="auto")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            client = docker.from_env(timeout=600)
            client.ping()
        except DockerException as exc:
            raise CommandError(f"The Docker engine is not reachable: {exc}") from exc
        if action == "list":
            for row in list_runtimes(client):
                state = f"{row['size'] / 1e6:.0f} MB" if row["present"] else "not built"
                self.stdout.write(f"{row['name']:10} {row['image']:28} {state}")
            return
        try:
            runtimes = [get_runtime(n) for n in options["names"]] or list(RUNTIMES.values())
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        present = {row["name"] for row in list_runtimes(client) if row["present"]}
        for runtime in runtimes:
            if options["missing_only"] and runtime.name in present:
                self.stdout.write(f"{runtime.name}: present, skipped")
                continue
            how = build_runtime_image(
                runtime,
                client=client,
                source=options["source"],
                cache_dir=settings.SHIPWAY_RUNTIME_CACHE,
                say=self.stdout.write,
            )
            self.stdout.write(self.style.SUCCESS(f"{runtime.name}: {runtime.image} ({how})"))
