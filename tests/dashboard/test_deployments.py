"""The site page's upload form (without a script), its list of deployments (branch,
commit, trigger, environment, the environment filter), the deployment page and its log,
and the buttons: activate (roll back), cancel, redeploy, delete."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deployments.errors import ErrorCode
from deployments.models import Deployment, Environment, Status, Trigger
from deployments.services import (
    branch_fields,
    deployment_fail,
    deployment_transition,
    log_append,
)
from sites.models import Site
from tests.archives import tar_gz, upload, zip_bytes
from tests.dashboard.conftest import build_world, client_for, ready_deployment, waiting_deployment
from tests.factories import make_site, make_team, make_user

pytestmark = pytest.mark.django_db


def make_ready(deployment: Deployment) -> Deployment:
    for status in (Status.PROCESSING, Status.BUILDING, Status.READY):
        deployment_transition(deployment.id, status)
    deployment.refresh_from_db()
    return deployment


# -- the upload form without a script ------------------------------------------------


def test_the_site_page_has_an_upload_form_that_works_without_a_script() -> None:
    world = build_world()
    html = world.client("developer").get("/sites/site-a/").content.decode()
    assert 'action="/sites/site-a/upload/"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'data-endpoint="/v1/sites/site-a/deployments"' in html  # for the chunked upload
    assert world.deployment.id in html


def test_upload_creates_a_deployment_and_opens_its_page() -> None:
    world = build_world()
    response = world.client("developer").post(
        "/sites/site-a/upload/",
        {"code": upload(tar_gz({"index.html": "hi"}), "site.tar.gz"), "activate": "on"},
    )
    assert response.status_code == 302
    deployment = Deployment.objects.exclude(pk=world.deployment.pk).get(site_id="site-a")
    assert response["Location"] == f"/sites/site-a/deployments/{deployment.id}/"
    assert deployment.status == Status.WAITING
    assert deployment.created_by == world.users["developer"]
    assert deployment.activate is True


def test_upload_of_a_zip_without_activation() -> None:
    world = build_world()
    response = world.client("owner").post(
        "/sites/site-a/upload/", {"code": upload(zip_bytes({"index.html": "hi"}), "site.zip")}
    )
    assert response.status_code == 302
    deployment = Deployment.objects.exclude(pk=world.deployment.pk).get(site_id="site-a")
    assert deployment.activate is False


def test_a_refused_archive_shows_why_on_the_form_and_creates_nothing() -> None:
    world = build_world()
    client = world.client("developer")
    not_an_archive = client.post(
        "/sites/site-a/upload/", {"code": upload(b"plain text, not gzip", "site.tar.gz")}
    )
    assert not_an_archive.status_code == 400
    assert 'class="error" id="upload-error"' in not_an_archive.content.decode()
    wrong_name = client.post("/sites/site-a/upload/", {"code": upload(b"x", "site.rar")})
    assert wrong_name.status_code == 400
    assert "Choose a .tar.gz, .tgz or .zip archive." in wrong_name.content.decode()
    assert Deployment.objects.filter(site_id="site-a").count() == 1


def test_the_git_form_queues_a_deployment_of_a_reference(fake_dns) -> None:
    fake_dns.answer("git.example.com", "93.184.215.14")  # public; nothing connects to it
    world = build_world()
    client = world.client("developer")
    html = client.get("/sites/site-a/").content.decode()
    assert 'action="/sites/site-a/git/"' in html and "Or deploy from a git repository" in html
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "two elements share an id (the two forms' fields)"
    response = client.post(
        "/sites/site-a/git/",
        {
            "repository": "https://ci-token@git.example.com/team/site.git",
            "reference_type": "tag",
            "reference": "v1.2.0",
            "activate": "on",
        },
    )
    assert response.status_code == 302
    deployment = Deployment.objects.exclude(pk=world.deployment.pk).get(site_id="site-a")
    assert response["Location"] == f"/sites/site-a/deployments/{deployment.id}/"
    assert (deployment.source_type, deployment.reference_type, deployment.reference) == (
        "vcs",
        "tag",
        "v1.2.0",
    )
    assert deployment.created_by == world.users["developer"] and deployment.activate
    page = client.get(response["Location"]).content.decode()
    assert "ci-token" not in page  # the token in the address is never shown


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"repository": "ftp://git.example.com/x.git"}, "repository", "Use a "),
        ({"repository": "http://10.0.0.1/x.git"}, "repository", "a private address"),
        ({"reference_type": "commit", "reference": "main"}, "reference", "hex digits"),
        ({"reference": "../etc"}, "reference", "not a valid git branch"),
        ({"reference_type": "ref"}, "reference_type", "Select a valid choice"),
    ],
)
def test_a_refused_git_source_shows_why_on_its_field_and_creates_nothing(
    fields, field, message
) -> None:
    world = build_world()
    body = {"repository": "https://git.example.com/x.git", "reference_type": "branch"}
    body |= {"reference": "main", **fields}
    response = world.client("developer").post("/sites/site-a/git/", body)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="git_{field}_error1"' in html and message in html
    assert '<details class="git-deploy" open>' in html  # shown unfolded, with its errors
    assert Deployment.objects.filter(site_id="site-a").count() == 1


def test_viewers_cannot_deploy_from_git() -> None:
    world = build_world()
    body = {"repository": "https://git.example.com/x.git", "reference_type": "branch"}
    response = world.client("viewer").post("/sites/site-a/git/", body | {"reference": "main"})
    assert response.status_code == 403
    assert Deployment.objects.filter(site_id="site-a").count() == 1


# -- the list ------------------------------------------------------------------------

HASH = "0123456789abcdef0123456789abcdef01234567"
SUBJECT = "Fix <script>alert(1)</script> in the header" + " and more" * 10


def pushed(site: Site, branch: str = "feature/login", **fields: object) -> Deployment:
    """A waiting deployment as a push to `branch` makes it: a preview of a commit."""
    deployment = waiting_deployment(site, activate=False)
    fields = {
        "trigger": Trigger.PUSH,
        "environment": Environment.PREVIEW,
        "source_type": "vcs",
        "reference": branch,
        "reference_type": "branch",
        "commit_hash": HASH,
        "commit_message": f"{SUBJECT}\n\nThe second paragraph, never shown.",
        **branch_fields(site, branch),
        **fields,
    }
    Deployment.objects.filter(pk=deployment.pk).update(**fields)
    deployment.refresh_from_db()
    return deployment


def rows(html: str) -> list[str]:
    """The deployments list's rows (the text of each <tr> in its body)."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[ >].*?</tr>", body, re.S)


