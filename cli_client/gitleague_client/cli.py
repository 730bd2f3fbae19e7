"""The ``gitleague-client`` command line: a thin shell over the modules beside it.

Only this layer reads the environment (``GITLEAGUE_API_KEY``) and turns errors into
messages and exit codes (see :class:`gitleague_client.errors.ExitCode`).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import click

from gitleague_client import __version__
from gitleague_client.api import ApiClient, AuthError
from gitleague_client.config import API_KEY_ENV, Config, RepoConfig, load_config
from gitleague_client.errors import ClientError, ExitCode
from gitleague_client.urls import normalize_git_url

CONFIG_HELP = "Path to the configuration file."
#: Exit codes of a server that is out: the rest of a sync is not tried.
OUTAGE_CODES = frozenset({ExitCode.UNREACHABLE, ExitCode.SERVER_UNAVAILABLE})
EXIT_CODES_HELP = """\b
Exit codes:
  0  everything synced (also "No new commits")
  1  partial failure: some repos or commits failed
  2  bad command line
  3  configuration error (nothing was sent)
  4  API key not found
  5  server unreachable (connection timeout or refused, unknown host)
  6  server unavailable: it answered 502/503/504 past the retry budget
  130  stopped by Ctrl-C; 143 stopped by SIGTERM
"""


@dataclass
class AppContext:
    """What the root command hands to every subcommand."""

    env_api_key: str | None

    def config(self, path: Path) -> Config:
        """Load and validate ``path`` with the environment's API key."""
        return load_config(path, env_api_key=self.env_api_key)


def api_for(config: Config) -> ApiClient:
    """An API client configured from the file; raises AuthError when there is no key."""
    if not config.api_key:
        raise AuthError(f"no api_key in {config.path} and {API_KEY_ENV} is not set")
    return ApiClient(
        config.api_url,
        config.api_key,
        max_retries=config.max_retries,
        timeout=config.timeout,
        connect_timeout=config.connect_timeout,
        retry_seconds=config.retry_seconds,
    )


def _exit_on_error(err: ClientError) -> NoReturn:
    click.echo(f"✗ {err.message}", err=True)
    for line in (err.hint or "").splitlines():
        click.echo(f"    {line}", err=True)
    sys.exit(int(err.exit_code))


