"""The dashboard in a real browser, against a real server, a real Celery worker and real
Docker builds: sign in, create a site, upload it and watch its build log arrive live,
open the site, upload a second version, roll back to the first."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect

from tests.archives import tar_gz
from tests.browser.conftest import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.docker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chromium_available"),
]

BUILD = 120_000  # ms: a generous wait for a Docker build
# Prints its lines a second apart, so the build is still running while the first ones
# are shown; then publishes index.html from dist/.
BUILD_COMMAND = (
    "for i in 1 2 3 4 5 6; do echo line $i; sleep 1; done && mkdir -p dist && cp index.html dist/"
)


def archive(tmp_path, name: str, heading: str):  # type: ignore[no-untyped-def]
    path = tmp_path / f"{name}.tar.gz"
    path.write_bytes(
        tar_gz({"index.html": f"<!doctype html><title>{heading}</title><h1>{heading}</h1>"})
    )
    return path


def upload(page, path) -> str:  # type: ignore[no-untyped-def]
    """Uploads through the site page's upload box; returns the new deployment's id once
    its page (where the upload script sends the browser) is open."""
    box = page.get_by_role("region", name="Deploy a new version")
    box.locator('input[type="file"]').set_input_files(path)
    expect(box.get_by_text(path.name)).to_be_visible()
    box.get_by_role("button", name="Upload and deploy").click()
    page.wait_for_url(re.compile(r"/deployments/[^/]+/$"), timeout=60_000)
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def log_texts(frames: list[str], deployment_id: str) -> list[str]:
    """The log text of each realtime event for the deployment's log channel."""
    texts = []
    for frame in frames:
        try:
            message = json.loads(frame)
        except ValueError:
            continue
        data = message.get("data") or {}
        if message.get("type") == "event" and any(
            c.endswith(f".deployments.{deployment_id}.logs") for c in data.get("channels", [])
        ):
            texts.append(data.get("payload", {}).get("text", ""))
    return texts


def open_site(context, url: str, heading: str):  # type: ignore[no-untyped-def]
    """Opens the site in a tab of its own and waits until it serves `heading`. A change
    of the active deployment reaches the server's edge through Redis a moment after
    the dashboard answers, so the page is loaded again until it shows (for up to 30 s)."""
    page = context.new_page()
    response = page.goto(url)
    deadline = time.monotonic() + 30
    while heading not in page.locator("body").inner_text() and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        response = page.reload()
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_have_text(heading)
    return page


def test_sign_in_create_upload_watch_the_log_open_the_site_and_roll_back(
    dashboard, build_worker, member, context, screenshot, tmp_path
):
    page = context.new_page()
    # What the websocket carries: the log's lines must arrive over it.
    frames: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived", lambda data: frames.append(data) if isinstance(data, str) else None
        ),
    )

    # 1. Sign in with the password form.
    page.goto(dashboard + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(member.username)
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "01-sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="No sites yet")).to_be_visible()
    expect(page.get_by_text(member.username).first).to_be_visible()
    screenshot(page, "02-sites-list-empty")

    # 2. Create a site with the form: framework "Other", a build command, dist/ served.
    page.get_by_role("link", name="Create a site").click()
    expect(page.get_by_role("heading", name="New site")).to_be_visible()
    page.get_by_label("Name").fill("Browser Site")
    page.get_by_label("Framework").select_option("other")
    page.get_by_label("Install command").fill("")
    page.get_by_label("Build command").fill(BUILD_COMMAND)
    page.get_by_label("Output directory").fill("dist")
    screenshot(page, "03-create-site-form")
    page.get_by_role("button", name="Create site").click()
    expect(page.get_by_role("heading", name="Browser Site")).to_be_visible()
    expect(page.get_by_text("Site “Browser Site” created.")).to_be_visible()
    site_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    site_page = page.url
    screenshot(page, "04-site-page-new")

    # 3. Upload version 1 through the upload box.
    first = upload(page, archive(tmp_path, "version-1", "Version one"))

    # 4. The log arrives live while the build runs.
    log = page.locator("pre[data-log]")
    status = page.locator("[data-status-badge]")
    expect(log).to_contain_text("line 1", timeout=BUILD)
    expect(status).to_have_text("Building")
    expect(page.locator("[data-live-indicator]")).to_have_text("Live")
    screenshot(page, "05-deployment-building-live-log")
    expect(log).to_contain_text("line 6", timeout=BUILD)
    log_events = [text for text in log_texts(frames, first) if "line " in text]
    assert log_events, f"no log line came over the websocket: {frames}"

    # 5. Ready (the page's status follows the feed; nothing reloads it).
    expect(status).to_have_text("Ready", timeout=BUILD)
    expect(page.locator("dd").get_by_text("Live", exact=True)).to_be_visible()
    # The header shows the site's address once it is live, also without a reload.
    expect(page.locator("a.site-url")).to_be_visible()
    expect(page.get_by_text("Not live yet")).to_be_hidden()
    screenshot(page, "06-deployment-ready")

    # 6. The site page shows the site's address; open it and read version 1.
    page.goto(site_page)
    site_link = page.locator("a.site-url")
    expect(site_link).to_contain_text(f"{site_id}.sites.localhost")
    url = site_link.get_attribute("href")
    assert url == f"http://{site_id}.sites.localhost:{dashboard.rsplit(':', 1)[-1]}"
    screenshot(page, "07-site-page-ready")
    with page.expect_popup() as popup:
        site_link.click()
    served = popup.value
    expect(served.locator("h1")).to_have_text("Version one")
    screenshot(served, "08-served-site-version-1")
    served.close()

    # 7. Version 2: built, activated, served.
    second = upload(page, archive(tmp_path, "version-2", "Version two"))
    expect(status).to_have_text("Ready", timeout=BUILD)
    served = open_site(context, url, "Version two")
    screenshot(served, "09-served-site-version-2")
    served.close()

    # 8. Roll back from the site's deployments list to the first deployment.
    page.goto(site_page)
    rows = page.get_by_role("row")
    expect(rows.filter(has_text=second).get_by_text("Live", exact=True)).to_be_visible()
    page.get_by_role("button", name=f"Roll back {first}").click()
    expect(rows.filter(has_text=first).get_by_text("Live", exact=True)).to_be_visible()
    expect(rows.filter(has_text=second).get_by_text("Live", exact=True)).to_have_count(0)
    screenshot(page, "10-site-page-after-roll-back")
    served = open_site(context, url, "Version one")
    screenshot(served, "11-served-site-after-roll-back")

    page.goto(dashboard + "/")
    expect(page.get_by_role("link", name="Browser Site")).to_be_visible()
    screenshot(page, "12-sites-list")

    # 9. The team's Activity page lists what was done, newest first: the roll back on top.
    page.get_by_role("link", name="Team", exact=True).click()
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    top = page.get_by_role("row").nth(1)
    expect(top).to_contain_text("deployment.activate")
    expect(top).to_contain_text(member.username)
    expect(page.get_by_role("row").filter(has_text="site.create")).to_have_count(1)
    screenshot(page, "13-team-activity")
