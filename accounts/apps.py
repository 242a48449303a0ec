from django.apps import AppConfig

from core import readcache


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        # Here: models can be imported only once the app registry is ready.
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from accounts.models import ApiKey, Membership, Team

        # The read cache serves API keys and, by role, the sites list: teams, members,
        # their role groups, users and keys change what it may show.
        user = get_user_model()
        readcache.watch(Team, Membership, ApiKey, Group, user)
        readcache.watch_relation(user.groups.through)
