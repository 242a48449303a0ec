"""The dashboard's forms: they check the shape of the input; the services check the rest
(their Invalid lands back on these forms, see views.base.showing_refusals)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import QueryDict

from accounts import audit
from accounts.models import Role
from core.ids import client_id_validator, site_id_validator
from sites.frameworks import FRAMEWORKS
from sites.models import (
    MAX_BUILD_TIMEOUT,
    MAX_KEEP_DEPLOYMENTS,
    MAX_VARIABLE_VALUE,
    Access,
    Adapter,
    Provider,
    Repository,
    VariableEnvironment,
    VariableScope,
)
from sites.runtimes import RUNTIMES
from sites.serializers import RESERVED_SITE_IDS
from sites.specifications import SPECIFICATIONS

FRAMEWORK_CHOICES = [(f.key, f.name) for f in FRAMEWORKS.values()]
RUNTIME_CHOICES = [(name, f"Node.js {r.major}") for name, r in RUNTIMES.items()]


def _memory(megabytes: int) -> str:
    return f"{megabytes / 1024:g} GB" if megabytes >= 1024 else f"{megabytes} MB"


SPECIFICATION_CHOICES = [
    (s.slug, f"{s.cpus:g} vCPU, {_memory(s.memory)}") for s in SPECIFICATIONS.values()
]
COMMANDS = ("install_command", "build_command", "output_directory")
COMMAND_HELP = {
    "install_command": "Runs first, e.g. npm install.",
    "build_command": "Makes the output, e.g. npm run build.",
    "output_directory": "Where the build leaves the files to serve, relative to the root.",
}


def _text(label: str, *, required: bool = False, max_length: int = 1024, **kw: Any) -> Any:
    return forms.CharField(label=label, required=required, max_length=max_length, **kw)


class _BuildFields(forms.Form):
    """Where the project is and how it builds: the same fields on create and settings."""

    root_directory = _text(
        "Root directory", max_length=256, help_text="Where the project is inside the archive."
    )
    install_command = _text("Install command", help_text=COMMAND_HELP["install_command"])
    build_command = _text("Build command", help_text=COMMAND_HELP["build_command"])
    output_directory = _text(
        "Output directory", max_length=256, help_text=COMMAND_HELP["output_directory"]
    )


class SiteCreateForm(_BuildFields):
    team = forms.ChoiceField(label="Team")
    name = _text("Name", required=True, max_length=128)
    site_id = _text(
        "Site id",
        max_length=36,
        validators=[site_id_validator],
        help_text="Part of the site's address. Lowercase letters, digits and '-' (not "
        "two in a row); leave blank for a generated one.",
    )
    framework = forms.ChoiceField(label="Framework", choices=FRAMEWORK_CHOICES, initial="auto")
    adapter = forms.ChoiceField(
        label="Adapter",
        choices=[("", "The framework's default"), *Adapter.choices],
        required=False,
    )
    # Set by the page's script once it has filled the commands from the framework: then a
    # blank field means "no command", not "the framework's default".
    commands_filled = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, teams: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["team"]).choices = teams  # declared above

    def clean_site_id(self) -> str:
        value = self.cleaned_data["site_id"].strip()
        if value in RESERVED_SITE_IDS:  # the API's catalog paths
            raise forms.ValidationError(f"'{value}' is reserved; choose another id.")
        return value

    def site_fields(self) -> dict[str, Any]:
        """The settings for `site_create`: commands left blank are left out (the
        framework's defaults apply) unless the script filled them in."""
        data = self.cleaned_data
        fields = {name: data[name] for name in ("name", "framework", "root_directory")}
        if data["adapter"]:
            fields["adapter"] = data["adapter"]
        for name in COMMANDS:
            if data[name] or data["commands_filled"]:
                fields[name] = data[name]
        return fields


class SiteSettingsForm(_BuildFields):
    name = _text("Name", required=True, max_length=128)
    framework = forms.ChoiceField(label="Framework", choices=FRAMEWORK_CHOICES)
    adapter = forms.ChoiceField(label="Adapter", choices=Adapter.choices)
    build_runtime = forms.ChoiceField(label="Build runtime", choices=RUNTIME_CHOICES)
    fallback_file = _text(
        "Fallback file",
        max_length=256,
        help_text="Served for paths with no file (index.html for single-page apps).",
    )
    start_command = _text(
        "Start command",
        help_text="Server-rendered (ssr) sites: starts the server in the packaged server's "
        "directory; blank for the framework's default.",
    )
    timeout = forms.IntegerField(
        label="Build timeout (seconds)", min_value=1, max_value=MAX_BUILD_TIMEOUT
    )
    specification = forms.ChoiceField(label="Build size", choices=SPECIFICATION_CHOICES)
    keep_deployments = forms.IntegerField(
        label="Deployments kept",
        required=False,
        min_value=1,
        max_value=MAX_KEEP_DEPLOYMENTS,
        help_text="Ready deployments kept to roll back to, besides the active one and each "
        "branch's newest preview; older ones are deleted. Blank: the platform's default.",
    )
    access = forms.ChoiceField(label="Who may open it", choices=Access.choices)
    enabled = forms.BooleanField(
        label="Serve this site", required=False, help_text="When off, its addresses answer 404."
    )

    def changes(self, site: Any) -> dict[str, Any]:
        """Only what differs from the site: a new framework then brings its defaults for
        the commands left as they were (site_update's rule)."""
        return {
            name: value for name, value in self.cleaned_data.items() if value != getattr(site, name)
        }


class UploadForm(forms.Form):
    code = forms.FileField(
        label="Archive", help_text="A .tar.gz, .tgz or .zip of your project's source."
    )
    activate = forms.BooleanField(
        label="Serve it when the build is ready", required=False, initial=True
    )

    def clean_code(self) -> Any:
        code = self.cleaned_data["code"]
        if not code.name.lower().endswith((".tar.gz", ".tgz", ".zip")):
            raise forms.ValidationError("Choose a .tar.gz, .tgz or .zip archive.")
        return code


class GitDeployForm(forms.Form):
    repository = forms.CharField(
        label="Repository",
        max_length=2048,
        help_text="An https:// address of a git repository. For a private one, put a token "
        "in it (https://TOKEN@host/owner/repo.git): it is never shown again.",
    )
    reference_type = forms.ChoiceField(
        label="Deploy a",
        choices=[("branch", "Branch"), ("tag", "Tag"), ("commit", "Commit")],
        initial="branch",
    )
    reference = forms.CharField(label="Name or commit", max_length=255, initial="main")
    activate = forms.BooleanField(
        label="Serve it when the build is ready", required=False, initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its ids must differ from the upload form's on the same page (both have `activate`).
        kwargs.setdefault("auto_id", "git_%s")
        super().__init__(*args, **kwargs)


class RedeployForm(forms.Form):
    clear_cache = forms.BooleanField(label="Without the build cache", required=False)


class VariableForm(forms.Form):
    key = _text("Key", required=True, max_length=255)
    value = forms.CharField(
        label="Value",
        required=False,
        strip=False,
        max_length=MAX_VARIABLE_VALUE,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "autocomplete": "off"}),
    )
    scope = forms.ChoiceField(label="Available", choices=VariableScope.choices, initial="all")
    environment = forms.ChoiceField(
        label="Environment",
        choices=VariableEnvironment.choices,
        initial="all",
        help_text="Which deployments get it: production ones, previews, or both.",
    )
    secret = forms.BooleanField(
        label="Secret",
        required=False,
        help_text="Never shown again, and hidden from build logs.",
    )

    def __init__(self, *args: Any, variable: Any = None, **kwargs: Any) -> None:
        self.variable = variable
        if variable is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "key": variable.key,
                "scope": variable.scope,
                "environment": variable.environment,
                "secret": variable.secret,
                # A secret's value never goes back to the browser, not even here.
                "value": "" if variable.secret else variable.value,
            }
        super().__init__(*args, **kwargs)
        if variable is not None and variable.secret:
            self.fields["value"].help_text = "Leave blank to keep the current value."
            self.fields["value"].widget.attrs["placeholder"] = "•••••••• (unchanged)"
            self.fields["secret"].disabled = True
            self.fields["secret"].help_text = "A secret cannot be made public again."

    def forget_secret_input(self) -> None:
        """After a failed POST of a secret, show the form without the typed value."""
        if self.is_bound and (
            self.data.get("secret") or (self.variable is not None and self.variable.secret)
        ):
            data = cast(QueryDict, self.data).copy()  # a POST's: a QueryDict, immutable
            data["value"] = ""
            self.data = data

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields: dict[str, Any] = {}
        variable = self.variable
        for name in ("key", "scope", "environment", "secret"):
            if data[name] != getattr(variable, name):
                fields[name] = data[name]
        if variable.secret:
            if data["value"]:
                fields["value"] = data["value"]
        elif data["value"] != variable.value:
            fields["value"] = data["value"]
        return fields


