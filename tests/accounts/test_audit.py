"""The audit log beyond the matrix: same transaction as the change, never editable (the
ORM, the admin, raw SQL), who and from where over the API and the dashboard, and
`GET /v1/teams/{teamId}/audit` (filters, order, pages, permissions, constant queries)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import audit
from accounts import services as account_services
from accounts.models import AuditEntry, AuditRefused, Role
from core.errors import Invalid
from sites import services as site_services
from tests.factories import add_member, api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> Any:
    return make_user("owner")


@pytest.fixture
def team(owner: Any) -> Any:
    return make_team(owner, team_id="acme", name="Acme")


def entries(**filters: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("created_at", "id"))


# -- the same transaction -------------------------------------------------------------


def test_the_entry_rolls_back_with_its_change(team: Any) -> None:
    site = make_site(team, "blog", name="Blog")
    with pytest.raises(RuntimeError), transaction.atomic():
        site_services.site_update(site=site, name="Renamed")
        assert entries(action="site.update")  # written, inside the transaction
        raise RuntimeError("the change fails after its entry was written")
    site.refresh_from_db()
    assert site.name == "Blog"
    assert entries(action="site.update") == []


def test_a_refused_write_records_nothing(team: Any) -> None:
    site = make_site(team, "blog", name="Blog")
    with pytest.raises(Invalid):
        site_services.site_update(site=site, framework="no-such-framework")
    assert entries(action="site.update") == []


def test_record_outside_a_transaction_is_refused(team: Any) -> None:
    # The test's own transaction is the outer block: leave it to see the refusal.
    connection.in_atomic_block, was = False, connection.in_atomic_block
    try:
        with pytest.raises(RuntimeError, match="transaction"):
            audit.record(action="site.update", team_id="acme", resource_id="blog")
    finally:
        connection.in_atomic_block = was


def test_an_action_must_be_resource_dot_verb() -> None:
    with pytest.raises(ValueError, match="resource"), transaction.atomic():
        audit.record(action="Site Updated", team_id="acme", resource_id="blog")


def test_data_is_bounded(team: Any) -> None:
    with transaction.atomic():
        entry = audit.record(
            action="site.update",
            team_id="acme",
            resource_id="blog",
            data={f"f{i}": "x" * 10_000 for i in range(100)} | {"list": list(range(1000))},
        )
    assert len(entry.data) == audit.MAX_FIELDS
    assert all(len(value) <= audit.MAX_TEXT for value in entry.data.values())


# -- never edited ---------------------------------------------------------------------


def test_the_orm_refuses_to_change_or_remove_an_entry(team: Any) -> None:
    entry = entries(action="team.create")[0]
    entry.action = "team.delete"
    with pytest.raises(AuditRefused):
        entry.save()
    with pytest.raises(AuditRefused):
        entry.delete()
    with pytest.raises(AuditRefused):
        AuditEntry.objects.filter(pk=entry.pk).update(action="team.delete")
    with pytest.raises(AuditRefused):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AuditRefused):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "team.create"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_auditentry SET action = 'team.delete' WHERE id = %s",
        "UPDATE accounts_auditentry SET data = '{}'::jsonb WHERE id = %s",
        "DELETE FROM accounts_auditentry WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_remove_an_entry(team: Any, sql: str) -> None:
    entry = entries(action="team.create")[0]
    refused = pytest.raises(DatabaseError, match="never changed or removed")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "team.create"


def test_entries_outlive_the_team_they_describe(owner: Any) -> None:
    team = make_team(owner, team_id="gone", name="Gone")
    account_services.team_delete(team=team)
    assert [e.action for e in entries(team_id="gone")] == ["team.create", "team.delete"]


def test_the_admin_shows_entries_and_changes_none(team: Any) -> None:
    staff = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    entry = entries(action="team.create")[0]
    assert client.get("/admin/accounts/auditentry/").status_code == 200
    page = client.get(f"/admin/accounts/auditentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # nothing to save
    assert client.get("/admin/accounts/auditentry/add/").status_code == 403
    assert client.post(f"/admin/accounts/auditentry/{entry.pk}/delete/").status_code == 403
    changed = client.post(f"/admin/accounts/auditentry/{entry.pk}/change/", {"action": "x.y"})
    assert changed.status_code == 403
    bulk = client.post(
        "/admin/accounts/auditentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk]},
    )
    assert bulk.status_code in (200, 302)
    assert AuditEntry.objects.filter(pk=entry.pk, action="team.create").exists()


# -- who and from where ---------------------------------------------------------------


def test_an_api_key_is_the_actor_and_names_its_user(team: Any, owner: Any) -> None:
    make_site(team, "blog", name="Blog")
    key, secret = account_services.api_key_create(user=owner, name="ci", team=team)
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.patch(
        "/v1/sites/blog", {"name": "Renamed"}, format="json", REMOTE_ADDR="198.51.100.20"
    )
    assert response.status_code == 200, response.content
    [entry] = entries(action="site.update")
    assert (entry.actor_type, entry.actor_id, entry.actor_name) == ("key", key.id, "ci")
    assert (entry.user_id, entry.user_name, entry.key_id) == (owner.pk, "owner", key.id)
    assert entry.ip == "198.51.100.20"
    assert entry.data == {"name": ["Blog", "Renamed"]}
    listed = client.get("/v1/teams/acme/audit?action=site.update").json()["entries"][0]
    assert listed["actor"] == {
        "type": "key",
        "id": key.id,
        "name": "ci",
        "user": {"id": str(owner.pk), "name": "owner"},
    }
    assert listed["ip"] == "198.51.100.20"


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(
    team: Any, owner: Any, settings: Any
) -> None:
    make_site(team, "blog", name="Blog")
    client = api_client(owner)
    headers = {"HTTP_X_FORWARDED_FOR": "192.0.2.99"}
    settings.SHIPWAY_TRUSTED_PROXIES = ["10.0.0.0/8"]
    client.patch("/v1/sites/blog", {"name": "One"}, format="json", **headers)
    assert entries(action="site.update")[-1].ip == "127.0.0.1"  # not a trusted proxy
    settings.SHIPWAY_TRUSTED_PROXIES = ["127.0.0.1/32"]
    client.patch("/v1/sites/blog", {"name": "Two"}, format="json", **headers)
    assert entries(action="site.update")[-1].ip == "192.0.2.99"


def test_a_signed_in_user_of_the_dashboard_is_the_actor(team: Any, owner: Any) -> None:
    client = Client()
    client.force_login(owner)
    response = client.post("/teams/acme/rename/", {"name": "Acme Inc"}, REMOTE_ADDR="192.0.2.5")
    assert response.status_code == 302
    [entry] = entries(action="team.update")
    assert (entry.actor_type, entry.actor_name, entry.key_id) == ("user", "owner", "")
    assert entry.ip == "192.0.2.5"


def test_without_a_request_the_system_acts_and_the_request_is_forgotten_after(
    team: Any, owner: Any
) -> None:
    client = api_client(owner)
    assert client.patch("/v1/teams/acme", {"name": "A"}, format="json").status_code == 200
    account_services.team_update(team=team, name="B")  # after the request: a task's write
    first, second = entries(action="team.update")
    assert first.actor_type == "key"
    assert (second.actor_type, second.actor_name, second.ip) == ("system", "system", None)


# -- the API --------------------------------------------------------------------------


def test_the_list_is_newest_first_with_filters_and_pages(team: Any, owner: Any) -> None:
    site = make_site(team, "blog", name="Blog")
    for name in ("One", "Two", "Three"):
        site_services.site_update(site=site, name=name)
    site_services.variable_create(site=site, key="K", value="v")
    client = api_client(owner)

    body = client.get("/v1/teams/acme/audit").json()
    actions = [e["action"] for e in body["entries"]]
    assert actions[:5] == [
        "variable.create",
        "site.update",
        "site.update",
        "site.update",
        "site.create",
    ]
    assert body["total"] == len(body["entries"])
    newest = body["entries"][1]
    assert set(newest) == {
        "id", "action", "actor", "resource", "resourceId", "ip", "createdAt", "data"
    }  # fmt: skip
    assert newest["data"] == {"name": ["Two", "Three"]}
    assert (newest["resource"], newest["resourceId"]) == ("site", "blog")
    assert newest["actor"] == {"type": "system", "id": None, "name": "system"}

    sites = client.get("/v1/teams/acme/audit?resource=site").json()
    assert sites["total"] == 4
    assert {e["resource"] for e in sites["entries"]} == {"site"}
    updates = client.get("/v1/teams/acme/audit?resource=site&action=site.update").json()
    assert [e["data"]["name"][1] for e in updates["entries"]] == ["Three", "Two", "One"]
    page = client.get("/v1/teams/acme/audit?action=site.update&limit=2&offset=1").json()
    assert page["total"] == 3
    assert [e["data"]["name"][1] for e in page["entries"]] == ["Two", "One"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("resource=Site!", "resource"),
        ("resource=" + "a" * 40, "resource"),
        ("action=site", "action"),
        ("action=site.update;drop", "action"),
        ("limit=1000", "limit"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(team: Any, owner: Any, query: str, field: str) -> None:
    response = api_client(owner).get(f"/v1/teams/acme/audit?{query}")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_another_teams_log_is_not_seen(team: Any) -> None:
    stranger = make_user("stranger")
    other = make_team(stranger, team_id="other", name="Other")
    make_site(other, "theirs", name="Theirs")
    client = api_client(make_user("owner2"))
    assert client.get("/v1/teams/other/audit").status_code == 404
    assert api_client(stranger).get("/v1/teams/acme/audit").status_code == 404
    body = api_client(stranger).get("/v1/teams/other/audit").json()
    assert {e["resourceId"] for e in body["entries"]} == {"other", "theirs"}


def test_viewers_are_refused_and_developers_read(team: Any) -> None:
    viewer = add_member(team, make_user("viewer"), Role.VIEWER)
    developer = add_member(team, make_user("developer"), Role.DEVELOPER)
    assert api_client(viewer).get("/v1/teams/acme/audit").status_code == 403
    assert api_client(developer).get("/v1/teams/acme/audit").status_code == 200


def test_a_key_for_another_team_does_not_reach_the_log(team: Any, owner: Any) -> None:
    other = make_team(owner, team_id="other", name="Other")
    _key, secret = account_services.api_key_create(user=owner, name="other", team=other)
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/v1/teams/acme/audit").status_code == 404
    assert client.get("/v1/teams/other/audit").status_code == 200


def test_the_list_makes_as_many_queries_for_many_entries_as_for_few(team: Any, owner: Any) -> None:
    site = make_site(team, "blog", name="Blog")
    client = api_client(owner)

    def queries() -> int:
        client.get("/v1/teams/acme/audit")  # warm: the key's use, the read cache's copy
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/v1/teams/acme/audit").status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for n in range(40):
        site_services.site_update(site=site, name=f"Name {n}")
    assert queries() == few <= 3
