"""The worker's reads of a user's tree on the host cannot be led outside it, whatever
the stored source holds (a source stored before today's intake checks, say)."""

import io
import tarfile

import pytest

from builds import director
from builds.runners.base import drop_unsafe_links
from deployments.artifacts import SOURCE_FILE, artifacts
from deployments.models import Deployment
from deployments.services import deployment_create_from_upload
from tests.archives import tar_gz, upload
from tests.factories import make_site, make_team, make_user

# Each link looks inside the tree when it is extracted (the links it goes through come
# later in the archive), but together they lead to the host's /etc: `a` climbs out of
# the tree through `b/c -> .`, `a2` and `a3` climb on to /.
CHAIN_TO_ETC = [
    ("etc", "a3/etc"),
    ("a3", "a2/.."),
    ("a2", "a/.."),
    ("a", "b/c/../.."),
    ("b/", None),
    ("b/c", "."),
]


def _hostile_source(links: list[tuple[str, str | None]], files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, target in links:
            info = tarfile.TarInfo(name.rstrip("/"))
            if target is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            else:
                info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _built_with_source(source: bytes, **site_fields) -> Deployment:  # type: ignore[no-untyped-def]
    site = make_site(make_team(make_user()), framework="static", **site_fields)
    deployment = deployment_create_from_upload(
        site=site, archive=upload(tar_gz({"index.html": "benign"})), activate=False
    )
    stored = f"{deployment.storage_prefix}/{SOURCE_FILE}"
    artifacts().delete(stored)
    artifacts().save(stored, io.BytesIO(source))
    director.build(deployment.id)
    deployment.refresh_from_db()
    return deployment


def _published(deployment: Deployment) -> list[str]:
    _dirs, files = artifacts().listdir(f"{deployment.storage_prefix}/output")
    return files


@pytest.mark.django_db(transaction=True)
def test_a_link_chain_as_the_output_directory_publishes_nothing_from_the_host():
    deployment = _built_with_source(
        _hostile_source(CHAIN_TO_ETC, {"index.html": "x"}), output_directory="etc"
    )
    assert deployment.status == "failed"
    assert deployment.error_code == "output_missing"
    assert not artifacts().exists(f"{deployment.storage_prefix}/output/passwd")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("target", ["etc/passwd", "a3/proc/self/cwd/var/secret_key", "b/c"])
def test_links_out_in_a_published_tree_are_dropped(target):
    """`_redirects` and plain files that lead out are neither published nor read (a
    `_redirects` leading to a host file would quote its first line in the error).
    They come first in the archive, so extraction's own check sees them inside."""
    links = [("_redirects", target), ("leak.txt", target), *CHAIN_TO_ETC]
    deployment = _built_with_source(_hostile_source(links, {"index.html": "<p>ok</p>"}))
    assert deployment.status == "ready", deployment.error_code
    assert _published(deployment) == ["index.html"]


@pytest.mark.django_db(transaction=True)
def test_absolute_links_fail_the_build_as_an_unreadable_source():
    deployment = _built_with_source(_hostile_source([("leak.txt", "/etc/passwd")], {}))
    assert (deployment.status, deployment.error_code) == ("failed", "source_invalid")


def test_drop_unsafe_links_keeps_links_to_files_inside(tmp_path):
    tree = tmp_path / "tree"
    (tree / "docs").mkdir(parents=True)
    (tree / "v1.txt").write_text("one")
    (tree / "latest.txt").symlink_to("v1.txt")
    (tree / "docs" / "up.txt").symlink_to("../v1.txt")
    (tree / "docs" / "self").symlink_to(".")
    (tree / "docs" / "out").symlink_to("../../outside.txt")
    (tmp_path / "outside.txt").write_text("host")
    (tree / "through").symlink_to("docs/self/../v1.txt")  # via a directory link
    dropped = drop_unsafe_links(tree)
    assert sorted(dropped) == ["docs/out", "docs/self", "through"]
    assert (tree / "latest.txt").read_text() == "one"
    assert (tree / "docs" / "up.txt").read_text() == "one"
