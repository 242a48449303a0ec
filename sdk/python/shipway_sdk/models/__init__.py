""" Contains all the data models used in inputs/outputs """

from .access_enum import AccessEnum
from .account import Account
from .api_key import ApiKey
from .api_key_create_request import ApiKeyCreateRequest
from .api_key_created import ApiKeyCreated
from .attempt import Attempt
from .audit_actor import AuditActor
from .audit_entry import AuditEntry
from .default_adapter_enum import DefaultAdapterEnum
from .deliveries_list import DeliveriesList
from .delivery import Delivery
from .delivery_answer import DeliveryAnswer
from .deploy_hook import DeployHook
from .deploy_hook_create_request import DeployHookCreateRequest
from .deployment import Deployment
from .deployment_environment_enum import DeploymentEnvironmentEnum
from .deployment_status_enum import DeploymentStatusEnum
from .deployments_list import DeploymentsList
from .domain import Domain
from .domain_create_request import DomainCreateRequest
from .domain_record import DomainRecord
from .domain_status_enum import DomainStatusEnum
from .domains_list import DomainsList
from .entries_list import EntriesList
from .error import Error
from .error_fields import ErrorFields
from .framework import Framework
from .framework_adapter import FrameworkAdapter
from .frameworks_list import FrameworksList
from .hooks_list import HooksList
from .invitation import Invitation
from .invitation_status_enum import InvitationStatusEnum
from .invitations_list import InvitationsList
from .keys_list import KeysList
from .membership import Membership
from .membership_create_request import MembershipCreateRequest
from .memberships_list import MembershipsList
from .patched_membership_request import PatchedMembershipRequest
from .patched_site_update_request import PatchedSiteUpdateRequest
from .patched_status_request import PatchedStatusRequest
from .patched_team_request import PatchedTeamRequest
from .patched_variable_request import PatchedVariableRequest
from .patched_webhook_update_request import PatchedWebhookUpdateRequest
from .provider_enum import ProviderEnum
from .range_enum import RangeEnum
from .realtime_token import RealtimeToken
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
from .sites_list import SitesList
from .sites_usage_retrieve_range import SitesUsageRetrieveRange
from .source_type_enum import SourceTypeEnum
from .specification import Specification
from .specifications_list import SpecificationsList
from .state_enum import StateEnum
from .status_status_enum import StatusStatusEnum
from .team import Team
from .team_request import TeamRequest
from .teams_list import TeamsList
from .tls_allowed import TlsAllowed
from .trigger_enum import TriggerEnum
from .type_enum import TypeEnum
from .upload_request import UploadRequest
from .upload_state import UploadState
from .usage import Usage
from .usage_point import UsagePoint
from .usage_series import UsageSeries
from .variable import Variable
from .variable_environment_enum import VariableEnvironmentEnum
from .variable_request import VariableRequest
from .variables_list import VariablesList
from .vcs_request import VcsRequest
from .webhook import Webhook
from .webhook_create_request import WebhookCreateRequest
from .webhook_created import WebhookCreated
from .webhooks_list import WebhooksList

__all__ = (
    "AccessEnum",
    "Account",
    "ApiKey",
    "ApiKeyCreated",
    "ApiKeyCreateRequest",
    "Attempt",
    "AuditActor",
    "AuditEntry",
    "DefaultAdapterEnum",
    "DeliveriesList",
    "Delivery",
    "DeliveryAnswer",
    "DeployHook",
    "DeployHookCreateRequest",
    "Deployment",
    "DeploymentEnvironmentEnum",
    "DeploymentsList",
    "DeploymentStatusEnum",
    "Domain",
    "DomainCreateRequest",
    "DomainRecord",
    "DomainsList",
    "DomainStatusEnum",
    "EntriesList",
    "Error",
    "ErrorFields",
    "Framework",
    "FrameworkAdapter",
    "FrameworksList",
    "HooksList",
    "Invitation",
    "InvitationsList",
    "InvitationStatusEnum",
    "KeysList",
    "Membership",
    "MembershipCreateRequest",
    "MembershipsList",
    "PatchedMembershipRequest",
    "PatchedSiteUpdateRequest",
    "PatchedStatusRequest",
    "PatchedTeamRequest",
    "PatchedVariableRequest",
    "PatchedWebhookUpdateRequest",
    "ProviderEnum",
    "RangeEnum",
    "RealtimeToken",
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
    "SitesList",
    "SitesUsageRetrieveRange",
    "SourceTypeEnum",
    "Specification",
    "SpecificationsList",
    "StateEnum",
    "StatusStatusEnum",
    "Team",
    "TeamRequest",
    "TeamsList",
    "TlsAllowed",
    "TriggerEnum",
    "TypeEnum",
    "UploadRequest",
    "UploadState",
    "Usage",
    "UsagePoint",
    "UsageSeries",
    "Variable",
    "VariableEnvironmentEnum",
    "VariableRequest",
    "VariablesList",
    "VcsRequest",
    "Webhook",
    "WebhookCreated",
    "WebhookCreateRequest",
    "WebhooksList",
)
