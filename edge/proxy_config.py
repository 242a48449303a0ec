"""The front proxy's configuration: deploy/nginx.conf filled in for this Shipway, with
nginx's content types made from the manifest's (`manage.py edgemap nginx-conf`). The
files it serves are the host map's (edge/hostmap.py); deploy/Caddyfile needs no filling.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from django.conf import settings

from deployments.artifacts import content_type_for

BROTLI_MODULE = "ngx_http_brotli_static_module.so"
_MODULE_DIRS = ("/usr/lib/nginx/modules", "/usr/lib64/nginx/modules", "/etc/nginx/modules")


def brotli_module() -> str | None:
    """The nginx brotli_static module's file, when installed (Debian:
    libnginx-mod-http-brotli-static)."""
    for directory in _MODULE_DIRS:
        candidate = Path(directory) / BROTLI_MODULE
        if candidate.is_file():
            return str(candidate)
    return None


def nginx_types() -> str:
    """nginx's `types` and `charset_types` for the content types Shipway's manifest gives
    (deployments/artifacts.py: Python's mimetypes, plus a charset for text, JS and JSON)."""
    by_type: dict[str, list[str]] = {}
    with_charset: set[str] = set()
    for extension in sorted(mimetypes.types_map):
        name = extension.lstrip(".").lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_+-]*", name):
            continue
        content_type = content_type_for("file" + extension)
        kind = content_type.split(";")[0]
        if name not in {e for names in by_type.values() for e in names}:
            by_type.setdefault(kind, []).append(name)
        if "charset=" in content_type:
            with_charset.add(kind)
    lines = ["types {"]
    lines += [f"        {kind} {' '.join(names)};" for kind, names in sorted(by_type.items())]
    lines.append("    }")
    with_charset.discard("text/html")  # always has one
    charset = sorted(with_charset)
    lines.append("    charset_types")
    lines += [f"        {' '.join(charset[i : i + 4])}" for i in range(0, len(charset), 4)]
    lines[-1] += ";"
    return "\n".join(lines)


def nginx_config(template: str | Path | None = None, **values: str) -> str:
    """deploy/nginx.conf with its ${NAME} placeholders filled: `values` first, then
    Shipway's settings and the defaults below. Unknown ${...} (nginx's own) stay."""
    path = Path(template or Path(settings.BASE_DIR) / "deploy" / "nginx.conf")
    platform = settings.SHIPWAY_PUBLIC_URL.split("://", 1)[-1].split("/", 1)[0]
    module = brotli_module()
    defaults = {
        "SHIPWAY_NGINX_LISTEN": "80",
        "SHIPWAY_NGINX_USER": "www-data",
        "SHIPWAY_NGINX_WORKERS": "auto",
        "SHIPWAY_NGINX_RUN_DIR": "/run/shipway-nginx",
        "SHIPWAY_NGINX_ACCESS_LOG": "off",
        "SHIPWAY_NGINX_LOAD_MODULES": f"load_module {module};" if module else "",
        "SHIPWAY_NGINX_BROTLI": "brotli_static on;" if module else "",
        "SHIPWAY_NGINX_TYPES": nginx_types(),
        "SHIPWAY_EDGE_ROOT": str(Path(settings.SHIPWAY_EDGE_ROOT).resolve()),
        "SITES_DOMAIN": settings.SITES_DOMAIN,
        "SHIPWAY_WEB": "127.0.0.1:8000",
        # Request bodies, as core/limits.py caps them.
        "SHIPWAY_NGINX_MAX_BODY": str(settings.SHIPWAY_MAX_REQUEST_BODY),
        "SHIPWAY_NGINX_MAX_UPLOAD": str(
            settings.SHIPWAY_MAX_UPLOAD_SIZE + settings.SHIPWAY_MAX_REQUEST_BODY
        ),
        "SHIPWAY_PLATFORM_HOSTS": " ".join(
            dict.fromkeys([platform.rsplit(":", 1)[0], *settings.SHIPWAY_PLATFORM_HOSTS])
        ),
    }
    filled = {**defaults, **values}
    filled.setdefault("SHIPWAY_API", filled["SHIPWAY_WEB"])  # one process serves both
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: filled.get(m[1], m[0]), path.read_text())
