"""`Authorization: Bearer <key>` for the REST API and the realtime handshake."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts import selectors, services
from accounts.models import ApiKey


def bearer_secret_hash(request: HttpRequest | Request) -> str | None:
    """The hash of the `Authorization: Bearer` secret, None without a Bearer header.

    Raises AuthenticationFailed for a Bearer header that is malformed."""
    header = authentication.get_authorization_header(request).decode("latin-1")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    secret = secret.strip()
    if not secret or " " in secret:
        raise exceptions.AuthenticationFailed("Malformed Authorization header.")
    return services.hash_secret(secret)


def authenticated_api_key(request: HttpRequest | Request, secret_hash: str) -> ApiKey:
    """The valid API key with this secret hash, its use recorded; else AuthenticationFailed."""
    key = selectors.api_key_for_secret(request, secret_hash)
    if key is None or not key.user.is_active:
        raise exceptions.AuthenticationFailed("Invalid API key.")
    if key.expires_at and key.expires_at <= timezone.now():
        raise exceptions.AuthenticationFailed("This API key has expired.")
    if services.api_key_touch(key=key):
        selectors.remember_api_key(request, key)  # or every call would write again
    return key


def api_key_user(authorization: str) -> tuple[Any, str]:
    """The user of the API key in an `Authorization` header value, for callers outside
    DRF (the realtime handshake): (user, "") or (None, why not)."""
    request = HttpRequest()
    request.META["HTTP_AUTHORIZATION"] = authorization
    try:
        secret_hash = bearer_secret_hash(request)
        if secret_hash is None:
            return None, "The Authorization header must be 'Bearer <API key>'."
        return authenticated_api_key(request, secret_hash).user, ""
    except exceptions.AuthenticationFailed as exc:
        return None, str(exc.detail)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request):  # type: ignore[no-untyped-def]
        secret_hash = bearer_secret_hash(request)
        if secret_hash is None:
            return None
        key = authenticated_api_key(request, secret_hash)
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents API keys in the OpenAPI schema as `Authorization: Bearer <key>`."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "http", "scheme": "bearer", "description": "An API key."}
