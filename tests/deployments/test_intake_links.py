"""Symbolic-link chains (issue 10, item 1, the intake half).

Each link below looks inside the tree on its own; together they resolve outside it once
extracted. Python 3.11.7's tarfile `filter="data"` checks each link as it extracts it, so
a link placed before the link it goes through passes. The intake refuses every link that
goes through another link, and stores each accepted link's target normalised."""

import os
import tarfile

import pytest

from builds.runners.base import safe_extract
from deployments.artifacts import SOURCE_FILE, artifacts
from tests.archives import directory, file, symlink, tar_of, zip_with_links

pytestmark = pytest.mark.django_db

DEEP = "p/q/r/s/t/u/v/w"  # eight levels: ".." eight times from here is the tree's root
UP = "/".join([".."] * 8)
# A link to the tree's root from eight levels down: in the tree, and harmless alone.
HOP = symlink(f"{DEEP}/l", UP)


def _through_hop(rest: str) -> str:
    """Text that looks like it stays inside (eight levels down, eight up) but goes
    through HOP, which is the root: so it ends eight levels above the tree."""
    return f"{DEEP}/l/{UP}/{rest}"


CHAINS = {
    "chain to /etc, the hop first": [directory(DEEP), HOP, symlink("etc", _through_hop("etc"))],
    # Extracted before its hop exists, this link passes filter="data".
    "chain to /etc, the hop last": [directory(DEEP), symlink("etc", _through_hop("etc")), HOP],
    "chain to /proc/self/cwd/var": [
        directory(DEEP),
        symlink("var", _through_hop("proc/self/cwd/var")),
        HOP,
    ],
    # x -> sub/deep (a directory link) and sub/deep/y -> ../.. (the root) are each fine;
    # x/y/../.. goes through both and ends two levels above the tree.
    "x/y reached through a directory link": [
        directory("sub/deep"),
        symlink("out", "x/y/../../etc"),
        symlink("x", "sub/deep"),
        symlink("sub/deep/y", "../.."),
    ],
    "through a directory link defined first": [
        directory("sub/deep"),
        symlink("x", "sub/deep"),
        symlink("sub/deep/y", "../.."),
        symlink("out", "x/y/../../etc"),
    ],
    "a link to a link": [file("index.html"), symlink("a", "b"), symlink("b", "index.html")],
    "a link to a link, the other order": [
        file("index.html"),
        symlink("b", "index.html"),
        symlink("a", "b"),
    ],
    "a link to itself": [symlink("loop", "loop")],
    "two links to each other": [symlink("a", "b"), symlink("b", "a")],
    "a link whose text goes down into a link and back up": [
        directory("docs"),
        symlink("docs/up", ".."),
        symlink("sneaky", "docs/up/../index.html"),
        file("index.html"),
    ],
}


@pytest.mark.parametrize("members", CHAINS.values(), ids=list(CHAINS))
def test_a_link_chain_is_refused(uploader, members):
    message = uploader.refused(tar_of(*members))
    assert "goes through the symbolic link" in message, message


ZIP_CHAINS = {
    "zip: chain to /etc, the hop last": (
        {f"{DEEP}/keep.txt": "x"},
        {"etc": _through_hop("etc"), f"{DEEP}/l": UP},
    ),
    "zip: chain to /etc, the hop first": (
        {f"{DEEP}/keep.txt": "x"},
        {f"{DEEP}/l": UP, "etc": _through_hop("etc")},
    ),
    "zip: a link to a link": ({"index.html": "x"}, {"a": "b", "b": "index.html"}),
}


@pytest.mark.parametrize("parts", ZIP_CHAINS.values(), ids=list(ZIP_CHAINS))
def test_a_link_chain_in_a_zip_is_refused(uploader, parts):
    message = uploader.refused(zip_with_links(*parts), "site.zip")
    assert "goes through the symbolic link" in message, message


BENEATH = {
    "an entry under a directory link": [
        directory("site"),
        symlink("docs", "site"),
        symlink("docs/up", ".."),
    ],
    "an entry under a directory link, the entry first": [
        directory("site"),
        symlink("docs/up", ".."),
        symlink("docs", "site"),
    ],
    "a file under a link": [directory("site"), symlink("docs", "site"), file("docs/x.html")],
}


@pytest.mark.parametrize("members", BENEATH.values(), ids=list(BENEATH))
def test_an_entry_stored_beneath_a_link_is_refused(uploader, members):
    uploader.refused(tar_of(*members))


def _stored_tree(deployment, tmp_path):
    """The deployment's stored source, extracted as the builders extract it."""
    destination = tmp_path / "tree"
    destination.mkdir()
    path = f"{deployment.storage_prefix}/{SOURCE_FILE}"
    with artifacts().open(path, "rb") as handle, tarfile.open(fileobj=handle) as archive:
        links = {m.name: m.linkname for m in archive.getmembers() if m.issym()}
    with artifacts().open(path, "rb") as handle, tarfile.open(fileobj=handle) as archive:
        safe_extract(archive, destination)
    return destination, links


def test_in_tree_links_still_work_and_are_stored_normalised(uploader, tmp_path):
    data = tar_of(
        file("v1.txt", "one"),
        file("c.txt", "see"),
        file("docs/v1/index.html", "<h1>v1</h1>"),
        symlink("latest.txt", "v1.txt"),
        symlink("a/b", "../c.txt"),
        symlink("a/c", "./../docs/./v1/../v1/index.html"),
        symlink("docs/latest", "v1"),  # a link to a directory, in the tree
        symlink("early.txt", "later.txt"),  # its target comes later in the archive
        file("later.txt", "later"),
    )
    tree, links = _stored_tree(uploader.accepted(data), tmp_path)
    assert links == {
        "latest.txt": "v1.txt",
        "a/b": "../c.txt",
        "a/c": "../docs/v1/index.html",
        "docs/latest": "v1",
        "early.txt": "later.txt",
    }
    assert (tree / "latest.txt").read_text() == "one"
    assert (tree / "a/b").read_text() == "see"
    assert (tree / "a/c").read_text() == "<h1>v1</h1>"
    assert (tree / "docs/latest/index.html").read_text() == "<h1>v1</h1>"
    assert (tree / "early.txt").read_text() == "later"
    for name in links:
        assert os.path.realpath(tree / name).startswith(f"{tree}{os.sep}")


def test_in_tree_links_in_a_zip_still_work(uploader, tmp_path):
    data = zip_with_links(
        {"v1.txt": "one", "c.txt": "see"}, {"latest.txt": "v1.txt", "a/b": "../c.txt"}
    )
    tree, links = _stored_tree(uploader.accepted(data, "site.zip"), tmp_path)
    assert links == {"latest.txt": "v1.txt", "a/b": "../c.txt"}
    assert (tree / "a/b").read_text() == "see"
