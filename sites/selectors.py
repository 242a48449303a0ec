"""Reads: `site_for` (with a permission check) is the one way views, consumers and
downloads find a site; which site a verified custom domain serves, for the edge."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework.exceptions import NotFound, PermissionDenied

from sites.models import MAX_DOMAIN_LENGTH, Domain, DomainStatus, Site


def site_for(user: AbstractBaseUser | AnonymousUser, site_id: str, action: str = "view") -> Site:
    """The site `user` may `action`; 404 when they may not even see it, 403 when they may
    see it but not `action` it."""
    site = Site.objects.for_user(user, "view").filter(pk=site_id).first()
    if site is None:
        raise NotFound(f"Site '{site_id}' not found.")
    if action != "view" and not Site.objects.for_user(user, action).filter(pk=site_id).exists():
        raise PermissionDenied(f"Your role does not allow this on site '{site_id}'.")
    return site


def can(user: AbstractBaseUser | AnonymousUser, site: Site, action: str) -> bool:
    return Site.objects.for_user(user, action).filter(pk=site.pk).exists()


def _domain_name(host: str) -> str:
    return host.strip().lower().rstrip(".")


def verified_site_for_domain(host: str) -> str | None:
    """The id of the site a verified custom domain serves, or None (one indexed query)."""
    name = _domain_name(host)
    if not name or len(name) > MAX_DOMAIN_LENGTH:  # never stored: no query
        return None
    return (
        Domain.objects.filter(domain=name, status=DomainStatus.VERIFIED)
        .values_list("site_id", flat=True)
        .first()
    )


def verified_domains_for_site(site_id: str) -> list[str]:
    """The site's verified custom domains (the front proxy links each to its files)."""
    return list(
        Domain.objects.filter(site_id=site_id, status=DomainStatus.VERIFIED).values_list(
            "domain", flat=True
        )
    )
