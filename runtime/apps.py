"""The SSR runtime manager: runs each active (or visited preview) ssr deployment's
server, health-checks it, routes the site to it once healthy, keeps its output, and
stops it when idle. Where a server runs is a scheduler's business (runtime/schedulers/)."""

from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "runtime"
