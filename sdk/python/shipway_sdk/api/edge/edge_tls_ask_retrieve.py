from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.tls_allowed import TlsAllowed
from typing import cast



def _get_kwargs(
    *,
    domain: str,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["domain"] = domain


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/edge/tls-ask",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | TlsAllowed | None:
    if response.status_code == 200:
        response_200 = TlsAllowed.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())



        return response_400

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | TlsAllowed]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    domain: str,

) -> Response[Error | TlsAllowed]:
    """  Caddy's on-demand TLS `ask`: 200 for a verified custom domain, else 404 (hosts
    under SITES_DOMAIN have one wildcard certificate). No credentials (Caddy calls it),
    so it says nothing but yes or no.

    Args:
        domain (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TlsAllowed]
     """


    kwargs = _get_kwargs(
        domain=domain,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    domain: str,

) -> Error | TlsAllowed | None:
    """  Caddy's on-demand TLS `ask`: 200 for a verified custom domain, else 404 (hosts
    under SITES_DOMAIN have one wildcard certificate). No credentials (Caddy calls it),
    so it says nothing but yes or no.

    Args:
        domain (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TlsAllowed
     """


    return sync_detailed(
        client=client,
domain=domain,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    domain: str,

) -> Response[Error | TlsAllowed]:
    """  Caddy's on-demand TLS `ask`: 200 for a verified custom domain, else 404 (hosts
    under SITES_DOMAIN have one wildcard certificate). No credentials (Caddy calls it),
    so it says nothing but yes or no.

    Args:
        domain (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TlsAllowed]
     """


    kwargs = _get_kwargs(
        domain=domain,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    domain: str,

) -> Error | TlsAllowed | None:
    """  Caddy's on-demand TLS `ask`: 200 for a verified custom domain, else 404 (hosts
    under SITES_DOMAIN have one wildcard certificate). No credentials (Caddy calls it),
    so it says nothing but yes or no.

    Args:
        domain (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TlsAllowed
     """


    return (await asyncio_detailed(
        client=client,
domain=domain,

    )).parsed
