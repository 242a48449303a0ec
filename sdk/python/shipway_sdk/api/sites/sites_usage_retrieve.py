from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.sites_usage_retrieve_range import SitesUsageRetrieveRange
from ...models.usage import Usage
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    site_id: str,
    *,
    range_: SitesUsageRetrieveRange | Unset = SitesUsageRetrieveRange.VALUE_0,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    json_range_: str | Unset = UNSET
    if not isinstance(range_, Unset):
        json_range_ = range_.value

    params["range"] = json_range_


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/sites/{site_id}/usage".format(site_id=quote(str(site_id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Usage | None:
    if response.status_code == 200:
        response_200 = Usage.from_dict(response.json())



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

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())



        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Usage]:
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
    range_: SitesUsageRetrieveRange | Unset = SitesUsageRetrieveRange.VALUE_0,

) -> Response[Error | Usage]:
    """  The site's build seconds, deployments, stored bytes, requests and bandwidth over a
    range, with a series of each (hourly for 24h, daily for 7d and 30d).

    Args:
        site_id (str):
        range_ (SitesUsageRetrieveRange | Unset):  Default: SitesUsageRetrieveRange.VALUE_0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Usage]
     """


    kwargs = _get_kwargs(
        site_id=site_id,
range_=range_,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    site_id: str,
    *,
    client: AuthenticatedClient,
    range_: SitesUsageRetrieveRange | Unset = SitesUsageRetrieveRange.VALUE_0,

) -> Error | Usage | None:
    """  The site's build seconds, deployments, stored bytes, requests and bandwidth over a
    range, with a series of each (hourly for 24h, daily for 7d and 30d).

    Args:
        site_id (str):
        range_ (SitesUsageRetrieveRange | Unset):  Default: SitesUsageRetrieveRange.VALUE_0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Usage
     """


    return sync_detailed(
        site_id=site_id,
client=client,
range_=range_,

    ).parsed

async def asyncio_detailed(
    site_id: str,
    *,
    client: AuthenticatedClient,
    range_: SitesUsageRetrieveRange | Unset = SitesUsageRetrieveRange.VALUE_0,

) -> Response[Error | Usage]:
    """  The site's build seconds, deployments, stored bytes, requests and bandwidth over a
    range, with a series of each (hourly for 24h, daily for 7d and 30d).

    Args:
        site_id (str):
        range_ (SitesUsageRetrieveRange | Unset):  Default: SitesUsageRetrieveRange.VALUE_0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Usage]
     """


    kwargs = _get_kwargs(
        site_id=site_id,
range_=range_,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    site_id: str,
    *,
    client: AuthenticatedClient,
    range_: SitesUsageRetrieveRange | Unset = SitesUsageRetrieveRange.VALUE_0,

) -> Error | Usage | None:
    """  The site's build seconds, deployments, stored bytes, requests and bandwidth over a
    range, with a series of each (hourly for 24h, daily for 7d and 30d).

    Args:
        site_id (str):
        range_ (SitesUsageRetrieveRange | Unset):  Default: SitesUsageRetrieveRange.VALUE_0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Usage
     """


    return (await asyncio_detailed(
        site_id=site_id,
client=client,
range_=range_,

    )).parsed