def test_the_list_shows_branch_commit_trigger_and_environment() -> None:
    world = build_world()
    preview = pushed(world.site)
    html = world.client("viewer").get("/sites/site-a/").content.decode()
    preview_row, upload_row = rows(html)
    assert preview.id in preview_row and world.deployment.id in upload_row
    assert "feature/login" in preview_row
    assert f'<code title="{HASH}">{HASH[:7]}</code>' in preview_row
    assert "Fix &lt;script&gt;alert(1)&lt;/script&gt; in the header" in preview_row
    assert "<script>alert" not in html and "second paragraph" not in html
    assert "…" in preview_row  # the long subject is truncated
    assert "Git push" in preview_row and 'class="badge badge-preview"' in preview_row
    branch_url = preview.branch_url
    assert branch_url and "--site-a.sites.localhost" in branch_url
    assert f'href="{branch_url}"' in preview_row
    assert 'class="badge badge-production"' in upload_row and "Branch address" not in upload_row


def test_a_production_deployment_of_a_branch_has_no_branch_address() -> None:
    world = build_world()
    pushed(world.site, "main", environment=Environment.PRODUCTION, activate=True)
    row = rows(world.client("viewer").get("/sites/site-a/").content.decode())[0]
    assert "main" in row and 'class="badge badge-production"' in row
    assert "Branch address" not in row


@pytest.mark.parametrize(
    ("query", "current", "shown"),
    [
        ("", "All", {"preview", "upload"}),
        ("?environment=preview", "Preview", {"preview"}),
        ("?environment=production", "Production", {"upload"}),
        ("?environment=staging", "All", {"preview", "upload"}),  # unknown: all of them
    ],
)
def test_the_list_filters_by_environment(query: str, current: str, shown: set[str]) -> None:
    world = build_world()
    ids = {"preview": pushed(world.site).id, "upload": world.deployment.id}
    response = world.client("viewer").get(f"/sites/site-a/{query}")
    assert response.status_code == 200
    html = response.content.decode()
    listed = {name for name, id_ in ids.items() if any(id_ in row for row in rows(html))}
    assert listed == shown
    tabs = re.search(r'<nav class="filter-tabs".*?</nav>', html, re.S)[0]
    assert re.findall(r'aria-current="page">(\w+)<', tabs) == [current]


