"""The `shipway` command: a Typer app over the REST and realtime APIs.

Every command prints its result alone on stdout (or JSON with `--json`) and anything
else on stderr. A failure is one sentence on stderr and an exit code: 1 (the API
refused, the network failed, the deployment failed), 2 (a usage error), 3 (not
authenticated).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from cli import config, output
from cli.api import Client
from cli.errors import EXIT_FAILED, CliError, UsageError

app = typer.Typer(
    name="shipway",
    help="Deploy and manage sites on a Shipway platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sites_app = typer.Typer(help="List and create sites.", no_args_is_help=True)
deployments_app = typer.Typer(help="A site's deployments.", no_args_is_help=True)
env_app = typer.Typer(help="A site's environment variables.", no_args_is_help=True)
domains_app = typer.Typer(help="A site's custom domains.", no_args_is_help=True)
app.add_typer(sites_app, name="sites")
app.add_typer(deployments_app, name="deployments")
app.add_typer(env_app, name="env")
app.add_typer(domains_app, name="domains")

SiteOption = Annotated[
    str | None,
    typer.Option("--site", "-s", help="The site (default: SHIPWAY_SITE, then the linked one)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _client() -> Client:
    return Client(config.credentials())


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"  # not reached


# -- account -----------------------------------------------------------------------------


@app.command()
def login(
    url: Annotated[str | None, typer.Option(help="The platform's address.")] = None,
    token: Annotated[str | None, typer.Option(help="An API key (sw_...).")] = None,
) -> None:
    """Check an API key and store it, with the platform's address, for later commands."""
    url = (url or os.environ.get("SHIPWAY_URL") or "").rstrip("/")
    if not url:
        url = config.platform_url()
        if sys.stdin.isatty():
            url = typer.prompt("Platform address", default=url, err=True).rstrip("/")
    token = token or os.environ.get("SHIPWAY_TOKEN")
    if not token:
        if not sys.stdin.isatty():
            raise UsageError("Pass --token KEY (or set SHIPWAY_TOKEN): no terminal to ask on.")
        token = typer.prompt("API key", hide_input=True, err=True)
    creds = config.Credentials(url=url, token=token.strip())
    with Client(creds) as client:
        account = client.get("/v1/account")
    path = config.save_credentials(creds)
    output.info(f"Logged in to {url} as {account['username']} (saved in {path}).")


@app.command()
def whoami(as_json: JsonOption = False) -> None:
    """The user the key belongs to."""
    with _client() as client:
        account = client.get("/v1/account")
    if as_json:
        output.result_json(account)
    else:
        output.result(account["username"])
        output.info(f"on {client.url}")


# -- sites -------------------------------------------------------------------------------


@sites_app.command("list")
def sites_list(as_json: JsonOption = False) -> None:
    """The sites you can see."""
    with _client() as client:
        sites = list(client.each("/v1/sites", "sites"))
    if as_json:
        output.result_json(sites)
        return
    output.table(
        ("ID", "NAME", "TEAM", "ACTIVE DEPLOYMENT", "URL"),
        [(s["id"], s["name"], s["teamId"], s["deploymentId"], s["url"]) for s in sites],
    )


