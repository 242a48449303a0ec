"""The build line: a site builds one deployment at a time and a team at most its limit,
decided in the database so that it holds across workers; the rest wait in order and the
API and dashboard say their place."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from builds import reaper
from core import events
from deployments import buildline
from deployments.buildline import Waiting
from deployments.models import Deployment, Status
from deployments.services import (
    deployment_cancel,
    deployment_create_from_upload,
    deployment_dispatch,
    deployment_transition,
)
from sites.models import Site
from tests.archives import tar_gz, upload
from tests.factories import api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def create(site: Site) -> Deployment:
    return deployment_create_from_upload(site=site, archive=upload(tar_gz({"index.html": "x"})))


def sent() -> set[str]:
    return set(
        Deployment.objects.filter(status=Status.WAITING, dispatched_at__isnull=False).values_list(
            "id", flat=True
        )
    )


def test_choose_keeps_one_per_site_and_the_team_limit_in_line_order() -> None:
    line = [
        Waiting("d1", "s1", "t1"),
        Waiting("d2", "s1", "t1"),  # its site has d1
        Waiting("d3", "s2", "t1"),
        Waiting("d4", "s3", "t1"),  # t1 is full with d1, d3
        Waiting("d5", "s4", "t2"),  # t2 has one running already: room for one
        Waiting("d6", "s5", "t2"),
        Waiting("d7", "s6", "t3"),  # s6 is building
    ]
    chosen = buildline.choose(line, {"s6"}, Counter({"t2": 1}), lambda team: 2)
    assert chosen == ["d1", "d3", "d5"]


def test_a_site_builds_one_at_a_time_and_the_next_goes_when_it_ends(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SHIPWAY_TEAM_BUILD_LIMIT = 5
    site = make_site(make_team())
    first, second, third = create(site), create(site), create(site)
    assert sent() == {first.id}
    deployment_transition(first.id, Status.PROCESSING)
    assert sent() == set()  # still one in flight: first, processing
    deployment_transition(first.id, Status.FAILED, error_code="build_failed")
    assert sent() == {second.id}
    deployment_cancel(deployment=Deployment.objects.get(pk=second.id))
    assert sent() == {third.id}


def test_a_team_never_passes_its_limit_and_a_team_override_wins(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SHIPWAY_TEAM_BUILD_LIMIT = 2
    team, other = make_team(), make_team()
    made = [create(make_site(team)) for _ in range(4)]
    assert sent() == {made[0].id, made[1].id}
    other.build_limit = 3
    other.save()
    theirs = [create(make_site(other)) for _ in range(4)]
    assert sent() == {made[0].id, made[1].id, *(d.id for d in theirs[:3])}
    for status in (Status.PROCESSING, Status.BUILDING, Status.READY):
        assert deployment_transition(made[0].id, status) is not None
    assert made[2].id in sent() and made[3].id not in sent()


def test_the_api_the_feed_and_the_dashboard_show_the_place_in_line(
    client, settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    settings.SHIPWAY_TEAM_BUILD_LIMIT = 1
    owner = make_user()
    site = make_site(make_team(owner))
    # Another team's waiting builds, older: not in this team's line.
    stranger = make_site(make_team())
    create(stranger), create(stranger)
    made = [create(site) for _ in range(3)]
    api = api_client(owner)
    answer = api.get(f"/v1/sites/{site.id}/deployments")
    assert answer.status_code == 200
    places = {row["id"]: row["queuePosition"] for row in answer.json()["deployments"]}
    assert places == {made[0].id: 1, made[1].id: 2, made[2].id: 3}
    one = api.get(f"/v1/sites/{site.id}/deployments/{made[2].id}").json()
    assert one["queuePosition"] == 3
    heard: list[dict] = []
    monkeypatch.setattr(
        events, "_subscribers", [lambda names, channels, at, payload: heard.append(payload)]
    )
    deployment_transition(made[0].id, Status.PROCESSING)
    # Those behind the one that left the line hear their new place.
    told = {p["id"]: p["queuePosition"] for p in heard if p["status"] == Status.WAITING}
    assert told == {made[1].id: 1, made[2].id: 2}
    one = api.get(f"/v1/sites/{site.id}/deployments/{made[2].id}").json()
    assert one["queuePosition"] == 2
    building = api.get(f"/v1/sites/{site.id}/deployments/{made[0].id}").json()
    assert building["queuePosition"] is None
    client.force_login(owner)
    page = client.get(f"/sites/{site.id}/").content.decode()
    assert "2nd in line" in page and "1st in line" in page


def test_the_list_reads_places_in_the_same_queries_however_many_wait(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SHIPWAY_TEAM_BUILD_LIMIT = 1
    owner = make_user()
    site = make_site(make_team(owner))
    api = api_client(owner)
    create(site)

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert api.get(f"/v1/sites/{site.id}/deployments").status_code == 200
        return len(seen)

    queries()  # the key's first use is read and marked once
    few = queries()
    for _ in range(5):
        create(site)
    assert queries() == few


def test_the_reaper_sends_a_lost_build_again_and_gives_out_free_places(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SHIPWAY_BUILD_STALE_AFTER = 0
    site = make_site(make_team())
    lost = create(site)
    held = create(make_site(make_team()))
    # As if the broker had lost both: one sent long ago, one never sent.
    Deployment.objects.filter(pk=held.pk).update(dispatched_at=None)
    before = Deployment.objects.get(pk=lost.pk).dispatched_at
    counts = reaper.reap()
    assert counts["requeued"] == 1 and counts["dispatched"] == 1
    assert Deployment.objects.get(pk=lost.pk).dispatched_at > before
    assert sent() == {lost.id, held.id}
    assert deployment_dispatch() == []  # nothing more is free
