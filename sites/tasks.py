"""Periodic housekeeping for sites."""

from celery import shared_task

from sites import domains


@shared_task(ignore_result=True)
def recheck_domains() -> int:
    """Check again the verified custom domains that are due; returns how many."""
    return domains.recheck_due()
