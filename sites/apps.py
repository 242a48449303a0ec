from django.apps import AppConfig

from core import readcache


class SitesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sites"

    def ready(self) -> None:
        # Here: models can be imported only once the app registry is ready.
        from sites.models import Site, SiteGroupObjectPermission, SiteUserObjectPermission

        # The read cache serves the sites list: a site, or who may see it, changing drops it.
        readcache.watch(Site, SiteGroupObjectPermission, SiteUserObjectPermission)
