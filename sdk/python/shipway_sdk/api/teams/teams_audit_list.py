from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.paginated_audit_entry_list import PaginatedAuditEntryList
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    team_id: str,
    *,
    action: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    offset: int | Unset = UNSET,
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



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> PaginatedAuditEntryList | None:
    if response.status_code == 200:
        response_200 = PaginatedAuditEntryList.from_dict(response.json())



        return response_200

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[PaginatedAuditEntryList]:
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
    limit: int | Unset = UNSET,
    offset: int | Unset = UNSET,
    resource: str | Unset = UNSET,

) -> Response[PaginatedAuditEntryList]:
    """  The team's audit log, newest first: every write, by whom, from where. Owners
    and developers read it; entries are never changed (there is no other method).

    Args:
        team_id (str):
        action (str | Unset):
        limit (int | Unset):
        offset (int | Unset):
        resource (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PaginatedAuditEntryList]
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
    limit: int | Unset = UNSET,
    offset: int | Unset = UNSET,
    resource: str | Unset = UNSET,

) -> PaginatedAuditEntryList | None:
    """  The team's audit log, newest first: every write, by whom, from where. Owners
    and developers read it; entries are never changed (there is no other method).

    Args:
        team_id (str):
        action (str | Unset):
        limit (int | Unset):
        offset (int | Unset):
        resource (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PaginatedAuditEntryList
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
    limit: int | Unset = UNSET,
    offset: int | Unset = UNSET,
    resource: str | Unset = UNSET,

) -> Response[PaginatedAuditEntryList]:
    """  The team's audit log, newest first: every write, by whom, from where. Owners
    and developers read it; entries are never changed (there is no other method).

    Args:
        team_id (str):
        action (str | Unset):
        limit (int | Unset):
        offset (int | Unset):
        resource (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PaginatedAuditEntryList]
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
    limit: int | Unset = UNSET,
    offset: int | Unset = UNSET,
    resource: str | Unset = UNSET,

) -> PaginatedAuditEntryList | None:
    """  The team's audit log, newest first: every write, by whom, from where. Owners
    and developers read it; entries are never changed (there is no other method).

    Args:
        team_id (str):
        action (str | Unset):
        limit (int | Unset):
        offset (int | Unset):
        resource (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PaginatedAuditEntryList
     """


    return (await asyncio_detailed(
        team_id=team_id,
client=client,
action=action,
limit=limit,
offset=offset,
resource=resource,

    )).parsed
