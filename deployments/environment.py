"""The variables Shipway gives every build and server of a deployment besides the site's
own (docs/api.md, "Variables"): which site and deployment this is, where it answers,
whether it was made to go live, and for git sources the branch and commit."""

from __future__ import annotations

from deployments.models import Deployment, SourceType


def system_variables(deployment: Deployment) -> dict[str, str]:
    """SHIPWAY_SITE_ID, SHIPWAY_DEPLOYMENT_ID, SHIPWAY_DEPLOYMENT_URL, SHIPWAY_ENVIRONMENT
    ("production" for a deployment made to go live, "preview" otherwise) and, for git
    sources, SHIPWAY_GIT_BRANCH (when a branch was deployed) and SHIPWAY_GIT_COMMIT_SHA."""
    variables = {
        "SHIPWAY_SITE_ID": deployment.site_id,
        "SHIPWAY_DEPLOYMENT_ID": deployment.id,
        "SHIPWAY_DEPLOYMENT_URL": deployment.url,
        "SHIPWAY_ENVIRONMENT": "production" if deployment.activate else "preview",
    }
    if deployment.source_type == SourceType.VCS:
        if deployment.reference_type == "branch":
            variables["SHIPWAY_GIT_BRANCH"] = deployment.reference
        if deployment.commit_hash:
            variables["SHIPWAY_GIT_COMMIT_SHA"] = deployment.commit_hash
    return variables
