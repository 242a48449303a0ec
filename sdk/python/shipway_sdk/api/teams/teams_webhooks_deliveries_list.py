from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.deliveries_list import DeliveriesList
from ...models.error import Error
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    team_id: str,
    webhook_id: str,
    *,
    limit: int | Unset = 25,
    offset: int | Unset = 0,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["offset"] = offset


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/teams/{team_id}/webhooks/{webhook_id}/deliveries".format(team_id=quote(str(team_id), safe=""),webhook_id=quote(str(webhook_id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> DeliveriesList | Error | None:
    if response.status_code == 200:
        response_200 = DeliveriesList.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[DeliveriesList | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    team_id: str,
    webhook_id: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,

) -> Response[DeliveriesList | Error]:
    """  The webhook's deliveries, newest first, each with every attempt.

    Args:
        team_id (str):
        webhook_id (str):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeliveriesList | Error]
     """


    kwargs = _get_kwargs(
        team_id=team_id,
webhook_id=webhook_id,
limit=limit,
offset=offset,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    team_id: str,
    webhook_id: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,

) -> DeliveriesList | Error | None:
    """  The webhook's deliveries, newest first, each with every attempt.

    Args:
        team_id (str):
        webhook_id (str):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeliveriesList | Error
     """


    return sync_detailed(
        team_id=team_id,
webhook_id=webhook_id,
client=client,
limit=limit,
offset=offset,

    ).parsed

async def asyncio_detailed(
    team_id: str,
    webhook_id: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,

) -> Response[DeliveriesList | Error]:
    """  The webhook's deliveries, newest first, each with every attempt.

    Args:
        team_id (str):
        webhook_id (str):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeliveriesList | Error]
     """


    kwargs = _get_kwargs(
        team_id=team_id,
webhook_id=webhook_id,
limit=limit,
offset=offset,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    team_id: str,
    webhook_id: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,

) -> DeliveriesList | Error | None:
    """  The webhook's deliveries, newest first, each with every attempt.

    Args:
        team_id (str):
        webhook_id (str):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeliveriesList | Error
     """


    return (await asyncio_detailed(
        team_id=team_id,
webhook_id=webhook_id,
client=client,
limit=limit,
offset=offset,

    )).parsed
