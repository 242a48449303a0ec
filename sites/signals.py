"""Signals other parts listen to (the edge drops its cached view of a site on these)."""

from django.dispatch import Signal

# Sent (after commit) when what a site serves may have changed: activation, rollback,
# enable/disable, delete, domain changes. Argument: site_id.
site_serving_changed = Signal()
