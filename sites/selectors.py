"""Reads with a permission check: the one way views, consumers and downloads find a site."""

from django.contrib.auth.models import AnonymousUser, User
from rest_framework.exceptions import NotFound, PermissionDenied

from sites.models import Site


def site_for(user: User | AnonymousUser, site_id: str, action: str = "view") -> Site:
    """The site `user` may `action`; 404 when they may not even see it, 403 when they may
    see it but not `action` it."""
    site = Site.objects.for_user(user, "view").filter(pk=site_id).first()
    if site is None:
        raise NotFound(f"Site '{site_id}' not found.")
    if action != "view" and not Site.objects.for_user(user, action).filter(pk=site_id).exists():
        raise PermissionDenied(f"Your role does not allow this on site '{site_id}'.")
    return site


def can(user: User | AnonymousUser, site: Site, action: str) -> bool:
    return Site.objects.for_user(user, action).filter(pk=site.pk).exists()
