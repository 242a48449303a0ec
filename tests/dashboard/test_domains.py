"""The domains tab: owners add a domain, see the DNS records to create, verify, remove.
The DNS lookup itself is sites/domains.py's (tested there); here it is replaced."""

from __future__ import annotations

import pytest

from sites import domains, services
from sites.models import Domain
from tests.dashboard.conftest import build_world

pytestmark = pytest.mark.django_db


def test_add_a_domain_shows_the_records_to_create() -> None:
    world = build_world()
    client = world.client("owner")
    response = client.post("/sites/site-a/domains/", {"domain": "WWW.Example.com"})
    assert response.status_code == 302
    domain = Domain.objects.get(site_id="site-a")
    assert domain.domain == "www.example.com"
    html = client.get("/sites/site-a/domains/").content.decode()
    assert "www.example.com" in html
    assert domain.verification_token in html  # the TXT record's value
    assert "site-a.sites.localhost" in html  # the CNAME's target


def test_a_bad_or_taken_domain_is_refused_on_the_form() -> None:
    world = build_world()
    client = world.client("owner")
    bad = client.post("/sites/site-a/domains/", {"domain": "not a domain"})
    assert bad.status_code == 400
    client.post("/sites/site-a/domains/", {"domain": "shop.example.com"})
    taken = client.post("/sites/site-a/domains/", {"domain": "shop.example.com"})
    assert taken.status_code == 400
    assert "already added to this site" in taken.content.decode()


def test_verify_tells_what_is_missing_then_verifies(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    client = world.client("owner")
    client.post("/sites/site-a/domains/", {"domain": "docs.example.com"})
    domain = Domain.objects.get(site_id="site-a")
    monkeypatch.setattr(domains, "dns_problem", lambda *args: "No TXT record yet.")
    missing = client.post(f"/sites/site-a/domains/{domain.id}/verify/", follow=True)
    assert "not verified yet: No TXT record yet." in missing.content.decode()
    monkeypatch.setattr(domains, "dns_problem", lambda *args: "")
    verified = client.post(f"/sites/site-a/domains/{domain.id}/verify/", follow=True)
    assert "is verified and serves the site" in verified.content.decode()
    domain.refresh_from_db()
    assert domain.status == "verified"


def test_remove_a_domain() -> None:
    world = build_world()
    client = world.client("owner")
    client.post("/sites/site-a/domains/", {"domain": "old.example.com"})
    domain = Domain.objects.get(site_id="site-a")
    client.post(f"/sites/site-a/domains/{domain.id}/delete/")
    assert not Domain.objects.exists()


def test_developers_see_domains_but_do_not_manage_them() -> None:
    world = build_world()
    world.client("owner").post("/sites/site-a/domains/", {"domain": "dev.example.com"})
    domain = Domain.objects.get()
    client = world.client("developer")
    html = client.get("/sites/site-a/domains/").content.decode()
    assert "dev.example.com" in html and "Add a domain" not in html
    assert client.post(f"/sites/site-a/domains/{domain.id}/verify/").status_code == 403
    assert client.post(f"/sites/site-a/domains/{domain.id}/delete/").status_code == 403


def test_the_periodic_recheck_shows_on_the_tab(monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    client = world.client("owner")
    client.post("/sites/site-a/domains/", {"domain": "docs.example.com"})
    domain = Domain.objects.get(site_id="site-a")
    monkeypatch.setattr(domains, "dns_problem", lambda *args: "")
    client.post(f"/sites/site-a/domains/{domain.id}/verify/")
    html = client.get("/sites/site-a/domains/").content.decode()
    assert "DNS checked" in html and "HTTPS certificate is issued on the first visit" in html
    settings.SHIPWAY_DOMAIN_RECHECK_SECONDS = 0  # every verified domain is due
    monkeypatch.setattr(domains, "dns_problem", lambda *args: "The CNAME points elsewhere.")
    assert services.recheck_due() == 1
    html = client.get("/sites/site-a/domains/").content.decode()
    assert "Lost" in html and "The CNAME points elsewhere." in html
