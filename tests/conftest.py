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
