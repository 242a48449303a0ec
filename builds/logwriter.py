"""Streams a build's output into the deployment's log as it is produced.

Output arrives from the runner's thread in small pieces; a writer thread appends them
to the log (and so to the realtime feed) within a few milliseconds, coalescing bursts
into one write, and records a heartbeat so the reaper can tell a live build from one
whose worker died.

The build's output is kept up to SHIPWAY_BUILD_LOG_MAX_BYTES; past it, one line says
the log was cut and the rest is dropped (not stored, not published) while the build goes
on. Shipway's own lines (`note`) are always kept: there are a few of them per build.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection

from builds.output import describe_size
from deployments import services as deployment_services
from deployments.models import Deployment

HEARTBEAT_EVERY = 5.0
COALESCE = 0.02  # seconds between two writes, to gather a burst of output into one


class LogWriter:
    def __init__(self, deployment: Deployment, max_bytes: int | None = None) -> None:
        self.deployment = deployment
        self.max_bytes = settings.SHIPWAY_BUILD_LOG_MAX_BYTES if max_bytes is None else max_bytes
        self._kept = 0  # bytes of build output accepted so far
        self._cut = False
        self._pending: list[str] = []
        self._lock = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="build-log", daemon=True)

    def __enter__(self) -> LogWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, text: str) -> None:
        """The build's output: kept up to the cap, then cut with one line saying so."""
        with self._lock:
            if self._cut:
                return
            size = len(text.encode())
            if self._kept + size > self.max_bytes:
                text = self._cut_here(text)
            self._kept += size
            self._pending.append(text)
            self._lock.notify()

    def note(self, text: str) -> None:
        """One of Shipway's own lines: kept whatever the build printed before it."""
        with self._lock:
            self._pending.append(text)
            self._lock.notify()

    def _cut_here(self, text: str) -> str:
        """What of `text` still fits (up to its last whole line), then the note."""
        fits = text.encode()[: self.max_bytes - self._kept]
        if b"\n" in fits:
            fits = fits[: fits.rindex(b"\n") + 1]
        head = fits.decode(errors="ignore")
        if head and not head.endswith("\n"):
            head += "\n"
        self._cut = True
        return (
            f"{head}The log was cut at {describe_size(self.max_bytes)} "
            "(SHIPWAY_BUILD_LOG_MAX_BYTES): the build goes on, its further output is not kept.\n"
        )

    def close(self) -> None:
        """Write what is pending and stop; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._lock.notify()
        self._thread.join()

    def _loop(self) -> None:
        last_beat = last_write_end = 0.0
        try:
            while True:
                with self._lock:
                    if not self._pending and not self._closed:
                        self._lock.wait(timeout=HEARTBEAT_EVERY)
                    closed = self._closed
                # Gather a burst, counting from the end of the previous write: the first
                # output after a quiet spell goes out at once, a steady stream keeps one
                # write per COALESCE (each write is a message to every subscriber).
                wait = last_write_end + COALESCE - time.monotonic()
                if wait > 0 and not closed:
                    time.sleep(wait)
                with self._lock:
                    text, self._pending = "".join(self._pending), []
                if text:
                    deployment_services.log_append(self.deployment, text)
                    last_write_end = time.monotonic()
                if time.monotonic() - last_beat >= HEARTBEAT_EVERY:
                    deployment_services.deployment_heartbeat(self.deployment.pk)
                    last_beat = time.monotonic()
                if closed:
                    return
        finally:
            close_old_connections()
            connection.close()
