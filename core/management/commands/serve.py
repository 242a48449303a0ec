"""`python manage.py serve web|worker|beat`: one of the platform's processes in the
foreground, for a container or a service manager (compose.yaml, docs/deploy.md).

`runplatform` runs all of them together for a laptop; here each runs on its own, with
the same command lines (core/serving.py for the web, runplatform's Celery worker):

- `web` migrates the database (so an upgrade is: new image, restart), collects the
  static files (unless --no-collectstatic: Shipway's image has them), makes sure the
  admin user exists when SHIPWAY_ADMIN_PASSWORD is set, rebuilds the front proxy's host
  map when SHIPWAY_FRONT_PROXY is on, then becomes the ASGI server on --host/--port;
- `worker` becomes a Celery worker taking every queue (builds, server starts,
  notifications, maintenance) unless --queues names some;
- `beat` becomes Celery beat, its schedule file under SHIPWAY_VAR_DIR.

The process replaces itself with the server (exec), so signals from the container engine
reach the server directly and it stops gracefully.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from core import serving
from core.management.commands.runplatform import (
    celery_beat_command,
    celery_worker_command,
    create_admin_if_missing,
)


def all_queues() -> str:
    return ",".join(
        (
            settings.SHIPWAY_BUILD_QUEUE,
            "default",
            settings.SHIPWAY_SERVER_QUEUE,
            settings.SHIPWAY_NOTIFY_QUEUE,
            settings.SHIPWAY_MAINTENANCE_QUEUE,
        )
    )


class Command(BaseCommand):
    help = "Run one of the platform's processes (web, worker or beat) in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("process", choices=("web", "worker", "beat"))
        parser.add_argument("--host", default=os.environ.get("SHIPWAY_HOST", "0.0.0.0"))  # noqa: S104
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=settings.SHIPWAY_WEB_WORKERS)
        parser.add_argument(
            "--web-server", choices=serving.WEB_SERVERS, default=serving.default_web_server()
        )
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="web: the static files are collected already (Shipway's image does it "
            "when it is built; collecting costs tens of seconds of CPU at every start)",
        )
        parser.add_argument(
            "--queues", default="", help="the worker's queues, comma-separated (default: all)"
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.SHIPWAY_WORKER_CONCURRENCY,
            help="tasks the worker runs at once (default: SHIPWAY_WORKER_CONCURRENCY)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        process = options["process"]
        if process == "web":
            command = self._prepare_web(options)
        elif process == "worker":
            command = celery_worker_command(
                options["queues"] or all_queues(), options["concurrency"]
            )
        else:
            command = celery_beat_command()
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(command[0], command)  # noqa: S606 (our own command line, no shell)

    def _prepare_web(self, options: dict[str, Any]) -> list[str]:
        call_command("migrate", interactive=False, verbosity=1)
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        password = os.environ.get("SHIPWAY_ADMIN_PASSWORD")
        if password and create_admin_if_missing(password):
            self.stdout.write("Created the admin user 'admin' (password: SHIPWAY_ADMIN_PASSWORD).")
        if settings.SHIPWAY_FRONT_PROXY:
            call_command("edgemap", "sync")
        return serving.web_server_command(
            options["web_server"],
            host=options["host"],
            port=options["port"],
            workers=options["web_workers"],
        )
