"""The front proxy's host map (edge/hostmap.py) and its nginx config (edge/proxy_config.py).

python manage.py edgemap sync                  # rebuild the whole map from the database
python manage.py edgemap publish SITE_ID...    # re-publish some sites
python manage.py edgemap nginx-conf --listen 80 --web 127.0.0.1:8000 > shipway.conf
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from edge import hostmap, proxy_config


class Command(BaseCommand):
    help = "Keep the front proxy's host map (SHIPWAY_EDGE_ROOT) and print its nginx config."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("sync", help="rebuild every host link and tree from the database")
        publish = actions.add_parser("publish", help="re-publish the given sites")
        publish.add_argument("site_ids", nargs="+")
        conf = actions.add_parser("nginx-conf", help="print deploy/nginx.conf, filled in")
        conf.add_argument("--listen", default="80", help="nginx `listen` (default 80)")
        conf.add_argument("--web", default="127.0.0.1:8000", help="the web process, host:port")
        conf.add_argument(
            "--api", default=None, help="the WSGI API process, host:port (default: --web)"
        )
        conf.add_argument("--user", default="www-data", help="nginx's worker user")
        conf.add_argument("--workers", default="auto", help="worker_processes")
        conf.add_argument("--run-dir", default="/run/shipway-nginx", help="pid, logs, temp")
        conf.add_argument("--access-log", default="off", help="a path, or off (default)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "sync":
            summary = hostmap.sync_all()
            self.stdout.write(", ".join(f"{key}: {value}" for key, value in summary.items()))
        elif action == "publish":
            for site_id in options["site_ids"]:
                links = hostmap.publish_site(site_id)
                hostmap.prune_site(site_id)
                self.stdout.write(f"{site_id}: {len(links)} hosts served from disk")
        else:
            self.stdout.write(
                proxy_config.nginx_config(
                    SHIPWAY_NGINX_LISTEN=options["listen"],
                    SHIPWAY_WEB=options["web"],
                    SHIPWAY_API=options["api"] or options["web"],
                    SHIPWAY_NGINX_USER=options["user"],
                    SHIPWAY_NGINX_WORKERS=options["workers"],
                    SHIPWAY_NGINX_RUN_DIR=options["run_dir"],
                    SHIPWAY_NGINX_ACCESS_LOG=options["access_log"],
                ),
                ending="",
            )
