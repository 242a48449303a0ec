from django.apps import AppConfig


class EdgeConfig(AppConfig):
    """Serving sites by Host, the front proxy's host map and the TLS `ask` policy."""

    name = "edge"

    def ready(self) -> None:
        # Here, not at the top: these import models, which are loaded only now.
        from edge import hostmap, invalidation, served  # noqa: F401  (invalidation connects its receivers)
        from sites.signals import site_serving_changed

        # After invalidation's receiver: every edge drops the site, then the map follows,
        # and deleted deployments' read-through copies go.
        site_serving_changed.connect(hostmap.on_site_serving_changed)
        site_serving_changed.connect(served.on_site_serving_changed)
