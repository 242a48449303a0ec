"""The audit log under the web's real server (granian, ASGI): the actor and address
recorded for a write made over HTTP, and nothing carried over to the next request."""

from __future__ import annotations

import http.client
import json
from typing import Any

from accounts import services as account_services
from accounts.models import AuditEntry
from tests.factories import make_site, make_team, make_user


def _call(port: int, method: str, path: str, body: Any = None, **headers: str) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    payload = json.dumps(body).encode() if body is not None else None
    connection.request(
        method,
        path,
        body=payload,
        headers={"Host": "localhost", "Content-Type": "application/json", **headers},
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_a_write_over_the_real_server_names_the_key_and_its_address(edge_server: int) -> None:
    owner = make_user("owner")
    team = make_team(owner, team_id="acme", name="Acme")
    make_site(team, "blog", name="Blog")
    key, secret = account_services.api_key_create(user=owner, name="ci", team=team)
    bearer = {"Authorization": f"Bearer {secret}"}

    answer = _call(edge_server, "PATCH", "/v1/sites/blog", {"name": "Renamed"}, **bearer)
    assert answer.status == 200
    entry = AuditEntry.objects.get(action="site.update")
    assert (entry.actor_type, entry.actor_id, entry.user_name) == ("key", key.id, "owner")
    assert entry.ip == "127.0.0.1"
    assert entry.data == {"name": ["Blog", "Renamed"]}

    # An anonymous request after it is not the key's: refused, and nothing recorded.
    assert _call(edge_server, "PATCH", "/v1/sites/blog", {"name": "Taken"}).status == 401
    assert AuditEntry.objects.filter(action="site.update").count() == 1
