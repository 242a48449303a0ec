"""`python manage.py runplatform`: the whole platform in the foreground (`make run`).

Starts an embedded PostgreSQL when DATABASE_URL is unset and an embedded Redis when
REDIS_URL is unset (core/embedded.py), migrates, makes sure an admin exists, then runs
the web (granian's ASGI interface, one process per core by default; `--web-server
uvicorn` for uvicorn: core/serving.py says why granian), a Celery worker and Celery beat
until Ctrl-C stops them all, and the embedded servers after them.

One port serves everything (the API, dashboard, admin, realtime feed and sites), which
is what a laptop wants. Behind a front proxy, `--api-port` also runs the dashboard,
admin and API under gunicorn's sync workers, which answer Django's views for several
times less CPU than an ASGI server (bench/RESULTS.md, "API"); the proxy sends plain platform
HTTP there and the realtime feed and sites to the web (deploy/nginx.conf, SHIPWAY_API).
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from core import proxies, serving
from core.embedded import EmbeddedPostgres, EmbeddedRedis, default_redis_port


def celery_worker_command(queues: str, concurrency: int, name: str = "worker") -> list[str]:
    """A Celery worker's command line, taking tasks from `queues` (comma-separated);
    the end-to-end tests start their worker with it too. Workers on one machine need
    their own `name`s."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-n",
        f"{name}@%h",
        "-Q",
        queues,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
    ]


def celery_beat_command() -> list[str]:
    """Celery beat's command line, its schedule file under SHIPWAY_VAR_DIR."""
    schedule = str(settings.VAR_DIR / "celerybeat-schedule")
    return [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
            "--schedule", schedule]  # fmt: skip


def create_admin_if_missing(password: str) -> bool:
    """Make the `admin` superuser with `password` unless a superuser exists; whether it
    was made."""
    User = get_user_model()
    if User.objects.filter(is_superuser=True).exists():
        return False
    User.objects.create_superuser("admin", "admin@localhost", password)
    return True


