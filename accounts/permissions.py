"""Roles -> permissions: on sites, object permissions granted through django-guardian to
team groups; on the team itself, actions read from the member's role.

docs/api.md, Permissions: a viewer reads; a developer also deploys, activates, edits
variables and settings; an owner also deletes sites, manages members and domains.
"""

from typing import TYPE_CHECKING

from django.contrib.auth.models import Permission

from accounts.models import Role, Team
from core import readcache

if TYPE_CHECKING:
    from sites.models import Site  # sites.models imports this module

VIEW = "view_site"
CHANGE = "change_site"
DELETE = "delete_site"
MANAGE_DOMAINS = "manage_domains"

ROLE_SITE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.VIEWER: (VIEW,),
    Role.DEVELOPER: (VIEW, CHANGE),
    Role.OWNER: (VIEW, CHANGE, DELETE, MANAGE_DOMAINS),
}

# The action names views and services ask about -> the permission codename.
ACTIONS = {"view": VIEW, "change": CHANGE, "delete": DELETE, "manage_domains": MANAGE_DOMAINS}

# Actions on the team itself, read from the member's role (not granted per object): any
# member reads it; developers and owners create its sites; owners manage it and members.
ROLE_TEAM_ACTIONS: dict[str, tuple[str, ...]] = {
    Role.VIEWER: ("view",),
    Role.DEVELOPER: ("view", "deploy"),
    Role.OWNER: ("view", "deploy", "manage"),
}


def role_allows(role: str | None, team_action: str) -> bool:
    """Whether a member with `role` (None: not a member) may take this team action."""
    return role is not None and team_action in ROLE_TEAM_ACTIONS.get(role, ())


def grant_site_to_team(site: "Site", team: Team) -> None:
    """Give each of the team's role groups its permissions on the site (one insert)."""
    from sites.models import SiteGroupObjectPermission

    permissions = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="sites", codename__in=set(ACTIONS.values())
        )
    }
    SiteGroupObjectPermission.objects.bulk_create(
        SiteGroupObjectPermission(
            group=team.group_for(role), permission=permissions[codename], content_object=site
        )
        for role, codenames in ROLE_SITE_PERMISSIONS.items()
        for codename in codenames
    )
    readcache.invalidate()  # bulk_create sends no post_save
