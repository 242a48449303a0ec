from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.sites_deployments_uploads_destroy_response_200 import SitesDeploymentsUploadsDestroyResponse200
from typing import cast



def _get_kwargs(
    site_id: str,
    upload_id: str,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/v1/sites/{site_id}/deployments/uploads/{upload_id}".format(site_id=quote(str(site_id), safe=""),upload_id=quote(str(upload_id), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | SitesDeploymentsUploadsDestroyResponse200 | None:
    if response.status_code == 200:
        response_200 = SitesDeploymentsUploadsDestroyResponse200.from_dict(response.json())



        return response_200

    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | SitesDeploymentsUploadsDestroyResponse200]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    site_id: str,
    upload_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[Any | SitesDeploymentsUploadsDestroyResponse200]:
    """  GET: how much of a chunked upload has arrived (resume from `sizeReceived`).
    DELETE: cancel it, and free its bytes and its place.

    Args:
        site_id (str):
        upload_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | SitesDeploymentsUploadsDestroyResponse200]
     """


    kwargs = _get_kwargs(
        site_id=site_id,
upload_id=upload_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    site_id: str,
    upload_id: str,
    *,
    client: AuthenticatedClient,

) -> Any | SitesDeploymentsUploadsDestroyResponse200 | None:
    """  GET: how much of a chunked upload has arrived (resume from `sizeReceived`).
    DELETE: cancel it, and free its bytes and its place.

    Args:
        site_id (str):
        upload_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | SitesDeploymentsUploadsDestroyResponse200
     """


    return sync_detailed(
        site_id=site_id,
upload_id=upload_id,
client=client,

    ).parsed

async def asyncio_detailed(
    site_id: str,
    upload_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[Any | SitesDeploymentsUploadsDestroyResponse200]:
    """  GET: how much of a chunked upload has arrived (resume from `sizeReceived`).
    DELETE: cancel it, and free its bytes and its place.

    Args:
        site_id (str):
        upload_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | SitesDeploymentsUploadsDestroyResponse200]
     """


    kwargs = _get_kwargs(
        site_id=site_id,
upload_id=upload_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    site_id: str,
    upload_id: str,
    *,
    client: AuthenticatedClient,

) -> Any | SitesDeploymentsUploadsDestroyResponse200 | None:
    """  GET: how much of a chunked upload has arrived (resume from `sizeReceived`).
    DELETE: cancel it, and free its bytes and its place.

    Args:
        site_id (str):
        upload_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | SitesDeploymentsUploadsDestroyResponse200
     """


    return (await asyncio_detailed(
        site_id=site_id,
upload_id=upload_id,
client=client,

    )).parsed
