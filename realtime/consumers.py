"""The realtime feed: `/v1/realtime?channels=...` over a websocket (docs/api.md, "Realtime").

Callers authenticate with an API key in the handshake's `Authorization: Bearer` header
(servers, the command line, SDKs), a short-lived, single-use token from
`POST /v1/realtime/tokens` in `?token=` (browsers, which cannot set headers), or their
session cookie (same origin only). A team-scoped API key, and a token it asked for, only
reach that team's sites. Every channel is checked against the site's read
permission when subscribing; one unknown or forbidden channel refuses the connection
with a close code and a reason. When a user's team roles change, their open feeds
re-check what they follow and stop what they may no longer read.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import structlog
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.core.cache import cache

from accounts.authentication import api_key_user
from accounts.models import limit_to_team
from core import channels as channel_names
from deployments.models import Deployment
from realtime import feed_slots
from sites.models import Site

log = structlog.get_logger(__name__)

TOKEN_SALT = "shipway.realtime"  # noqa: S105 (a signing namespace, not a secret)
TOKEN_AGE = 60
MAX_CHANNELS = 50

# Close codes (4000-4999 are the application's): the reason says which channel and why.
UNAUTHORIZED = 4401
FORBIDDEN = 4403
BAD_REQUEST = 4400
TOO_MANY = 4429  # the user has SHIPWAY_REALTIME_MAX_CONNECTIONS_PER_USER feeds open


def issue_token(user_id: int, team_id: str | None = None) -> str:
    """A signed token for one feed, within TOKEN_AGE seconds, limited to `team_id` when
    the caller's API key is. Each token has an id of its own: it opens one feed only."""
    payload: dict[str, Any] = {"u": user_id, "j": secrets.token_urlsafe(12)}
    if team_id is not None:
        payload["t"] = team_id
    return signing.dumps(payload, salt=TOKEN_SALT)


def _first_use(token_id: str) -> bool:
    """True the first time a token id is presented (remembered for as long as the token
    is valid, in the cache every web process shares)."""
    try:
        return cache.add(f"realtime-token-used:{token_id}", 1, timeout=TOKEN_AGE + 5)
    except Exception:  # the cache is down: a token that cannot be checked is refused
        log.warning("realtime.token_check_failed", exc_info=True)
        return False


class RealtimeConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.feed_id = secrets.token_hex(12)  # its place among its user's open feeds
        self.renewer: asyncio.Task[None] | None = None
        self.subscribed: list[str] = []
        self.recent: deque[str | None] = deque(maxlen=256)
        await self.accept()
        query = parse_qs(self.scope["query_string"].decode("latin-1"))
        user, problem = await self._user(query)
        if problem:
            await self.close(code=UNAUTHORIZED, reason=problem)
            return
        self.user = user
        if not await sync_to_async(feed_slots.take, thread_sensitive=False)(user.pk, self.feed_id):
            await self.close(
                code=TOO_MANY,
                reason=f"Too many open feeds: at most {feed_slots.limit()} per user. "
                "Close one, then connect again.",
            )
            return
        self.renewer = asyncio.create_task(self._renew_place())
        channels = query.get("channels", [])
        if not channels:
            await self.close(code=BAD_REQUEST, reason="Name at least one channel: ?channels=...")
            return
        if len(channels) > MAX_CHANNELS:
            await self.close(code=BAD_REQUEST, reason=f"At most {MAX_CHANNELS} channels.")
            return
        for channel in dict.fromkeys(channels):
            refusal = await database_sync_to_async(_refusal)(user, channel)
            if refusal:
                await self.close(code=FORBIDDEN, reason=refusal)
                return
        for channel in dict.fromkeys(channels):
            await self.channel_layer.group_add(channel_names.group(channel), self.channel_name)
            self.subscribed.append(channel)
        await self.channel_layer.group_add(channel_names.user_group(user.pk), self.channel_name)
        await self.send_json({"type": "connected", "data": {"channels": self.subscribed}})
        log.info("realtime.connected", user_id=user.pk, channels=self.subscribed)

    async def _renew_place(self) -> None:
        """Keep this feed's place among its user's open feeds (feed_slots)."""
        while True:
            await asyncio.sleep(feed_slots.RENEW_EVERY)
            await sync_to_async(feed_slots.renew, thread_sensitive=False)(
                self.user.pk, self.feed_id
            )

    async def disconnect(self, code: int) -> None:
        if (renewer := getattr(self, "renewer", None)) is not None:
            renewer.cancel()
            await sync_to_async(feed_slots.give_back, thread_sensitive=False)(
                self.user.pk, self.feed_id
            )
        for channel in self.subscribed:
            await self.channel_layer.group_discard(channel_names.group(channel), self.channel_name)
        if getattr(self, "user", None) is not None:
            await self.channel_layer.group_discard(
                channel_names.user_group(self.user.pk), self.channel_name
            )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        await self.send_json(
            {
                "type": "error",
                "data": {"message": 'Unknown message; the only one accepted is {"type": "ping"}.'},
            }
        )

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:  # a classmethod, as in channels
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None  # answered as an unknown message, the connection stays up

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels runs close_old_connections() in the process's one sync thread before
        # every handler. shipway_event touches no database, and that hop, once per
        # subscriber per event, was most of the fan-out's cost (bench/RESULTS.md, Realtime).
        if message.get("type") == "shipway.event":
            await self.shipway_event(message)
        else:
            await super().dispatch(message)

    async def shipway_event(self, message: dict[str, Any]) -> None:
        event_id = message.get("id")
        if event_id in self.recent:
            return  # the same event through another of this feed's channels
        self.recent.append(event_id)
        await self.send_json({"type": "event", "data": message["data"]})
        for event in message["data"].get("events", []):
            site_channel = channel_names.deleted_site(event)
            if site_channel:
                await self._drop_site(site_channel)

    async def _drop_site(self, site_channel: str) -> None:
        """A deleted site's channels end with it: a new site may take the same id, and
        its events are not for whoever followed the old one."""
        for channel in list(self.subscribed):
            if channel_names.within_site(channel, site_channel):
                await self.channel_layer.group_discard(
                    channel_names.group(channel), self.channel_name
                )
                self.subscribed.remove(channel)
        if not self.subscribed:
            await self.close(code=FORBIDDEN, reason="The site was deleted.")

    async def shipway_access_changed(self, message: dict[str, Any]) -> None:
        """The user's roles changed: drop every channel they may no longer read."""
        for channel in list(self.subscribed):
            if await database_sync_to_async(_refusal)(self.user, channel):
                await self.channel_layer.group_discard(
                    channel_names.group(channel), self.channel_name
                )
                self.subscribed.remove(channel)
        if not self.subscribed:
            await self.close(code=FORBIDDEN, reason="Access to these channels was removed.")

    async def _user(self, query: dict[str, list[str]]) -> tuple[Any, str]:
        token = query.get("token", [""])[0]
        if token:
            try:
                data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_AGE)
            except signing.SignatureExpired:
                return None, "The token has expired; ask for a new one."
            except signing.BadSignature:
                return None, "The token is not valid."
            if not isinstance(data, dict) or not isinstance(data.get("j"), str):
                return None, "The token is not valid."
            if not await sync_to_async(_first_use, thread_sensitive=False)(data["j"]):
                return None, "The token was already used; ask for a new one for each feed."
            user = await database_sync_to_async(_active_user)(data.get("u"))
            if user is None:
                return None, "The token's user no longer exists."
            limit_to_team(user, data.get("t"))  # asked for with a team-scoped API key
            return user, ""
        authorization = dict(self.scope.get("headers", [])).get(b"authorization")
        if authorization is not None:
            client = self.scope.get("client") or ("", 0)
            return await database_sync_to_async(api_key_user)(
                authorization.decode("latin-1"), client[0]
            )
        user = self.scope.get("user") or AnonymousUser()
        if not user.is_authenticated:
            return None, (
                "Sign in, send 'Authorization: Bearer <API key>', or connect with ?token= "
                "from POST /v1/realtime/tokens."
            )
        if not _same_origin(self.scope):
            return None, "A cookie-authenticated feed must come from the same origin."
        return user, ""


def _active_user(user_id: Any) -> Any:
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def _same_origin(scope: Mapping[str, Any]) -> bool:
    headers = dict(scope.get("headers", []))
    origin = headers.get(b"origin")
    if origin is None:  # not a browser: no ambient cookie was used on its behalf
        return True
    return urlsplit(origin.decode("latin-1")).netloc == headers.get(b"host", b"").decode()


def _refusal(user: Any, channel: str) -> str:
    """Why `user` may not follow `channel` ("" when they may)."""
    parsed = channel_names.parse(channel)
    if parsed is None:
        return f"Unknown channel '{channel[:100]}'."
    site_id, deployment_id = parsed.site_id, parsed.deployment_id
    if not Site.objects.for_user(user, "view").filter(pk=site_id).exists():
        return f"Channel '{channel}': no such site, or you may not read it."
    if deployment_id and not Deployment.objects.filter(pk=deployment_id, site_id=site_id).exists():
        return f"Channel '{channel}': no such deployment."
    return ""
