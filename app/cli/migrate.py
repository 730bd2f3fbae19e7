"""``flask --app wsgi migrate-sync status | migrate | rollback | methods``.

The ``run_*`` functions are the whole edge: they call the migration and
dashboard services, print the guide's text (or JSON) and return the exit
status. The click commands below and ``scripts/migrate_repos_to_push.py``
both call them, so the two front ends cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import click
from flask import current_app
from flask.cli import AppGroup

from ..services import dashboard, migration
from ..sync_methods import get_registry
from . import migration_output as out

#: Exit statuses: everything done; some repo failed; the command was misused.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def shell_actor(kind: str = "cli") -> str:
    """How audit entries name whoever runs a command in a shell."""
    try:
        return f"{kind}:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in this environment
        return kind


def _emit(stream: TextIO, lines: list[str] | None = None, data: Any = None) -> None:
    text = json.dumps(data, indent=2, default=str) if lines is None else "\n".join(lines)
    click.echo(text, file=stream)


def _stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["GITLEAGUE_STALE_AFTER_SECONDS"])


def run_status(
    stream: TextIO, *, source: str, target: str, as_json: bool = False, health: bool = True
) -> int:
    """Print the guide's status block (and, with ``health``, figures 2 and 3)."""
    stale = _stale_after()
    if as_json:
        _emit(stream, data=dashboard.summary(source=source, target=target, stale_after=stale))
        return EXIT_OK
    sym = out.symbols(stream)
    lines = out.status_lines(dashboard.progress(source=source, target=target), sym)
    if health:
        ages = dashboard.last_sync_times(stale_after=stale)
        rates = dashboard.success_rates()
        lines += out.health_lines(ages, rates, stale.total_seconds() / 3600, sym)
    _emit(stream, lines)
    return EXIT_OK


def _finish(stream: TextIO, report: migration.MigrationReport, as_json: bool) -> int:
    if as_json:
        _emit(stream, data=report.to_dict())
    else:
        _emit(stream, out.report_lines(report, out.symbols(stream)))
    return EXIT_OK if report.ok else EXIT_FAILED


def run_migrate(
    stream: TextIO,
    *,
    repo_ids: Sequence[str],
    target: str = migration.DEFAULT_TARGET,
    source: str | None = None,
    all_repos: bool = False,
    exclude_active: bool = False,
    active_within: float | None = None,
    dry_run: bool = False,
    as_json: bool = False,
    actor: str | None = None,
) -> int:
    """Migrate named repos, or all on ``source``; print blocks and ``✓ N/M``."""
    report = migration.migrate(
        actor or shell_actor(),
        target=target,
        source=source,
        repo_ids=repo_ids,
        all_repos=all_repos,
        exclude_active=exclude_active or active_within is not None,
        active_within=active_within,
        dry_run=dry_run,
        services=migration.transition_services(),
    )
    return _finish(stream, report, as_json)


def run_rollback(
    stream: TextIO,
    *,
    repo_ids: Sequence[str],
    dry_run: bool = False,
    as_json: bool = False,
    actor: str | None = None,
) -> int:
    """Return repos to the method before their last migration."""
    report = migration.rollback(
        actor or shell_actor(),
        repo_ids=repo_ids,
        dry_run=dry_run,
        services=migration.transition_services(),
    )
    return _finish(stream, report, as_json)


def run_methods(stream: TextIO, *, as_json: bool = False) -> int:
    """List registered sync methods with their origin, and refused plugins."""
    registry = get_registry()
    if as_json:
        _emit(
            stream,
            data={
                "methods": [
                    {
                        "name": m.name,
                        "label": m.label,
                        "description": m.description,
                        "origin": registry.origin(m.name),
                        "server_scheduled": m.server_scheduled,
                        "accepts_push": m.accepts_push,
                    }
                    for m in registry
                ],
                "refused": registry.errors,
            },
        )
    else:
        _emit(stream, out.methods_lines(registry, out.symbols(stream)))
    return EXIT_OK


# -- click ----------------------------------------------------------------------

migrate_sync = AppGroup(
    "migrate-sync", help="Move repositories between sync methods (see the migration guide)."
)
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
_dry = click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
_source = click.option(
    "--from",
    "source",
    default=None,
    metavar="METHOD",
    help=f"Only repos on this method (default with --all: {migration.DEFAULT_SOURCE}).",
)
_target = click.option(
    "--to", "target", default=migration.DEFAULT_TARGET, show_default=True, metavar="METHOD"
)


def _stream() -> TextIO:
    return sys.stdout


def _exit(code: int) -> None:
    click.get_current_context().exit(code)


@migrate_sync.command("status")
@click.option("--from", "source", default=migration.DEFAULT_SOURCE, show_default=True)
@_target
@_json
def status_cmd(source: str, target: str, as_json: bool) -> None:
    """Repos per sync method, migration progress, stale repos and success rates."""
    _exit(run_status(_stream(), source=source, target=target, as_json=as_json))


@migrate_sync.command("migrate")
@click.argument("repo_ids", nargs=-1)
@_source
@_target
@click.option("--all", "all_repos", is_flag=True, help="Every repo on --from.")
@click.option("--exclude-active", is_flag=True, help="Skip repos syncing right now.")
@click.option(
    "--active-within",
    type=click.FloatRange(min=0),
    default=None,
    metavar="HOURS",
    help="With --exclude-active: also skip repos synced within HOURS.",
)
@_dry
@_json
def migrate_cmd(
    repo_ids: tuple[str, ...],
    source: str | None,
    target: str,
    all_repos: bool,
    exclude_active: bool,
    active_within: float | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Migrate REPO_IDS (or --all) to --to, each in its own transaction."""
    if bool(repo_ids) == all_repos:
        raise click.UsageError("give repository ids or --all (not both)")
    _exit(
        run_migrate(
            _stream(),
            repo_ids=repo_ids,
            target=target,
            source=source,
            all_repos=all_repos,
            exclude_active=exclude_active,
            active_within=active_within,
            dry_run=dry_run,
            as_json=as_json,
        )
    )


@migrate_sync.command("rollback")
@click.argument("repo_ids", nargs=-1, required=True)
@_dry
@_json
def rollback_cmd(repo_ids: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Return REPO_IDS to the method they had before their last migration."""
    _exit(run_rollback(_stream(), repo_ids=repo_ids, dry_run=dry_run, as_json=as_json))


@migrate_sync.command("methods")
@_json
def methods_cmd(as_json: bool) -> None:
    """Registered sync methods with their origin, and plugins that were refused."""
    _exit(run_methods(_stream(), as_json=as_json))
