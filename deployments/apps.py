from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deployments"

    def ready(self) -> None:
        # Here: both modules import models, which load only once the registry is ready.
        from deployments import services
        from sites.signals import site_deleted

        # A deleted site's stored files are deployments' to remove (sites cannot import us).
        site_deleted.connect(services.forget_deleted_site, dispatch_uid="deployments.site_deleted")
