"""One pull sync of one repo: head check, fetch, extract, ingest.

The same steps run in an RQ worker (:mod:`app.jobs`) and in the foreground
(``flask --app wsgi sync run``). Commits are extracted with the push
client's own code (:func:`gitleague_client.extract.iter_commits`) and stored
through the same ingest path as pushes, in batches, parents first, each
batch moving ``last_ingested_sha`` in its own transaction: a sync killed
half-way resumes from the last stored batch and stores nothing twice.

Before every write the repo row is locked and its method re-checked, so a
migration away from pull_celery (which locks the same row) happens wholly
before or wholly after each write, and the job stops at the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from gitleague_client.extract import iter_commits
from gitleague_client.mailmap import mailmap_at

from ..db import db, utcnow
from ..errors import GitLeagueError, ValidationFailedError
from ..models import Repo, SyncRun, SyncRunStatus, SyncStatus
from ..schemas.commit_wire import decode_items
from . import credentials, git_remote, ingest, league_rules, remote_url, sync_runs

log = logging.getLogger(__name__)

METHOD = "pull_celery"
ACTOR = "pull-worker"
#: A sync ends moments after its last check of the repo; a delete waits this
#: long for it (tries x pause) before leaving the mirror to that sync.
LOCK_TRIES_ON_DELETE = 10
LOCK_RETRY_PAUSE = 0.05


class PullStoppedError(GitLeagueError):
    """The repo left pull_celery (or was deleted) while the job ran."""

    code = "pull_stopped"
    status = 409


@dataclass
class PullOutcome:
    """What one sync did; plain values only (RQ stores it as the job result)."""

    repo_id: str
    status: str  # synced | unchanged | busy | skipped | stopped | needs_credentials
    message: str = ""
    received: int = 0
    inserted: int = 0
    corrected: int = 0  # shallow-boundary rows (stored by a push) replaced by the full commit
    duplicates: int = 0
    rejected: int = 0
    head_sha: str | None = None
    sync_run_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The outcome as a JSON-ready dict."""
        return asdict(self)


