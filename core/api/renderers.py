"""Renderers beyond DRF's JSON and browsable API."""

import json
from typing import Any

from rest_framework.renderers import BaseRenderer


class PlainTextRenderer(BaseRenderer):
    """`text/plain`, for endpoints that answer text (a build log). Text goes out as it
    is; anything else, such as an error body, as JSON text."""

    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, str):
            return data.encode(self.charset)
        return json.dumps(data).encode(self.charset)
