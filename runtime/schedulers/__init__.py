"""Where servers run: SHIPWAY_SSR_SCHEDULER picks the implementation ("docker", the
default, or "swarm")."""

from __future__ import annotations

from django.conf import settings

from runtime.schedulers.base import Scheduler, SchedulerError


def get_scheduler() -> Scheduler:
    name = settings.SHIPWAY_SSR_SCHEDULER
    if name == "docker":
        from runtime.schedulers.docker import DockerScheduler

        return DockerScheduler()
    if name == "swarm":
        from runtime.schedulers.swarm import SwarmScheduler

        return SwarmScheduler()
    raise SchedulerError(
        f"SHIPWAY_SSR_SCHEDULER={name!r} is not a scheduler (use 'docker' or 'swarm')."
    )
