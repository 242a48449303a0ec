"""Build archives for tests: tar.gz and zip from a dict of paths, plus hostile ones."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile


def tar_gz(files: dict[str, str | bytes], *, extra: list[tarfile.TarInfo] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
        for info in extra or []:
            archive.addfile(info)
    return buffer.getvalue()


def vite_app(name: str) -> dict[str, str]:
    """A minimal Vite 5 app named `name` (package.json without a lock file, index.html,
    main.js): what tests/e2e and bench/builds.py build as a real framework site."""
    return {
        "package.json": json.dumps(
            {
                "name": name,
                "private": True,
                "type": "module",
                "scripts": {"build": "vite build"},
                "devDependencies": {"vite": "5.4.11"},
            }
        ),
        "index.html": '<!doctype html><div id="app"></div><script type="module" src="/main.js">'
        "</script>",
        "main.js": "document.querySelector('#app').textContent = 'Hello from Vite';\n",
    }


def zip_bytes(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def upload(data: bytes, name: str = "site.tar.gz") -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def tar_of(*members: tarfile.TarInfo | tuple[tarfile.TarInfo, bytes], **options: object) -> bytes:
    """A tar.gz of exactly these members, in this order; a (TarInfo, content) pair is a
    file with that content. Options go to tarfile.open (format=..., pax_headers=...)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", **options) as archive:  # type: ignore[call-overload]
        for member in members:
            if isinstance(member, tuple):
                info, content = member
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
            else:
                archive.addfile(member)
    return buffer.getvalue()


def symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


def directory(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info


def file(name: str, content: str | bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.mode = 0o644
    return info, content.encode() if isinstance(content, str) else content


def zip_with_links(files: dict[str, str], links: dict[str, str]) -> bytes:
    """A zip with these files and symbolic links (name -> target), links last."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        for name, target in links.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, target)
    return buffer.getvalue()
