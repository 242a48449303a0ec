"""The audit matrix: every public function of every services module writes its audit
entry, or is exempt with a reason.

`test_every_writer_is_in_the_matrix` finds the functions by introspection (every module
named `services` or `*_services` in the project's packages), so a new writer that is in
neither `CASES` nor `EXEMPT` fails the suite. Each case calls its function on real data
(as the owner from 203.0.113.7, or as the system) and checks the one entry it must
write: its action, actor, resource id, team and, for updates, the exact diff.

To add a writer: one line in `CASES` (how to call it, the action, the id it names, the
data it must record) or in `EXEMPT` (why it needs no entry). docs/architecture.md,
"Audit log".
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts import audit
from accounts import services as account_services
from accounts.models import AuditEntry, Role
from deployments import git_services
from deployments import services as deployment_services
from deployments.models import Deployment, Status
from deployments.webhooks import BRANCH, Push, Received
from notify import services as notify_services
from notify.models import WebhookDelivery
from sites import services as site_services
from sites.models import Domain, DomainStatus, Variable
from tests.archives import tar_gz, upload
from tests.factories import make_site, make_team, make_user
from tests.sites.test_domains import LoopbackDns

pytestmark = pytest.mark.django_db

# The project's packages: import-linter's root packages (a new package is searched too).
_PYPROJECT = tomllib.loads((Path(settings.BASE_DIR) / "pyproject.toml").read_text())
PACKAGES: list[str] = _PYPROJECT["tool"]["importlinter"]["root_packages"]
IP = "203.0.113.7"
HOOK_URL = "https://93.184.216.34/hooks/T0/B0/the-receivers-secret"  # an IP: no DNS
URL = "https://git.example.com/team/site.git"
ARCHIVE = {"index.html": "<h1>hello</h1>"}


def service_functions() -> dict[str, Callable[..., Any]]:
    """`module.function` -> function, for every public function defined in a services
    module of the project."""
    found: dict[str, Callable[..., Any]] = {}
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            leaf = info.name.rsplit(".", 1)[-1]
            if leaf != "services" and not leaf.endswith("_services"):
                continue
            module = importlib.import_module(info.name)
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if function.__module__ == module.__name__ and not name.startswith("_"):
                    found[f"{info.name}.{name}"] = function
    return found


# -- the objects the cases act on -----------------------------------------------------


class Scene:
    """A team `acme` (owner `owner`, a developer) with a static site `blog`; everything
    else is made on first use. Made as the system, before the case runs."""

    def __init__(self, dns: LoopbackDns) -> None:
        self.dns = dns
        self.owner = make_user("owner")
        self.team = make_team(self.owner, team_id="acme", name="Acme")
        self.developer = make_user("dev")
        account_services.membership_create(team=self.team, user=self.developer, role="developer")
        self.site = make_site(self.team, "blog", name="Blog")

    @cached_property
    def dev_membership(self) -> Any:
        return self.team.memberships.select_related("team", "user").get(user=self.developer)

    @cached_property
    def variable(self) -> Variable:
        return site_services.variable_create(site=self.site, key="TOKEN", value="old-secret")

    @cached_property
    def key(self) -> Any:
        return account_services.api_key_create(user=self.owner, name="ci", team=self.team)[0]

    @cached_property
    def domain(self) -> Domain:
        return site_services.domain_create(site=self.site, domain="www.example.com")

    def upload(self, activate: bool = True) -> Deployment:
        """A waiting deployment (its build is queued on a commit that never comes)."""
        return deployment_services.deployment_create_from_upload(
            site=self.site, archive=upload(tar_gz(ARCHIVE)), activate=activate
        )

    def building(self, activate: bool = True) -> Deployment:
        deployment = self.upload(activate)
        for status in (Status.PROCESSING, Status.BUILDING):
            deployment_services.deployment_transition(deployment.id, status)
        return deployment

    @cached_property
    def ready(self) -> Deployment:
        """Ready and not active."""
        deployment = self.building(activate=False)
        deployment_services.deployment_transition(deployment.id, Status.READY)
        deployment.refresh_from_db()
        return deployment

    @cached_property
    def repository(self) -> Any:
        return git_services.repository_link(site=self.site, url=URL).repository

    @cached_property
    def hook(self) -> tuple[Any, str]:
        self.repository  # noqa: B018  # a hook needs a linked repository
        return git_services.deploy_hook_create(site=self.site, name="nightly", branch="main")

    @cached_property
    def invitation(self) -> tuple[Any, str]:
        return account_services.invitation_create(
            team=self.team, email="new@example.com", role=Role.DEVELOPER, invited_by=self.owner
        )

    @cached_property
    def webhook(self) -> Any:
        return notify_services.webhook_create(
            team=self.team, url=HOOK_URL, events=["sites.*.update"]
        )[0]

    @cached_property
    def delivery(self) -> WebhookDelivery:
        return notify_services.webhook_delivery_create(
            webhook_id=self.webhook.id,
            event="sites.update",
            timestamp="2026-12-02T13:00:00Z",
            payload={"id": "blog"},
        )

    def verified_domain_gone_stale(self) -> Domain:
        domain = self.domain
        long_ago = timezone.now() - timedelta(days=30)
        Domain.objects.filter(pk=domain.pk).update(
            status=DomainStatus.VERIFIED, last_checked_at=long_ago
        )
        return domain


def _push(branch: str = "main", commit: str = "c0ffee" * 6 + "abcd") -> Received:
    return Received("push", "delivery-1", Push(BRANCH, branch, commit, "Fix the title", None))


# -- the matrix -------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """Calling `run(scene)` writes one entry `action` about `resource_id(scene, result)`,
    in `team` ("acme" or None: no team's), whose data is `data(scene, result)` when given.
    `as_user`: the call is made as the owner from IP (else as the system, no address),
    and the entry names that actor: `system_name` for a system one."""

    run: Callable[[Scene], Any]
    action: str
    resource_id: Callable[[Scene, Any], str]
    data: Callable[[Scene, Any], dict[str, Any]] | None = None
    as_user: bool = True
    system_name: str = audit.SYSTEM_NAME
    team: str | None = "acme"
    actor_name: str = "owner"  # a user actor other than the owner (a new account)
    fixtures: tuple[str, ...] = field(default=())
    setup: Callable[[Scene], Any] | None = None  # made first, as the system


def same(value: str) -> Callable[[Scene, Any], str]:
    return lambda _scene, _result: value


def result_id(_scene: Scene, result: Any) -> str:
    return str(result.id)


M = audit.MASK
A = "accounts.services."
S = "sites.services."
D = "deployments.services."
G = "deployments.git_services."
N = "notify.services."

CASES: dict[str, Case] = {
    A + "team_create": Case(
        lambda s: account_services.team_create(user=s.owner, name="New", team_id="new"),
        "team.create",
        same("new"),
        team="new",
    ),
    A + "team_update": Case(
        lambda s: account_services.team_update(team=s.team, name="Acme Inc"),
        "team.update",
        same("acme"),
        lambda s, r: {"name": ["Acme", "Acme Inc"]},
    ),
    A + "team_delete": Case(
        lambda s: account_services.team_delete(team=make_team(s.owner, team_id="gone")),
        "team.delete",
        same("gone"),
        lambda s, r: {"name": "Team"},
        team="gone",
    ),
    A + "membership_create": Case(
        lambda s: account_services.membership_create(
            team=s.team, user=make_user("newbie"), role=Role.VIEWER
        ),
        "membership.create",
        result_id,
        lambda s, r: {"user": "newbie", "role": "viewer"},
    ),
    A + "membership_update": Case(
        lambda s: account_services.membership_update(membership=s.dev_membership, role="owner"),
        "membership.update",
        result_id,
        lambda s, r: {"user": "dev", "role": ["developer", "owner"]},
    ),
    A + "membership_delete": Case(
        lambda s: (
            s.dev_membership.id,
            account_services.membership_delete(membership=s.dev_membership),
        )[0],
        "membership.delete",
        lambda s, r: r,
        lambda s, r: {"user": "dev", "role": "developer"},
    ),
    A + "api_key_create": Case(
        lambda s: account_services.api_key_create(user=s.owner, name="deploys", team=s.team)[0],
        "api_key.create",
        result_id,
        lambda s, r: {
            "name": "deploys",
            "user": "owner",
            "prefix": r.prefix,
            "readOnly": False,
            "expiresAt": None,
        },
    ),
    A + "api_key_delete": Case(
        lambda s: (s.key.id, account_services.api_key_delete(key=s.key))[0],
        "api_key.delete",
        lambda s, r: r,
        lambda s, r: {"name": "ci", "prefix": s.key.prefix},
    ),
    A + "invitation_create": Case(
        lambda s: s.invitation[0],
        "invitation.create",
        result_id,
        lambda s, r: {"role": "developer", "expiresAt": r.expires_at.isoformat()},
    ),
    A + "invitation_delete": Case(
        lambda s: (
            s.invitation[0].id,
            account_services.invitation_delete(invitation=s.invitation[0]),
        )[0],
        "invitation.delete",
        lambda s, r: r,
        lambda s, r: {"role": "developer"},
    ),
    A + "invitation_accept": Case(
        lambda s: (
            s.invitation[0].id,
            account_services.invitation_accept(token=s.invitation[1], user=make_user("new")),
        )[0],
        "invitation.accept",
        lambda s, r: r,
        lambda s, r: {"user": "new", "role": "developer"},
        setup=lambda s: s.invitation,
    ),
    A + "user_create_from_invitation": Case(
        # The new account signs itself up: it is the actor (from the request's address).
        lambda s: account_services.user_create_from_invitation(
            token=s.invitation[1], username="newcomer", password="correct-horse-battery-9"
        ),
        "user.create",
        lambda s, r: str(r.pk),
        lambda s, r: {"username": "newcomer", "invitationId": s.invitation[0].id},
        actor_name="newcomer",
        setup=lambda s: s.invitation,
    ),
    S + "site_create": Case(
        lambda s: make_site(s.team, "docs", name="Docs"),
        "site.create",
        same("docs"),
        lambda s, r: {"name": "Docs", "framework": "static", "adapter": "static"},
    ),
    S + "site_update": Case(
        lambda s: site_services.site_update(site=s.site, name="Blog 2", enabled=False),
        "site.update",
        same("blog"),
        lambda s, r: {"name": ["Blog", "Blog 2"], "enabled": [True, False]},
    ),
    S + "site_delete": Case(
        lambda s: site_services.site_delete(site=s.site),
        "site.delete",
        same("blog"),
        lambda s, r: {"name": "Blog", "deployments": 0},
    ),
    S + "variable_create": Case(
        lambda s: site_services.variable_create(site=s.site, key="API", value="v", secret=True),
        "variable.create",
        result_id,
        lambda s, r: {
            "siteId": "blog",
            "key": "API",
            "secret": True,
            "scope": "all",
            "environment": "all",
            "value": M,
        },
    ),
    S + "variable_update": Case(
        lambda s: site_services.variable_update(
            variable=s.variable, value="new-secret", scope="build", secret=True
        ),
        "variable.update",
        result_id,
        lambda s, r: {
            "siteId": "blog",
            "secret": [False, True],
            "scope": ["all", "build"],
            "value": [M, M],
        },
    ),
    S + "variable_delete": Case(
        lambda s: (s.variable.id, site_services.variable_delete(variable=s.variable))[0],
        "variable.delete",
        lambda s, r: r,
        lambda s, r: {"siteId": "blog", "key": "TOKEN"},
    ),
    S + "domain_create": Case(
        lambda s: site_services.domain_create(site=s.site, domain="WWW.Example.com"),
        "domain.create",
        result_id,
        lambda s, r: {"siteId": "blog", "domain": "www.example.com", "status": "pending"},
    ),
    S + "domain_verify": Case(
        lambda s: site_services.domain_verify(domain=s.domain),  # no records: still pending
        "domain.verify",
        result_id,
        lambda s, r: {"siteId": "blog", "domain": "www.example.com", "status": ["pending"] * 2},
    ),
    S + "domain_delete": Case(
        lambda s: (s.domain.id, site_services.domain_delete(domain=s.domain))[0],
        "domain.delete",
        lambda s, r: r,
        lambda s, r: {"siteId": "blog", "domain": "www.example.com"},
    ),
    S + "recheck_due": Case(
        # A verified domain whose records are gone (the DNS server has none): lost.
        lambda s: (s.verified_domain_gone_stale().id, site_services.recheck_due())[0],
        "domain.recheck",
        lambda s, r: r,
        lambda s, r: {
            "siteId": "blog",
            "domain": "www.example.com",
            "status": ["verified", "lost"],
        },
        as_user=False,
    ),
    D + "deployment_create_from_upload": Case(
        lambda s: s.upload(),
        "deployment.create",
        result_id,
        lambda s, r: {
            "siteId": "blog",
            "sourceType": "upload",
            "trigger": "upload",
            "environment": "production",
            "activate": True,
        },
    ),
    D + "deployment_create_from_vcs": Case(
        lambda s: deployment_services.deployment_create_from_vcs(
            site=s.site, repository=URL, reference="main", reference_type="branch"
        ),
        "deployment.create",
        result_id,
        lambda s, r: {
            "siteId": "blog",
            "sourceType": "vcs",
            "trigger": "api",
            "environment": "production",
            "activate": True,
            "repository": URL,
            "reference": "main",
        },
        fixtures=("public_forge",),
    ),
    D + "deployment_redeploy": Case(
        lambda s: deployment_services.deployment_redeploy(deployment=s.ready),
        "deployment.create",
        result_id,
        lambda s, r: {
            "siteId": "blog",
            "sourceType": "upload",
            "trigger": "redeploy",
            "environment": "preview",
            "activate": False,
            "redeployOf": s.ready.id,
        },
        setup=lambda s: s.ready,
    ),
    D + "deployment_transition": Case(
        # A build that reaches `ready` for production makes it the active deployment.
        lambda s: deployment_services.deployment_transition(s.building().id, Status.READY),
        "deployment.activate",
        result_id,
        lambda s, r: {"siteId": "blog", "deployment": [None, r.id]},
        as_user=False,
    ),
    D + "deployment_activate": Case(
        lambda s: (s.ready, deployment_services.deployment_activate(deployment=s.ready))[0],
        "deployment.activate",
        result_id,
        lambda s, r: {"siteId": "blog", "deployment": [None, r.id]},
    ),
    D + "deployment_cancel": Case(
        lambda s: deployment_services.deployment_cancel(deployment=s.upload()),
        "deployment.cancel",
        result_id,
        lambda s, r: {"siteId": "blog", "status": ["waiting", "canceled"]},
    ),
    D + "deployment_supersede": Case(
        lambda s: (
            (old := s.upload()),
            deployment_services.deployment_supersede(deployment=old, by=s.ready),
        )[0],
        "deployment.supersede",
        result_id,
        lambda s, r: {"siteId": "blog", "status": ["waiting", "canceled"], "by": s.ready.id},
        as_user=False,
    ),
    D + "deployment_record_skipped": Case(
        lambda s: deployment_services.deployment_record_skipped(
            site=s.site, reason="nothing watched", reference="main", reference_type="branch"
        ),
        "deployment.create",
        result_id,
        lambda s, r: {
            "siteId": "blog",
            "sourceType": "vcs",
            "trigger": "api",
            "environment": "production",
            "activate": True,
            "status": "canceled",
            "errorCode": "build_skipped",
            "reference": "main",
        },
        as_user=False,
    ),
    D + "deployment_cleanup": Case(
        # Retention deletes a canceled deployment past the grace (none here), as the system.
        lambda s: deployment_services.deployment_cleanup(site=s.site)[0],
        "deployment.delete",
        result_id,
        lambda s, r: {"siteId": "blog", "reason": "retention"},
        as_user=False,
        fixtures=("no_cleanup_grace",),
        setup=lambda s: deployment_services.deployment_cancel(deployment=s.upload()),
    ),
    D + "deployment_delete": Case(
        lambda s: (s.ready.id, deployment_services.deployment_delete(deployment=s.ready))[0],
        "deployment.delete",
        lambda s, r: r,
        lambda s, r: {"siteId": "blog"},
    ),
    G + "repository_link": Case(
        lambda s: git_services.repository_link(site=s.site, url=URL, token="ghp_secret"),
        "repository.link",
        same("blog"),
        lambda s, r: {
            "url": URL,
            "provider": "github",
            "productionBranch": "main",
            "watchPaths": [],
            "buildTags": False,
            "removeDeletedBranches": False,
            "token": M,
        },
        fixtures=("public_forge",),
    ),
    G + "repository_unlink": Case(
        lambda s: (s.repository, git_services.repository_unlink(site=s.site)),
        "repository.unlink",
        same("blog"),
        lambda s, r: {},
        fixtures=("public_forge",),
    ),
    G + "repository_rotate_secret": Case(
        lambda s: (s.repository, git_services.repository_rotate_secret(site=s.site)),
        "repository.rotate_secret",
        same("blog"),
        lambda s, r: {"webhookSecret": [M, M]},
        fixtures=("public_forge",),
    ),
    G + "deploy_hook_create": Case(
        lambda s: s.hook[0],
        "deploy_hook.create",
        result_id,
        lambda s, r: {"siteId": "blog", "name": "nightly", "branch": "main"},
        fixtures=("public_forge",),
    ),
    G + "deploy_hook_delete": Case(
        lambda s: (s.hook[0].id, git_services.deploy_hook_delete(hook=s.hook[0]))[0],
        "deploy_hook.delete",
        lambda s, r: r,
        lambda s, r: {"siteId": "blog", "name": "nightly", "branch": "main"},
        fixtures=("public_forge",),
    ),
    G + "deploy_hook_called": Case(
        # Its caller has no account: the deployment it makes is the hook's.
        lambda s: git_services.deploy_hook_called(secret=s.hook[1].rsplit("/", 1)[1]),
        "deployment.create",
        result_id,
        as_user=False,
        system_name="deploy hook nightly",
        fixtures=("public_forge",),
    ),
    G + "delivery_received": Case(
        lambda s: git_services.delivery_received(
            repository=s.repository, received=_push()
        ).deployments[0],
        "deployment.create",
        result_id,
        as_user=False,
        system_name="github webhook",
        fixtures=("public_forge",),
    ),
}

CASES |= {
    N + "webhook_create": Case(
        lambda s: s.webhook,
        "webhook.create",
        result_id,
        lambda s, r: {
            "host": "93.184.216.34",
            "url": M,
            "events": ["sites.*.update"],
            "enabled": True,
            "secret": M,
        },
    ),
    N + "webhook_update": Case(
        lambda s: notify_services.webhook_update(
            webhook=s.webhook, url=HOOK_URL + "-2", enabled=False, secret="s" * 20
        ),
        "webhook.update",
        result_id,
        lambda s, r: {"url": [M, M], "enabled": [True, False], "secret": [M, M]},
    ),
    N + "webhook_delete": Case(
        lambda s: (s.webhook.id, notify_services.webhook_delete(webhook=s.webhook))[0],
        "webhook.delete",
        lambda s, r: r,
        lambda s, r: {"host": "93.184.216.34"},
    ),
    N + "webhook_delivery_redeliver": Case(
        lambda s: notify_services.webhook_delivery_redeliver(delivery=s.delivery),
        "webhook_delivery.redeliver",
        result_id,
        lambda s, r: {"webhookId": s.webhook.id, "event": "sites.update", "series": [1, 2]},
    ),
}

# Writers that record nothing, each with why.
BUILD = "the build's own progress, recorded by the deployment's status and log"
SERVER = "an ssr server's state, written by the runtime (its deployment's activation is audited)"
EXEMPT: dict[str, str] = {
    A + "hash_secret": "a pure function: writes nothing",
    A + "api_key_touch": "bookkeeping: a key's last_used_at, at most once per resolution",
    S + "site_payload": "a read: the site as the API shows it",
    D + "deployment_payload": "a read: the deployment as the API shows it",
    D + "environment_for": "a pure function: writes nothing",
    D + "branch_fields": "a pure function: writes nothing",
    D + "repository_address": "a read: the fetch address of a deployment",
    D + "deployment_requeue": "a lost build message sent again (its dispatched_at)",
    D + "deployment_dispatch": "the build line's scheduling: which waiting builds are sent",
    D + "remove_servers": "writes no row: asks a worker to stop deleted deployments' servers",
    D + "forget_deleted_site": "a purge of a deleted site's files: site.delete is audited",
    D + "deployment_store_fetched_source": BUILD,
    D + "deployment_fail": BUILD,
    D + "deployment_heartbeat": BUILD + " (a heartbeat)",
    D + "deployment_set_framework": BUILD + " (the detected framework)",
    D + "log_append": BUILD + " (a log append)",
    D + "purge_delay": "a pure function: a purge's backoff",
    D + "send_purge": "writes no row: sends a purge's message",
    D + "purge_resend": "writes no row: sends undone purges' messages again",
    D + "purge_run": "bookkeeping: a purge's attempt (deleting the files deployment.delete named)",
    D + "upload_open": "a chunked upload in progress: the deployment it becomes is audited",
    D + "upload_received": "a chunked upload's byte counter",
    D + "upload_discard": "a chunked upload's removal (expired or replaced by its deployment)",
    D + "server_starting": SERVER,
    D + "server_running": SERVER,
    D + "server_failed": SERVER,
    D + "server_stopped": SERVER,
    D + "server_promote": SERVER + " (the live server follows the audited activation)",
    D + "server_log_append": SERVER + " (a log append)",
    G + "webhook_url": "a read: the webhook's address",
    A + "invitation_link": "a pure function: an invitation's address",
    N + "webhook_delivery_create": "the record of an event sent to a webhook (its own log)",
    N + "queue_attempt": "writes no row: sends an attempt's message",
    N + "webhook_delivery_attempt": "the attempt's own record (status, code, duration)",
    N + "webhook_deliveries_requeue_lost": "bookkeeping: queues lost attempts again",
    "usage.services.usage_roll_up": "counters: the edge's and builds' usage, by hour",
}


def test_every_writer_is_in_the_matrix() -> None:
    found = set(service_functions())
    missing = sorted(found - set(CASES) - set(EXEMPT))
    assert not missing, (
        "These service functions have neither an audit case nor an exemption "
        f"(tests/accounts/test_audit_matrix.py, CASES or EXEMPT): {missing}"
    )
    assert not set(CASES) & set(EXEMPT), "a function is both a case and exempt"
    stale = sorted((set(CASES) | set(EXEMPT)) - found)
    assert not stale, f"No such service functions any more: {stale}"
    assert all(reason.strip() for reason in EXEMPT.values())


@pytest.fixture
def loopback_dns(settings: Any) -> Iterator[LoopbackDns]:
    server = LoopbackDns()
    settings.SHIPWAY_DNS_NAMESERVERS = [f"127.0.0.1:{server.port}"]
    yield server
    server.close()


@pytest.fixture
def no_cleanup_grace(settings: Any) -> None:
    settings.SHIPWAY_CLEANUP_GRACE_SECONDS = 0


@pytest.fixture
def public_forge(fake_dns: Any) -> None:
    fake_dns.answer("git.example.com", "93.184.215.14")


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_writer_records_its_entry(
    name: str, loopback_dns: LoopbackDns, request: pytest.FixtureRequest
) -> None:
    case = CASES[name]
    for fixture in case.fixtures:
        request.getfixturevalue(fixture)
    scene = Scene(loopback_dns)
    if case.setup is not None:
        case.setup(scene)
    before = set(AuditEntry.objects.values_list("pk", flat=True))
    if case.as_user:
        with audit.acting(user=scene.owner, ip=IP):
            result = case.run(scene)
    else:
        result = case.run(scene)
    # The run may make what it acts on first (other actions): its own entry is the one.
    new = [e for e in AuditEntry.objects.order_by("created_at", "id") if e.pk not in before]
    entries = [e for e in new if e.action == case.action]
    if not case.as_user:
        entries = [e for e in entries if e.actor_name == case.system_name]
    assert len(entries) == 1, [(e.action, e.actor_type, e.actor_name) for e in new]
    entry = entries[0]
    assert entry.resource == case.action.split(".")[0]
    assert entry.resource_id == case.resource_id(scene, result)
    assert entry.team_id == (case.team or "")
    if case.as_user:
        user = get_user_model().objects.get(username=case.actor_name)
        assert (entry.actor_type, entry.actor_id, entry.actor_name) == (
            "user",
            str(user.pk),
            case.actor_name,
        )
        assert (entry.user_id, entry.ip, entry.key_id) == (user.pk, IP, "")
    else:
        assert (entry.actor_type, entry.actor_name, entry.ip) == ("system", case.system_name, None)
        assert entry.user_id is None
    if case.data is not None:
        assert entry.data == case.data(scene, result)
    assert "old-secret" not in str(entry.data) and "new-secret" not in str(entry.data)
    assert "ghp_secret" not in str(entry.data)
    assert "the-receivers-secret" not in str(entry.data)
    assert "new@example.com" not in str(entry.data)  # invited addresses are owners' only
