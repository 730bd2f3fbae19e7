"""Sync runs: open, count batches, finish (with the ``sync_commits`` audit entry)."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..db import db, utcnow
from ..errors import ConflictError, NotFoundError, ValidationFailedError
from ..models import Commit, Repo, SyncRun, SyncRunStatus, SyncStatus, User
from . import audit
from .auth import Principal

if TYPE_CHECKING:
    from .ingest import BatchResult

ABANDONED_AFTER = dt.timedelta(hours=6)
#: Largest id the sync_runs.id column (a 32-bit integer) holds.
MAX_RUN_ID = 2**31 - 1


def open_run(
    repo: Repo, *, method: str, actor: Principal | str, client_version: str | None = None
) -> SyncRun:
    """Start a run for ``repo``, closing the runs it supersedes as abandoned.

    A client syncs a repo with one run at a time, so a run of the same method still
    open when the next one starts belongs to a client that was killed (or lost its
    network) before closing it; runs of any method open for hours are dead too.
    """
    _close_abandoned(repo, method, actor)
    run = SyncRun(
        repo_id=repo.id,
        method=method,
        status=SyncRunStatus.RUNNING.value,
        client_version=client_version,
    )
    if isinstance(actor, Principal):
        run.user_id = actor.user.id
        run.api_key_id = actor.api_key.id if actor.api_key else None
    db.session.add(run)
    db.session.flush()
    return run


def _close_abandoned(repo: Repo, method: str, actor: Principal | str) -> None:
    cutoff = utcnow() - ABANDONED_AFTER
    stale = db.session.scalars(
        sa.select(SyncRun)
        .where(
            SyncRun.repo_id == repo.id,
            SyncRun.status == SyncRunStatus.RUNNING.value,
            sa.or_(SyncRun.method == method, SyncRun.started_at < cutoff),
        )
        .order_by(SyncRun.id)
    )
    for run in list(stale):
        why = "a newer run started" if run.method == method else "open for hours"
        finish_run(repo, run, status="failed", error=f"abandoned: never finished ({why})",
                   actor=actor)  # fmt: skip


_CLIENT_UA = re.compile(r"\bgitleague-client/([0-9A-Za-z.+\-]{1,64})")


def client_version_of(user_agent: str | None) -> str | None:
    """The version in a ``gitleague-client/<version>`` User-Agent, else None."""
    match = _CLIENT_UA.search(user_agent or "")
    return match.group(1) if match else None


def get_run(repo: Repo, run_id: Any) -> SyncRun:
    """The run ``run_id`` of ``repo``; 404 otherwise."""
    # Ids beyond the column's range name no run (PostgreSQL would refuse the query).
    valid = isinstance(run_id, int) and not isinstance(run_id, bool) and 0 < run_id <= MAX_RUN_ID
    run = db.session.get(SyncRun, run_id) if valid else None
    if run is None or run.repo_id != repo.id:
        raise NotFoundError("Sync run not found")
    return run


def running_run(repo: Repo, run_id: int | None) -> SyncRun | None:
    """The named run, which must still be running (None when no run is named)."""
    if run_id is None:
        return None
    run = get_run(repo, run_id)
    if run.status != SyncRunStatus.RUNNING.value:
        why = f": {run.error}" if run.error and run.error.startswith("abandoned") else ""
        raise ConflictError(f"sync run {run.id} is already {run.status}{why}")
    return run


def add_counts(run: SyncRun, result: BatchResult) -> None:
    """Add a batch's counts to its run atomically (batches may arrive in parallel)."""
    db.session.execute(
        sa.update(SyncRun)
        .where(SyncRun.id == run.id)
        .values(
            received=SyncRun.received + result.received,
            inserted=SyncRun.inserted + result.inserted,
            corrected=SyncRun.corrected + result.corrected,
            duplicates=SyncRun.duplicates + result.duplicates,
            rejected=SyncRun.rejected + len(result.rejected),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(run)


def finish_run(
    repo: Repo,
    run: SyncRun,
    *,
    status: str,
    actor: Principal | str,
    head_sha: str | None = None,
    error: str | None = None,
) -> SyncRun:
    """End a run, update the repo's health and write its ``sync_commits`` entry."""
    if run.status != SyncRunStatus.RUNNING.value:
        raise ConflictError(f"sync run {run.id} is already {run.status}")
    if status not in (SyncRunStatus.SUCCEEDED.value, SyncRunStatus.FAILED.value):
        raise ValidationFailedError("status: must be succeeded or failed")
    db.session.refresh(run)
    now = utcnow()
    run.status, run.finished_at, run.head_sha = status, now, head_sha
    run.error = error if status == SyncRunStatus.FAILED.value else None
    if run.errors == 0:
        repo.sync_status, repo.last_error = SyncStatus.HEALTHY.value, None
        if head_sha and _is_stored(repo.id, head_sha):
            repo.last_ingested_sha = head_sha
    else:
        repo.sync_status = SyncStatus.FAILING.value
        repo.last_error = run.error or f"{run.rejected} commit(s) rejected"
    repo.last_sync_at = now
    _audit(repo, run, actor)
    return run


def cancel_run(repo: Repo, run: SyncRun, *, error: str, actor: Principal | str) -> SyncRun:
    """End a run as failed with its audit entry, leaving the repo's own state alone.

    For a pull job that stops because the repo moved to another sync method:
    the repo's status now belongs to that method.
    """
    if run.status != SyncRunStatus.RUNNING.value:
        raise ConflictError(f"sync run {run.id} is already {run.status}")
    db.session.refresh(run)
    run.status, run.finished_at, run.error = SyncRunStatus.FAILED.value, utcnow(), error
    _audit(repo, run, actor)
    return run


def _is_stored(repo_id: str, sha: str) -> bool:
    stmt = sa.select(Commit.sha).where(Commit.repo_id == repo_id, Commit.sha == sha)
    return db.session.scalar(stmt) is not None


def _audit(repo: Repo, run: SyncRun, actor: Principal | str) -> None:
    facts: dict[str, Any] = {
        "received": run.received,
        "inserted": run.inserted,
        "duplicates": run.duplicates,
        "rejected": run.rejected,
        "errors": run.errors,
        "status": run.status,
        "sync_run_id": run.id,
        "method": run.method,
        "corrected": run.corrected,
    }
    # Only counts go into the readable text: the guide's success query
    # matches "errors: 0" with LIKE, so free text must stay out of it.
    details = audit.format_details(facts)
    facts.update(head_sha=run.head_sha, error=run.error)
    audit.record("sync_commits", actor=actor, repo_id=repo.id, data=facts, details=details)


def recent_runs(repo: Repo, limit: int = 20) -> list[tuple[SyncRun, str | None]]:
    """A repo's latest sync runs with the email of who ran them, newest first (one query)."""
    stmt = (
        sa.select(SyncRun, User.email)
        .outerjoin(User, User.id == SyncRun.user_id)
        .where(SyncRun.repo_id == repo.id)
        .order_by(SyncRun.id.desc())
        .limit(limit)
    )
    return [(run, email) for run, email in db.session.execute(stmt)]
