"""URL map: the REST API under /v1/, the admin, the API docs, sign-in."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter, SimpleRouter

from accounts.api import (
    AccountView,
    ApiKeyViewSet,
    AuditViewSet,
    InvitationViewSet,
    MembershipViewSet,
    TeamViewSet,
)
from deployments.api import DeploymentViewSet
from deployments.git_api import (
    DeployHookCallView,
    DeployHookViewSet,
    GitWebhookView,
    RepositorySecretView,
    RepositoryView,
)
from edge.tls import tls_ask
from edge.views import edge_authorize
from notify.api import WebhookViewSet
from realtime.views import RealtimeTokenView
from sites.api import SiteViewSet, VariableViewSet, framework_catalog, specification_catalog
from sites.domains_api import DomainViewSet
from usage.api import SiteUsageView


class OptionalSlashMixin:
    """The API's paths (docs/api.md) have no trailing slash; accept one too rather than redirect."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


class ApiRouter(OptionalSlashMixin, DefaultRouter):
    """The browsable root at /v1/ lists the top-level collections."""

    include_format_suffixes = False


class NestedRouter(OptionalSlashMixin, SimpleRouter):
    pass


router = ApiRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("sites", SiteViewSet, basename="site")

account_keys = NestedRouter()
account_keys.register("keys", ApiKeyViewSet, basename="api-key")

team_children = NestedRouter()
team_children.register("memberships", MembershipViewSet, basename="membership")
team_children.register("audit", AuditViewSet, basename="audit")
team_children.register("invitations", InvitationViewSet, basename="invitation")
team_children.register("webhooks", WebhookViewSet, basename="webhook")

site_children = NestedRouter()
site_children.register("variables", VariableViewSet, basename="variable")
site_children.register("deployments", DeploymentViewSet, basename="deployment")
site_children.register("domains", DomainViewSet, basename="domain")
site_children.register("hooks", DeployHookViewSet, basename="deploy-hook")

v1: list[URLPattern | URLResolver] = [
    path("account", AccountView.as_view(), name="account"),
    path("account/", include(account_keys.urls)),
    path("sites/frameworks", framework_catalog, name="framework-catalog"),
    path("sites/specifications", specification_catalog, name="specification-catalog"),
    path("teams/<str:team_id>/", include(team_children.urls)),
    path("sites/<str:site_id>/repository", RepositoryView.as_view(), name="repository"),
    path(
        "sites/<str:site_id>/repository/secret",
        RepositorySecretView.as_view(),
        name="repository-secret",
    ),
    path("sites/<str:site_id>/usage", SiteUsageView.as_view(), name="site-usage"),
    path("sites/<str:site_id>/", include(site_children.urls)),
    path("hooks/git/<str:hook_id>", GitWebhookView.as_view(), name="git-webhook"),
    path("hooks/deploy/<str:secret>", DeployHookCallView.as_view(), name="deploy-hook-call"),
    path("realtime/tokens", RealtimeTokenView.as_view(), name="realtime-token"),
    path("edge/tls-ask", tls_ask, name="edge-tls-ask"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="api-docs"),
    path("auth/", include("rest_framework.urls")),
    path("", include(router.urls)),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("admin/", admin.site.urls),
    path("edge/authorize", edge_authorize, name="edge-authorize"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("dashboard.urls")),
]

handler404 = "dashboard.views.base.not_found"
handler500 = "core.api.errors.json_server_error"
