"""``pull_celery``: the server fetches repos with a stored token (legacy).

The name dates from the Celery era and is kept so that data and docs stay
valid; the jobs now run on RQ workers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .base import PlannedChange, SyncMethod, TransitionContext

if TYPE_CHECKING:
    from ..models import Repo

log = logging.getLogger(__name__)

QUEUE_NAME = "gitleague-sync"
#: RQ job states in which a pull of the repo is waiting or running.
PENDING_STATES = ("queued", "started", "deferred", "scheduled")
UNKNOWN = "unknown"


def job_id(repo_id: str) -> str:
    """The deterministic RQ job id of a repo's pull sync: ``sync_repo-<repo_id>``.

    The issue named it ``sync_repo:<repo_id>``, but RQ 2.x and later accept
    only letters, digits, ``_`` and ``-`` in job ids, so the separator is a dash.
    """
    return f"sync_repo-{repo_id}"


def job_state(redis: Any, repo_id: str) -> str | None:
    """The RQ status of the repo's pull job, or None when there is none."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(job_id(repo_id), connection=redis)
    except NoSuchJobError:
        return None
    status = job.get_status(refresh=True)
    return None if status is None else str(getattr(status, "value", status))


class PullCelerySyncMethod(SyncMethod):
    """Server-scheduled pull with an encrypted personal access token."""

    name = "pull_celery"
    label = "PULL_CELERY (legacy)"
    description = "RQ workers fetch the repository with a stored, encrypted token"
    server_scheduled = True

    def plan_leave(
        self, repo: Repo, *, target: str, context: TransitionContext
    ) -> list[PlannedChange]:
        """Credentials are deleted (the guide: not kept) and a pending pull cancelled."""
        changes = []
        if repo.has_credentials:
            changes.append(PlannedChange("credentials", "Clear encrypted credentials"))
        state = self._job_state(repo, context)
        if state in PENDING_STATES:
            changes.append(
                PlannedChange("queued_job", f"Cancel {state} pull job {job_id(repo.id)}")
            )
        elif state == UNKNOWN:
            changes.append(
                PlannedChange("queued_job", f"Cancel pull job {job_id(repo.id)} if pending")
            )
        return changes

    def leave(self, repo: Repo, *, target: str, context: TransitionContext) -> None:
        """Delete the stored token and cancel the repo's pending job, if any.

        A job that is already running is not killed: before each write it
        re-checks that the repo is still on pull_celery, and the repo row is
        locked by the migration, so it sees the old or the new method.
        """
        repo.credentials_encrypted = None
        repo.credentials_updated_at = None
        redis = context.services.get("redis")
        if redis is None:
            return
        from redis.exceptions import ConnectionError as RedisConnectionError
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            job = Job.fetch(job_id(repo.id), connection=redis)
            if job.get_status(refresh=False) in ("queued", "deferred", "scheduled"):
                job.cancel()
        except NoSuchJobError:
            pass
        except RedisConnectionError:
            log.warning("Redis unreachable: pull job of %s not cancelled (it re-checks)", repo.id)

    def plan_enter(
        self, repo: Repo, *, source: str, context: TransitionContext
    ) -> list[PlannedChange]:
        """Entering without a token leaves the repo waiting for credentials."""
        if repo.has_credentials:
            return []
        return [PlannedChange("sync_status", "Set sync_status to: needs_credentials")]

    def enter(self, repo: Repo, *, source: str, context: TransitionContext) -> None:
        """Mark the repo as waiting for credentials when it has none."""
        if not repo.has_credentials:
            repo.sync_status = "needs_credentials"

    def active_reason(self, repo: Repo, *, context: TransitionContext) -> str | None:
        """Active while the repo's pull job is queued or running."""
        state = self._job_state(repo, context)
        if state == UNKNOWN:
            return "cannot tell whether a pull job is pending: Redis is unreachable"
        if state in PENDING_STATES:
            return f"pull job {job_id(repo.id)} is {state}"
        return None

    def missing_requirements(self, repo: Repo) -> list[str]:
        """A pull needs a stored token."""
        return [] if repo.has_credentials else ["credentials"]

    @staticmethod
    def _job_state(repo: Repo, context: TransitionContext) -> str | None:
        redis = context.services.get("redis")
        if redis is None:
            return None
        from redis.exceptions import ConnectionError as RedisConnectionError

        try:
            return job_state(redis, repo.id)
        except RedisConnectionError:
            return UNKNOWN
