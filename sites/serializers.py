"""The API's serializers for sites, their variables and their custom domains."""

from typing import Any, cast

from rest_framework import serializers

from core.api.fields import (
    ReadsAsNullCharField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    iso_datetime,
)
from core.ids import site_id_validator
from sites import domains
from sites.models import (
    MAX_KEEP_DEPLOYMENTS,
    MAX_VARIABLE_VALUE,
    Access,
    Domain,
    DomainStatus,
    Site,
    Variable,
    VariableEnvironment,
    VariableScope,
)

# Ids that name catalog endpoints under /v1/sites/ and so cannot be site ids.
RESERVED_SITE_IDS = frozenset({"frameworks", "specifications"})


class SiteSerializer(serializers.Serializer):
    """A site as the API shows it (docs/api.md, "Sites")."""

    id = serializers.CharField(read_only=True)
    name = StrictCharField(max_length=128)
    teamId = serializers.CharField(source="team_id", read_only=True)
    framework = StrictCharField(max_length=32)
    adapter = StrictCharField(max_length=16, required=False)
    buildRuntime = StrictCharField(source="build_runtime", max_length=32, required=False)
    installCommand = StrictCharField(
        source="install_command", max_length=1024, required=False, allow_blank=True
    )
    buildCommand = StrictCharField(
        source="build_command", max_length=1024, required=False, allow_blank=True
    )
    outputDirectory = StrictCharField(
        source="output_directory", max_length=256, required=False, allow_blank=True
    )
    fallbackFile = StrictCharField(
        source="fallback_file", max_length=256, required=False, allow_blank=True
    )
    startCommand = StrictCharField(
        source="start_command",
        max_length=1024,
        required=False,
        allow_blank=True,
        help_text="ssr: what starts the server, run in the packaged server's directory "
        "(the framework's default when omitted).",
    )
    rootDirectory = StrictCharField(
        source="root_directory", max_length=256, required=False, allow_blank=True
    )
    timeout = StrictIntegerField(required=False, min_value=1, max_value=3600)
    keepDeployments = StrictIntegerField(
        source="keep_deployments",
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_KEEP_DEPLOYMENTS,
        help_text="Ready deployments kept besides the active one and each branch's newest "
        "preview; older ones are deleted. null: the platform's default "
        "(SHIPWAY_KEEP_DEPLOYMENTS).",
    )
    specification = StrictCharField(max_length=32, required=False)
    enabled = StrictBooleanField(required=False)
    access = serializers.ChoiceField(
        choices=Access.choices,
        required=False,
        help_text="public; previews (deployment addresses need team sign-in); team (all).",
    )
    deploymentId = serializers.CharField(source="deployment_id", read_only=True, allow_null=True)
    url = serializers.CharField(read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    links = serializers.SerializerMethodField(
        help_text="The site's collections, so the browsable API can be walked."
    )

    def get_links(self, site: Site) -> dict[str, str]:
        origin = self.context.get("origin")
        if origin is None:
            request = self.context.get("request")
            origin = request.build_absolute_uri("/")[:-1] if request is not None else ""
            # Once per response, not once per site. cast: DRF types the context as a
            # Mapping, but keeps the dict it was given (get_serializer_context's, or {}).
            cast(dict[str, Any], self.context)["origin"] = origin
        base = f"{origin}/v1/sites/{site.id}"
        return {name: f"{base}/{name}" for name in ("deployments", "variables", "domains")}

    def to_representation(self, site: Site) -> dict[str, Any]:
        """The fields above, read directly: lists render 25 sites per request and DRF's
        generic field walk cost about half a millisecond per site (bench/RESULTS.md)."""
        return {
            "id": site.id,
            "name": site.name,
            "teamId": site.team_id,
            "framework": site.framework,
            "adapter": site.adapter,
            "buildRuntime": site.build_runtime,
            "installCommand": site.install_command,
            "buildCommand": site.build_command,
            "outputDirectory": site.output_directory,
            "fallbackFile": site.fallback_file,
            "startCommand": site.start_command,
            "rootDirectory": site.root_directory,
            "timeout": site.timeout,
            "keepDeployments": site.keep_deployments,
            "specification": site.specification,
            "enabled": site.enabled,
            "access": site.access,
            "deploymentId": site.deployment_id,
            "url": site.url,
            "createdAt": iso_datetime(site.created_at),
            "updatedAt": iso_datetime(site.updated_at),
            "links": self.get_links(site),
        }


class SiteCreateSerializer(SiteSerializer):
    siteId = StrictCharField(required=False, max_length=36, validators=[site_id_validator])
    teamId = StrictCharField(max_length=36)

    def validate_siteId(self, value: str) -> str:
        if value in RESERVED_SITE_IDS:
            raise serializers.ValidationError(f"'{value}' is reserved; choose another id.")
        return value


class SiteUpdateSerializer(SiteSerializer):
    teamId = StrictCharField(required=False, max_length=36)

    def validate_teamId(self, value: str) -> str:
        # cast: only SiteViewSet.partial_update validates this, made with the site.
        if value != cast(Site, self.instance).team_id:
            raise serializers.ValidationError("A site's team cannot be changed.")
        return value


class VariableSerializer(serializers.Serializer):
    """A variable; a secret's value reads as null and is never sent back."""

    id = serializers.CharField(read_only=True)
    siteId = serializers.CharField(source="site_id", read_only=True)
    key = StrictCharField(max_length=255)
    value = ReadsAsNullCharField(
        max_length=MAX_VARIABLE_VALUE,
        allow_blank=True,
        trim_whitespace=False,
        help_text="A secret's reads as null.",
    )
    secret = StrictBooleanField(required=False)
    scope = serializers.ChoiceField(choices=VariableScope.choices, required=False)
    environment = serializers.ChoiceField(
        choices=VariableEnvironment.choices,
        default=VariableEnvironment.ALL,
        help_text="Which deployments get it: production ones, previews, or all.",
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def to_representation(self, instance: Variable) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.secret:
            data["value"] = None
        return data


class DomainRecordSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="TXT, CNAME, A or AAAA.")
    name = serializers.CharField()
    value = serializers.CharField()


class DomainSerializer(serializers.Serializer):
    """A custom domain as the API shows it, with the DNS records that verify it."""

    id = serializers.CharField(read_only=True)
    siteId = serializers.CharField(source="site_id", read_only=True)
    domain = serializers.CharField(read_only=True, help_text="Lowercase ASCII (IDNA) form.")
    status = serializers.ChoiceField(choices=DomainStatus.choices, read_only=True)
    verified = serializers.BooleanField(read_only=True)
    verifiedAt = serializers.DateTimeField(source="verified_at", read_only=True, allow_null=True)
    lastCheckedAt = serializers.DateTimeField(
        source="last_checked_at", read_only=True, allow_null=True
    )
    lastError = serializers.CharField(
        source="last_error",
        read_only=True,
        allow_null=True,
        help_text="Why the last check failed (null when it passed or none ran).",
    )
    records = DomainRecordSerializer(
        many=True,
        read_only=True,
        help_text="Add the TXT record, and the CNAME or the A/AAAA records, then verify.",
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def to_representation(self, domain: Domain) -> dict[str, Any]:
        return {
            "id": domain.id,
            "siteId": domain.site_id,
            "domain": domain.domain,
            "status": domain.status,
            "verified": domain.verified,
            "verifiedAt": iso_datetime(domain.verified_at),
            "lastCheckedAt": iso_datetime(domain.last_checked_at),
            "lastError": domain.last_error or None,
            "records": domains.domain_records(domain),
            "createdAt": iso_datetime(domain.created_at),
            "updatedAt": iso_datetime(domain.updated_at),
        }


class DomainCreateSerializer(serializers.Serializer):
    domain = StrictCharField(
        max_length=1024, help_text="e.g. www.example.com (Unicode names are stored in IDNA)."
    )
