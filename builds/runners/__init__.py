"""Where build commands run: `DockerRunner` (a locked-down container per build) or
`LocalRunner` (plain subprocesses, for machines without Docker). Both take a
`BuildSpec` and honour the same promises: output streamed line by line with secrets
masked, the site's timeout, cancellation, and nothing left behind."""

from builds.runners.base import BuildJob, BuildResult, BuildRunner, BuildSpec, Step, StepResult

__all__ = [
    "BuildJob",
    "BuildResult",
    "BuildRunner",
    "BuildSpec",
    "Step",
    "StepResult",
    "get_runner",
]


def get_runner(name: str | None = None) -> BuildRunner:
    """The configured runner (settings.SHIPWAY_BUILD_RUNNER: "docker" or "local")."""
    from django.conf import settings

    name = name or settings.SHIPWAY_BUILD_RUNNER
    # Each runner is imported only when chosen: the Docker SDK loads only for "docker".
    if name == "docker":
        from builds.runners.docker import DockerRunner

        return DockerRunner()
    if name == "local":
        from builds.runners.local import LocalRunner

        return LocalRunner()
    raise ValueError(f"Unknown build runner '{name}'; use 'docker' or 'local'.")
