from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.delivery_answer import DeliveryAnswer
from ...models.error import Error
from typing import cast



def _get_kwargs(
    secret: str,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/hooks/deploy/{secret}".format(secret=quote(str(secret), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> DeliveryAnswer | Error | None:
    if response.status_code == 202:
        response_202 = DeliveryAnswer.from_dict(response.json())



        return response_202

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())



        return response_400

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[DeliveryAnswer | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    secret: str,
    *,
    client: AuthenticatedClient,

) -> Response[DeliveryAnswer | Error]:
    """  POST /v1/hooks/deploy/{secret}: build the hook's branch head.

    Args:
        secret (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeliveryAnswer | Error]
     """


    kwargs = _get_kwargs(
        secret=secret,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    secret: str,
    *,
    client: AuthenticatedClient,

) -> DeliveryAnswer | Error | None:
    """  POST /v1/hooks/deploy/{secret}: build the hook's branch head.

    Args:
        secret (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeliveryAnswer | Error
     """


    return sync_detailed(
        secret=secret,
client=client,

    ).parsed

async def asyncio_detailed(
    secret: str,
    *,
    client: AuthenticatedClient,

) -> Response[DeliveryAnswer | Error]:
    """  POST /v1/hooks/deploy/{secret}: build the hook's branch head.

    Args:
        secret (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeliveryAnswer | Error]
     """


    kwargs = _get_kwargs(
        secret=secret,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    secret: str,
    *,
    client: AuthenticatedClient,

) -> DeliveryAnswer | Error | None:
    """  POST /v1/hooks/deploy/{secret}: build the hook's branch head.

    Args:
        secret (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeliveryAnswer | Error
     """


    return (await asyncio_detailed(
        secret=secret,
client=client,

    )).parsed
