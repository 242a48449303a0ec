from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.deployment import Deployment
from ...models.error import Error
from ...models.patched_status_request import PatchedStatusRequest
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    site_id: str,
    deployment_id: str,
    *,
    body: PatchedStatusRequest | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/sites/{site_id}/deployments/{deployment_id}/status".format(site_id=quote(str(site_id), safe=""),deployment_id=quote(str(deployment_id), safe=""),),
    }

    
    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Deployment | Error | None:
    if response.status_code == 200:
        response_200 = Deployment.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Deployment | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    site_id: str,
    deployment_id: str,
    *,
    client: AuthenticatedClient,
    body: PatchedStatusRequest | Unset = UNSET,

) -> Response[Deployment | Error]:
    """  A site's deployments, newest first.

    Args:
        site_id (str):
        deployment_id (str):
        body (PatchedStatusRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Deployment | Error]
     """


    kwargs = _get_kwargs(
        site_id=site_id,
deployment_id=deployment_id,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    site_id: str,
    deployment_id: str,
    *,
    client: AuthenticatedClient,
    body: PatchedStatusRequest | Unset = UNSET,

) -> Deployment | Error | None:
    """  A site's deployments, newest first.

    Args:
        site_id (str):
        deployment_id (str):
        body (PatchedStatusRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Deployment | Error
     """


    return sync_detailed(
        site_id=site_id,
deployment_id=deployment_id,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    site_id: str,
    deployment_id: str,
    *,
    client: AuthenticatedClient,
    body: PatchedStatusRequest | Unset = UNSET,

) -> Response[Deployment | Error]:
    """  A site's deployments, newest first.

    Args:
        site_id (str):
        deployment_id (str):
        body (PatchedStatusRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Deployment | Error]
     """


    kwargs = _get_kwargs(
        site_id=site_id,
deployment_id=deployment_id,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    site_id: str,
    deployment_id: str,
    *,
    client: AuthenticatedClient,
    body: PatchedStatusRequest | Unset = UNSET,

) -> Deployment | Error | None:
    """  A site's deployments, newest first.

    Args:
        site_id (str):
        deployment_id (str):
        body (PatchedStatusRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Deployment | Error
     """


    return (await asyncio_detailed(
        site_id=site_id,
deployment_id=deployment_id,
client=client,
body=body,

    )).parsed
