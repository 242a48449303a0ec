"""Celery tasks of usage: the periodic roll-up (beat, SHIPWAY_USAGE_ROLLUP_SECONDS)."""

from celery import shared_task

from usage.services import usage_roll_up


@shared_task(ignore_result=True)
def roll_up_usage() -> int:
    """Move the edge's counts and the build figures into the database; the batches added."""
    done = usage_roll_up()
    return done.batches if done is not None else 0
