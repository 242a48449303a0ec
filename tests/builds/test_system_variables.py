"""The system variables of a deployment (deployments/environment.py), and the build's plan
that hands them, the package step and the adapter to the runner (builds/director.py)."""

from __future__ import annotations

import json

import pytest

from builds.director import plan
from builds.serverpack import SERVER_DIR, STATIC_DIR
from deployments.environment import system_variables
from deployments.errors import BuildError, ErrorCode
from deployments.models import Deployment, SourceType
from sites.services import variable_create
from tests.factories import make_site, make_team, make_user
from tests.ssr_apps import nextjs_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():  # type: ignore[no-untyped-def]
    return make_site(make_team(make_user()), framework="auto")


def _tree(tmp_path, files):  # type: ignore[no-untyped-def]
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if isinstance(text, str) else json.dumps(text))
    return tmp_path


def test_upload_made_to_go_live_is_production(site):
    deployment = Deployment.objects.create(site=site, source_type=SourceType.UPLOAD)
    assert system_variables(deployment) == {
        "SHIPWAY_SITE_ID": site.id,
        "SHIPWAY_DEPLOYMENT_ID": deployment.id,
        "SHIPWAY_DEPLOYMENT_URL": deployment.url,
        "SHIPWAY_ENVIRONMENT": "production",
    }


def test_git_branch_preview_has_branch_and_commit(site):
    deployment = Deployment.objects.create(
        site=site,
        source_type=SourceType.VCS,
        activate=False,
        environment="preview",
        repository="https://git.example/app.git",
        reference="feature/x",
        reference_type="branch",
        branch="feature/x",
        commit_hash="a" * 40,
    )
    variables = system_variables(deployment)
    assert variables["SHIPWAY_ENVIRONMENT"] == "preview"
    assert variables["SHIPWAY_GIT_BRANCH"] == "feature/x"
    assert variables["SHIPWAY_GIT_COMMIT_SHA"] == "a" * 40


def test_git_tag_has_no_branch(site):
    deployment = Deployment.objects.create(
        site=site,
        source_type=SourceType.VCS,
        repository="https://git.example/app.git",
        reference="v1.0",
        reference_type="tag",
        commit_hash="b" * 40,
    )
    variables = system_variables(deployment)
    assert "SHIPWAY_GIT_BRANCH" not in variables
    assert variables["SHIPWAY_GIT_COMMIT_SHA"] == "b" * 40


def test_plan_of_a_detected_nextjs_app_is_ssr_with_system_variables(site, tmp_path):
    variable_create(site=site, key="SHIPWAY_ENVIRONMENT", value="spoofed", scope="build")
    deployment = Deployment.objects.create(site=site, source_type=SourceType.UPLOAD)
    said: list[str] = []
    spec = plan(deployment, _tree(tmp_path, nextjs_app("m")), said.append)
    assert spec.env["SHIPWAY_ENVIRONMENT"] == "production"  # the site cannot override it
    assert spec.env["SHIPWAY_DEPLOYMENT_URL"] == deployment.url
    assert (spec.server_directory, spec.output_directory) == (SERVER_DIR, STATIC_DIR)
    assert spec.start_command == "node server.js"
    assert [s.name for s in spec.steps][-1] == "package"
    assert "server-rendered: next.config.mjs has no output: 'export'" in "".join(said)


def test_plan_honours_an_explicit_static_adapter_and_start_command(tmp_path):
    team = make_team(make_user())
    static = make_site(team, framework="nextjs", adapter="static")
    deployment = Deployment.objects.create(site=static, source_type=SourceType.UPLOAD)
    spec = plan(deployment, _tree(tmp_path / "a", nextjs_app("m")), lambda _: None)
    assert spec.server_directory == "" and spec.output_directory == "out"
    assert "package" not in [s.name for s in spec.steps]

    own = make_site(team, framework="nextjs", adapter="ssr", start_command="node custom.js")
    deployment = Deployment.objects.create(site=own, source_type=SourceType.UPLOAD)
    spec = plan(deployment, _tree(tmp_path / "b", nextjs_app("m")), lambda _: None)
    assert spec.start_command == "node custom.js"


def test_plan_refuses_an_ssr_adapter_without_packaging(tmp_path):
    angular = make_site(make_team(make_user()), framework="angular", adapter="ssr")
    deployment = Deployment.objects.create(site=angular, source_type=SourceType.UPLOAD)
    with pytest.raises(BuildError) as caught:
        plan(deployment, _tree(tmp_path, {"angular.json": "{}"}), lambda _: None)
    assert caught.value.code == ErrorCode.OUTPUT_MISSING
    assert "Angular" in caught.value.detail


def _variables_by_environment(site):  # type: ignore[no-untyped-def]
    """One variable per environment and scope, and a secret production build variable."""
    for environment in ("production", "preview", "all"):
        for scope in ("build", "runtime", "all"):
            variable_create(
                site=site,
                key=f"{environment.upper()}_{scope.upper()}",
                value=f"{environment}-{scope}",
                scope=scope,
                environment=environment,
            )
    variable_create(
        site=site,
        key="PRODUCTION_TOKEN",
        value="production-secret-1",
        secret=True,
        scope="build",
        environment="production",
    )


@pytest.mark.parametrize(("environment", "activate"), [("production", True), ("preview", False)])
def test_plan_gives_a_build_its_environments_build_variables_only(
    site, tmp_path, django_assert_num_queries, environment, activate
):
    _variables_by_environment(site)
    deployment = Deployment.objects.create(
        site=site, source_type=SourceType.UPLOAD, activate=activate, environment=environment
    )
    deployment = Deployment.objects.select_related("site").get(pk=deployment.pk)
    tree = _tree(tmp_path, {"index.html": "<p>hi</p>"})
    with django_assert_num_queries(2):  # the variables, and the framework's update
        spec = plan(deployment, tree, lambda _: None)
    own = {key for key in spec.env if key.split("_")[0] in ("PRODUCTION", "PREVIEW", "ALL")}
    expected = {f"{e.upper()}_{s.upper()}" for e in (environment, "all") for s in ("build", "all")}
    if environment == "production":
        expected.add("PRODUCTION_TOKEN")
    assert own == expected
    assert spec.env[f"{environment.upper()}_BUILD"] == f"{environment}-build"
    assert spec.env["SHIPWAY_ENVIRONMENT"] == environment
    # A preview's build log masks production's secret too: every secret is masked.
    assert spec.secrets == ["production-secret-1"]
