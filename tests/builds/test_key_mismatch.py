"""A machine whose SHIPWAY_ENCRYPTION_KEY is not the installation's (one left unset, so
it generated a key of its own) fails a build that needs a secret, and says why."""

from __future__ import annotations

import pytest

from builds import director
from deployments.models import Deployment, SourceType, Status
from deployments.selectors import log_text
from sites import crypto
from sites.services import variable_create
from tests.factories import make_site, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_machines_key(settings):  # type: ignore[no-untyped-def]
    crypto._fernet.cache_clear()
    yield
    crypto._fernet.cache_clear()


def test_a_build_on_a_machine_with_another_key_fails_saying_so(settings, other_machines_key):
    site = make_site(make_team(make_user()), framework="static")
    variable_create(site=site, key="TOKEN", value="s3cret-value", secret=True)
    deployment = Deployment.objects.create(site=site, source_type=SourceType.UPLOAD)
    settings.SHIPWAY_ENCRYPTION_KEY = "a key this machine generated for itself"
    crypto._fernet.cache_clear()

    director.build(deployment.id, worker="elsewhere@machine-b")

    deployment.refresh_from_db()
    assert deployment.status == Status.FAILED
    assert deployment.error_code == "internal"
    assert "every machine of an installation needs the same key" in log_text(deployment)
