"""The admin console: every model's list renders with search and filters, deployment
actions, saves and deletes go through the services (and are audited), and no secret
value is ever shown."""

import contextlib

import pytest
from django.contrib import admin
from django.urls import reverse

from deployments import git_services
from deployments.models import Deployment
from deployments.services import deployment_create_from_upload
from notify import services as notify_services
from notify.models import WebhookAttempt
from sites.services import variable_create
from tests.archives import tar_gz, upload
from tests.factories import eager_builds, make_site, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(client):
    staff = make_user(is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


@pytest.fixture
def site():
    return make_site(make_team(make_user()), framework="static")


def deploy(site, eager: bool) -> Deployment:  # type: ignore[no-untyped-def]
    with eager_builds() if eager else contextlib.nullcontext():
        return deployment_create_from_upload(site=site, archive=upload(tar_gz({"index.html": "x"})))


def test_every_model_list_and_change_page_renders(staff_client, site, settings):
    variable_create(site=site, key="TOKEN", value="super-secret-value", secret=True)
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    git_services.repository_link(
        site=site, url="http://127.0.0.1:9/app.git", token="super-secret-value"
    )
    git_services.deploy_hook_create(site=site, name="CMS", branch="main")
    notify_services.webhook_create(
        team=site.team,
        url="http://127.0.0.1:9/hook",  # refuses connections: each attempt fails at once
        events=["sites.*.deployments.*.update"],
        secret="super-secret-value",
    )
    deploy(site, eager=True)  # its events' deliveries, each with its attempts
    assert WebhookAttempt.objects.exists()
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = staff_client.get(url, {"q": "x"} if model_admin.search_fields else {})
        assert response.status_code == 200, url
        assert b"super-secret-value" not in response.content
        first = model.objects.first()
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            page = staff_client.get(change)
            assert page.status_code == 200, change
            assert b"super-secret-value" not in page.content


def test_deployment_actions_use_the_services(staff_client, site):
    first = deploy(site, eager=True)
    second = deploy(site, eager=True)
    site.refresh_from_db()
    assert site.deployment_id == second.id
    url = reverse("admin:deployments_deployment_changelist")
    staff_client.post(url, {"action": "activate", "_selected_action": [first.id]})
    site.refresh_from_db()
    assert site.deployment_id == first.id

    waiting = deploy(site, eager=False)
    staff_client.post(url, {"action": "cancel", "_selected_action": [waiting.id]})
    waiting.refresh_from_db()
    assert waiting.status == "canceled"

    before = Deployment.objects.count()
    with eager_builds():
        staff_client.post(url, {"action": "redeploy", "_selected_action": [first.id]})
    assert Deployment.objects.count() == before + 1
    assert Deployment.objects.order_by("-created_at").first().status == "ready"


def _change_data(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The POST an admin change page sends unchanged: its form's values and inlines'
    management forms (no inline rows)."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form.initial.get(name)
        if value is True:
            data[name] = "on"
        elif value not in (None, False):
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}
    return data


def test_the_admins_changes_and_deletes_go_through_the_services_and_are_audited(staff_client, site):
    from accounts.models import ApiKey, AuditEntry
    from accounts.services import api_key_create

    change = reverse("admin:sites_site_change", args=[site.pk])
    data = _change_data(staff_client.get(change)) | {"name": "Renamed by staff"}
    assert staff_client.post(change, data).status_code == 302
    entry = AuditEntry.objects.get(action="site.update")
    staff_id = int(staff_client.session["_auth_user_id"])
    assert (entry.actor_type, entry.user_id) == ("user", staff_id)
    assert entry.data == {"name": ["Site", "Renamed by staff"]}

    deployment = deploy(site, eager=False)
    url = reverse("admin:deployments_deployment_changelist")
    bulk = {"action": "delete_selected", "_selected_action": [deployment.id], "post": "yes"}
    assert staff_client.post(url, bulk).status_code == 302
    assert not Deployment.objects.filter(pk=deployment.id).exists()
    assert AuditEntry.objects.filter(action="deployment.delete", resource_id=deployment.id)

    key, _secret = api_key_create(user=make_user(), name="someone's")
    key_change = reverse("admin:accounts_apikey_change", args=[key.pk])
    assert staff_client.post(key_change, {"name": "x", "read_only": "on"}).status_code == 403
    key_delete = reverse("admin:accounts_apikey_delete", args=[key.pk])
    assert staff_client.post(key_delete, {"post": "yes"}).status_code == 302
    assert not ApiKey.objects.filter(pk=key.pk).exists()
    assert AuditEntry.objects.filter(action="api_key.delete", resource_id=key.pk)

    delete = reverse("admin:sites_site_delete", args=[site.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 302
    assert AuditEntry.objects.filter(action="site.delete", resource_id=site.pk).count() == 1
