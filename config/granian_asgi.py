"""The web's ASGI application as granian serves it (core/serving.py): config.asgi's,
behind core.proxies.ForwardedScope, because granian, unlike uvicorn, does not apply a
trusted proxy's X-Forwarded-For / X-Forwarded-Proto to the scope itself, and behind
core.serving.WebsocketCloseWhileReceiving, so that the realtime feed's own closes reach
the client."""

from config.asgi import application as platform_application
from core.proxies import ForwardedScope
from core.serving import WebsocketCloseWhileReceiving

application = ForwardedScope(WebsocketCloseWhileReceiving(platform_application))
