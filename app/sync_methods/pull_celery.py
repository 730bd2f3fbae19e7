"""``pull_celery``: the server fetches repos with a stored token (legacy).

The name dates from the Celery era and is kept so that data and docs stay
valid; the jobs now run on RQ workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import PlannedChange, SyncMethod, TransitionContext

if TYPE_CHECKING:
    from ..models import Repo

QUEUE_NAME = "gitleague-sync"


def job_id(repo_id: str) -> str:
    """The deterministic RQ job id of a repo's pull sync."""
    return f"sync_repo:{repo_id}"


class PullCelerySyncMethod(SyncMethod):
    """Server-scheduled pull with an encrypted personal access token."""

    name = "pull_celery"
    label = "PULL_CELERY (legacy)"
    description = "RQ workers fetch the repository with a stored, encrypted token"
    server_scheduled = True

    def plan_leave(self, repo: Repo, *, target: str) -> list[PlannedChange]:
        """Credentials are deleted (the guide: not kept) and queued pulls cancelled."""
        return [
            PlannedChange("credentials", "Clear encrypted credentials"),
            PlannedChange("queued_job", f"Cancel queued pull job {job_id(repo.id)}"),
        ]

    def leave(self, repo: Repo, *, target: str, context: TransitionContext) -> None:
        """Delete the stored token and cancel the repo's queued job, if any."""
        repo.credentials_encrypted = None
        repo.credentials_updated_at = None
        redis = context.services.get("redis")
        if redis is not None:
            from rq.job import Job
            from rq.exceptions import NoSuchJobError

            try:
                Job.fetch(job_id(repo.id), connection=redis).cancel()
            except NoSuchJobError:
                pass

    def plan_enter(self, repo: Repo, *, source: str) -> list[PlannedChange]:
        """Entering without a token leaves the repo waiting for credentials."""
        if repo.has_credentials:
            return []
        return [PlannedChange("sync_status", "Set sync_status to: needs_credentials")]

    def enter(self, repo: Repo, *, source: str, context: TransitionContext) -> None:
        """Mark the repo as waiting for credentials when it has none."""
        if not repo.has_credentials:
            repo.sync_status = "needs_credentials"

    def missing_requirements(self, repo: Repo) -> list[str]:
        """A pull needs a stored token."""
        return [] if repo.has_credentials else ["credentials"]
