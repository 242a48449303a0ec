"""An S3-compatible server on loopback for tests: moto in server mode (a real HTTP
server in a thread of this process), and the artifacts storage pointed at it through
django-storages, as SHIPWAY_STORAGE=s3 does (config/settings.py).

`s3_storage` gives each test a bucket of its own; `MotoS3.stop()` and `start()` make a
real outage (connections refused) and end it, on the same port and with the same data.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from django.core.files.storage import storages

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MotoS3:
    def __init__(self) -> None:
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: Any = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        if self._server is None:
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
            self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
            **CREDENTIALS,
        )


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3()
    server.start()
    yield server
    server.stop()


class S3Bucket:
    def __init__(self, server: MotoS3, name: str) -> None:
        self.server, self.name = server, name

    def keys(self) -> set[str]:
        """Every key in the bucket, listed from the server itself."""
        client = self.server.client()
        keys: set[str] = set()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.name):
            keys.update(item["Key"] for item in page.get("Contents", []))
        return keys


@pytest.fixture
def s3_storage(settings, moto_s3) -> Iterator[S3Bucket]:
    """The artifacts storage on a fresh bucket of the moto server."""
    moto_s3.start()  # a test that stopped it may have failed before starting it again
    bucket = f"shipway-test-{uuid.uuid4().hex[:12]}"
    moto_s3.client().create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": moto_s3.endpoint,
                "region_name": REGION,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "file_overwrite": True,
                "default_acl": None,
                # One try per call: an outage shows at once instead of after retries.
                "client_config": Config(
                    retries={"max_attempts": 1},
                    connect_timeout=2,
                    s3={"addressing_style": "path"},
                ),
            },
        },
    }
    storages._storages.pop("artifacts", None)
    yield S3Bucket(moto_s3, bucket)
    storages._storages.pop("artifacts", None)
    moto_s3.start()
