"""Roles -> object permissions on sites, granted through django-guardian to team groups
(sites.services.site_create grants them; SiteQuerySet.for_user reads them).

docs/api.md, Permissions: a viewer reads; a developer also deploys, activates, edits
variables and settings; an owner also deletes sites, manages members and domains.
"""

from accounts.models import Role

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