def _config_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--config",
        "config_path",
        default="repos.yaml",
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=CONFIG_HELP,
    )(f)


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gitleague-client")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Push the commit history of local git repositories to GitLeague.

    The API key comes from GITLEAGUE_API_KEY when that is set, else from the
    config file's api_key.
    """
    ctx.obj = AppContext(env_api_key=os.environ.get(API_KEY_ENV) or None)


@cli.command()
@_config_option
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--api-url", help="Fill in the projects and repos this server has for the key.")
@click.option("--api-key", help=f"Key to use with --api-url (default: ${API_KEY_ENV}).")
@click.option(
    "--scan",
    "scan_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder to search for local clones of those repos (repeatable).",
)
@click.pass_obj
def init(
    app: AppContext,
    config_path: Path,
    force: bool,
    api_url: str | None,
    api_key: str | None,
    scan_dirs: tuple[Path, ...],
) -> None:
    """Write a commented repos.yaml to start from."""
    from gitleague_client import scaffold

    try:
        scaffold.refuse_overwrite(config_path, force)  # before asking the server anything
        projects: list[scaffold.ProjectEntry] = []
        key = api_key or app.env_api_key
        if api_url:
            parts = urlsplit(api_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise click.BadParameter("must be an http(s) URL", param_hint="--api-url")
            if not key:
                raise AuthError(f"--api-key not given and {API_KEY_ENV} is not set")
            with ApiClient(api_url.rstrip("/"), key) as api:
                projects = scaffold.projects_from_server(api, scan_dirs)
        text = scaffold.render(api_url or scaffold.DEFAULT_API_URL, api_key, projects)
        scaffold.write_config(config_path, text, force=force, secret=bool(api_key))
    except ClientError as err:
        _exit_on_error(err)
    click.echo(f"Wrote {config_path}")
    if not projects:
        click.echo("Next: paste your API key and your projects into it, then run:")
    click.echo(f"  gitleague-client test --config {config_path}")


@cli.command()
@_config_option
@click.option("--offline", is_flag=True, help="Do not contact the git remotes.")
@click.pass_obj
def test(app: AppContext, config_path: Path, offline: bool) -> None:
    """Check the connection, the API key and every configured repository."""
    from gitleague_client.check import CheckOptions, run_checks

    try:
        config = app.config(config_path)
        options = CheckOptions(offline, (config.connect_timeout, config.timeout))
        with api_for(config) as api:
            code = run_checks(
                api, config, click.echo, lambda line: click.echo(line, err=True), options
            )
    except ClientError as err:
        _exit_on_error(err)
    sys.exit(int(code))


@cli.command()
@_config_option
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def status(app: AppContext, config_path: Path, json_mode: bool) -> None:
    """Show the server's view of every configured repository.

    Sync method, status (healthy, stale, failing, never), last sync, commit count
    and last error. Exits 1 when a repo is failing or unknown to the server.
    """
    from gitleague_client import status as status_mod

    try:
        config = app.config(config_path)
        with api_for(config) as api:
            states = status_mod.repo_states(api, config)
    except ClientError as err:
        if json_mode:
            doc = {"ok": False, "exit_code": int(err.exit_code), "error": err.message}
            click.echo(json.dumps(doc, indent=2))
            sys.exit(int(err.exit_code))
        _exit_on_error(err)
    code = status_mod.exit_code(states)
    if json_mode:
        click.echo(json.dumps({"ok": code == 0, "repos": states}, indent=2, sort_keys=True))
    else:
        status_mod.print_states(states, click.echo, lambda line: click.echo(line, err=True))
    sys.exit(int(code))


@cli.command()
@_config_option
@click.option("--dry-run", is_flag=True, help="Show what would be sent; change nothing anywhere.")
@click.option("--project", "projects", multiple=True, help="Only this project (name or id).")
@click.option("--repo", "repos", multiple=True, help="Only this repo (path or git_url).")
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON summary on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors (for cron).")
@click.option("--no-fetch", is_flag=True, help="Scan the local repository as it is.")
@click.pass_obj
def sync(
    app: AppContext,
    config_path: Path,
    dry_run: bool,
    projects: tuple[str, ...],
    repos: tuple[str, ...],
    json_mode: bool,
    quiet: bool,
    no_fetch: bool,
) -> None:
    """Upload new commits of every configured repository."""
    from gitleague_client.output import Reporter
    from gitleague_client.sync import SyncOptions, sync_repos

    reporter = Reporter(json_mode=json_mode, quiet=quiet, dry_run=dry_run)
    started = time.monotonic()
    try:
        config = app.config(config_path)
        reporter.batch_size = config.batch_size
        selected = select_repos(config, projects, repos)
        api = api_for(config)
    except ClientError as err:
        reporter.fatal(err.message, err.hint, int(err.exit_code))
        sys.exit(int(err.exit_code))
    options = SyncOptions(
        batch_size=config.batch_size,
        dry_run=dry_run,
        fetch=not no_fetch,
        fetch_workers=config.fetch_workers,
        extract_workers=config.extract_workers,
        timeouts=(config.connect_timeout, config.timeout),
    )
    with api:
        try:
            api.me()  # one cheap call: a bad key or a dead server stops here, not per repo
        except ClientError as err:
            reporter.fatal(err.message, err.hint, int(err.exit_code))
            sys.exit(int(err.exit_code))
        results = []
        outage: int | None = None
        try:
            for result in sync_repos(api, selected, options, reporter.progress):
                results.append(result)
                left = len(selected) - len(results)
                if result.exit_code in OUTAGE_CODES:
                    # The server is out past the retry budget: the other repos would each
                    # wait that long again for the same answer, so they are not tried.
                    outage = result.exit_code
                    if left:
                        result.notes.append(f"{left} more repos not tried: the server is out")
                reporter.repo_done(result)
                if outage is not None:
                    break
        except KeyboardInterrupt:  # the repo's run is closed; resume after its last batch
            reporter.fatal("Interrupted", None, ExitCode.INTERRUPTED)
            sys.exit(ExitCode.INTERRUPTED)
    code = ExitCode(outage) if outage else overall_exit_code([r.exit_code for r in results])
    reporter.summary(results, time.monotonic() - started, int(code))
    sys.exit(int(code))


def select_repos(
    config: Config, projects: tuple[str, ...], repos: tuple[str, ...]
) -> list[RepoConfig]:
    """The configured repos that ``--project`` and ``--repo`` pick (all when neither is given)."""
    from gitleague_client.config import ConfigError

    chosen = list(config.iter_repos())
    if projects:
        wanted = {p.strip().lower() for p in projects}
        chosen = [r for r in chosen if {r.project_name.lower(), r.project_id} & wanted]
    if repos:
        chosen = [r for r in chosen if any(_repo_matches(r, want) for want in repos)]
    if not chosen:
        asked = ", ".join([*(f"--project {p}" for p in projects), *(f"--repo {r}" for r in repos)])
        raise ConfigError([f"{config.path}: no configured repo matches {asked}"])
    return chosen


def _repo_matches(repo: RepoConfig, want: str) -> bool:
    path = Path(os.path.expanduser(want))
    if os.path.normcase(str(path.resolve())) == os.path.normcase(str(repo.path.resolve())):
        return True
    return bool(repo.git_url) and normalize_git_url(want) == normalize_git_url(repo.git_url or "")


def overall_exit_code(codes: list[int]) -> ExitCode:
    """0 when every repo succeeded; the shared code when all failures agree; else 1."""
    failed = [c for c in codes if c != ExitCode.OK]
    if not failed:
        return ExitCode.OK
    if len(failed) == len(codes) and len(set(failed)) == 1:
        return ExitCode(failed[0])
    return ExitCode.PARTIAL_FAILURE


def main() -> None:
    """Console-script entry point."""
    for stream in (sys.stdout, sys.stderr):
        # ✓ and ✗ must not crash a run whose output goes to a file in a legacy encoding.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    # SIGTERM (``timeout``, a cron daemon stopping, ``kill``) exits like Ctrl-C does:
    # the run is closed on the server, extraction workers and SSH masters are stopped.
    signal.signal(signal.SIGTERM, _terminated)
    cli(prog_name="gitleague-client")


def _terminated(_signum: int, _frame: object) -> None:
    sys.exit(ExitCode.TERMINATED)
