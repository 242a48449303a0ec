from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.site import Site
from ...models.site_create_request import SiteCreateRequest
from typing import cast



def _get_kwargs(
    *,
    body: SiteCreateRequest,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sites",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Site | None:
    if response.status_code == 201:
        response_201 = Site.from_dict(response.json())



        return response_201

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Site]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: SiteCreateRequest,

) -> Response[Site]:
    """  Sites the caller may read; writes need the role docs/api.md names. The list is what
    API clients poll, so it is answered from the read cache when it can.

    Args:
        body (SiteCreateRequest): A site as the API shows it (docs/api.md, "Sites").

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Site]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: SiteCreateRequest,

) -> Site | None:
    """  Sites the caller may read; writes need the role docs/api.md names. The list is what
    API clients poll, so it is answered from the read cache when it can.

    Args:
        body (SiteCreateRequest): A site as the API shows it (docs/api.md, "Sites").

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Site
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: SiteCreateRequest,

) -> Response[Site]:
    """  Sites the caller may read; writes need the role docs/api.md names. The list is what
    API clients poll, so it is answered from the read cache when it can.

    Args:
        body (SiteCreateRequest): A site as the API shows it (docs/api.md, "Sites").

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Site]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: SiteCreateRequest,

) -> Site | None:
    """  Sites the caller may read; writes need the role docs/api.md names. The list is what
    API clients poll, so it is answered from the read cache when it can.

    Args:
        body (SiteCreateRequest): A site as the API shows it (docs/api.md, "Sites").

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Site
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