def test_an_empty_filter_says_so_and_keeps_the_tabs() -> None:
    world = build_world()
    html = world.client("viewer").get("/sites/site-a/?environment=preview").content.decode()
    assert "No preview deployments yet." in html and 'class="filter-tabs"' in html
    assert "No deployments yet" not in html  # the site has one: not the first-time card


def test_the_pages_of_a_filtered_list_keep_the_filter() -> None:
    world = build_world()
    for _ in range(21):
        pushed(world.site)
    html = world.client("viewer").get("/sites/site-a/?environment=preview").content.decode()
    assert 'href="?environment=preview&amp;page=2"' in html


def test_the_list_costs_the_same_queries_for_2_and_20_deployments(
    django_assert_max_num_queries,
) -> None:
    world = build_world()
    make_ready(world.deployment)  # live: the other ready rows ask if they are older
    make_ready(pushed(world.site))
    client = world.client("developer")
    client.get("/sites/site-a/")  # warm up (the session, content types)
    with CaptureQueriesContext(connection) as two:
        client.get("/sites/site-a/")
    for index in range(18):
        by = world.users["developer"]
        if index % 2:
            make_ready(pushed(world.site, f"branch-{index}", created_by=by))
        else:
            pushed(world.site, "main", environment=Environment.PRODUCTION, trigger=Trigger.HOOK)
    with django_assert_max_num_queries(len(two)):
        html = client.get("/sites/site-a/").content.decode()
    assert len(rows(html)) == 20
    with django_assert_max_num_queries(len(two)):
        client.get("/sites/site-a/?environment=preview")


def test_the_deployment_page_shows_branch_commit_trigger_and_environment() -> None:
    world = build_world()
    preview = pushed(world.site)
    html = world.client("viewer").get(f"/sites/site-a/deployments/{preview.id}/").content
    html = html.decode()
    assert "feature/login" in html and f">{HASH[:7]}</code>" in html
    assert "Fix &lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "Git push" in html and 'class="badge badge-preview"' in html
    assert f'href="{preview.branch_url}"' in html


# -- the deployment page -------------------------------------------------------------


def test_the_deployment_page_shows_the_log_with_colours_and_escapes_the_rest() -> None:
    world = build_world()
    deployment = world.deployment
    log_append(deployment, "\x1b[1m$ npm run build\x1b[0m\n\x1b[31merror\x1b[39m <b>&</b>\n")
    html = world.client("viewer").get(f"/sites/site-a/deployments/{deployment.id}/").content
    html = html.decode()
    assert '<span class="ansi-bold">$ npm run build</span>' in html
    assert '<span class="ansi-31">error</span> &lt;b&gt;&amp;&lt;/b&gt;' in html
    assert "\x1b" not in html
    deployment.refresh_from_db()
    assert f'data-log-end="{deployment.log_size}"' in html
    channels = json.loads(
        re.search(r'<script id="realtime-channels" type="application/json">(.*?)</script>', html)[1]
    )
    assert channels == [
        f"sites.site-a.deployments.{deployment.id}.logs",
        f"sites.site-a.deployments.{deployment.id}",
    ]
    assert f'data-log-url="/v1/sites/site-a/deployments/{deployment.id}/logs"' in html


def test_a_failed_deployment_says_why_in_words() -> None:
    world = build_world()
    deployment_fail(world.deployment.id, ErrorCode.OUT_OF_MEMORY)
    html = world.client("viewer").get(f"/sites/site-a/deployments/{world.deployment.id}/")
    html = html.content.decode()
    assert "out_of_memory" in html
    assert "The build ran out of memory; choose a larger specification." in html
    assert 'class="badge badge-failed"' in html


def test_a_deployment_of_another_site_is_not_found() -> None:
    world = build_world()
    other = make_site(world.team, site_id="site-b")
    path = f"/sites/{other.id}/deployments/{world.deployment.id}/"
    assert world.client("owner").get(path).status_code == 404


