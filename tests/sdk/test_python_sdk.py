"""The Python SDK (sdk/python: shipway_sdk generated from the schema, shipway_realtime by
hand) against a live platform: create a site, upload twice, follow each deployment to
`ready` through `subscribe`, roll back."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sdk.conftest import SDK_DIR, Platform

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sdk() -> Iterator[None]:
    sys.path.insert(0, str(SDK_DIR / "python"))
    yield
    sys.path.remove(str(SDK_DIR / "python"))


def _deploy_and_follow(client, platform: Platform, site_id: str, archive: Path):  # type: ignore[no-untyped-def]
    from shipway_realtime import subscribe
    from shipway_sdk.api.sites import sites_deployments_create
    from shipway_sdk.models import UploadRequest
    from shipway_sdk.types import File

    statuses: list[str] = []
    # Subscribed to the site's deployments before the upload: no change is missed.
    with subscribe(platform.url, platform.token, [f"sites.{site_id}.deployments"]) as events:
        with archive.open("rb") as code:
            body = UploadRequest(code=File(payload=code, file_name="site.tar.gz"))
            deployment = sites_deployments_create.sync(site_id, client=client, body=body)
        assert deployment is not None and deployment.status == "waiting"
        while not statuses or statuses[-1] not in ("ready", "failed", "canceled"):
            event = events.next(timeout=120)
            assert event is not None, "the feed ended before the deployment did"
            if event["payload"]["id"] == deployment.id:
                statuses.append(event["payload"]["status"])
    return deployment.id, statuses


def test_the_python_sdk_deploys_follows_and_rolls_back(sdk, platform: Platform) -> None:
    from shipway_realtime import RealtimeRefused, subscribe
    from shipway_sdk import AuthenticatedClient
    from shipway_sdk.api.sites import (
        sites_create,
        sites_deployments_activate_partial_update,
        sites_deployments_list,
        sites_retrieve,
    )
    from shipway_sdk.models import SiteCreateRequest

    client = AuthenticatedClient(base_url=platform.url, token=platform.token)
    site = sites_create.sync(
        client=client,
        body=SiteCreateRequest(name="SDK site", team_id=platform.team_id, framework="static"),
    )
    assert site is not None

    first, seen = _deploy_and_follow(client, platform, site.id, platform.archives[0])
    assert seen[-1] == "ready" and "processing" in seen, seen
    second, seen = _deploy_and_follow(client, platform, site.id, platform.archives[1])
    assert seen[-1] == "ready", seen
    current = sites_retrieve.sync(site.id, client=client)
    assert current is not None and current.deployment_id == second

    # Roll back: the first deployment serves again.
    response = sites_deployments_activate_partial_update.sync_detailed(
        site.id, first, client=client
    )
    assert response.status_code == 200, response.content
    current = sites_retrieve.sync(site.id, client=client)
    assert current is not None and current.deployment_id == first
    listed = sites_deployments_list.sync(site.id, client=client)
    assert listed is not None and listed.total == 2

    refused_channel = ["sites.no-such-site.deployments"]
    with (
        pytest.raises(RealtimeRefused) as refused,
        subscribe(platform.url, platform.token, refused_channel),
    ):
        pass
    assert refused.value.code == 4403
