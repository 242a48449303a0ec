"""Base classes for the API's views."""

import base64
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions, filters, mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors
from accounts.authentication import authenticated_api_key, bearer_secret_hash
from accounts.models import ApiKey
from accounts.throttles import ApiKeyFailureThrottle
from core import readcache

if TYPE_CHECKING:
    from rest_framework.decorators import ViewSetAction  # only in the stubs

# Accept headers for which DRF's negotiation picks the JSON renderer with no options.
_PLAIN_JSON_ACCEPT = frozenset({"", "*/*", "application/json"})
# The headers DRF sets on a list's response (the middleware adds the rest either way).
_REPLAYED_HEADERS = ("Content-Type", "Vary", "Allow")


def _dump_page(page: tuple[bytes, dict[str, str]]) -> dict[str, Any]:
    """A rendered list as JSON for the read cache: the body in base64, the headers."""
    body, headers = page
    return {"body": base64.b64encode(body).decode("ascii"), "headers": headers}


def _load_page(data: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """`_dump_page` undone, taking only the headers a list replays."""
    headers = data["headers"]
    if not isinstance(headers, dict) or not {"Content-Type"} <= set(headers) <= set(
        _REPLAYED_HEADERS
    ):
        raise ValueError("unexpected headers")
    if not all(isinstance(value, str) for value in headers.values()):
        raise TypeError("a header value is not a string")
    return base64.b64decode(data["body"], validate=True), headers


def signed_in_user(request: Request) -> User:
    """The caller, in a view whose permission classes let only signed-in users in (the
    API's default: IsAuthenticated)."""
    # cast: DRF types request.user as possibly anonymous; IsAuthenticated refused those.
    return cast(User, request.user)


class ApiViewSet(viewsets.GenericViewSet):
    """A viewset whose lists answer `{"total", envelope_key: [...]}` and whose URL ids
    are plain strings (404 for any that does not exist or may not be seen)."""

    envelope_key = "items"
    lookup_value_regex = "[^/]+"


# The API's collections: listed (searched with `?search=` over `search_fields`), added
# to, read and deleted from; PATCH is their only way to change (no PUT). Comments, not
# docstrings: the OpenAPI schema would take a docstring as each subclass's description.
class CollectionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    filter_backends = [filters.SearchFilter]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


# A collection whose items change with PATCH.
class EditableCollectionViewSet(mixins.UpdateModelMixin, CollectionViewSet):
    pass


class ReadCachedListMixin:
    """A JSON list answered from the read cache (core/readcache.py) when it holds it.

    For lists that depend only on the caller and the URL, built from the models the read
    cache watches. `list` stores what it renders, per API key (or per signed-in user)
    and URL, in the current generation. A later `GET` with a valid API key that DRF
    would answer with plain JSON is then answered in front of DRF, from the read cache
    (the process's memory, else one Redis round trip): the same authentication function
    decides (a key that is unknown, expired or whose user is inactive falls through to
    DRF, which refuses it), and the same bytes and headers come back; on a miss DRF
    answers without another round trip. The browsable API is never cached.
    """

    # A mixin: the viewset's methods that its super() calls reach are unknown to mypy
    # ("undefined in superclass": the misc ignores below).
    @classmethod
    def as_view(
        cls, actions: "dict[str, str | ViewSetAction] | None" = None, **initkwargs: Any
    ) -> Callable:
        view = super().as_view(actions, **initkwargs)  # type: ignore[misc]
        if not actions or actions.get("get") != "list":
            return view

        def cached_or_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return _cached_list(request) or view(request, *args, **kwargs)

        return functools.update_wrapper(cached_or_view, view)  # keeps DRF's attributes

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.accepted_renderer.format != "json":
            return super().list(request, *args, **kwargs)  # type: ignore[misc]
        if isinstance(request.auth, ApiKey):
            parts = _list_entry(request, "api-key", request.auth.secret_hash)
        else:
            parts = _list_entry(request, "user", request.user.pk)
        cached = readcache.get(request, *parts, load=_load_page)
        if cached is not None:
            body, headers = cached
            return HttpResponse(body, content_type=headers["Content-Type"])
        response: Response = super().list(request, *args, **kwargs)  # type: ignore[misc]

        def remember(rendered: Response) -> None:
            if rendered.status_code == 200:
                headers = {h: rendered[h] for h in _REPLAYED_HEADERS if rendered.has_header(h)}
                readcache.put(request, (rendered.content, headers), *parts, dump=_dump_page)

        response.add_post_render_callback(remember)
        return response


def _list_entry(request: HttpRequest | Request, *caller: Any) -> tuple[Any, ...]:
    return ("list", *caller, request.build_absolute_uri())


def _cached_list(request: HttpRequest) -> HttpResponse | None:
    """The cached answer to this API-key `GET`, or None to let DRF answer."""
    if request.method != "GET" or "format" in request.GET:
        return None
    if request.headers.get("Accept", "").strip() not in _PLAIN_JSON_ACCEPT:
        return None
    try:
        secret_hash = bearer_secret_hash(request)
    except exceptions.AuthenticationFailed:
        return None  # DRF's authentication says why, in the API's error envelope
    if secret_hash is None or ApiKeyFailureThrottle().wait_before_trying(request) is not None:
        return None  # DRF answers: a 401 without a key, a 429 while the address waits
    selectors.prefetch_api_key(request, secret_hash)  # one round trip for both
    cached = readcache.get(request, *_list_entry(request, "api-key", secret_hash), load=_load_page)
    if cached is None:
        return None  # DRF answers, and finds the key in what this round trip fetched
    try:
        authenticated_api_key(request, secret_hash)
    except exceptions.AuthenticationFailed:
        return None
    body, headers = cached
    return HttpResponse(body, headers=headers)
