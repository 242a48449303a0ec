import os

import pytest

pytest_plugins = ["tests.live"]


@pytest.fixture(autouse=True)
def _artifacts_in_tmp(settings, tmp_path):
    """Each test stores artifacts in its own directory, so nothing leaks between tests."""
    from django.core.files.storage import storages

    settings.MEDIA_ROOT = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "storage"},
        },
    }
    storages._storages.pop("artifacts", None)
    yield
    storages._storages.pop("artifacts", None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs half a second per user; tests make many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _builds_queue_of_this_session(settings):
    """Builds queued by tests that run no worker go to a queue of this session's own
    (removed at the end), never to the `builds` queue a real worker may be reading."""
    settings.SHIPWAY_BUILD_QUEUE = f"builds-test-{os.getpid()}"


@pytest.fixture(scope="session", autouse=True)
def _drop_the_sessions_queue():
    yield
    url = os.environ.get("REDIS_URL")
    if url:
        import redis

        redis.Redis.from_url(url).delete(f"builds-test-{os.getpid()}")


@pytest.fixture(autouse=True)
def _no_api_key_failures_carried_over():
    """Failed API keys are counted per address (accounts/throttles.py), across requests:
    every test's client is 127.0.0.1, so no test inherits another's failures."""
    from accounts.throttles import forget_api_key_failures

    forget_api_key_failures("127.0.0.1")


@pytest.fixture(scope="session", autouse=True)
def _no_throttle_history_from_earlier_runs():
    """Throttles keep their history in Redis for their window, keyed by user id or
    address; an earlier run's users had the same ids as this run's."""
    url = os.environ.get("REDIS_URL")
    if url:
        import redis

        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match="shipway:*:throttle_*", count=1000):
            client.delete(key)
    yield
