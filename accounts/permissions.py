"""Roles -> actions on the team itself, read from the member's role (not granted per
object). Roles -> object permissions on sites are in sites/permissions.py.

docs/api.md, Permissions: any member reads the team; developers and owners create its
sites and read its audit log; owners manage it and its members.
"""

from accounts.models import Role

ROLE_TEAM_ACTIONS: dict[str, tuple[str, ...]] = {
    Role.VIEWER: ("view",),
    Role.DEVELOPER: ("view", "deploy", "audit"),
    Role.OWNER: ("view", "deploy", "audit", "manage"),
}


def role_allows(role: str | None, team_action: str) -> bool:
    """Whether a member with `role` (None: not a member) may take this team action."""
    return role is not None and team_action in ROLE_TEAM_ACTIONS.get(role, ())