def test_a_long_log_shows_its_end() -> None:
    world = build_world()
    log_append(world.deployment, "first line\n" + "x" * 250_000 + "\nlast line\n")
    html = world.client("viewer").get(f"/sites/site-a/deployments/{world.deployment.id}/")
    html = html.content.decode()
    assert "last line" in html and "first line" not in html
    assert "Showing the end of a long log" in html


# -- the buttons ---------------------------------------------------------------------


def test_cancel() -> None:
    world = build_world()
    path = f"/sites/site-a/deployments/{world.deployment.id}/cancel/"
    response = world.client("developer").post(path, {"next": "/sites/site-a/"})
    assert response.status_code == 302 and response["Location"] == "/sites/site-a/"
    world.deployment.refresh_from_db()
    assert world.deployment.status == Status.CANCELED
    again = world.client("developer").post(path, follow=True)
    assert "The deployment is already canceled." in again.content.decode()


def test_next_must_be_one_of_ours() -> None:
    world = build_world()
    path = f"/sites/site-a/deployments/{world.deployment.id}/cancel/"
    response = world.client("developer").post(path, {"next": "https://evil.example/"})
    assert response["Location"] == f"/sites/site-a/deployments/{world.deployment.id}/"


def test_redeploy_opens_the_new_deployments_page() -> None:
    world = build_world()
    path = f"/sites/site-a/deployments/{world.deployment.id}/redeploy/"
    response = world.client("developer").post(path, {"clear_cache": "on"})
    new = Deployment.objects.exclude(pk=world.deployment.pk).get(site_id="site-a")
    assert response["Location"] == f"/sites/site-a/deployments/{new.id}/"
    assert new.use_cache is False
    assert new.created_by == world.users["developer"]
    assert new.source_size == world.deployment.source_size


def test_activate_a_ready_deployment_and_roll_back() -> None:
    world = build_world()
    first = make_ready(world.deployment)
    second = make_ready(waiting_deployment(world.site))
    site = Site.objects.get(pk="site-a")
    assert site.deployment_id == second.id
    client = world.client("developer")
    page = client.get("/sites/site-a/").content.decode()
    assert "Roll back" in page
    response = client.post(f"/sites/site-a/deployments/{first.id}/activate/", follow=True)
    assert f"Deployment {first.id} is now live." in response.content.decode()
    site.refresh_from_db()
    assert site.deployment_id == first.id


def test_activating_a_deployment_that_is_not_ready_says_why() -> None:
    world = build_world()
    path = f"/sites/site-a/deployments/{world.deployment.id}/activate/"
    response = world.client("developer").post(path, follow=True)
    assert "Only a ready deployment can be activated; this one is waiting." in (
        response.content.decode()
    )
    assert Site.objects.get(pk="site-a").deployment_id is None


def test_delete_a_deployment_but_not_the_active_one() -> None:
    world = build_world()
    active = make_ready(world.deployment)
    other = waiting_deployment(world.site, activate=False)
    client = world.client("developer")
    refused = client.post(f"/sites/site-a/deployments/{active.id}/delete/", follow=True)
    assert "activate another first" in refused.content.decode()
    response = client.post(f"/sites/site-a/deployments/{other.id}/delete/")
    assert response["Location"] == "/sites/site-a/"
    assert not Deployment.objects.filter(pk=other.id).exists()


@pytest.mark.django_db(transaction=True)
def test_rollback_between_two_real_builds() -> None:
    """Two static deployments really built (eagerly, no container) and rolled back."""
    owner = make_user()
    site = make_site(make_team(owner), site_id="real", framework="static")
    first = ready_deployment(site, {"index.html": "one"}, user=owner)
    second = ready_deployment(site, {"index.html": "two"}, user=owner)
    client = client_for(owner)
    page = client.get("/sites/real/").content.decode()
    assert page.count('class="badge badge-ready"') == 2
    assert "Live" in page
    client.post(f"/sites/real/deployments/{first.id}/activate/")
    assert Site.objects.get(pk="real").deployment_id == first.id
    html = client.get(f"/sites/real/deployments/{second.id}/").content.decode()
    assert f"{second.id}--real.sites.localhost" in html
    assert "Packaged" in html  # the real build's log
