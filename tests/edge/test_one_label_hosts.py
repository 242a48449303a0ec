"""Every host under SITES_DOMAIN is one label deep, so that one wildcard certificate
(*.SITES_DOMAIN) covers every site and deployment, and on-demand TLS is needed only for
custom domains (issue 11, item 5)."""

from urllib.parse import urlsplit

import pytest

from tests.edge.conftest import SITES_DOMAIN, publish
from tests.factories import api_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_deployment_answers_on_one_label_under_the_sites_domain(edge, static_site):
    site, owner = static_site
    first = publish(site, {"index.html": "version one"})
    second = publish(site, {"index.html": "version two"})
    one_label = f"{first.id}--{site.id}.{SITES_DOMAIN}"

    body = api_client(owner).get(f"/v1/sites/{site.id}/deployments/{first.id}").json()
    assert urlsplit(body["url"]).hostname == one_label
    assert edge.get(one_label).body == b"version one"
    assert edge.get(f"{second.id}--{site.id}.{SITES_DOMAIN}").body == b"version two"
    assert edge.get(f"{site.id}.{SITES_DOMAIN}").body == b"version two"

    # Two labels deep (the old form) is outside the wildcard: it names nothing.
    assert edge.get(f"{first.id}.{site.id}.{SITES_DOMAIN}").status == 404
    # Another site's deployment id, or no such deployment, names nothing either.
    assert edge.get(f"{first.id}--x{site.id[1:]}.{SITES_DOMAIN}").status == 404
    assert edge.get(f"nosuchdeployment--{site.id}.{SITES_DOMAIN}").status == 404
