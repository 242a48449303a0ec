"""Reads: `site_for` and the `*_for` lookups (with a permission check) are the one way
views, consumers and downloads find a site and what belongs to it; which site a verified
custom domain serves, for the edge."""

from typing import TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Model, QuerySet

from core.errors import NotFound, PermissionDenied
from sites.models import MAX_DOMAIN_LENGTH, Domain, DomainStatus, Site, Variable

M = TypeVar("M", bound=Model)


def site_for(user: User | AnonymousUser, site_id: str, action: str = "view") -> Site:
    """The site `user` may `action`; NotFound when they may not even see it,
    PermissionDenied when they may see it but not `action` it."""
    site = Site.objects.for_user(user, "view").filter(pk=site_id).first()
    if site is None:
        raise NotFound(f"Site '{site_id}' not found.")
    if action != "view" and not Site.objects.for_user(user, action).filter(pk=site_id).exists():
        raise PermissionDenied(f"Your role does not allow this on site '{site_id}'.")
    return site


def can(user: User | AnonymousUser, site: Site, action: str) -> bool:
    return Site.objects.for_user(user, action).filter(pk=site.pk).exists()


def of_site(site: Site, objects: QuerySet[M], label: str, object_id: str) -> M:
    """One of the site's `objects` (its deployments, variables, domains) by id, with
    `site` set on it (no second query for it); NotFound naming it `label` otherwise."""
    found = objects.filter(pk=object_id).first()
    if found is None:
        raise NotFound(f"{label} '{object_id}' not found.")
    # Every model passed here (Variable, Domain, Deployment) has a `site` foreign key, but
    # a TypeVar bound to Model cannot say so (and sites may not import Deployment).
    found.site = site  # type: ignore[attr-defined]
    return found


def variable_for(
    user: User | AnonymousUser, site_id: str, variable_id: str, action: str = "view"
) -> Variable:
    """A variable of the site `user` may `action` (site_for's refusals, or NotFound)."""
    site = site_for(user, site_id, action)
    return of_site(site, site.variables.all(), "Variable", variable_id)


def domain_for(
    user: User | AnonymousUser, site_id: str, domain_id: str, action: str = "view"
) -> Domain:
    """A custom domain of the site `user` may `action` (site_for's refusals, or NotFound)."""
    site = site_for(user, site_id, action)
    return of_site(site, site.domains.all(), "Domain", domain_id)


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
