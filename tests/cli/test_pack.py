"""Packing a project: git's ignore rules from .gitignore and .shipwayignore, at any
depth, and never .git or .shipway."""

import tarfile
from pathlib import Path, PurePosixPath

from cli.pack import files_to_pack, pack


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def names(root: Path) -> list[str]:
    return [p.as_posix() for p in files_to_pack(root)]


def test_ignore_files_and_the_never_packed_folders(tmp_path):
    write(
        tmp_path,
        {
            "index.html": "x",
            ".gitignore": "node_modules/\n*.log\n!keep.log\n/build\n",
            ".shipwayignore": "secret.txt\n",
            "secret.txt": "x",
            "debug.log": "x",
            "keep.log": "x",
            "node_modules/a/index.js": "x",
            "build/out.js": "x",
            "src/build/kept.js": "x",  # /build is anchored at the root
            ".git/HEAD": "x",
            ".shipway/project.json": "{}",
            "src/.git": "a file named .git, as a submodule has",
        },
    )
    assert names(tmp_path) == [
        ".gitignore",
        ".shipwayignore",
        "index.html",
        "keep.log",
        "src/build/kept.js",
    ]


def test_a_deeper_ignore_file_applies_below_it_and_wins(tmp_path):
    write(
        tmp_path,
        {
            ".gitignore": "*.tmp\n",
            "a/.gitignore": "!wanted.tmp\nlocal.txt\n",
            "a/wanted.tmp": "x",
            "a/other.tmp": "x",
            "a/local.txt": "x",
            "b/local.txt": "x",
        },
    )
    assert names(tmp_path) == [".gitignore", "a/.gitignore", "a/wanted.tmp", "b/local.txt"]


def test_an_ignored_folder_is_not_entered(tmp_path):
    write(tmp_path, {".gitignore": "dist/\n!dist/keep.txt\n", "dist/keep.txt": "x"})
    assert names(tmp_path) == [".gitignore"]


def test_archive_holds_the_files_with_relative_names(tmp_path):
    project = tmp_path / "project"
    write(project, {"index.html": "<h1>hi</h1>", "css/site.css": "body{}", ".git/x": "x"})
    (project / "link.html").symlink_to("index.html")
    archive = pack(project)
    try:
        with tarfile.open(archive) as tar:
            members = {m.name: m for m in tar.getmembers()}
            assert sorted(members) == ["css/site.css", "index.html", "link.html"]
            assert members["link.html"].issym()
            extracted = tar.extractfile("index.html")
            assert extracted is not None and extracted.read() == b"<h1>hi</h1>"
    finally:
        archive.unlink()
    assert PurePosixPath("css/site.css") in files_to_pack(project)