class Command(BaseCommand):
    help = "Run the web, a Celery worker and Celery beat together (and Redis if needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("SHIPWAY_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--web-workers",
            type=int,
            default=settings.SHIPWAY_WEB_WORKERS,
            help="web processes (the edge, realtime, dashboard, API; default: "
            "SHIPWAY_WEB_WORKERS, one per core)",
        )
        parser.add_argument(
            "--web-server",
            choices=serving.WEB_SERVERS,
            default=serving.default_web_server(),
            help="the web's ASGI server (default: SHIPWAY_WEB_SERVER, else granian)",
        )
        parser.add_argument(
            "--api-port",
            type=int,
            default=int(os.environ.get("SHIPWAY_API_PORT", "0")),
            help="also serve the platform's HTTP under gunicorn (WSGI) on this port, for a "
            "front proxy to route to (0, the default: no)",
        )
        parser.add_argument("--api-workers", type=int, default=os.cpu_count() or 2)

    def handle(self, *args: Any, **options: Any) -> None:
        # _run appends each embedded server before starting it, so that one that fails
        # half-way is stopped too, after everything _run started.
        embedded: list[EmbeddedPostgres | EmbeddedRedis] = []
        try:
            self._run(embedded, **options)
        finally:
            for server in reversed(embedded):
                server.stop()
            self.stdout.write("Shipway stopped.")

    def _run(
        self,
        embedded: list[EmbeddedPostgres | EmbeddedRedis],
        *,
        host: str,
        port: int,
        web_workers: int,
        web_server: str,
        api_port: int,
        api_workers: int,
        **options: Any,  # Django's own (verbosity, settings...): not used here
    ) -> None:
        env = os.environ.copy()
        started: list[str] = []
        if settings.SHIPWAY_EMBEDDED_POSTGRES:
            postgres = EmbeddedPostgres(settings.SHIPWAY_POSTGRES_DIR)
            embedded.append(postgres)
            env["DATABASE_URL"] = postgres.start()
            started.append(f"PostgreSQL (embedded, data in {settings.SHIPWAY_POSTGRES_DIR})")
        if not settings.REDIS_URL:
            # Its password is generated once, kept in var/redis_password, and reaches the
            # processes started below in their REDIS_URL.
            redis = EmbeddedRedis.in_var_dir(settings.VAR_DIR, default_redis_port())
            embedded.append(redis)
            env["REDIS_URL"] = redis.start()
            address = env["REDIS_URL"].rpartition("@")[2]  # never the password
            started.append(
                f"Redis (embedded, redis://{address}, password in "
                f"{settings.VAR_DIR / EmbeddedRedis.PASSWORD_FILE})"
            )

        if settings.SHIPWAY_BUILD_RUNNER == "local":
            self.stderr.write(
                self.style.ERROR(
                    "WARNING: SHIPWAY_BUILD_RUNNER=local: builds run as plain processes on this "
                    "machine, NOT isolated. Only deploy code you trust."
                )
            )
            started.append("builds: LOCAL runner, not isolated (SHIPWAY_BUILD_RUNNER=local)")
        elif not self._docker_answers():
            self.stderr.write(
                self.style.ERROR(
                    "WARNING: no Docker engine answers, so every build will fail "
                    "(errorCode docker_unavailable) until one does. Start Docker; or, for code "
                    "you trust only, set SHIPWAY_BUILD_RUNNER=local."
                )
            )
            started.append("builds: NO Docker engine answers; builds will fail until one does")
        else:
            started.append("builds: in Docker containers")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self._ensure_admin()

        python = sys.executable
        commands = {
            "web": serving.web_server_command(
                web_server, host=host, port=port, workers=web_workers, python=python
            ),
            "worker": celery_worker_command(f"{settings.SHIPWAY_BUILD_QUEUE},default", 2),
            # Starts of ssr servers wait for nobody's build (each takes seconds at most),
            # nor do commit statuses (a request to a forge, within seconds too), nor the
            # background removals of deleted sites and deployments (maintenance).
            "servers": celery_worker_command(
                ",".join(
                    (
                        settings.SHIPWAY_SERVER_QUEUE,
                        settings.SHIPWAY_NOTIFY_QUEUE,
                        settings.SHIPWAY_MAINTENANCE_QUEUE,
                    )
                ),
                4,
                "servers",
            ),
            "beat": celery_beat_command(),
        }
        if api_port:
            commands["api"] = [
                python,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"{host}:{api_port}",
                "--workers",
                str(api_workers),
                "--worker-class",
                "sync",
                *proxies.server_arguments("gunicorn"),
            ]
        processes = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
        self._wait_until_listening(host, port, processes["web"])
        started.append(f"web: {web_workers} {web_server} process{'es' if web_workers != 1 else ''}")
        started.append("Celery workers (2 builds at once; 4 server starts at once) and Celery beat")
        if api_port:
            started.append(f"gunicorn: {api_workers} workers on port {api_port}")
        self._print_addresses(host, port, api_port, started)

        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()

    @staticmethod
    def _wait_until_listening(host: str, port: int, web: subprocess.Popen) -> None:
        """Say "up" only once the web answers HTTP: the server's parent listens at once,
        but its worker processes take seconds to import the project."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and web.poll() is None:
            connection = http.client.HTTPConnection(host, port, timeout=2)
            try:
                connection.request("HEAD", "/v1/")
                connection.getresponse()
                return
            except OSError:
                time.sleep(0.2)
            finally:
                connection.close()

    @staticmethod
    def _docker_answers() -> bool:
        try:
            import docker

            docker.from_env(timeout=5).ping()
        except Exception:
            return False
        return True

    def _ensure_admin(self) -> None:
        password = os.environ.get("SHIPWAY_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        if not create_admin_if_missing(password):
            return
        shown = (
            "from SHIPWAY_ADMIN_PASSWORD" if "SHIPWAY_ADMIN_PASSWORD" in os.environ else password
        )
        self.stdout.write(
            self.style.WARNING(
                f"Created the admin user 'admin' with password: {shown}  (shown only this once)"
            )
        )

    def _print_addresses(self, host: str, port: int, api_port: int, started: list[str]) -> None:
        base = f"http://{host}:{port}"
        sites = settings.SITES_URL_TEMPLATE.format(host=f"<siteId>.{settings.SITES_DOMAIN}")
        api = (
            f"  WSGI       http://{host}:{api_port}/ (gunicorn: the dashboard, admin and API "
            f"for a front proxy; python manage.py edgemap nginx-conf --web {host}:{port} "
            f"--api {host}:{api_port})\n"
            if api_port
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(
                "\nShipway is up.\n"
                + "".join(f"  started    {line}\n" for line in started)
                + f"  dashboard  {base}/\n"
                f"  admin      {base}/admin/\n"
                f"  API docs   {base}/v1/docs\n"
                f"  API        {base}/v1/\n"
                f"  sites      {sites}\n"
                f"{api}"
                "Press Ctrl-C to stop.\n"
            )
        )
