"""The build of one deployment, step by step: claim, fetch the source, detect, plan,
run (in the configured runner), package, finish. Each step is a function; `build` is
the order they run in and the one place failures are turned into a failed deployment.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import structlog
from django.conf import settings
from django.core.files.base import ContentFile
from django.template.defaultfilters import pluralize
from django.utils import timezone

from builds import scratch as scratch_dirs
from builds.detection import Detection, detect
from builds.logwriter import LogWriter
from builds.output import OutputLimits, copy_directory, shown
from builds.packaging import Server, package
from builds.runners import BuildJob, BuildRunner, BuildSpec, Step, get_runner
from builds.runners.base import drop_unsafe_links, is_inside, safe_extract
from builds.serverpack import SERVER_DIR, STATIC_DIR, package_step
from core.masking import SecretMasker
from deployments import selectors as deployment_selectors
from deployments import services as deployment_services
from deployments import vcs
from deployments.artifacts import SOURCE_FILE, artifacts, log_path, source_path
from deployments.environment import log_secrets, site_variables, system_variables
from deployments.errors import BuildError, ErrorCode
from deployments.models import Deployment, SourceType, Status
from sites import crypto
from sites.frameworks import get_framework
from sites.models import Site, VariableScope
from sites.runtimes import get_runtime
from sites.specifications import get_specification

log = structlog.get_logger(__name__)

CACHE_DIR = "$HOME/.shipway/node_modules"


def build(deployment_id: str, *, worker: str = "", runner: BuildRunner | None = None) -> None:
    """Build the deployment if it is still waiting; it ends ready, failed or canceled."""
    deployment = deployment_services.deployment_transition(
        deployment_id, Status.PROCESSING, worker=worker, heartbeat_at=timezone.now()
    )
    if deployment is None:
        log.info("build.skipped", deployment_id=deployment_id, reason="not waiting")
        return
    with structlog.contextvars.bound_contextvars(
        site_id=deployment.site_id, deployment_id=deployment.id
    ):
        _build(deployment, runner)


def _build(deployment: Deployment, runner: BuildRunner | None) -> None:
    started = time.monotonic()
    prefix = scratch_dirs.prefix_for(deployment.id)
    with LogWriter(deployment) as output, scratch_dirs.scratch_directory(prefix) as tmp:
        scratch = Path(tmp)
        mask = SecretMasker([])  # replaced in the try below, where reading secrets may fail

        def say(text: str) -> None:  # Shipway's own lines (a commit message may quote a secret)
            output.note(mask(text))

        try:
            mask = SecretMasker(log_secrets(deployment))
            source = _fetch_source(deployment, scratch, say)
            tree = _unpack(source, scratch / "tree", say)
            spec = plan(deployment, tree, say)
            adapter = "ssr" if spec.server_directory else "static"
            moved = deployment_services.deployment_transition(
                deployment.id, Status.BUILDING, build_started_at=timezone.now(), adapter=adapter
            )
            if moved is None:
                raise BuildError(ErrorCode.CANCELED)
            out_dir = scratch / "output"
            server_to = scratch / "server.tar.gz" if spec.server_directory else None
            server = None
            if spec.steps:
                runner = runner or get_runner()
                job = BuildJob(
                    spec,
                    source,
                    out_dir,
                    output.write,
                    _cancel_check(deployment.id),
                    server_to=server_to,
                    scratch_prefix=prefix,
                )
                result = runner.run(job)
                if result.server is not None:
                    server = Server(result.server, spec.start_command)
            else:
                say("No install or build command: publishing the source as it is.\n")
                _copy_tree(tree, spec, out_dir, say)
            if spec.server_directory and server is None:
                raise BuildError(ErrorCode.OUTPUT_MISSING, "The build left no packaged server.")
            packaged = package(out_dir, deployment.storage_prefix, spec.output_directory, server)
            say(
                f"Packaged {packaged.file_count} file{pluralize(packaged.file_count)} "
                f"({packaged.output_size} bytes) "
                + (f"and the server ({packaged.server_size} bytes) " if server else "")
                + f"in {time.monotonic() - started:.1f} s.\n"
            )
        except BuildError as exc:
            output.close()
            if exc.code == ErrorCode.CANCELED:
                log.info("build.canceled")
            else:
                log.info("build.failed", error_code=exc.code)
                deployment_services.deployment_fail(deployment.id, exc.code, _detail(exc, mask))
            _store_log(deployment)
            return
        except Exception as exc:
            log.exception("build.crashed")
            output.close()
            # A machine set up with a key of its own is told so, not just "internal".
            detail = str(exc) if isinstance(exc, crypto.KeyMismatch) else ""
            deployment_services.deployment_fail(deployment.id, ErrorCode.INTERNAL, detail)
            _store_log(deployment)
            return
    _store_log(deployment)
    deployment_services.deployment_transition(
        deployment.id, Status.READY, output_size=packaged.output_size + packaged.server_size
    )
    log.info("build.ready", seconds=round(time.monotonic() - started, 2))


def _detail(exc: BuildError, mask: SecretMasker) -> str:
    """A failure's sentence as the log (and so the realtime feed) shows it: masked, then
    escaped and cut short (git's stderr or a rules error may quote anything)."""
    return shown(mask(exc.detail), limit=2000)


def _fetch_source(deployment: Deployment, scratch: Path, say: Callable[[str], None]) -> Path:
    path = scratch / SOURCE_FILE
    stored = source_path(deployment.storage_prefix)
    if deployment.source_type == SourceType.VCS and not artifacts().exists(stored):
        _fetch_from_git(deployment, scratch, say)
    with artifacts().open(stored, "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
    return path


def _fetch_from_git(deployment: Deployment, scratch: Path, say: Callable[[str], None]) -> None:
    # A push names the commit it made: that one is built, wherever the branch is now.
    pinned = deployment.commit_hash
    at = f" at {pinned[:12]}" if pinned else ""
    say(
        f"Fetching {deployment.reference_type} {deployment.reference}{at} from "
        f"{deployment.repository}\n"
    )
    fetched = vcs.fetch(
        deployment_services.repository_address(deployment),
        pinned or deployment.reference,
        "commit" if pinned else deployment.reference_type,
        deployment.site.root_directory,
        within=scratch,  # the build's own directory: a dead build's leftovers are found
    )
    try:
        with open(fetched.source.path, "rb") as archive:
            deployment_services.deployment_store_fetched_source(
                deployment=deployment,
                archive=archive,
                size=fetched.source.size,
                commit_hash=fetched.commit_hash,
                commit_message=fetched.commit_message,
            )
    finally:
        fetched.source.discard()
    first_line = fetched.commit_message.splitlines()[0] if fetched.commit_message else ""
    say(f"Commit {fetched.commit_hash[:12]}: {first_line}\n")


def _unpack(source: Path, tree: Path, say: Callable[[str], None]) -> Path:
    try:
        with tarfile.open(source, "r:gz") as archive:
            safe_extract(archive, tree)
    except (tarfile.TarError, OSError) as exc:
        raise BuildError(ErrorCode.SOURCE_INVALID, f"The source could not be read: {exc}") from exc
    for name in drop_unsafe_links(tree):
        say(f"Ignored {name}: a link that does not lead to a file inside the source.\n")
    return tree


def _copy_tree(tree: Path, spec: BuildSpec, destination: Path, say: Callable[[str], None]) -> None:
    """The no-build path: the source's output directory, copied as a build's output is
    (limits checked, links resolved inside it or skipped), from its real path only if
    that is inside the source."""
    source = (tree / spec.workdir / spec.output_directory).resolve()
    if not source.is_dir() or not source.is_relative_to(tree.resolve()):
        raise BuildError(
            ErrorCode.OUTPUT_MISSING,
            f"The output directory '{spec.output_directory}' does not exist in the source.",
        )
    copy_directory(source, destination, spec.limits, say, spec.output_directory)


def _cancel_check(deployment_id: str) -> Callable[[], bool]:
    """A cheap "was it canceled?" for the runner's watchdog: one query a second at most."""
    state = {"at": 0.0, "canceled": False}

    def should_cancel() -> bool:
        now = time.monotonic()
        if now - state["at"] >= 1.0:
            state["at"] = now
            status = (
                Deployment.objects.filter(pk=deployment_id).values_list("status", flat=True).first()
            )
            state["canceled"] = status in (None, Status.CANCELED)
        return bool(state["canceled"])

    return should_cancel


def plan(deployment: Deployment, tree: Path, say: Callable[[str], None]) -> BuildSpec:
    """Decide framework, commands, image, limits and variables; say what was decided."""
    site: Site = deployment.site
    workdir = site.root_directory.strip("/")
    root = tree / workdir
    if not root.is_dir() or not is_inside(tree, root):
        raise BuildError(
            ErrorCode.SOURCE_INVALID,
            f"The site's rootDirectory '{workdir}' is not a directory in the source.",
        )
    detection = detect(root)
    framework_key, adapter_key = site.framework, site.adapter
    if site.framework == "auto":
        framework_key, adapter_key = detection.framework, detection.adapter
        rendered = (
            f"; server-rendered: {detection.adapter_reason}"
            if detection.adapter == "ssr"
            else f"; exported as files: {detection.adapter_reason}"
            if detection.adapter_reason
            else ""
        )
        say(f"Detected framework: {framework_key} ({detection.reason}{rendered}).\n")
    framework = get_framework(framework_key)
    adapter = framework.adapters.get(adapter_key) or framework.adapters[framework.default_adapter]
    if site.framework == "auto":
        install = detection.install_command or adapter.install_command
        build_command, output_directory = adapter.build_command, adapter.output_directory
    else:
        install, build_command = site.install_command, site.build_command
        output_directory = site.output_directory
        if install == adapter.install_command and detection.package_manager not in ("", "npm"):
            install = detection.install_command  # the lock file names the package manager
    if detection.package_manager:
        lock = detection.lock_file or "no lock file"
        say(f"Package manager: {detection.package_manager} ({lock}).\n")
    deployment_services.deployment_set_framework(deployment.pk, framework_key)

    runtime = get_runtime(site.build_runtime)
    specification = get_specification(site.specification)
    env, secrets = site_variables(deployment, VariableScope.BUILD)
    env.update(system_variables(deployment))
    env.update(
        CI="true",
        SHIPWAY="1",
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
    )
    cache_key = _cache_key(root, detection) if deployment.use_cache else ""
    steps = _steps(install, build_command, cache_key)
    server_directory = start_command = ""
    if adapter.key == "ssr":
        if adapter.packaging is None:
            raise BuildError(
                ErrorCode.OUTPUT_MISSING,
                f"Shipway cannot run {framework.name}'s server yet; use the static adapter.",
            )
        # The site's own start command (set with its framework and adapter) wins; with
        # "auto" the site has none unless it was given one.
        start_command = site.start_command or adapter.start_command
        steps.append(package_step(adapter.packaging, detection.package_manager))
        output_directory, server_directory = STATIC_DIR, SERVER_DIR
        say(f"Server-rendered ({framework.name}): the server starts with `{start_command}`.\n")
    say(
        f"Runtime {runtime.name}, {specification.cpus:g} CPU, {specification.memory} MB, "
        f"timeout {site.timeout} s, build cache {'on' if deployment.use_cache else 'off'}.\n"
    )
    return BuildSpec(
        site_id=site.id,
        deployment_id=deployment.id,
        runtime=runtime.name,
        image=runtime.image,
        steps=steps,
        workdir=workdir,
        output_directory=output_directory or ".",
        env=env,
        secrets=secrets,
        cpus=specification.cpus,
        memory_mb=specification.memory,
        pids=settings.SHIPWAY_BUILD_PIDS_LIMIT,
        timeout=float(site.timeout),
        use_cache=deployment.use_cache,
        cache_key=cache_key,
        cache_id=site.uid.hex,
        limits=output_limits(),
        log_line_max=settings.SHIPWAY_BUILD_LOG_MAX_LINE,
        server_directory=server_directory,
        start_command=start_command,
    )


def output_limits() -> OutputLimits:
    return OutputLimits(
        max_bytes=settings.SHIPWAY_OUTPUT_MAX_BYTES,
        max_files=settings.SHIPWAY_OUTPUT_MAX_FILES,
        max_file_bytes=settings.SHIPWAY_OUTPUT_MAX_FILE_BYTES,
    )


def _cache_key(root: Path, detection: Detection) -> str:
    """node_modules is reused only for the same lock file (or package.json without one)."""
    keyed = root / (detection.lock_file or "package.json")
    if not keyed.is_file():
        return ""
    return hashlib.sha256(keyed.read_bytes()).hexdigest()[:16]


def _steps(install: str, build_command: str, cache_key: str) -> list[Step]:
    steps = []
    if install:
        command = install
        if cache_key:
            restore = (
                f'if [ -d "{CACHE_DIR}/{cache_key}" ] && [ ! -e node_modules ]; then '
                f'echo "Restoring node_modules from the build cache"; '
                f'cp -a "{CACHE_DIR}/{cache_key}" node_modules; fi'
            )
            command = f"{restore}\n{install}"
        steps.append(Step("install", command, display=install))
        if cache_key:
            save = (
                f'if [ -d node_modules ]; then rm -rf "{CACHE_DIR}" && mkdir -p "{CACHE_DIR}" '
                f'&& cp -a node_modules "{CACHE_DIR}/{cache_key}" '
                '&& echo "Saved node_modules to the build cache"; fi || true'
            )
            steps.append(Step("cache", save, display="(save the build cache)"))
    if build_command:
        steps.append(Step("build", build_command, display=build_command))
    return steps


def _store_log(deployment: Deployment) -> None:
    """Keep the finished log beside the artifacts too (build.log)."""
    text = deployment_selectors.log_text(deployment)
    artifacts().save(log_path(deployment.storage_prefix), ContentFile(text.encode()))
