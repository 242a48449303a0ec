from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.entries_list import EntriesList
from ...models.error import Error
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    team_id: str,
    *,
    action: str | Unset = UNSET,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    resource: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["action"] = action

    params["limit"] = limit

    params["offset"] = offset

    params["resource"] = resource


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/teams/{team_id}/audit".format(team_id=quote(str(team_id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> EntriesList | Error | None:
    if response.status_code == 200:
        response_200 = EntriesList.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[EntriesList | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    team_id: str,
    *,
    client: AuthenticatedClient,
    action: str | Unset = UNSET,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    resource: str | Unset = UNSET,

) -> Response[EntriesList | Error]:
    """  The team's audit log, newest first: every write, by whom, from where. Owners
    and developers read it; entries are never changed (there is no other method).

    Args:
        team_id (str):
        action (str | Unset):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        resource (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EntriesList | Error]
     """


    kwargs = _get_kwargs(
        team_id=team_id,
action=action,
limit=limit,
offset=offset,
resource=resource,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    team_id: str,
    *,
    client: AuthenticatedClient,
    action: str | Unset = UNSET,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    resource: str | Unset = UNSET,

) -> EntriesList | Error | None:
    """  The team's audit log, newest first: every write, by whom, from where. Owners
    and developers read it; entries are never changed (there is no other method).

    Args:
        team_id (str):
        action (str | Unset):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        resource (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EntriesList | Error
     """


    return sync_detailed(
        team_id=team_id,
client=client,
action=action,
limit=limit,
offset=offset,
resource=resource,

    ).parsed

async def asyncio_detailed(
    team_id: str,
    *,
    client: AuthenticatedClient,
    action: str | Unset = UNSET,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    resource: str | Unset = UNSET,

) -> Response[EntriesList | Error]:
    """  The team's audit log, newest first: every write, by whom, from where. Owners
    and developers read it; entries are never changed (there is no other method).

    Args:
        team_id (str):
        action (str | Unset):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        resource (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EntriesList | Error]
     """


    kwargs = _get_kwargs(
        team_id=team_id,
action=action,
limit=limit,
offset=offset,
resource=resource,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    team_id: str,
    *,
    client: AuthenticatedClient,
    action: str | Unset = UNSET,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    resource: str | Unset = UNSET,

) -> EntriesList | Error | None:
    """  The team's audit log, newest first: every write, by whom, from where. Owners
    and developers read it; entries are never changed (there is no other method).

    Args:
        team_id (str):
        action (str | Unset):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        resource (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EntriesList | Error
     """


    return (await asyncio_detailed(
        team_id=team_id,
client=client,
action=action,
limit=limit,
offset=offset,
resource=resource,

    )).parsed
