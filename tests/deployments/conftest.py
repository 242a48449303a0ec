"""An uploader for intake tests: it sends an archive through the public upload API and
checks that a refusal left nothing behind."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deployments.models import Deployment
from tests.archives import upload
from tests.factories import api_client, make_site, make_team, make_user


@dataclass
class Uploader:
    site: Any
    client: Any
    storage: Path
    tmp: Path

    def post(self, data: bytes, name: str = "site.tar.gz") -> Any:
        return self.client.post(
            f"/v1/sites/{self.site.id}/deployments",
            {"code": upload(data, name)},
            format="multipart",
        )

    def refused(self, data: bytes, name: str = "site.tar.gz") -> str:
        """Post the archive, require a 400 that left no row, no stored file and no temp
        file, and return its message."""
        response = self.post(data, name)
        assert response.status_code == 400, (response.status_code, response.content[:500])
        body = response.json()
        assert body["type"] == "validation_error"
        assert Deployment.objects.count() == 0
        assert _files(self.storage) == []
        assert _files(self.tmp) == []
        return body["message"]

    def accepted(self, data: bytes, name: str = "site.tar.gz") -> Deployment:
        response = self.post(data, name)
        assert response.status_code == 202, (response.status_code, response.content[:500])
        return Deployment.objects.get(pk=response.json()["id"])


def _files(root: Path) -> list[str]:
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


@pytest.fixture
def uploader(settings, tmp_path, monkeypatch) -> Uploader:
    """A static site, its owner's client, and a temp directory of the test's own (so the
    test can see that nothing was left there)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    return Uploader(site, api_client(owner), Path(settings.MEDIA_ROOT), tmp)


@pytest.fixture(params=["filesystem", "s3"])
def stored(request, tmp_path):  # type: ignore[no-untyped-def]
    """What the artifacts storage holds, listed from the storage itself: the files under
    the test's directory (tests/conftest.py's _artifacts_in_tmp), or the keys in the
    test's bucket on the moto server (tests/s3.py)."""
    if request.param == "s3":
        return request.getfixturevalue("s3_storage").keys
    root = tmp_path / "storage"
    return lambda: {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
