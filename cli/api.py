"""An httpx client for the platform's REST API, and its error mapping: an error answer
becomes an ApiError with the API's `message` (NotAuthenticated for a 401), a failed
connection a NetworkError with one sentence."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from cli.config import Credentials
from cli.errors import ApiError, CliError, NetworkError, NotAuthenticated

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "shipway-cli/0.1"


def error_from(response: httpx.Response) -> CliError:
    """The API's error body as an exception; a body that is not one still gets a sentence."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message, kind = body["message"], str(body.get("type") or "error")
    else:
        message = f"The platform answered {response.status_code} {response.reason_phrase}."
        kind = "error"
    if response.status_code == 401:
        return NotAuthenticated(f"{message} Run `shipway login` or check SHIPWAY_TOKEN.")
    return ApiError(message, response.status_code, kind)


def network_error(exc: httpx.HTTPError, url: str) -> NetworkError:
    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(f"The platform at {url} did not answer in time.")
    return NetworkError(f"Could not reach the platform at {url} ({exc.__class__.__name__}).")


class Client:
    """One platform and key; every method raises ApiError, NotAuthenticated or
    NetworkError instead of returning an error answer."""

    def __init__(self, creds: Credentials, transport: httpx.BaseTransport | None = None) -> None:
        self.url = creds.url
        self.token = creds.token
        self.http = httpx.Client(
            base_url=creds.url,
            headers={"Authorization": f"Bearer {creds.token}", "User-Agent": USER_AGENT},
            timeout=TIMEOUT,
            transport=transport,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise network_error(exc, self.url) from None
        if response.is_error:
            raise error_from(response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None).json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=body or {}).json()

    def patch(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("PATCH", path, json=body or {}).json()

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def each(self, path: str, plural: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, a page of 100 at a time."""
        offset = 0
        while True:
            page = self.get(path, limit=100, offset=offset, **params)
            items = page.get(plural, [])
            yield from items
            offset += len(items)
            if not items or offset >= page.get("total", 0):
                return
