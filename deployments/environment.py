"""The variables Shipway gives every build and every server of a deployment, besides the
site's own (docs/api.md, "System variables"). One function, so that a build
(builds/director.py) and the server started from it (runtime/) see the same values."""

from __future__ import annotations

from deployments.models import Deployment


def system_variables(deployment: Deployment) -> dict[str, str]:
    """SHIPWAY_SITE_ID, SHIPWAY_DEPLOYMENT_ID, SHIPWAY_DEPLOYMENT_URL, SHIPWAY_ENVIRONMENT,
    and for a git source SHIPWAY_GIT_BRANCH (when built from a branch) and
    SHIPWAY_GIT_COMMIT_SHA (once the commit is known: a push names it, a fetch finds it)."""
    variables = {
        "SHIPWAY_SITE_ID": deployment.site_id,
        "SHIPWAY_DEPLOYMENT_ID": deployment.id,
        "SHIPWAY_DEPLOYMENT_URL": deployment.url,
        "SHIPWAY_ENVIRONMENT": deployment.environment,
    }
    if deployment.repository:
        if deployment.branch:
            variables["SHIPWAY_GIT_BRANCH"] = deployment.branch
        if deployment.commit_hash:
            variables["SHIPWAY_GIT_COMMIT_SHA"] = deployment.commit_hash
    return variables


__all__ = ["system_variables"]
