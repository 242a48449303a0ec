from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deployments"

    def ready(self) -> None:
        from deployments.edge import (
            invalidation,  # noqa: F401  (connects its receiver)
            proxy_map,  # noqa: F401  (connects its receiver)
        )
