"""Which pull repos are due, and queueing them; the list of failing pulls.

A repo is due when its last sync (successful or not) is older than its
interval (``repos.pull_interval_seconds``, else ``GITLEAGUE_PULL_INTERVAL_SECONDS``)
plus a per-repo jitter, so a fleet of repos does not hit the
remotes in one burst and a failing repo is tried again once per interval,
not in a storm. Repos without credentials are never queued; they are
shown as ``needs_credentials``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..db import db, utcnow
from ..errors import ConflictError
from ..models import Repo, SyncStatus
from .auth import Principal
from .pull_sync import METHOD

if TYPE_CHECKING:
    from ..queue import Enqueued


@dataclass
class ScheduleReport:
    """What one scheduling pass did."""

    enqueued: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    needs_credentials: list[str] = field(default_factory=list)
    not_due: int = 0
    disabled: bool = False
    abandoned: list[str] = field(default_factory=list)


def jitter_seconds(repo_id: str, jitter: int) -> int:
    """A stable per-repo offset in ``[0, jitter]``."""
    if jitter <= 0:
        return 0
    return int.from_bytes(hashlib.sha256(repo_id.encode()).digest()[:4], "big") % (jitter + 1)


def due_repos(now: dt.datetime, config: Any) -> tuple[list[str], list[str], int]:
    """(due ids, ids lacking credentials, how many are not due yet); marks the latter."""
    interval = int(config["GITLEAGUE_PULL_INTERVAL_SECONDS"])
    jitter = int(config["GITLEAGUE_PULL_JITTER_SECONDS"])
    rows = db.session.execute(
        sa.select(
            Repo.id,
            Repo.last_sync_at,
            Repo.credentials_encrypted.is_not(None),
            Repo.pull_interval_seconds,
        )
        .where(Repo.sync_method == METHOD)
        .order_by(Repo.last_sync_at.asc().nulls_first(), Repo.id)
    ).all()
    due, missing, later = [], [], 0
    for repo_id, last, has_creds, own_interval in rows:
        wait = (own_interval or interval) + jitter_seconds(repo_id, jitter)
        if not has_creds:
            missing.append(repo_id)
        elif last is None or last + dt.timedelta(seconds=wait) <= now:
            due.append(repo_id)
        else:
            later += 1
    if missing:
        db.session.execute(
            sa.update(Repo)
            .where(Repo.id.in_(missing), Repo.sync_status != SyncStatus.NEEDS_CREDENTIALS.value)
            .values(sync_status=SyncStatus.NEEDS_CREDENTIALS.value)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return due, missing, later


def schedule_once(queue: Any, config: Any, now: dt.datetime | None = None) -> ScheduleReport:
    """Hand dead workers' jobs back to RQ, then queue every due pull repo.

    Nothing at all when ``PULL_SYNC_ENABLED`` is false.
    """
    from ..queue import enqueue_sync
    from ..worker import reap_abandoned

    report = ScheduleReport()
    if not config["PULL_SYNC_ENABLED"]:
        report.disabled = True
        return report
    # Every pass, due or not: a dead worker's job must not stay 'started'
    # until RQ's ten-minute maintenance.
    report.abandoned = reap_abandoned(queue)
    due, report.needs_credentials, report.not_due = due_repos(now or utcnow(), config)
    for repo_id in due:
        result = enqueue_sync(queue, repo_id, config=config)
        (report.enqueued if result.created else report.pending).append(repo_id)
    return report


def queue_pull(principal: Principal, repo: Repo, config: Any) -> Enqueued:
    """Queue a pull of ``repo`` now (write:repos); says whether a job was already pending.

    409 for a repo on another method or without credentials; 503 when the
    server has no Redis or Redis does not answer.
    """
    from redis.exceptions import RedisError

    from ..queue import QueueUnavailableError, enqueue_sync, get_queue, get_redis

    principal.require_scope("write:repos")
    if repo.sync_method != METHOD:
        raise ConflictError(
            f"repository {repo.id} uses sync method '{repo.sync_method}'; only {METHOD} "
            "repositories are pulled by the server",
            sync_method=repo.sync_method,
        )
    if repo.credentials_encrypted is None:
        raise ConflictError(
            f"repository {repo.id} has no credentials: PUT /api/v1/repos/{repo.id}/credentials first"
        )
    db.session.rollback()  # hold no transaction (SQLite's write lock) while Redis answers
    if get_redis() is None:
        raise QueueUnavailableError("this server has no REDIS_URL: pull jobs cannot be queued")
    try:
        return enqueue_sync(get_queue(), repo.id, config=config)
    except RedisError as exc:
        raise QueueUnavailableError(f"Redis is unreachable: {type(exc).__name__}") from None


def failing_repos() -> list[Repo]:
    """Pull repos that are failing or wait for credentials, worst first."""
    return list(
        db.session.scalars(
            sa.select(Repo)
            .where(
                Repo.sync_method == METHOD,
                Repo.sync_status.in_(
                    [SyncStatus.FAILING.value, SyncStatus.NEEDS_CREDENTIALS.value]
                ),
            )
            .order_by(Repo.sync_status, Repo.last_sync_at.desc(), Repo.id)
        )
    )
