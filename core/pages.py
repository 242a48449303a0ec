"""The edge's own small pages: not found, not live yet, a branch without a ready preview,
building, failed, disabled, and an ssr server starting, failed or unreachable."""

from __future__ import annotations

from html import escape

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;
color:#1f2328}}h1{{font-size:1.5rem}}p{{color:#57606a}}a{{color:#0969da}}</style></head>
<body><h1>{title}</h1><p>{text}</p>{link}</body></html>
"""


def page(title: str, text: str, link: tuple[str, str] | None = None) -> bytes:
    anchor = f'<p><a href="{escape(link[0])}">{escape(link[1])}</a></p>' if link else ""
    return _PAGE.format(title=escape(title), text=escape(text), link=anchor).encode()


NOT_FOUND = page("Not found", "There is nothing at this address.")
NO_SITE = page("Site not found", "No site answers on this address.")
NOT_LIVE = page("Nothing deployed yet", "This site has no ready deployment yet.")
NO_PREVIEW = page("No preview yet", "This branch has no ready preview yet.")
DISABLED = page("Site disabled", "The owners of this site have turned it off.")
BAD_PATH = page("Bad request", "This path cannot be served.")

STATUS_TEXT = {
    "waiting": ("Deployment queued", "This deployment is waiting for a builder."),
    "processing": ("Deployment starting", "This deployment's build is starting."),
    "building": ("Deployment building", "This deployment is being built right now."),
    "failed": (
        "Deployment failed",
        "This deployment's build failed, so there is nothing to serve.",
    ),
    "canceled": ("Deployment canceled", "This deployment was canceled before it was built."),
}


def status_page(status: str, log_url: str) -> bytes:
    title, text = STATUS_TEXT.get(status, ("Deployment unavailable", "Nothing to serve."))
    return page(title, text, (log_url, "Read the build log (team members)"))


# Server-rendered (ssr) sites' servers.
SERVER_STARTING = page(
    "Starting up",
    "This site's server is still starting. Try again in a few seconds.",
)


def server_failed(error: str) -> bytes:
    """A 502 for a server that could not start or crashed: why, as the runtime said."""
    reason = error.strip() or "It stopped without saying why."
    return page("Server failed", f"This site's server is not running. {reason}")


def server_unreachable(sentence: str) -> bytes:
    """A 502 or 504 for a server that refused, broke off or did not answer in time."""
    return page("Server unavailable", sentence)