@contextlib.contextmanager
def repo_lock(mirror_dir: str, repo_id: str, *, tries: int = 1) -> Iterator[bool]:
    """An exclusive, non-blocking per-repo lock; yields whether it was taken.

    A file lock: the kernel drops it when its process dies, so a killed
    worker never leaves a repo locked. With ``tries`` above one, a taken
    lock is tried again that many times, :data:`LOCK_RETRY_PAUSE` apart.
    """
    Path(mirror_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(mirror_dir) / f"{repo_id}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        yield _flock(fd, tries)
    finally:
        os.close(fd)


def _flock(fd: int, tries: int) -> bool:
    for attempt in range(tries):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt + 1 < tries:
                time.sleep(LOCK_RETRY_PAUSE)
    return False


def forget_mirror(mirror_dir: str, repo_id: str) -> None:
    """Remove the mirror of ``repo_id``, whose delete has committed; never raises.

    Takes the repo's lock so that no sync is writing the folder meanwhile.
    A sync holding it for longer than a short wait removes the mirror itself
    when it ends (it finds the repo gone: see :func:`run`). A mirror that
    cannot be removed is logged and left: the delete itself has succeeded.
    The ``.lock`` file stays: unlinking a lock file others may hold open
    would let two syncs of a re-created id run at once.
    """
    try:
        if not os.path.lexists(git_remote.checked_mirror_path(mirror_dir, repo_id)):
            return  # a push repo, or never pulled: no lock file to create for nothing
        with repo_lock(mirror_dir, repo_id, tries=LOCK_TRIES_ON_DELETE) as locked:
            if locked:
                git_remote.remove_mirror(mirror_dir, repo_id)
    except (OSError, ValueError) as exc:
        log.warning("mirror of deleted repository %s left in place: %s", repo_id, exc)


def run(repo_id: str, config: Any) -> PullOutcome:
    """Sync ``repo_id`` once; raises :class:`GitLeagueError` subclasses on failure.

    Failures are not recorded here: the caller decides whether this was the
    last try (see :func:`record_failure`).
    """
    with repo_lock(config["GITLEAGUE_MIRROR_DIR"], repo_id) as locked:
        if not locked:
            return PullOutcome(repo_id, "busy", "another sync of this repository is running")
        try:
            return _run_locked(repo_id, config)
        finally:
            _drop_mirror_if_deleted(config["GITLEAGUE_MIRROR_DIR"], repo_id)


def _drop_mirror_if_deleted(mirror_dir: str, repo_id: str) -> None:
    """Remove the mirror of a repo deleted while this sync held its lock.

    Its delete could not take the lock, so the mirror (which this sync may
    have just made or fetched into) is ours to remove. Checked on every exit,
    a failed one too, while the lock is still held.
    """
    if not os.path.lexists(git_remote.mirror_path(mirror_dir, repo_id)):
        return
    try:
        db.session.rollback()  # a fresh read, whatever this sync left open
        gone = db.session.scalar(sa.select(Repo.id).where(Repo.id == repo_id)) is None
        db.session.rollback()  # end the read (on SQLite it would hold the write lock)
        if gone:
            git_remote.remove_mirror(mirror_dir, repo_id)
    except (sa.exc.SQLAlchemyError, OSError, ValueError) as exc:
        # Never mask the sync's own outcome or error; the mirror is only disk space.
        log.warning("repo %s: mirror not checked for removal: %s", repo_id, exc)


def _locked_repo(repo_id: str) -> Repo | None:
    """The repo row, locked for this transaction, freshly read."""
    stmt = (
        sa.select(Repo)
        .where(Repo.id == repo_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(stmt)


def _pull_repo(repo_id: str) -> Repo:
    repo = _locked_repo(repo_id)
    if repo is None:
        raise PullStoppedError(f"repository {repo_id} no longer exists")
    if repo.sync_method != METHOD:
        raise PullStoppedError(f"repository {repo_id} now uses {repo.sync_method}")
    return repo


def _run_locked(repo_id: str, config: Any) -> PullOutcome:
    try:
        repo = _pull_repo(repo_id)
    except PullStoppedError as exc:
        db.session.rollback()
        return PullOutcome(repo_id, "skipped", exc.message)
    _close_abandoned_runs(repo)
    if not repo.has_credentials:
        repo.sync_status = SyncStatus.NEEDS_CREDENTIALS.value
        db.session.commit()
        return PullOutcome(repo_id, "needs_credentials", "no credentials stored")
    url, branch, since = repo.git_url, repo.branch, repo.last_ingested_sha
    # Resolved once here: both requests below connect to the address checked now.
    target = git_remote.check_remote_url(
        url,
        allow_local=config["GITLEAGUE_ALLOW_LOCAL_REMOTES"],
        protected=remote_url.server_dirs(config),
    )
    creds = credentials.load(repo, config["GITLEAGUE_ENCRYPTION_KEYS"])
    db.session.commit()  # hold no transaction (nor SQLite's write lock) over the network
    timeout = config["GITLEAGUE_GIT_TIMEOUT"]
    head = git_remote.remote_head(target, branch, creds, timeout=timeout)
    if head is None:
        raise git_remote.BranchNotFoundError(f"branch not found: '{branch}' in {url}")
    if since is not None and head.decode() == since:
        return _unchanged(repo_id, since)
    path = git_remote.mirror_path(config["GITLEAGUE_MIRROR_DIR"], repo_id)
    mirror = git_remote.open_mirror(path, url, branch)
    try:
        head = git_remote.fetch_branch(mirror, target, branch, creds, timeout=timeout)
        return _ingest(repo_id, mirror, head, since, config)
    finally:
        mirror.close()


def _close_abandoned_runs(repo: Repo) -> None:
    """Runs of this repo's pull left running: their worker died (we hold the repo lock)."""
    stale = db.session.scalars(
        sa.select(SyncRun).where(
            SyncRun.repo_id == repo.id,
            SyncRun.method == METHOD,
            SyncRun.status == SyncRunStatus.RUNNING.value,
        )
    )
    for run in list(stale):
        sync_runs.finish_run(
            repo, run, status="failed", error="abandoned: the worker stopped mid-sync", actor=ACTOR
        )


def _unchanged(repo_id: str, head: str) -> PullOutcome:
    """The cheap path: the remote head is what we stored; only mark the repo healthy."""
    try:
        repo = _pull_repo(repo_id)
    except PullStoppedError as exc:
        db.session.rollback()
        return PullOutcome(repo_id, "stopped", exc.message)
    repo.sync_status, repo.last_error, repo.last_sync_at = SyncStatus.HEALTHY.value, None, utcnow()
    db.session.commit()
    return PullOutcome(repo_id, "unchanged", head_sha=head)


def _ingest(repo_id: str, mirror: Any, head: bytes, since: str | None, config: Any) -> PullOutcome:
    size, pause = config["GITLEAGUE_PULL_BATCH_SIZE"], config["GITLEAGUE_PULL_BATCH_PAUSE"]
    outcome = PullOutcome(repo_id, "synced", head_sha=head.decode())
    try:
        run = sync_runs.open_run(_pull_repo(repo_id), method=METHOD, actor=ACTOR)
        outcome.sync_run_id = run.id
        db.session.commit()
        commits = iter_commits(mirror, [head], [since.encode()] if since else [])
        while batch := list(islice(commits, size)):
            _store_batch(repo_id, run, batch, outcome)
            if pause:  # a throttle, so a long first sync leaves the database room
                time.sleep(pause)
        repo = _pull_repo(repo_id)
        _keep_mailmap(repo_id, mirror, head)
        sync_runs.finish_run(repo, run, status="succeeded", head_sha=outcome.head_sha, actor=ACTOR)
        db.session.commit()
    except PullStoppedError as exc:
        db.session.rollback()
        _cancel(repo_id, outcome.sync_run_id, exc.message)
        outcome.status, outcome.message = "stopped", exc.message
    return outcome


def _keep_mailmap(repo_id: str, mirror: Any, head: bytes) -> None:
    """The league merges authors with the ``.mailmap`` at the pulled head (as the client sends it)."""
    found = mailmap_at(mirror, head)
    if found is None:
        league_rules.delete_mailmap(None, repo_id)
        return
    try:
        league_rules.store_mailmap(repo_id, *found)
    except ValidationFailedError as exc:  # a broken .mailmap must not fail the pull
        log.warning("repo %s: .mailmap not kept: %s", repo_id, exc.message)


def _store_batch(repo_id: str, run: SyncRun, batch: list[dict], outcome: PullOutcome) -> None:
    """One transaction: re-check the method, store, count, move the resume point."""
    items = [msgspec.Raw(msgspec.json.encode(item)) for item in batch]
    rows, rejected = decode_items(items)
    repo = _pull_repo(repo_id)
    result = ingest.record_batch(
        repo, rows, rejected, received=len(items), resume_sha=batch[-1]["sha"]
    )
    sync_runs.add_counts(run, result)
    db.session.commit()
    outcome.received += result.received
    outcome.inserted += result.inserted
    outcome.corrected += result.corrected
    outcome.duplicates += result.duplicates
    outcome.rejected += len(result.rejected)


def _cancel(repo_id: str, run_id: int | None, reason: str) -> None:
    """Close the open run without touching a repo that now belongs to another method."""
    run = db.session.get(SyncRun, run_id) if run_id is not None else None
    repo = db.session.get(Repo, repo_id)
    if run is not None and repo is not None and run.status == SyncRunStatus.RUNNING.value:
        sync_runs.cancel_run(repo, run, error=f"stopped: {reason}", actor=ACTOR)
    db.session.commit()


def record_failure(repo_id: str, message: str) -> None:
    """Mark the repo ``failing`` with ``message`` (a failed run and its audit entry).

    Called after the last try only, so retries do not flood the audit log.
    A repo that left pull_celery meanwhile is left alone.
    """
    db.session.rollback()
    repo = _locked_repo(repo_id)
    if repo is None or repo.sync_method != METHOD:
        db.session.rollback()
        return
    open_runs = db.session.scalars(
        sa.select(SyncRun).where(
            SyncRun.repo_id == repo_id,
            SyncRun.method == METHOD,
            SyncRun.status == SyncRunStatus.RUNNING.value,
        )
    )
    run = next(iter(open_runs), None) or sync_runs.open_run(repo, method=METHOD, actor=ACTOR)
    sync_runs.finish_run(repo, run, status="failed", error=message, actor=ACTOR)
    db.session.commit()
