from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from core import readcache

        # The read cache serves API keys (here) and the sites list: drop it when the
        # models behind either change.
        readcache.connect()