@sites_app.command("create")
def sites_create(
    name: Annotated[str, typer.Argument(help="The site's name.")],
    site_id: Annotated[str | None, typer.Option("--id", help="Its id (made up if not).")] = None,
    team: Annotated[str | None, typer.Option(help="Its team (needed if you have several).")] = None,
    framework: Annotated[str, typer.Option(help="e.g. static, vite, other.")] = "auto",
    build_command: Annotated[str | None, typer.Option()] = None,
    install_command: Annotated[str | None, typer.Option()] = None,
    output_directory: Annotated[str | None, typer.Option()] = None,
    link: Annotated[bool, typer.Option(help="Also link the current directory to it.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a site; prints its id."""
    with _client() as client:
        if team is None:
            teams = list(client.each("/v1/teams", "teams"))
            if len(teams) != 1:
                names = ", ".join(t["id"] for t in teams) or "none"
                raise UsageError(f"Pass --team: you are in {len(teams)} teams ({names}).")
            team = teams[0]["id"]
        body: dict[str, Any] = {"name": name, "teamId": team, "framework": framework}
        optional = {
            "siteId": site_id,
            "buildCommand": build_command,
            "installCommand": install_command,
            "outputDirectory": output_directory,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        site = client.post("/v1/sites", body)
    if link:
        config.link(site["id"])
        output.info(f"Linked {Path.cwd()} to site {site['id']}.")
    if as_json:
        output.result_json(site)
    else:
        output.result(site["id"])
        output.info(f"It will answer on {site['url']}")


@app.command("link")
def link_site(site: Annotated[str, typer.Argument(help="The site's id.")]) -> None:
    """Link the current directory to a site (writes .shipway/project.json)."""
    with _client() as client:
        found = client.get(f"/v1/sites/{site}")
    path = config.link(found["id"])
    output.info(f"Linked {Path.cwd()} to site {found['id']} ({path}).")


@app.command("open")
def open_site(site: SiteOption = None) -> None:
    """Open the site's address in a browser (or print it, when there is none)."""
    import webbrowser

    site_id = config.site_id(site)
    with _client() as client:
        url = client.get(f"/v1/sites/{site_id}")["url"]
    try:
        opened = webbrowser.get().open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        output.result(url)


# -- deploying ---------------------------------------------------------------------------


@app.command()
def deploy(
    directory: Annotated[
        Path,
        typer.Argument(exists=True, file_okay=False, dir_okay=True, help="Default: here."),
    ] = Path("."),
    site: SiteOption = None,
    no_activate: Annotated[
        bool, typer.Option("--no-activate", help="Build it, but do not make it live.")
    ] = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Return once uploaded; do not follow the build.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Pack a directory (minus .gitignore'd and .shipwayignore'd files), upload it and
    follow its build; prints the deployment's address."""
    # Imported here: the other commands start faster without them.
    from cli.follow import follow_build
    from cli.pack import files_to_pack, pack
    from cli.upload import upload

    site_id = config.site_id(site, directory)
    with _client() as client:
        count = len(files_to_pack(directory))
        archive = pack(directory)
        try:
            size = archive.stat().st_size
            files = "1 file" if count == 1 else f"{count} files"
            output.info(f"Packed {files} from {directory.resolve()} ({_size(size)}).")
            with output.upload_progress(size, "Uploading") as progress:
                deployment = upload(
                    client, site_id, archive, activate=not no_activate, progress=progress
                )
        finally:
            archive.unlink(missing_ok=True)
        output.info(f"Deployment {deployment['id']} of site {site_id}: {deployment['status']}.")
        if not no_wait:
            deployment = follow_build(client, site_id, deployment["id"], output.log_text)
    status = deployment["status"]
    if as_json:
        output.result_json(deployment)
    elif status not in ("failed", "canceled"):
        output.result(deployment["url"])
    if status in ("failed", "canceled"):
        reason = f" ({deployment['errorCode']})" if deployment.get("errorCode") else ""
        output.info(f"Deployment {deployment['id']} {status}{reason}.")
        raise typer.Exit(EXIT_FAILED)
    if status == "ready":
        live = " and is live" if deployment.get("active") else ""
        output.info(f"Deployment {deployment['id']} is ready{live}.")


@deployments_app.command("list")
def deployments_list(site: SiteOption = None, as_json: JsonOption = False) -> None:
    """The site's deployments, newest first."""
    site_id = config.site_id(site)
    with _client() as client:
        deployments = client.get(f"/v1/sites/{site_id}/deployments", limit=100)["deployments"]
    if as_json:
        output.result_json(deployments)
        return
    output.table(
        ("ID", "STATUS", "ACTIVE", "CREATED", "URL"),
        [
            (d["id"], d["status"], "yes" if d["active"] else "", d["createdAt"], d["url"])
            for d in deployments
        ],
    )


def _default_deployment(client: Client, site_id: str) -> str:
    """The site's active deployment, else its newest."""
    active = client.get(f"/v1/sites/{site_id}")["deploymentId"]
    if active:
        return str(active)
    newest = client.get(f"/v1/sites/{site_id}/deployments", limit=1)["deployments"]
    if not newest:
        raise CliError(f"Site {site_id} has no deployments yet.")
    return str(newest[0]["id"])


@app.command()
def logs(
    deployment: Annotated[
        str | None, typer.Argument(help="Default: the active deployment, else the newest.")
    ] = None,
    site: SiteOption = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing.")] = False,
    runtime: Annotated[
        bool, typer.Option("--runtime", help="The server's output (ssr), not the build log.")
    ] = False,
) -> None:
    """A deployment's build log (or its server's output, with --runtime)."""
    from cli.follow import follow_log

    site_id = config.site_id(site)
    kind = "runtime" if runtime else "build"
    with _client() as client:
        deployment_id = deployment or _default_deployment(client, site_id)
        if follow:
            follow_log(client, site_id, deployment_id, _write_stdout, kind)
            return
        text = client.request(
            "GET", f"/v1/sites/{site_id}/deployments/{deployment_id}/logs", params={"type": kind}
        ).text
    _write_stdout(text)


def _write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


@app.command()
def rollback(
    deployment: Annotated[
        str | None, typer.Argument(help="Default: the ready deployment before the active one.")
    ] = None,
    site: SiteOption = None,
) -> None:
    """Make an earlier deployment live again; prints its address."""
    site_id = config.site_id(site)
    with _client() as client:
        target = deployment or _previous_ready(client, site_id)
        client.patch(f"/v1/sites/{site_id}/deployments/{target}/activate")
        activated = client.get(f"/v1/sites/{site_id}/deployments/{target}")
    output.result(activated["url"])
    output.info(f"Site {site_id} now serves deployment {target}.")


def _previous_ready(client: Client, site_id: str) -> str:
    active = client.get(f"/v1/sites/{site_id}")["deploymentId"]
    if not active:
        raise CliError(f"Site {site_id} has no active deployment to roll back from.")
    seen_active = False
    for item in client.each(f"/v1/sites/{site_id}/deployments", "deployments"):
        if item["id"] == active:
            seen_active = True
        elif seen_active and item["status"] == "ready":
            return str(item["id"])
    raise CliError(f"Site {site_id} has no ready deployment older than {active}.")


# -- variables and domains -----------------------------------------------------------------


@env_app.command("list")
def env_list(site: SiteOption = None, as_json: JsonOption = False) -> None:
    """The site's variables (secret values are never shown)."""
    site_id = config.site_id(site)
    with _client() as client:
        variables = list(client.each(f"/v1/sites/{site_id}/variables", "variables"))
    if as_json:
        output.result_json(variables)
        return
    output.table(
        ("KEY", "VALUE", "SCOPE"),
        [
            (v["key"], "(secret)" if v.get("secret") else v.get("value"), v.get("scope"))
            for v in variables
        ],
    )


def _variable(client: Client, site_id: str, key: str) -> dict[str, Any] | None:
    for variable in client.each(f"/v1/sites/{site_id}/variables", "variables"):
        if variable["key"] == key:
            return variable
    return None


@env_app.command("set")
def env_set(
    key: str,
    value: str,
    site: SiteOption = None,
    secret: Annotated[bool, typer.Option(help="Never show the value again.")] = False,
    scope: Annotated[str | None, typer.Option(help="build, runtime or all.")] = None,
) -> None:
    """Add a variable, or change its value."""
    site_id = config.site_id(site)
    body: dict[str, Any] = {"value": value}
    if secret:
        body["secret"] = True
    if scope:
        body["scope"] = scope
    with _client() as client:
        existing = _variable(client, site_id, key)
        if existing:
            client.patch(f"/v1/sites/{site_id}/variables/{existing['id']}", body)
        else:
            client.post(f"/v1/sites/{site_id}/variables", {"key": key, **body})
    output.info(f"{'Changed' if existing else 'Added'} {key}; new deployments will see it.")


@env_app.command("unset")
def env_unset(key: str, site: SiteOption = None) -> None:
    """Remove a variable."""
    site_id = config.site_id(site)
    with _client() as client:
        existing = _variable(client, site_id, key)
        if existing is None:
            raise CliError(f"Site {site_id} has no variable {key}.")
        client.delete(f"/v1/sites/{site_id}/variables/{existing['id']}")
    output.info(f"Removed {key}.")


@domains_app.command("list")
def domains_list(site: SiteOption = None, as_json: JsonOption = False) -> None:
    """The site's custom domains and their status."""
    site_id = config.site_id(site)
    with _client() as client:
        domains = list(client.each(f"/v1/sites/{site_id}/domains", "domains"))
    if as_json:
        output.result_json(domains)
        return
    output.table(("DOMAIN", "STATUS", "ID"), [(d["domain"], d["status"], d["id"]) for d in domains])


@domains_app.command("add")
def domains_add(domain: str, site: SiteOption = None, as_json: JsonOption = False) -> None:
    """Claim a domain for the site; prints the DNS records that prove it."""
    site_id = config.site_id(site)
    with _client() as client:
        added = client.post(f"/v1/sites/{site_id}/domains", {"domain": domain})
    if as_json:
        output.result_json(added)
        return
    output.info(f"Added {added['domain']} ({added['status']}). Add these DNS records, then verify:")
    output.table(
        ("TYPE", "NAME", "VALUE"), [(r["type"], r["name"], r["value"]) for r in added["records"]]
    )


def run() -> None:
    """The console script: a CliError becomes its sentence on stderr and its exit code."""
    try:
        app()
    except CliError as exc:
        output.info(f"Error: {exc.message}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        output.info("Interrupted.")
        sys.exit(130)
