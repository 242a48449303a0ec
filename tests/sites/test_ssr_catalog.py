"""The ssr side of the frameworks catalog and the site's `startCommand`."""

import pytest

from sites.frameworks import FRAMEWORKS, get_framework
from tests.factories import api_client, make_team, make_user

START_COMMANDS = {
    "nextjs": "node server.js",
    "nuxt": "node .output/server/index.mjs",
    "sveltekit": "node build",
    "astro": "node ./dist/server/entry.mjs",
    "remix": "./node_modules/.bin/react-router-serve ./build/server/index.js",
}
STATIC_AT = {
    "nextjs": {".next/static": "_next/static", "public": "."},
    "nuxt": {".output/public": "."},
    "sveltekit": {"build/client": "."},
    "astro": {"dist/client": "."},
    "remix": {"build/client": "."},
}


@pytest.mark.parametrize("key", sorted(START_COMMANDS))
def test_each_ssr_adapter_says_how_it_starts_and_what_is_kept(key):
    adapter = get_framework(key).adapters["ssr"]
    assert adapter.start_command == START_COMMANDS[key]
    assert adapter.packaging is not None
    assert {k.source: k.to for k in adapter.packaging.static} == STATIC_AT[key]
    kept = {k.source for k in adapter.packaging.server}
    # Never the source or the whole workspace: only build output (and production modules).
    assert "." not in kept and "src" not in kept and "app" not in kept
    assert adapter.packaging.missing.endswith(".")


def test_static_adapters_have_no_start_command():
    for framework in FRAMEWORKS.values():
        static = framework.adapters.get("static")
        if static is not None:
            assert static.start_command == "" and static.packaging is None


@pytest.mark.django_db
def test_catalog_lists_start_commands():
    body = api_client().get("/v1/sites/frameworks").json()
    nextjs = next(f for f in body["frameworks"] if f["key"] == "nextjs")
    by_key = {a["key"]: a for a in nextjs["adapters"]}
    assert by_key["ssr"]["startCommand"] == "node server.js"
    assert by_key["static"]["startCommand"] == ""


@pytest.mark.django_db
def test_start_command_defaults_from_the_adapter_and_can_be_overridden():
    owner = make_user()
    team = make_team(owner, team_id="acme")
    client = api_client(owner)
    site = {"name": "App", "teamId": team.id, "framework": "sveltekit", "adapter": "ssr"}
    created = client.post("/v1/sites", {**site, "siteId": "kit"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["startCommand"] == "node build"

    given = client.post(
        "/v1/sites", {**site, "siteId": "own", "startCommand": "node server.mjs"}, format="json"
    )
    assert given.json()["startCommand"] == "node server.mjs"

    # A new adapter brings its default start command (static: none).
    changed = client.patch("/v1/sites/kit", {"adapter": "static"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["startCommand"] == ""
    back = client.patch("/v1/sites/kit", {"adapter": "ssr"}, format="json")
    assert back.json()["startCommand"] == "node build"
    own = client.patch("/v1/sites/kit", {"startCommand": "node build/index.js"}, format="json")
    assert own.json()["startCommand"] == "node build/index.js"

    refused = client.patch("/v1/sites/kit", {"startCommand": 42}, format="json")
    assert refused.status_code == 400
    assert client.get("/v1/sites/kit").json()["startCommand"] == "node build/index.js"
