"""Checks of API answers shared by the tests of sites/ and accounts/.

- `refused`: a request is refused with its status and the error envelope, its message
  names the field, and no row is added, removed or changed;
- `_paging_works`: a list pages in order without overlap, and searches;
- `_same_count`: a list costs as many SQL queries for 1 item as for 200 (no N+1).

The underscore names are the ones the tests have always called them by.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKey, Membership, Team
from core import readcache
from deployments.models import Deployment
from sites.models import Site, SiteGroupObjectPermission, SiteUserObjectPermission, Variable
from tests.api_matrix import envelope_problem, snapshot


def row_counts() -> dict[str, int]:
    models = [
        Team,
        Group,
        Membership,
        ApiKey,
        Site,
        SiteGroupObjectPermission,
        SiteUserObjectPermission,
        Variable,
        Deployment,
    ]
    return {model.__name__: model.objects.count() for model in models}


def refused(
    client,  # type: ignore[no-untyped-def]
    method: str,
    path: str,
    body: Any,
    field: str,
    status: int = 400,
    kind: str = "validation_error",
) -> dict[str, Any]:
    """Send the request; it must be refused with `status`, the envelope, a message that
    names `field`, and no row added, removed or changed."""
    counts, rows = row_counts(), snapshot()
    call = getattr(client, method.lower())
    response = call(path, body, format="json") if body is not None else call(path)
    answer = response.json()
    where = f"{method} {path} {body!r} -> {response.status_code} {answer}"
    assert response.status_code == status, where
    assert envelope_problem(status, answer) is None, (envelope_problem(status, answer), where)
    assert answer["type"] == kind, where
    assert re.search(rf"(?<![\w.]){re.escape(field)}\b", answer["message"]), (
        f"the message does not name {field!r}: {where}"
    )
    assert row_counts() == counts, where
    assert snapshot() == rows, f"a refused request changed rows: {where}"
    return answer


def _ids(client, path: str) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()[_key(path)]]


def _key(path: str) -> str:
    return path.split("?")[0].rstrip("/").split("/")[-1]


def _paging_works(client, path: str, total: int, search: str, found: int) -> None:  # type: ignore[no-untyped-def]
    everything = _ids(client, f"{path}?limit=100")
    assert len(everything) == total
    body = client.get(f"{path}?limit=2").json()
    assert body["total"] == total and len(body[_key(path)]) == 2
    pages = [_ids(client, f"{path}?limit=2&offset={offset}") for offset in range(0, total, 2)]
    assert [item for page in pages for item in page] == everything  # in order, no overlap
    assert _ids(client, f"{path}?offset={total - 1}") == everything[-1:]
    assert _ids(client, f"{path}?offset={total}") == []
    searched = client.get(f"{path}?search={search}").json()
    assert searched["total"] == found == len(searched[_key(path)])


PAGE = "?limit=100"


def _measure(client, path: str, key: str, expected_total: int) -> int:  # type: ignore[no-untyped-def]
    readcache.invalidate()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == expected_total
    assert len(body[key]) == min(expected_total, 100)
    return len(queries)


def _same_count(
    client,  # type: ignore[no-untyped-def]
    path: str,
    key: str,
    add_199: Callable[[], None],
    *,
    also_visible: int = 0,
    label: str = "",
) -> int:
    """Measure `path` with 1 item (+ `also_visible`), add 199, measure again."""
    client.get(path)  # warm up
    one = _measure(client, path, key, 1 + also_visible)
    add_199()
    many = _measure(client, path, key, 200 + also_visible)
    print(f"\nGET {path}{label}: 1 {key[:-1]} -> {one} queries, 200 -> {many} queries")
    assert one == many, f"GET {path}: {one} queries for 1 {key[:-1]} but {many} for 200"
    return many
