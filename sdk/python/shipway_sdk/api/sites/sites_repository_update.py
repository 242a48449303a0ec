from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.repository import Repository
from ...models.repository_link_request import RepositoryLinkRequest
from typing import cast



def _get_kwargs(
    site_id: str,
    *,
    body: RepositoryLinkRequest,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/sites/{site_id}/repository".format(site_id=quote(str(site_id), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Repository | None:
    if response.status_code == 200:
        response_200 = Repository.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())



        return response_409

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = Error.from_dict(response.json())



        return response_415

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())



        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Repository]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    site_id: str,
    *,
    client: AuthenticatedClient,
    body: RepositoryLinkRequest,

) -> Response[Error | Repository]:
    """  The site's linked repository: members read it, developers link and unlink it.

    Args:
        site_id (str):
        body (RepositoryLinkRequest): PUT /v1/sites/{siteId}/repository (docs/api.md, "Git").

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Repository]
     """


    kwargs = _get_kwargs(
        site_id=site_id,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    site_id: str,
    *,
    client: AuthenticatedClient,
    body: RepositoryLinkRequest,

) -> Error | Repository | None:
    """  The site's linked repository: members read it, developers link and unlink it.

    Args:
        site_id (str):
        body (RepositoryLinkRequest): PUT /v1/sites/{siteId}/repository (docs/api.md, "Git").

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Repository
     """


    return sync_detailed(
        site_id=site_id,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    site_id: str,
    *,
    client: AuthenticatedClient,
    body: RepositoryLinkRequest,

) -> Response[Error | Repository]:
    """  The site's linked repository: members read it, developers link and unlink it.

    Args:
        site_id (str):
        body (RepositoryLinkRequest): PUT /v1/sites/{siteId}/repository (docs/api.md, "Git").

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Repository]
     """


    kwargs = _get_kwargs(
        site_id=site_id,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    site_id: str,
    *,
    client: AuthenticatedClient,
    body: RepositoryLinkRequest,

) -> Error | Repository | None:
    """  The site's linked repository: members read it, developers link and unlink it.

    Args:
        site_id (str):
        body (RepositoryLinkRequest): PUT /v1/sites/{siteId}/repository (docs/api.md, "Git").

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Repository
     """


    return (await asyncio_detailed(
        site_id=site_id,
client=client,
body=body,

    )).parsed
