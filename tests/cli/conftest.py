"""The end-to-end fixtures (Docker, a real worker, a user) for the live CLI tests."""

from tests.e2e.conftest import docker_ready, live_database_env, owner, worker

__all__ = ["docker_ready", "live_database_env", "owner", "worker"]
