"""File downloads that stream in chunks under WSGI and ASGI alike."""

from collections.abc import AsyncIterator
from typing import IO

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest
from rest_framework.request import Request

CHUNK_SIZE = 256 * 1024


def file_download(
    request: HttpRequest | Request, file: IO[bytes], *, filename: str, content_type: str
) -> FileResponse:
    """An attachment of the open binary `file`, sent in chunks (and then closed).

    Under ASGI, Django reads a synchronous iterator whole into memory before sending it
    (its "must consume synchronous iterators" warning): an archive of hundreds of MB
    would sit in the web process. There the response gets an asynchronous one instead.
    """
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=content_type)
    if isinstance(getattr(request, "_request", request), ASGIRequest):
        response.streaming_content = _chunks(file)
    return response


async def _chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    read = sync_to_async(file.read, thread_sensitive=False)
    try:
        while chunk := await read(CHUNK_SIZE):
            yield chunk
    finally:
        await sync_to_async(file.close, thread_sensitive=False)()
