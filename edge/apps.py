from django.apps import AppConfig


class EdgeConfig(AppConfig):
    """Serving sites by Host, the front proxy's host map and the TLS `ask` policy."""

    name = "edge"

    def ready(self) -> None:
        from edge import (
            invalidation,  # noqa: F401  (connects its receiver)
            proxy_map,  # noqa: F401  (connects its receiver)
        )
