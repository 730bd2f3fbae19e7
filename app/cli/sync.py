"""Pull sync from the shell: ``flask --app wsgi sync|credentials ...``, ``repos set-credentials``.

Thin shells over :mod:`app.services.pull_sync`, :mod:`app.services.pull_schedule`
and :mod:`app.services.credentials`; errors become a message and exit code 1.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from ..db import db
from ..errors import GitLeagueError, NotFoundError
from ..models import Repo
from ..queue import enqueue_sync, get_queue, get_redis
from ..services import credentials as cred_svc
from ..services import pull_schedule, pull_sync
from .admin import SHELL, edge, repos

sync = AppGroup("sync", help="Pull sync (pull_celery on RQ workers).")
credentials_group = AppGroup("credentials", help="Encrypted repository credentials.")
TOKEN_ENV = "GITLEAGUE_REPO_TOKEN"


def _repo(repo_id: str) -> Repo:
    repo = db.session.get(Repo, repo_id) if len(repo_id) <= 40 else None
    if repo is None:
        raise NotFoundError("Repository not found")
    return repo


@repos.command("set-credentials")
@click.argument("repo_id")
@click.option("--username", default=None, help="HTTP user name (default: x-access-token).")
@click.option(
    "--token-env",
    default=TOKEN_ENV,
    show_default=True,
    help="Environment variable holding the token; prompted for when it is unset.",
)
@click.option("--clear", is_flag=True, help="Delete the stored credentials instead.")
@edge
def set_credentials(repo_id: str, username: str | None, token_env: str, clear: bool) -> None:
    """Store a repo's access token, read from an environment variable or a prompt (never argv)."""
    import os

    repo = _repo(repo_id)
    if clear:
        had = cred_svc.clear_credentials(SHELL, repo)
        click.echo(f"credentials of {repo.id} {'cleared' if had else 'were not set'}", err=True)
        return
    token = os.environ.get(token_env) or click.prompt("Token", hide_input=True, err=True)
    cred_svc.set_credentials(
        SHELL,
        repo,
        token=token,
        username=username,
        keys=current_app.config["GITLEAGUE_ENCRYPTION_KEYS"],
    )
    click.echo(f"credentials of {repo.id} stored (encrypted)", err=True)


@credentials_group.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored secret under the first key (safe to stop and run again)."""
    try:
        report = cred_svc.rotate_all(current_app.config["GITLEAGUE_ENCRYPTION_KEYS"])
    except GitLeagueError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"rotated: {report.rotated}, already current: {report.current}", err=True)
    for repo_id in report.failed:
        click.echo(f"✗ {repo_id}: no configured key decrypts its credentials", err=True)
    if report.failed:
        raise SystemExit(1)


@sync.command("run")
@click.argument("repo_id")
def run(repo_id: str) -> None:
    """Run one pull sync of REPO_ID in the foreground (no Redis needed)."""
    config = current_app.config
    try:
        _repo(repo_id)
        db.session.rollback()
        outcome = pull_sync.run(repo_id, config)
    except GitLeagueError as exc:
        pull_sync.record_failure(repo_id, exc.message)
        raise click.ClickException(exc.message) from None
    click.echo(
        f"{outcome.repo_id}: {outcome.status}"
        + (f" ({outcome.message})" if outcome.message else "")
        + f", received: {outcome.received}, inserted: {outcome.inserted}, "
        f"duplicates: {outcome.duplicates}, rejected: {outcome.rejected}, "
        # last, as in the sync_commits audit entry, so the earlier fields keep their place
        f"corrected: {outcome.corrected}"
    )
    if outcome.status in ("needs_credentials", "busy"):
        raise SystemExit(1)


@sync.command("enqueue")
@click.argument("repo_ids", nargs=-1, required=True)
@click.option(
    "--force",
    is_flag=True,
    help="Replace a pending job (one left 'started' by a killed worker, say); "
    "a job running on a live worker is kept.",
)
def enqueue(repo_ids: tuple[str, ...], force: bool) -> None:
    """Queue pull syncs of REPO_IDS now (one pending job per repo at most)."""
    from redis.exceptions import RedisError

    try:
        queue = get_queue()
        for repo_id in repo_ids:
            _repo(repo_id)
            result = enqueue_sync(queue, repo_id, config=current_app.config, force=force)
            said = "queued" if result.created else "already pending (--force replaces it)"
            if result.replaced:
                said = f"queued (replaced a {result.replaced} job)"
            click.echo(f"{result.job.id}: {said}")
    except GitLeagueError as exc:
        raise click.ClickException(exc.message) from None
    except RedisError as exc:
        raise click.ClickException(f"Redis is unreachable: {type(exc).__name__}") from None
    finally:
        db.session.rollback()  # end the read (on SQLite it holds the write lock)


@sync.command("failures")
def failures() -> None:
    """List pull repos that are failing or need credentials, with their last error."""
    rows = pull_schedule.failing_repos()
    if not rows:
        click.echo("No failing pull repositories.", err=True)
    for repo in rows:
        when = repo.last_sync_at.isoformat(timespec="seconds") if repo.last_sync_at else "never"
        error = repo.last_error or ("set credentials" if not repo.has_credentials else "")
        click.echo(f"{repo.id}\t{repo.sync_status}\t{when}\t{error}")


@sync.command("schedule")
@click.option("--once", is_flag=True, help="One pass, then exit (for cron or tests).")
@click.option("--every", default=60.0, show_default=True, help="Seconds between passes.")
def schedule(once: bool, every: float) -> None:
    """Queue due pull repos every --every seconds until stopped (SIGTERM/SIGINT)."""
    stop = {"now": False}

    def _stop(*_: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    queue = get_queue()
    while True:
        try:
            report = pull_schedule.schedule_once(queue, current_app.config)
            _print_report(report)
        except Exception as exc:  # Redis or the database away: log, try next pass
            if once:
                raise
            logging.getLogger(__name__).warning("schedule pass failed: %s", type(exc).__name__)
            db.session.rollback()
        if once or stop["now"]:
            return
        deadline = time.monotonic() + every
        while not stop["now"] and time.monotonic() < deadline:
            time.sleep(min(1.0, every))
        if stop["now"]:
            return


def _print_report(report: pull_schedule.ScheduleReport) -> None:
    if report.disabled:
        click.echo("pull sync is disabled (PULL_SYNC_ENABLED/CELERY_ENABLED=false)", err=True)
        return
    click.echo(
        f"enqueued: {len(report.enqueued)}, already pending: {len(report.pending)}, "
        f"needs_credentials: {len(report.needs_credentials)}, not due: {report.not_due}",
        err=True,
    )
    for job in report.abandoned:
        click.echo(f"{job}: abandoned by a dead worker, handed back to RQ", err=True)


@sync.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option("--name", default=None, help="Worker name (default: host and pid).")
def worker(burst: bool, name: str | None) -> None:
    """Run an RQ worker on the gitleague-sync queue, with the app built once."""
    from ..worker import SyncWorker

    queue = get_queue()
    db.engine.dispose()  # job processes fork from here: share no connection with them
    SyncWorker([queue], connection=get_redis(), name=name).work(with_scheduler=True, burst=burst)


GROUPS = (sync, credentials_group)
