"""Chunked uploads with Content-Range: in order, resumed after a drop, and refused when
they leave a gap or lie about their size."""

import os

import pytest

from deployments.artifacts import artifacts
from deployments.models import Deployment, Upload
from tests.archives import tar_gz, upload
from tests.factories import api_client, make_site, make_team, make_user
from tests.s3 import moto_s3, s3_storage  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)  # pieces are removed on commit


def stored_uploads() -> list[str]:
    """The uploads with pieces in the artifacts storage."""
    try:
        return artifacts().listdir("uploads")[0]
    except FileNotFoundError:
        return []


@pytest.fixture
def ctx():
    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    return site, api_client(owner)


def send(client, site, data: bytes, start: int, total: int, upload_id: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"HTTP_CONTENT_RANGE": f"bytes {start}-{start + len(data) - 1}/{total}"}
    if upload_id:
        headers["HTTP_X_UPLOAD_ID"] = upload_id
    return client.post(
        f"/v1/sites/{site.id}/deployments", {"code": upload(data)}, format="multipart", **headers
    )


def test_three_chunks_with_a_retry_make_one_deployment(ctx, stored):
    """On the filesystem and on S3: the pieces are in the artifacts storage, where any web
    process finds them, until the last chunk joins them."""
    site, client = ctx
    archive = tar_gz({"index.html": os.urandom(30000).hex()})
    total = len(archive)
    third = total // 3
    parts = [archive[:third], archive[third : 2 * third], archive[2 * third :]]

    first = send(client, site, parts[0], 0, total)
    assert first.status_code == 202, first.json()
    upload_id = first.json()["uploadId"]
    assert first.json()["sizeReceived"] == third and first.json()["complete"] is False

    second = send(client, site, parts[1], third, total, upload_id)
    assert second.json()["sizeReceived"] == 2 * third
    # The connection dropped before the client saw that answer: it asks, then resends.
    state = client.get(f"/v1/sites/{site.id}/deployments/uploads/{upload_id}").json()
    assert state["sizeReceived"] == 2 * third
    again = send(client, site, parts[1], third, total, upload_id)
    assert again.json()["sizeReceived"] == 2 * third
    pieces = {f"uploads/{upload_id}/{0:012d}", f"uploads/{upload_id}/{third:012d}"}
    assert {key for key in stored() if key.startswith("uploads/")} == pieces

    last = send(client, site, parts[2], 2 * third, total, upload_id)
    assert last.status_code == 202, last.json()
    assert last.json()["status"] == "waiting"
    assert last.json()["sourceSize"] > 0
    assert Deployment.objects.filter(pk=last.json()["id"]).exists()
    assert not Upload.objects.exists()
    assert not {key for key in stored() if key.startswith("uploads/")}


def test_a_retry_overlapping_what_arrived_stores_only_the_new_bytes(ctx):
    site, client = ctx
    archive = tar_gz({"index.html": "<h1>overlap</h1>" * 500})
    total, half = len(archive), len(archive) // 2
    upload_id = send(client, site, archive[:half], 0, total).json()["uploadId"]
    # The client lost the answer and resends from a little earlier, to the end.
    last = send(client, site, archive[half - 10 :], half - 10, total, upload_id)
    assert last.status_code == 202, last.json()
    deployment = Deployment.objects.get(pk=last.json()["id"])
    with artifacts().open(f"{deployment.storage_prefix}/source.tar.gz", "rb") as source:
        assert source.read()  # the joined archive passed the intake's checks
    assert stored_uploads() == []


def test_a_piece_left_by_a_failed_chunk_is_replaced(ctx):
    """A chunk whose transaction rolled back after its piece was stored left that piece
    at the offset the retry writes to again."""
    site, client = ctx
    archive = tar_gz({"index.html": "<h1>stale</h1>" * 500})
    total, half = len(archive), len(archive) // 2
    upload_id = send(client, site, archive[:half], 0, total).json()["uploadId"]
    from django.core.files.base import ContentFile

    artifacts().save(f"uploads/{upload_id}/{half:012d}", ContentFile(b"garbage" * 100))
    last = send(client, site, archive[half:], half, total, upload_id)
    assert last.status_code == 202, last.json()
    assert Deployment.objects.filter(pk=last.json()["id"]).exists()


def test_a_gap_is_refused(ctx):
    site, client = ctx
    first = send(client, site, b"\x1f\x8b" + b"x" * 98, 0, 1000)
    response = send(client, site, b"y" * 100, 500, 1000, first.json()["uploadId"])
    assert response.status_code == 400
    assert "resume from byte 100" in response.json()["message"]


def test_chunk_size_must_match_its_range(ctx):
    site, client = ctx
    response = client.post(
        f"/v1/sites/{site.id}/deployments",
        {"code": upload(b"x" * 10)},
        format="multipart",
        HTTP_CONTENT_RANGE="bytes 0-99/1000",
    )
    assert response.status_code == 400
    assert "announces 100" in response.json()["message"]
    assert not Upload.objects.exists()


