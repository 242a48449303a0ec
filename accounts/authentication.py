"""`Authorization: Bearer <key>` for the REST API and the realtime handshake."""

from typing import TYPE_CHECKING, Any, cast

from django.http import HttpRequest
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from accounts import audit, selectors, services
from accounts.models import ApiKey, limit_to_team
from accounts.throttles import ApiKeyFailureThrottle

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from drf_spectacular.openapi import AutoSchema


def bearer_secret_hash(request: HttpRequest | Request) -> str | None:
    """The hash of the `Authorization: Bearer` secret, None without a Bearer header.

    Raises AuthenticationFailed for a Bearer header that is malformed."""
    # It reads only request.META, which a Django request has too (the stubs want DRF's).
    header = authentication.get_authorization_header(cast(Request, request)).decode("latin-1")
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
    limit_to_team(key.user, key.team_id)  # the user object is this request's own
    return key


def request_api_key(request: HttpRequest | Request) -> ApiKey | None:
    """The valid API key of the request's `Authorization: Bearer` header, None without
    such a header.

    Raises Throttled while the client's address has failed too often (no look-up is made
    then, whatever the key), and AuthenticationFailed for a bad key, which counts as one
    failure of that address (accounts/throttles.py)."""
    scheme = authentication.get_authorization_header(cast(Request, request)).split(b" ", 1)[0]
    if scheme.lower() != b"bearer":
        return None
    throttle = ApiKeyFailureThrottle()
    wait = throttle.wait_before_trying(request)
    if wait is not None:
        raise exceptions.Throttled(
            wait, detail="Too many failed API key attempts from this address."
        )
    try:
        secret_hash = bearer_secret_hash(request)
        return authenticated_api_key(request, secret_hash) if secret_hash else None
    except exceptions.AuthenticationFailed:
        throttle.record_failure(request)
        raise


def api_key_user(authorization: str, address: str = "") -> tuple[Any, str]:
    """The user of the API key in an `Authorization` header value, for callers outside
    DRF (the realtime handshake from `address`): (user, "") or (None, why not)."""
    request = HttpRequest()
    request.META["HTTP_AUTHORIZATION"] = authorization
    request.META["REMOTE_ADDR"] = address
    try:
        key = request_api_key(request)
        if key is None:
            return None, "The Authorization header must be 'Bearer <API key>'."
        return key.user, ""
    except exceptions.APIException as exc:
        return None, str(exc.detail)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple["User", ApiKey] | None:
        key = request_api_key(request)
        if key is None:
            return None
        audit.bind_key(request, key)  # this request's writes are recorded as the key's
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class KeyScopeAllows(permissions.BasePermission):
    """A read-only API key may only use safe methods (GET, HEAD, OPTIONS), except on
    views that only open reads (`read_only_key_allowed = True`: realtime tokens)."""

    message = "This API key is read-only: it may only read (GET, HEAD, OPTIONS)."

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey) or not key.read_only:
            return True
        if request.method in permissions.SAFE_METHODS:
            return True
        return getattr(view, "read_only_key_allowed", False)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents API keys in the OpenAPI schema as `Authorization: Bearer <key>`."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: "AutoSchema") -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API key."}
