"""RQ job entry points. Jobs take ids only; results and errors hold no secret.

Run a worker with ``flask --app wsgi sync worker`` (the app is built once,
in the worker process, and every job inherits it), or with plain
``rq worker gitleague-sync --with-scheduler`` and the same environment
(the app is then built on first use in each job process).
"""

from __future__ import annotations

import functools
import logging
import uuid
from typing import Any

from flask import Flask, current_app, g, has_app_context

from .errors import GitLeagueError
from .services import pull_sync

log = logging.getLogger(__name__)


class PullSyncFailedError(GitLeagueError):
    """A pull sync failed; the message is the repo's readable last_error."""

    code = "pull_sync_failed"
    status = 502


@functools.lru_cache(maxsize=1)
def _standalone_app() -> Flask:
    from . import create_app

    return create_app()


def _app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
    return _standalone_app()


def _current_job() -> Any:
    from rq import get_current_job

    return get_current_job()


def sync_repo(repo_id: str) -> dict[str, Any]:
    """Pull new commits of ``repo_id`` (an RQ job; see :mod:`app.services.pull_sync`).

    Transient failures (network, timeout) are raised so that RQ retries
    them with backoff; failures that a retry cannot fix (authentication,
    missing repository or branch, unusable credentials) and the last try
    of any failure mark the repo ``failing`` with a readable ``last_error``
    and end the retries. Either way the exception reaches RQ's failed-job
    registry, carrying that same readable message and nothing secret.
    """
    app = _app()
    with app.app_context():
        job = _current_job()
        # The id of the request that queued this job: its logs and audit
        # entries carry it (see app.logs and app.services.audit).
        g.request_id = (job.meta.get("request_id") if job is not None else None) or uuid.uuid4().hex
        log.info("pull sync of %s started (job %s)", repo_id, job.id if job else None)
        try:
            outcome = pull_sync.run(repo_id, app.config)
            log.info(
                "pull sync of %s: %s, inserted %d, corrected %d",
                repo_id,
                outcome.status,
                outcome.inserted,
                outcome.corrected,
            )
            return outcome.as_dict()
        except GitLeagueError as exc:
            _fail(repo_id, exc.message, permanent=getattr(exc, "permanent", True))
            raise PullSyncFailedError(exc.message) from None
        except Exception as exc:  # a bug or a database outage: retried, reported by type only
            message = f"internal error: {type(exc).__name__}"
            _fail(repo_id, message, permanent=False)
            raise PullSyncFailedError(message) from None


def _fail(repo_id: str, message: str, *, permanent: bool) -> None:
    job = _current_job()
    last_try = permanent or job is None or not job.retries_left
    log.warning("pull sync of %s failed%s: %s", repo_id, "" if last_try else " (retrying)", message)
    if not last_try:
        return
    if job is not None:
        job.retries_left = 0  # a retry cannot fix this one
    pull_sync.record_failure(repo_id, message)
