"""Periodic housekeeping for sites."""

from celery import shared_task

from sites import services


@shared_task(ignore_result=True)
def recheck_domains() -> int:
    """Check again the verified custom domains that are due; returns how many."""
    return services.recheck_due()
