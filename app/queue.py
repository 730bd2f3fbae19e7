"""Redis and the RQ queue of pull syncs, kept per app in ``app.extensions``.

Redis is optional: without ``REDIS_URL`` the server runs push-only, and
pull syncs run in the foreground with ``flask --app wsgi sync run``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, has_app_context

from .errors import ConfigurationError, ConflictError, ServiceUnavailableError
from .requestid import current_request_id
from .sync_methods.pull_celery import PENDING_STATES, QUEUE_NAME, job_id

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue
    from rq.job import Job

#: Shared with app.services.migration, which cancels queued pulls through it.
REDIS_KEY = "gitleague.redis"
JOB_FUNC = "app.jobs.sync_repo"
RESULT_TTL = 24 * 3600
FAILURE_TTL = 7 * 24 * 3600


def init_app(app: Flask) -> None:
    """Nothing is opened here; :func:`get_redis` connects lazily on first use."""
    app.extensions.setdefault("gitleague.queue", {"name": QUEUE_NAME})


def get_redis(app: Flask | None = None) -> Redis | None:
    """The app's Redis connection, or None when ``REDIS_URL`` is not set."""
    app = app or current_app
    redis = app.extensions.get(REDIS_KEY)
    if redis is None and app.config.get("REDIS_URL"):
        from redis import Redis

        redis = Redis.from_url(app.config["REDIS_URL"], health_check_interval=30)
        app.extensions[REDIS_KEY] = redis
    return redis


class QueueUnavailableError(ServiceUnavailableError):
    """Pull jobs cannot be queued: no Redis configured, or Redis does not answer.

    An outage like a database one: 503 with ``Retry-After``, so clients retry.
    """

    code = "queue_unavailable"
    status = 503


def get_queue(app: Flask | None = None) -> Queue:
    """The ``gitleague-sync`` queue; ConfigurationError without Redis."""
    from rq import Queue

    redis = get_redis(app)
    if redis is None:
        raise ConfigurationError(
            "REDIS_URL is not set: run pull syncs with 'flask --app wsgi sync run REPO_ID'"
        )
    return Queue(QUEUE_NAME, connection=redis)


@dataclass
class Enqueued:
    """The repo's job, and whether this call created it (False: one was pending).

    ``replaced`` is the state of the pending job that ``force`` replaced.
    """

    job: Job
    created: bool
    replaced: str | None = None


def enqueue_sync(queue: Queue, repo_id: str, *, config: Any, force: bool = False) -> Enqueued:
    """Queue ``sync_repo(repo_id)`` under its deterministic id, unless one is pending.

    Jobs of dead workers are handed back to RQ first (see
    :mod:`app.worker`), so a killed worker's job does not count as pending
    for long. ``force`` replaces a pending job instead; a job running on a
    live worker is never replaced (ConflictError). A short Redis lock makes
    concurrent callers (two schedulers, a scheduler and an admin) see one
    job; the job itself takes a per-repo lock too, so even a duplicate could
    not run twice at once.
    """
    from rq import Retry
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from .worker import reap_abandoned

    jid = job_id(repo_id)
    reap_abandoned(queue)
    replaced = None
    with queue.connection.lock(f"gitleague:enqueue:{jid}", timeout=30, blocking_timeout=10):
        try:
            job = Job.fetch(jid, connection=queue.connection)
            status = job.get_status(refresh=True)
            state = str(getattr(status, "value", status))
            if status is not None and state in PENDING_STATES:
                if not force:
                    return Enqueued(job, False)
                _drop(job, state)
                replaced = state
        except NoSuchJobError:
            pass
        intervals = list(config["GITLEAGUE_PULL_RETRY_INTERVALS"])
        job = queue.enqueue(
            JOB_FUNC,
            repo_id,
            job_id=jid,
            description=f"sync_repo({repo_id!r})",
            job_timeout=config["GITLEAGUE_PULL_JOB_TIMEOUT"],
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
            # The job logs (and audits) under the id of the request that queued it.
            meta={"request_id": current_request_id()} if has_app_context() else None,
        )
        return Enqueued(job, True, replaced)


def _drop(job: Job, state: str) -> None:
    """Delete a pending job, unless it is running on a worker that is alive.

    A live RQ worker stays subscribed to its command channel; a killed one's
    connection is gone, so the channel has no subscriber.
    """
    from rq.command import PUBSUB_CHANNEL_TEMPLATE

    if state == "started" and job.worker_name:
        channel = PUBSUB_CHANNEL_TEMPLATE % job.worker_name
        [(_, listeners)] = job.connection.pubsub_numsub(channel)
        if listeners:
            raise ConflictError(
                f"pull job {job.id} is running on worker {job.worker_name}, which is alive: "
                "not replaced"
            )
    job.delete()
