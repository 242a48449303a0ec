"""Hostile and broken archives: each gets a 400 naming what is wrong, and leaves no
deployment row and no stored file."""

import gzip
import io
import os
import tarfile
import zipfile

import pytest

from deployments.models import Deployment
from tests.archives import tar_gz, upload, zip_bytes
from tests.factories import api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def _zip_with_symlink(name: str, target: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.external_attr = 0o120777 << 16
        archive.writestr(info, target)
    return buffer.getvalue()


def _bomb() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 16 * 1024 * 1024
        archive.addfile(info, io.BytesIO(bytes(info.size)))
    return buffer.getvalue()


HOSTILE = {
    "not an archive": (b"just some text, not an archive", "not a .tar.gz, .tgz or .zip"),
    "empty file": (b"", "empty"),
    "corrupt gzip": (b"\x1f\x8b" + os.urandom(200), "corrupt"),
    "truncated tar.gz": (tar_gz({"index.html": os.urandom(50000)})[:2000], "corrupt"),
    "corrupt zip": (b"PK\x03\x04" + os.urandom(100), "corrupt"),
    "dot-dot path": (tar_gz({"../evil.sh": "rm -rf /"}), "outside the archive"),
    "nested dot-dot": (tar_gz({"a/../../evil": "x"}), "outside the archive"),
    "absolute path": (tar_gz({"/etc/cron.d/evil": "x"}), "absolute path"),
    "zip dot-dot": (zip_bytes({"../../evil": "x"}), "outside the archive"),
    "symlink out": (
        tar_gz({}, extra=[_member("link", tarfile.SYMTYPE, "../../../etc/passwd")]),
        "points outside",
    ),
    "absolute symlink": (
        tar_gz({}, extra=[_member("link", tarfile.SYMTYPE, "/etc/passwd")]),
        "points outside",
    ),
    "zip symlink out": (_zip_with_symlink("link", "../../etc/passwd"), "points outside"),
    "hard link out": (
        tar_gz({}, extra=[_member("link", tarfile.LNKTYPE, "../etc/shadow")]),
        "points outside",
    ),
    "hard link to unknown file": (
        tar_gz({}, extra=[_member("link", tarfile.LNKTYPE, "missing.txt")]),
        "not a file earlier",
    ),
    "character device": (tar_gz({}, extra=[_member("dev", tarfile.CHRTYPE)]), "device"),
    "block device": (tar_gz({}, extra=[_member("dev", tarfile.BLKTYPE)]), "device"),
    "fifo": (tar_gz({}, extra=[_member("fifo", tarfile.FIFOTYPE)]), "FIFO"),
    "decompression bomb": (_bomb(), "decompression bomb"),
    "gzip that is not a tar": (gzip.compress(b"plain text " * 100), "corrupt"),
}


@pytest.fixture
def site_and_client():
    owner = make_user()
    return make_site(make_team(owner), framework="static"), api_client(owner)


def _stored_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_archive_is_refused_and_leaves_nothing(case, site_and_client, settings):
    site, client = site_and_client
    data, expected = HOSTILE[case]
    response = client.post(
        f"/v1/sites/{site.id}/deployments", {"code": upload(data)}, format="multipart"
    )
    body = response.json()
    assert response.status_code == 400, body
    assert body["type"] == "validation_error"
    assert body["message"].startswith("code: ")
    assert expected in body["message"], body["message"]
    assert Deployment.objects.count() == 0
    assert _stored_files(settings) == []


def test_too_many_entries(site_and_client, settings):
    settings.SHIPWAY_MAX_ARCHIVE_ENTRIES = 5
    site, client = site_and_client
    data = tar_gz({f"f{i}.txt": "x" for i in range(6)})
    response = client.post(
        f"/v1/sites/{site.id}/deployments", {"code": upload(data)}, format="multipart"
    )
    assert response.status_code == 400
    assert "more than 5 entries" in response.json()["message"]
    assert Deployment.objects.count() == 0


def test_archive_over_the_size_limit(site_and_client, settings):
    settings.SHIPWAY_MAX_UPLOAD_SIZE = 1000
    site, client = site_and_client
    data = tar_gz({"big.bin": os.urandom(5000)})
    response = client.post(
        f"/v1/sites/{site.id}/deployments", {"code": upload(data)}, format="multipart"
    )
    assert response.status_code == 400
    assert "the limit is 1000" in response.json()["message"]
    assert Deployment.objects.count() == 0


def test_unpacked_size_over_the_limit(site_and_client, settings):
    settings.SHIPWAY_MAX_UNPACKED_SIZE = 10_000
    site, client = site_and_client
    data = tar_gz({"a.txt": os.urandom(6000), "b.txt": os.urandom(6000)})
    response = client.post(
        f"/v1/sites/{site.id}/deployments", {"code": upload(data)}, format="multipart"
    )
    assert response.status_code == 400
    assert "unpacks to more than 10000 bytes" in response.json()["message"]


def test_missing_root_directory(site_and_client):
    site, client = site_and_client
    site.root_directory = "apps/web"
    site.save()
    response = client.post(
        f"/v1/sites/{site.id}/deployments",
        {"code": upload(tar_gz({"apps/api/index.html": "x"}))},
        format="multipart",
    )
    assert response.status_code == 400
    assert "rootDirectory 'apps/web'" in response.json()["message"]


def test_missing_code_field(site_and_client):
    site, client = site_and_client
    response = client.post(f"/v1/sites/{site.id}/deployments", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["message"].startswith("code:")


def test_good_archives_are_accepted_and_repacked_clean(site_and_client, settings):
    site, client = site_and_client
    in_tree_link = _member("docs/latest", tarfile.SYMTYPE, "v1")
    setuid = tarfile.TarInfo("bin/tool")
    setuid.mode = 0o4755
    setuid.uid = 0
    data = tar_gz({"index.html": "x", "docs/v1/index.html": "y"}, extra=[in_tree_link])
    for archive in (data, zip_bytes({"index.html": "x", "nested/a.js": "y"})):
        response = client.post(
            f"/v1/sites/{site.id}/deployments", {"code": upload(archive)}, format="multipart"
        )
        assert response.status_code == 202, response.json()
        assert response.json()["status"] == "waiting"
        assert response.json()["sourceSize"] > 0
    assert Deployment.objects.count() == 2
