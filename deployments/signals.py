"""Signals other parts listen to, and the helper the writes send them with."""

from django.db import transaction
from django.dispatch import Signal

from deployments.models import Deployment

# Sent after the transaction that moved a deployment to a new status commits (never
# inside it: a listener sees the change, and cannot undo or fail it). Arguments:
# deployment_id, site_id, status, error_code, environment. notify mails the site's
# owners about failed production deployments on it (packages above deployments listen;
# deployments imports none of them).
deployment_status_changed = Signal()


def notify_status_changed(deployment: Deployment) -> None:
    """After commit, announce the deployment's status as it is now."""
    fields = {
        "deployment_id": deployment.id,
        "site_id": deployment.site_id,
        "status": deployment.status,
        "error_code": deployment.error_code,
        "environment": deployment.environment,
    }
    # send_robust: a listener that fails is logged by it, never the transition.
    transaction.on_commit(
        lambda: deployment_status_changed.send_robust(sender=Deployment, **fields), robust=True
    )
