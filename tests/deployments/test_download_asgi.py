"""Downloads over the live ASGI server stream in chunks (Django would otherwise read a
synchronous file iterator whole into memory first, and say so in its log)."""

from __future__ import annotations

import os

import pytest

from accounts.services import api_key_create
from deployments.artifacts import SOURCE_FILE, artifacts
from tests.edge.conftest import publish
from tests.factories import make_site, make_team, make_user
from tests.live import EdgeClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_large_source_archive_downloads_whole_without_buffering(
    edge_server, live_storage, _live_server
):
    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    # Random bytes do not compress: the archive is several chunks long.
    deployment = publish(site, {"index.html": "<h1>hi</h1>", "blob.bin": os.urandom(1_500_000)})
    _key, secret = api_key_create(user=owner, name="download")
    with artifacts().open(f"{deployment.storage_prefix}/{SOURCE_FILE}", "rb") as stored:
        expected = stored.read()
    assert len(expected) > 1_000_000

    answer = EdgeClient(edge_server).get(
        f"127.0.0.1:{edge_server}",
        f"/v1/sites/{site.id}/deployments/{deployment.id}/download?type=source",
        Authorization=f"Bearer {secret}",
    )
    assert answer.status == 200, answer.body[:300]
    assert answer.body == expected
    assert answer.getheader("Content-Length") == str(len(expected))
    assert "attachment" in answer.getheader("Content-Disposition")
    log = (_live_server.log_dir / f"uvicorn-{edge_server}.log").read_text(errors="replace")
    assert "must consume synchronous iterators" not in log
