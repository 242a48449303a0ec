"""Reads with a permission check for teams and memberships."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework.exceptions import NotFound, PermissionDenied

from accounts.models import Membership, Role, Team

# What each team-level action needs: any member reads; developers and owners create
# sites; owners manage the team and its members.
_ROLES_FOR = {
    "view": {Role.VIEWER, Role.DEVELOPER, Role.OWNER},
    "deploy": {Role.DEVELOPER, Role.OWNER},
    "manage": {Role.OWNER},
}


def team_for(user: AbstractBaseUser | AnonymousUser, team_id: str, action: str = "view") -> Team:
    """The team, if `user` may `action` it: 404 for a team they are not in, 403 for a
    role too low."""
    team = Team.objects.for_user(user).filter(pk=team_id).first()
    if team is None:
        raise NotFound(f"Team '{team_id}' not found.")
    if user.is_superuser:
        return team
    role = Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()
    if role not in _ROLES_FOR[action]:
        raise PermissionDenied(f"Your role in team '{team_id}' does not allow this.")
    return team
