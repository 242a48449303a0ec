""" Contains all the data models used in inputs/outputs """

from .access_enum import AccessEnum
from .account import Account
from .api_key import ApiKey
from .api_key_create_request import ApiKeyCreateRequest
from .api_key_created import ApiKeyCreated
from .attempt import Attempt
from .audit_actor import AuditActor
from .audit_entry import AuditEntry
from .delivery import Delivery
from .delivery_answer import DeliveryAnswer
from .deploy_hook import DeployHook
from .deploy_hook_create_request import DeployHookCreateRequest
from .deployment import Deployment
from .deployment_environment_enum import DeploymentEnvironmentEnum
from .domain import Domain
from .domain_create_request import DomainCreateRequest
from .domain_record import DomainRecord
from .domain_status_enum import DomainStatusEnum
from .edge_tls_ask_retrieve_response_200 import EdgeTlsAskRetrieveResponse200
from .edge_tls_ask_retrieve_response_404 import EdgeTlsAskRetrieveResponse404
from .invitation import Invitation
from .invitation_status_enum import InvitationStatusEnum
from .membership import Membership
from .membership_create_request import MembershipCreateRequest
from .paginated_api_key_list import PaginatedApiKeyList
from .paginated_audit_entry_list import PaginatedAuditEntryList
from .paginated_delivery_list import PaginatedDeliveryList
from .paginated_deploy_hook_list import PaginatedDeployHookList
from .paginated_deployment_list import PaginatedDeploymentList
from .paginated_domain_list import PaginatedDomainList
from .paginated_invitation_list import PaginatedInvitationList
from .paginated_membership_list import PaginatedMembershipList
from .paginated_site_list import PaginatedSiteList
from .paginated_team_list import PaginatedTeamList
from .paginated_variable_list import PaginatedVariableList
from .paginated_webhook_list import PaginatedWebhookList
from .patched_membership_request import PatchedMembershipRequest
from .patched_site_update_request import PatchedSiteUpdateRequest
from .patched_status_request import PatchedStatusRequest
from .patched_team_request import PatchedTeamRequest
from .patched_variable_request import PatchedVariableRequest
from .patched_webhook_update_request import PatchedWebhookUpdateRequest
from .provider_enum import ProviderEnum
from .range_enum import RangeEnum
from .realtime_tokens_create_response_201 import RealtimeTokensCreateResponse201
from .redeploy_request import RedeployRequest
from .repository import Repository
from .repository_link_request import RepositoryLinkRequest
from .roles_enum import RolesEnum
from .runtime import Runtime
from .scope_enum import ScopeEnum
from .site import Site
from .site_create_request import SiteCreateRequest
from .site_links import SiteLinks
from .sites_deployments_download_retrieve_type import SitesDeploymentsDownloadRetrieveType
from .sites_deployments_list_environment import SitesDeploymentsListEnvironment
from .sites_deployments_logs_retrieve_format import SitesDeploymentsLogsRetrieveFormat
from .sites_deployments_logs_retrieve_type import SitesDeploymentsLogsRetrieveType
from .sites_deployments_uploads_destroy_response_200 import SitesDeploymentsUploadsDestroyResponse200
from .sites_deployments_uploads_retrieve_response_200 import SitesDeploymentsUploadsRetrieveResponse200
from .sites_frameworks_retrieve_response_200 import SitesFrameworksRetrieveResponse200
from .sites_specifications_retrieve_response_200 import SitesSpecificationsRetrieveResponse200
from .sites_usage_retrieve_range import SitesUsageRetrieveRange
from .state_enum import StateEnum
from .status_status_enum import StatusStatusEnum
from .team import Team
from .team_request import TeamRequest
from .trigger_enum import TriggerEnum
from .type_enum import TypeEnum
from .upload_request import UploadRequest
from .usage import Usage
from .usage_point import UsagePoint
from .usage_series import UsageSeries
from .variable import Variable
from .variable_environment_enum import VariableEnvironmentEnum
from .variable_request import VariableRequest
from .vcs_request import VcsRequest
from .webhook import Webhook
from .webhook_create_request import WebhookCreateRequest
from .webhook_created import WebhookCreated

__all__ = (
    "AccessEnum",
    "Account",
    "ApiKey",
    "ApiKeyCreated",
    "ApiKeyCreateRequest",
    "Attempt",
    "AuditActor",
    "AuditEntry",
    "Delivery",
    "DeliveryAnswer",
    "DeployHook",
    "DeployHookCreateRequest",
    "Deployment",
    "DeploymentEnvironmentEnum",
    "Domain",
    "DomainCreateRequest",
    "DomainRecord",
    "DomainStatusEnum",
    "EdgeTlsAskRetrieveResponse200",
    "EdgeTlsAskRetrieveResponse404",
    "Invitation",
    "InvitationStatusEnum",
    "Membership",
    "MembershipCreateRequest",
    "PaginatedApiKeyList",
    "PaginatedAuditEntryList",
    "PaginatedDeliveryList",
    "PaginatedDeployHookList",
    "PaginatedDeploymentList",
    "PaginatedDomainList",
    "PaginatedInvitationList",
    "PaginatedMembershipList",
    "PaginatedSiteList",
    "PaginatedTeamList",
    "PaginatedVariableList",
    "PaginatedWebhookList",
    "PatchedMembershipRequest",
    "PatchedSiteUpdateRequest",
    "PatchedStatusRequest",
    "PatchedTeamRequest",
    "PatchedVariableRequest",
    "PatchedWebhookUpdateRequest",
    "ProviderEnum",
    "RangeEnum",
    "RealtimeTokensCreateResponse201",
    "RedeployRequest",
    "Repository",
    "RepositoryLinkRequest",
    "RolesEnum",
    "Runtime",
    "ScopeEnum",
    "Site",
    "SiteCreateRequest",
    "SiteLinks",
    "SitesDeploymentsDownloadRetrieveType",
    "SitesDeploymentsListEnvironment",
    "SitesDeploymentsLogsRetrieveFormat",
    "SitesDeploymentsLogsRetrieveType",
    "SitesDeploymentsUploadsDestroyResponse200",
    "SitesDeploymentsUploadsRetrieveResponse200",
    "SitesFrameworksRetrieveResponse200",
    "SitesSpecificationsRetrieveResponse200",
    "SitesUsageRetrieveRange",
    "StateEnum",
    "StatusStatusEnum",
    "Team",
    "TeamRequest",
    "TriggerEnum",
    "TypeEnum",
    "UploadRequest",
    "Usage",
    "UsagePoint",
    "UsageSeries",
    "Variable",
    "VariableEnvironmentEnum",
    "VariableRequest",
    "VcsRequest",
    "Webhook",
    "WebhookCreated",
    "WebhookCreateRequest",
)
