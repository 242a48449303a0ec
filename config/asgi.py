"""ASGI entry point: HTTP goes to Django, websockets to Channels.

The edge (serving sites by Host), the request body limits (core/limits.py) and the
realtime routes are placed here, ahead of Django, so that none pays for Django's
request cycle.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

# These import models, so Django must be set up first.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from core.limits import BodyLimit  # noqa: E402
from edge.app import Edge  # noqa: E402
from realtime.consumers import RealtimeConsumer  # noqa: E402

# Channels routes with Django's path(), which the stubs type for views only.
realtime = AuthMiddlewareStack(
    URLRouter([path("v1/realtime", RealtimeConsumer.as_asgi())])  # type: ignore[list-item, arg-type]
)

# Sites' hosts are answered by the edge; the platform's hosts fall through to Django
# (HTTP, its request bodies capped by route before Django reads them) or the realtime
# feed (websocket).
application = Edge(
    ProtocolTypeRouter({"http": BodyLimit(django_application), "websocket": realtime})
)
