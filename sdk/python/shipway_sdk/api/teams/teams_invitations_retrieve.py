from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.invitation import Invitation
from typing import cast



def _get_kwargs(
    team_id: str,
    invitation_id: str,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/teams/{team_id}/invitations/{invitation_id}".format(team_id=quote(str(team_id), safe=""),invitation_id=quote(str(invitation_id), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Invitation | None:
    if response.status_code == 200:
        response_200 = Invitation.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Invitation]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    team_id: str,
    invitation_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[Error | Invitation]:
    """  A team's invitations not yet accepted (pending or expired); owners only. They are
    made by adding a member by an email that has no account; DELETE cancels one.

    Args:
        team_id (str):
        invitation_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Invitation]
     """


    kwargs = _get_kwargs(
        team_id=team_id,
invitation_id=invitation_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    team_id: str,
    invitation_id: str,
    *,
    client: AuthenticatedClient,

) -> Error | Invitation | None:
    """  A team's invitations not yet accepted (pending or expired); owners only. They are
    made by adding a member by an email that has no account; DELETE cancels one.

    Args:
        team_id (str):
        invitation_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Invitation
     """


    return sync_detailed(
        team_id=team_id,
invitation_id=invitation_id,
client=client,

    ).parsed

async def asyncio_detailed(
    team_id: str,
    invitation_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[Error | Invitation]:
    """  A team's invitations not yet accepted (pending or expired); owners only. They are
    made by adding a member by an email that has no account; DELETE cancels one.

    Args:
        team_id (str):
        invitation_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Invitation]
     """


    kwargs = _get_kwargs(
        team_id=team_id,
invitation_id=invitation_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    team_id: str,
    invitation_id: str,
    *,
    client: AuthenticatedClient,

) -> Error | Invitation | None:
    """  A team's invitations not yet accepted (pending or expired); owners only. They are
    made by adding a member by an email that has no account; DELETE cancels one.

    Args:
        team_id (str):
        invitation_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Invitation
     """


    return (await asyncio_detailed(
        team_id=team_id,
invitation_id=invitation_id,
client=client,

    )).parsed
