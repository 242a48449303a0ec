"""`python manage.py runtimes list` and `runtimes build [NAME ...]`.

`build` with no names builds every runtime of the catalog; `--missing-only` skips those
whose image is present and made by this version's recipe (CI builds them once and reuses
them; an image of an older recipe is rebuilt); `--source` picks how
(auto: the registry when reachable, else offline; env SHIPWAY_RUNTIME_SOURCE decides
auto's choice when set).
"""

from __future__ import annotations

import time
from typing import Any

import docker
from django.core.management.base import BaseCommand, CommandError, CommandParser
from docker.errors import DockerException

from builds.runtimes import (
    SOURCES,
    RuntimeBuildError,
    build_runtime_image,
    default_cache_dir,
    list_runtimes,
)
from sites.runtimes import RUNTIMES, Runtime, UnknownRuntime, get_runtime


class Command(BaseCommand):
    help = "List or build the runtime images builds run in."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,build}")
        actions.add_parser("list", help="each runtime, its image, and whether it is present")
        build = actions.add_parser("build", help="build runtime images (all when none named)")
        build.add_argument("names", nargs="*", metavar="NAME", help=", ".join(RUNTIMES))
        build.add_argument(
            "--missing-only",
            action="store_true",
            help="build only the runtimes whose image is missing or of an older recipe",
        )
        build.add_argument(
            "--source",
            choices=SOURCES,
            default="auto",
            help="registry (FROM node:<major>-bookworm-slim), offline (debootstrap + npm "
            "packages), or auto (default)",
        )
        build.add_argument(
            "--refresh-base",
            action="store_true",
            help="remake the cached Debian root filesystem first (offline path)",
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "build":
            try:  # an unknown name is an error before anything is built
                runtimes = [get_runtime(n) for n in options["names"]] or list(RUNTIMES.values())
            except UnknownRuntime as exc:
                raise CommandError(str(exc)) from None
        try:
            client = docker.from_env(timeout=600)
            client.ping()
        except DockerException as exc:
            raise CommandError(
                f"The Docker engine is not reachable ({exc}); scripts/ensure-docker.sh starts it."
            ) from exc
        if action == "list":
            self._list(client)
        else:
            self._build(client, runtimes, options)

    def _list(self, client: docker.DockerClient) -> None:
        self.stdout.write(f"{'NAME':9} {'IMAGE':25} {'STATE':8} {'NODE':9} {'SIZE':>7}  CREATED")
        for row in list_runtimes(client):
            if not row.present:
                self.stdout.write(f"{row.name:9} {row.image:25} missing")
                continue
            size = f"{(row.size or 0) / 1e6:.0f} MB"
            created = row.created.strftime("%Y-%m-%d %H:%M") if row.created else "?"
            node = row.node_version or "?"
            state = "present" if row.current else "outdated"  # an older recipe made it
            self.stdout.write(
                f"{row.name:9} {row.image:25} {state:8} {node:9} {size:>7}  {created}"
            )

    def _build(
        self, client: docker.DockerClient, runtimes: list[Runtime], options: dict[str, Any]
    ) -> None:
        rows = {row.name: row for row in list_runtimes(client)}
        started = time.monotonic()
        built = 0
        for runtime in runtimes:
            row = rows.get(runtime.name)
            if options["missing_only"] and row is not None and row.current:
                self.stdout.write(f"{runtime.name}: {runtime.image} is present; skipped")
                continue
            if options["missing_only"] and row is not None and row.present:
                self.stdout.write(f"{runtime.name}: {runtime.image} is outdated; rebuilding")
            try:
                result = build_runtime_image(
                    runtime,
                    source=options["source"],
                    log=self.stdout.write,
                    client=client,
                    cache_dir=default_cache_dir(),
                    refresh_base=options["refresh_base"] and built == 0,
                )
            except (RuntimeBuildError, ValueError) as exc:
                raise CommandError(f"{runtime.name}: {exc}") from exc
            built += 1
            self.stdout.write(
                self.style.SUCCESS(f"{runtime.name}: built {runtime.image} ({result.source})")
            )
        if built:
            self.stdout.write(f"{built} image(s) built in {time.monotonic() - started:.0f} s")
