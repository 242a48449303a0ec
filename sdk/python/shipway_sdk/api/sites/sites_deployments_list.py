from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.deployments_list import DeploymentsList
from ...models.error import Error
from ...models.sites_deployments_list_environment import SitesDeploymentsListEnvironment
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    site_id: str,
    *,
    branch: str | Unset = UNSET,
    environment: SitesDeploymentsListEnvironment | Unset = UNSET,
    limit: int | Unset = 25,
    offset: int | Unset = 0,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["branch"] = branch

    json_environment: str | Unset = UNSET
    if not isinstance(environment, Unset):
        json_environment = environment.value

    params["environment"] = json_environment

    params["limit"] = limit

    params["offset"] = offset


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/sites/{site_id}/deployments".format(site_id=quote(str(site_id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> DeploymentsList | Error | None:
    if response.status_code == 200:
        response_200 = DeploymentsList.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[DeploymentsList | Error]:
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
    branch: str | Unset = UNSET,
    environment: SitesDeploymentsListEnvironment | Unset = UNSET,
    limit: int | Unset = 25,
    offset: int | Unset = 0,

) -> Response[DeploymentsList | Error]:
    """  A site's deployments, newest first.

    Args:
        site_id (str):
        branch (str | Unset):
        environment (SitesDeploymentsListEnvironment | Unset):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeploymentsList | Error]
     """


    kwargs = _get_kwargs(
        site_id=site_id,
branch=branch,
environment=environment,
limit=limit,
offset=offset,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    site_id: str,
    *,
    client: AuthenticatedClient,
    branch: str | Unset = UNSET,
    environment: SitesDeploymentsListEnvironment | Unset = UNSET,
    limit: int | Unset = 25,
    offset: int | Unset = 0,

) -> DeploymentsList | Error | None:
    """  A site's deployments, newest first.

    Args:
        site_id (str):
        branch (str | Unset):
        environment (SitesDeploymentsListEnvironment | Unset):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeploymentsList | Error
     """


    return sync_detailed(
        site_id=site_id,
client=client,
branch=branch,
environment=environment,
limit=limit,
offset=offset,

    ).parsed

async def asyncio_detailed(
    site_id: str,
    *,
    client: AuthenticatedClient,
    branch: str | Unset = UNSET,
    environment: SitesDeploymentsListEnvironment | Unset = UNSET,
    limit: int | Unset = 25,
    offset: int | Unset = 0,

) -> Response[DeploymentsList | Error]:
    """  A site's deployments, newest first.

    Args:
        site_id (str):
        branch (str | Unset):
        environment (SitesDeploymentsListEnvironment | Unset):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeploymentsList | Error]
     """


    kwargs = _get_kwargs(
        site_id=site_id,
branch=branch,
environment=environment,
limit=limit,
offset=offset,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    site_id: str,
    *,
    client: AuthenticatedClient,
    branch: str | Unset = UNSET,
    environment: SitesDeploymentsListEnvironment | Unset = UNSET,
    limit: int | Unset = 25,
    offset: int | Unset = 0,

) -> DeploymentsList | Error | None:
    """  A site's deployments, newest first.

    Args:
        site_id (str):
        branch (str | Unset):
        environment (SitesDeploymentsListEnvironment | Unset):
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeploymentsList | Error
     """


    return (await asyncio_detailed(
        site_id=site_id,
client=client,
branch=branch,
environment=environment,
limit=limit,
offset=offset,

    )).parsed
