"""The site's Usage tab: SVG charts drawn from the usage API's series, for whoever reads
the site."""

from __future__ import annotations

import re
import time

import pytest

from tests.dashboard.conftest import build_world
from tests.factories import api_client
from usage import counting

pytestmark = pytest.mark.django_db


def _charts(html: str) -> dict[str, list[str]]:
    """Each chart's bars' titles, by chart."""
    charts = {}
    for name, body in re.findall(r'data-chart="([a-z-]+)">(.*?)</figure>', html, re.S):
        charts[name] = re.findall(r'<rect class="bar"[^>]*><title>([^<]*)</title>', body)
    return charts


def test_the_tab_draws_the_api_series(usage_redis):
    world = build_world()
    label = counting.hour_label(time.time())
    counting.write(usage_redis, label, {world.site.uid.hex: [1234, 5 * 1024 * 1024]})
    html = world.client("viewer").get("/sites/site-a/usage/").content.decode()
    api = api_client(world.users["viewer"]).get("/v1/sites/site-a/usage").json()
    charts = _charts(html)
    assert set(charts) == {"requests", "bandwidth", "build-minutes"}
    assert all(len(bars) == len(api["series"]["requests"]) == 24 for bars in charts.values())
    hour = counting.hour_start(label).strftime("%Y-%m-%d %H:%M")
    assert charts["requests"][-1] == f"{hour} UTC: 1,234"
    assert charts["bandwidth"][-1] == f"{hour} UTC: 5.0\xa0MB"
    assert charts["build-minutes"][-1] == f"{hour} UTC: 0.0 min"
    # The tallest bar fills the chart; the empty hours have no height.
    requests_chart = html.split('data-chart="requests"')[1].split("</figure>")[0]
    heights = re.findall(r'<rect class="bar"[^>]*height="([0-9.]+)"', requests_chart)
    assert float(heights[-1]) > 100 and {float(h) for h in heights[:-1]} == {0.0}
    assert 'aria-current="page">Usage</a>' in html
    week = world.client("viewer").get("/sites/site-a/usage/?range=7d").content.decode()
    assert all(len(bars) == 7 for bars in _charts(week).values())


def test_a_bad_range_and_who_sees_the_tab(usage_redis):
    world = build_world()
    assert world.client("owner").get("/sites/site-a/usage/?range=1y").status_code == 400
    assert world.client("outsider").get("/sites/site-a/usage/").status_code == 404
    assert world.client("anonymous").get("/sites/site-a/usage/").status_code == 302
