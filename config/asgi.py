"""ASGI entry point: HTTP goes to Django, websockets to Channels.

The edge (serving sites by Host) and the realtime routes are placed here, ahead of
Django, so that neither pays for Django's request cycle.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (needs Django set up first)

from deployments.edge.app import Edge  # noqa: E402

# Sites' hosts are answered by the edge; every other host falls through to Django.
application = Edge(ProtocolTypeRouter({"http": django_application}))
