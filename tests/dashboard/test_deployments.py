"""The site page's upload form (without a script), the deployment page and its log, and
the buttons: activate (roll back), cancel, redeploy, delete."""

from __future__ import annotations

import json
import re

import pytest

from deployments.errors import ErrorCode
from deployments.models import Deployment, Status
from deployments.services import deployment_fail, deployment_transition, log_append
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