class TeamForm(forms.Form):
    name = _text("Team name", required=True, max_length=128)
    team_id = _text(
        "Team id",
        max_length=36,
        validators=[client_id_validator],
        help_text="Optional. Lowercase letters, digits and '-'.",
    )


class TeamRenameForm(forms.Form):
    name = _text("Team name", required=True, max_length=128)


class MemberAddForm(forms.Form):
    identifier = _text(
        "Username or email",
        required=True,
        max_length=254,
        help_text="An email address with no account yet gets an invitation by mail.",
    )
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.DEVELOPER)


class InvitationSignUpForm(forms.Form):
    username = _text("Username", required=True, max_length=150)
    password = forms.CharField(
        label="Password", strip=False, max_length=1024, widget=forms.PasswordInput
    )
    password_again = forms.CharField(
        label="Password again", strip=False, max_length=1024, widget=forms.PasswordInput
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


KEY_LIFETIMES = [
    ("", "Never"),
    ("7", "In 7 days"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
]


class ApiKeyForm(forms.Form):
    name = _text(
        "Name", required=True, max_length=128, help_text="Where it is used, e.g. “CI deploys”."
    )
    expires_in = forms.TypedChoiceField(
        label="Expires",
        choices=KEY_LIFETIMES,
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
    )
    team = forms.ChoiceField(
        label="Reaches",
        required=False,
        help_text="One team's sites only, or everything you can reach.",
    )
    read_only = forms.BooleanField(
        label="Read-only",
        required=False,
        help_text="It can read sites, deployments and logs, and change nothing.",
    )

    def __init__(self, *args: Any, teams: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = cast(forms.ChoiceField, self.fields["team"])  # declared above
        team.choices = [("", "All your teams"), *teams]


class DomainForm(forms.Form):
    domain = _text("Domain", required=True, max_length=253, help_text="e.g. www.example.com")


class RepositoryForm(forms.Form):
    """The link to a site's repository; bound to the linked one, it edits it (a blank
    token then keeps the stored one)."""

    url = _text(
        "Repository",
        required=True,
        help_text="Its https:// clone address, without credentials: give a token below.",
    )
    provider = forms.ChoiceField(label="Provider", choices=Provider.choices)
    production_branch = _text(
        "Production branch",
        required=True,
        max_length=255,
        initial="main",
        help_text="Pushes to it go live; pushes to other branches build previews.",
    )
    token = forms.CharField(
        label="Access token",
        required=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="For a private repository: one that may read it. Never shown again.",
    )
    remove_token = forms.BooleanField(label="Remove the stored token", required=False)
    watch_paths = forms.CharField(
        label="Watched paths",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One per line, e.g. apps/web: only pushes that change a file under one "
        "of them build. Empty: every push builds.",
    )
    build_tags = forms.BooleanField(
        label="Build pushed tags", required=False, help_text="Each as a preview."
    )
    remove_deleted_branches = forms.BooleanField(
        label="Prune deleted branches",
        required=False,
        help_text="Deleting a branch removes its previews.",
    )

    def __init__(self, *args: Any, repository: Repository | None = None, **kwargs: Any) -> None:
        self.repository = repository
        if repository is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "url": repository.url,
                "provider": repository.provider,
                "production_branch": repository.production_branch,
                "watch_paths": "\n".join(repository.watch_paths),
                "build_tags": repository.build_tags,
                "remove_deleted_branches": repository.remove_deleted_branches,
            }
        super().__init__(*args, **kwargs)
        if repository is not None and repository.encrypted_token:
            self.fields["token"].help_text = "A token is stored: leave blank to keep it."
            self.fields["token"].widget.attrs["placeholder"] = "•••••••• (unchanged)"
        else:
            del self.fields["remove_token"]  # nothing to remove

    def link_fields(self) -> dict[str, Any]:
        """The arguments of `repository_link`: a blank token keeps the stored one (None),
        "remove" clears it (""); watched paths one per line, blank lines dropped."""
        data = self.cleaned_data
        token = "" if data.get("remove_token") else data["token"] or None
        paths = [line.strip() for line in data["watch_paths"].splitlines() if line.strip()]
        fields = ("url", "provider", "production_branch", "build_tags", "remove_deleted_branches")
        return {name: data[name] for name in fields} | {"token": token, "watch_paths": paths}


class DeployHookForm(forms.Form):
    name = _text("Name", required=True, max_length=128, help_text="Who calls it, e.g. “CMS”.")
    branch = _text("Branch", required=True, max_length=255, initial="main")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its ids must differ from the link form's on the same page.
        kwargs.setdefault("auto_id", "hook_%s")
        super().__init__(*args, **kwargs)


class ActivityFilterForm(forms.Form):
    """The Activity page's filters (GET): one resource, one action, or neither."""

    resource = forms.RegexField(
        regex=audit.RESOURCE_PATTERN,
        required=False,
        max_length=32,
        error_messages={"invalid": "A resource is a name such as “site” or “api_key”."},
        widget=forms.TextInput(attrs={"placeholder": "site", "list": "audit-resources"}),
    )
    action = forms.RegexField(
        regex=audit.ACTION_PATTERN,
        required=False,
        max_length=64,
        error_messages={"invalid": "An action is “resource.verb”, such as “site.update”."},
        widget=forms.TextInput(attrs={"placeholder": "site.update"}),
    )


class WebhookForm(forms.Form):
    """A team webhook: the address, the events (one name a line, `*` for one segment)."""

    url = _text(
        "Address",
        required=True,
        max_length=2048,
        help_text="Receives a signed JSON POST for each event (http:// or https://).",
    )
    events = forms.CharField(
        label="Events",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        max_length=20 * 201,
        initial="sites.*.deployments.*.update",
        help_text="One event name a line; * stands for one segment, e.g. "
        "sites.*.deployments.*.update or sites.blog.*.",
    )
    secret = _text(
        "Secret",
        max_length=256,
        help_text="Signs every delivery. Leave empty for a random one (shown once).",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)

    def clean_events(self) -> list[str]:
        text = self.cleaned_data["events"]
        return [line.strip() for line in text.splitlines() if line.strip()]
