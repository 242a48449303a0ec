"""`python manage.py createapikey USERNAME [--name NAME] [--expires-in DAYS] [--team TEAM]
[--read-only]`: print a new API key's secret."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Team
from accounts.services import api_key_create
from core.errors import Invalid


class Command(BaseCommand):
    help = "Create an API key for a user and print its secret (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="a label for the key")
        parser.add_argument(
            "--expires-in", type=int, metavar="DAYS", help="stop working after DAYS days"
        )
        parser.add_argument(
            "--team", metavar="TEAM_ID", help="reach only this team's sites and resources"
        )
        parser.add_argument("--read-only", action="store_true", help="only read (GET, HEAD)")

    def handle(
        self,
        *args: object,
        username: str,
        name: str,
        expires_in: int | None,
        team: str | None,
        read_only: bool,
        **options: object,
    ) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named '{username}'.")
        if expires_in is not None and expires_in < 1:
            raise CommandError("--expires-in must be at least 1 day.")
        scope = None
        if team is not None:
            scope = Team.objects.filter(pk=team).first()
            if scope is None:
                raise CommandError(f"No team '{team}'.")
        try:
            _key, secret = api_key_create(
                user=user,
                name=name,
                expires_in=timedelta(days=expires_in) if expires_in else None,
                team=scope,
                read_only=read_only,
            )
        except Invalid as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(secret)
