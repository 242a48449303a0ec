"""The variables a deployment's build and server get: the site's own that its scope and
environment allow, and Shipway's (docs/api.md, "Variables", "System variables"). One
place, so that a build (builds/director.py) and the server started from it (runtime/)
see the same values."""

from __future__ import annotations

from urllib.parse import unquote

from deployments.models import Deployment
from sites import crypto
from sites.models import VariableEnvironment, VariableScope


def site_variables(deployment: Deployment, scope: str) -> tuple[dict[str, str], list[str]]:
    """The site's variables for the deployment's build (`scope` "build") or its server
    ("runtime"): key -> decrypted value of each whose scope is `scope` or all and whose
    environment is the deployment's (production or preview) or all. Then the value of
    every secret of the site, of every scope and environment, for logs to mask: a
    preview's log hides production's secrets too. One query."""
    variables = list(deployment.site.variables.all())
    scopes = (scope, VariableScope.ALL)
    environments = (deployment.environment, VariableEnvironment.ALL)
    env = {v.key: v.value for v in variables if v.scope in scopes and v.environment in environments}
    return env, [v.value for v in variables if v.secret]


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


__all__ = ["site_variables", "system_variables"]


def log_secrets(deployment: Deployment) -> list[str]:
    """What a log (or a mail quoting one) must never show: the site's secret variables,
    whatever their scope, and a git source's credentials (git's errors may quote its
    address)."""
    values = [v.value for v in deployment.site.variables.filter(secret=True)]
    if deployment.repository_credentials:
        userinfo = crypto.decrypt(deployment.repository_credentials)
        user, _, password = userinfo.partition(":")
        token = password or user  # `https://TOKEN@host` carries it as the user
        values += [userinfo, unquote(userinfo), token, unquote(token)]
    return values
