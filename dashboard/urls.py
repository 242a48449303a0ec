"""The dashboard's pages, under `/`. Every POST is a plain form (it works without a
script) that calls one service and redirects."""

from django.urls import path

from dashboard.views import (
    activity,
    deployments,
    domains,
    git,
    invitations,
    keys,
    sites,
    teams,
    usage,
    variables,
    webhooks,
)

app_name = "dashboard"

SITE = "sites/<str:site_id>/"
DEPLOYMENT = SITE + "deployments/<str:deployment_id>/"

urlpatterns = [
    path("", sites.home, name="home"),
    path("new/", sites.site_create, name="site-create"),
    path("new/team/", teams.team_create, name="team-create"),
    # A site and its tabs.
    path(SITE, sites.site_detail, name="site"),
    path(SITE + "settings/", sites.site_settings, name="site-settings"),
    path(SITE + "delete/", sites.site_delete, name="site-delete"),
    path(SITE + "upload/", deployments.deployment_upload, name="upload"),
    path(SITE + "git/", deployments.deployment_from_git, name="deploy-git"),
    path(SITE + "repository/", git.repository_detail, name="git"),
    path(SITE + "repository/secret/", git.repository_secret, name="git-secret"),
    path(SITE + "repository/unlink/", git.repository_unlink, name="git-unlink"),
    path(SITE + "repository/hooks/", git.deploy_hook_create, name="deploy-hooks"),
    path(
        SITE + "repository/hooks/<str:hook_id>/delete/",
        git.deploy_hook_delete,
        name="deploy-hook-delete",
    ),
    path(SITE + "variables/", variables.variable_list, name="variables"),
    path(SITE + "variables/<str:variable_id>/", variables.variable_edit, name="variable"),
    path(
        SITE + "variables/<str:variable_id>/delete/",
        variables.variable_delete,
        name="variable-delete",
    ),
    path(SITE + "domains/", domains.domain_list, name="domains"),
    path(SITE + "usage/", usage.site_usage_page, name="usage"),
    path(SITE + "domains/<str:domain_id>/verify/", domains.domain_verify, name="domain-verify"),
    path(SITE + "domains/<str:domain_id>/delete/", domains.domain_delete, name="domain-delete"),
    # A deployment and its buttons.
    path(DEPLOYMENT, deployments.deployment_detail, name="deployment"),
    path(DEPLOYMENT + "activate/", deployments.deployment_activate, name="deployment-activate"),
    path(DEPLOYMENT + "cancel/", deployments.deployment_cancel, name="deployment-cancel"),
    path(DEPLOYMENT + "redeploy/", deployments.deployment_redeploy, name="deployment-redeploy"),
    path(DEPLOYMENT + "delete/", deployments.deployment_delete, name="deployment-delete"),
    # Teams.
    path("teams/<str:team_id>/", teams.team_detail, name="team"),
    path("teams/<str:team_id>/activity/", activity.team_activity, name="team-activity"),
    path("teams/<str:team_id>/rename/", teams.team_rename, name="team-rename"),
    path("teams/<str:team_id>/delete/", teams.team_delete, name="team-delete"),
    path("teams/<str:team_id>/members/", teams.member_add, name="member-add"),
    path(
        "teams/<str:team_id>/members/<str:membership_id>/",
        teams.member_update,
        name="member-update",
    ),
    path(
        "teams/<str:team_id>/members/<str:membership_id>/delete/",
        teams.member_delete,
        name="member-delete",
    ),
    path(
        "teams/<str:team_id>/invitations/<str:invitation_id>/delete/",
        teams.invitation_delete,
        name="invitation-delete",
    ),
    # An invitation's link (signed in or not).
    path("invitations/<str:token>/", invitations.invitation_detail, name="invitation"),
    # A team's outgoing webhooks (owners).
    path("teams/<str:team_id>/webhooks/", webhooks.webhook_list, name="webhooks"),
    path(
        "teams/<str:team_id>/webhooks/<str:webhook_id>/",
        webhooks.webhook_detail,
        name="webhook",
    ),
    path(
        "teams/<str:team_id>/webhooks/<str:webhook_id>/delete/",
        webhooks.webhook_delete,
        name="webhook-delete",
    ),
    path(
        "teams/<str:team_id>/webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/redeliver/",
        webhooks.delivery_redeliver,
        name="delivery-redeliver",
    ),
    # The signed-in user's API keys.
    path("account/keys/", keys.key_list, name="keys"),
    path("account/keys/<str:key_id>/delete/", keys.key_delete, name="key-delete"),
]
