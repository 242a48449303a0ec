"""Signals other parts listen to (the edge drops its cached view of a site on these),
and the helper the writes send them with."""

from django.db import transaction
from django.dispatch import Signal

from sites.models import Site

# Sent (after commit) when what a site serves may have changed: activation, rollback,
# enable/disable, delete, domain changes. Argument: site_id.
site_serving_changed = Signal()

# Sent inside the transaction that deletes a site, once its rows are gone, so that what
# other parts keep for it elsewhere goes too (deployments: its stored files, after
# commit). Arguments: site_id, deployments (the site's, as they were: id and site_id).
site_deleted = Signal()


def notify_serving_changed(site_id: str) -> None:
    """After commit, tell the edges that what the site serves may have changed."""
    transaction.on_commit(lambda: site_serving_changed.send(sender=Site, site_id=site_id))