@pytest.mark.parametrize(
    "header", ["bytes=0-9/10", "bytes 5-1/10", "bytes 0-10/10", "items 0-1/2", "bytes a-b/c"]
)
def test_malformed_content_range(ctx, header):
    site, client = ctx
    response = client.post(
        f"/v1/sites/{site.id}/deployments",
        {"code": upload(b"x" * 10)},
        format="multipart",
        HTTP_CONTENT_RANGE=header,
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("Content-Range:")


def test_total_over_the_limit(ctx, settings):
    settings.SHIPWAY_MAX_UPLOAD_SIZE = 500
    site, client = ctx
    response = send(client, site, b"x" * 10, 0, 1000)
    assert response.status_code == 400
    assert "the limit is 500" in response.json()["message"]


def test_unknown_upload_and_other_tenants(ctx):
    site, client = ctx
    assert send(client, site, b"x" * 10, 10, 100, "nosuchupload").status_code == 404
    first = send(client, site, b"\x1f\x8b" + b"x" * 8, 0, 100)
    upload_id = first.json()["uploadId"]
    stranger = api_client(make_user())
    assert stranger.get(f"/v1/sites/{site.id}/deployments/uploads/{upload_id}").status_code == 404


def test_completed_bad_archive_leaves_nothing(ctx):
    site, client = ctx
    data = b"not an archive at all" * 10
    first = send(client, site, data[:100], 0, len(data))
    last = send(client, site, data[100:], 100, len(data), first.json()["uploadId"])
    assert last.status_code == 400
    assert "not a .tar.gz" in last.json()["message"]
    assert not Upload.objects.exists() and not Deployment.objects.exists()
    assert stored_uploads() == []


MAX_IN_PROGRESS = 3  # SHIPWAY_MAX_UPLOADS_IN_PROGRESS's default


def test_a_site_has_a_bounded_number_of_uploads_in_progress(ctx, settings):
    """Each open upload may hold SHIPWAY_MAX_UPLOAD_SIZE bytes of disk for a day."""
    site, client = ctx
    opened = []
    for _ in range(MAX_IN_PROGRESS):
        first = send(client, site, b"\x1f\x8b" + b"x" * 8, 0, 100)
        assert first.status_code == 202
        opened.append(first.json()["uploadId"])
    refused = send(client, site, b"\x1f\x8b" + b"x" * 8, 0, 100)
    assert refused.status_code == 429, refused.json()
    body = refused.json()
    assert body["type"] == "too_many_uploads"
    assert f"{MAX_IN_PROGRESS} uploads in progress" in body["message"]
    assert Upload.objects.filter(site=site).count() == MAX_IN_PROGRESS
    assert len(stored_uploads()) == MAX_IN_PROGRESS
    # The open ones go on; another site of the team is not affected.
    assert send(client, site, b"y" * 10, 10, 100, opened[0]).status_code == 202
    other = make_site(site.team, framework="static")
    assert send(client, other, b"\x1f\x8b" + b"x" * 8, 0, 100).status_code == 202
    # Cancelling one frees its place (and its bytes).
    cancelled = client.delete(f"/v1/sites/{site.id}/deployments/uploads/{opened[1]}")
    assert cancelled.status_code == 204
    assert not Upload.objects.filter(pk=opened[1]).exists()
    assert send(client, site, b"\x1f\x8b" + b"x" * 8, 0, 100).status_code == 202


def test_expired_uploads_do_not_count(ctx):
    from datetime import timedelta

    from django.utils import timezone

    site, client = ctx
    for _ in range(MAX_IN_PROGRESS):
        send(client, site, b"\x1f\x8b" + b"x" * 8, 0, 100)
    Upload.objects.update(updated_at=timezone.now() - timedelta(hours=25))
    assert send(client, site, b"\x1f\x8b" + b"x" * 8, 0, 100).status_code == 202


def test_a_viewer_cannot_cancel_an_upload(ctx):
    from accounts.models import Role
    from tests.factories import add_member

    site, client = ctx
    upload_id = send(client, site, b"\x1f\x8b" + b"x" * 8, 0, 100).json()["uploadId"]
    viewer = api_client(add_member(site.team, role=Role.VIEWER))
    path = f"/v1/sites/{site.id}/deployments/uploads/{upload_id}"
    assert viewer.delete(path).status_code == 403
    assert api_client(make_user()).delete(path).status_code == 404
    assert Upload.objects.filter(pk=upload_id).exists()


def test_uploads_idle_for_a_day_are_removed_with_their_pieces(ctx):
    from datetime import timedelta

    from django.utils import timezone

    from deployments.tasks import discard_expired_uploads

    site, client = ctx
    idle = send(client, site, b"\x1f\x8b" + b"x" * 8, 0, 100).json()["uploadId"]
    active = send(client, site, b"\x1f\x8b" + b"x" * 8, 0, 100).json()["uploadId"]
    Upload.objects.filter(pk=idle).update(updated_at=timezone.now() - timedelta(hours=25))
    assert discard_expired_uploads() == 1
    assert list(Upload.objects.values_list("pk", flat=True)) == [active]
    assert stored_uploads() == [active]
