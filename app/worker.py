"""The RQ worker of pull syncs, and noticing jobs whose worker was killed.

RQ keeps a running job in its ``StartedJobRegistry`` under a lease: the
worker's main process renews it every ``job_monitoring_interval`` seconds
for that interval plus 60 s. A worker killed with SIGKILL (main process,
job process and scheduler at once) stops renewing, but RQ only looks for
expired leases in a worker's maintenance, every ten minutes by default; the
repo's job then stayed ``started``, and every enqueue said "already
pending", for more than twelve minutes.

:func:`reap_abandoned` treats a lease that ends within
:data:`ABANDON_MARGIN` seconds as dead: a live worker's lease always has at
least 60 s left (it is renewed for interval + 60 s at least every interval),
so the margin leaves 30 s to spare, and a dead worker's job is found
``interval + 30`` seconds after its last renewal (40 s with
:class:`SyncWorker`, 60 s with RQ's defaults). The abandoned job is then
handled by RQ itself: retried if it has retries left, else failed.
"""

from __future__ import annotations

import time
from typing import Any

from rq import Worker
from rq.registry import StartedJobRegistry

#: Seconds between lease renewals of a running job (RQ's default is 30).
HEARTBEAT_SECONDS = 10
#: Seconds between maintenance passes (RQ's default is 600).
MAINTENANCE_SECONDS = 30
#: An idle worker blocks on Redis for ``worker_ttl - 15`` s between
#: maintenance passes, so this keeps idle maintenance on time too.
WORKER_TTL = MAINTENANCE_SECONDS + 15
#: A lease ending sooner than this is a dead worker's (see the module docs).
ABANDON_MARGIN = 30


def reap_abandoned(queue: Any) -> list[str]:
    """Hand the jobs of dead workers on ``queue`` back to RQ; returns their ids."""
    registry = StartedJobRegistry(queue.name, connection=queue.connection)
    before = set(registry.get_job_ids(cleanup=False))
    if not before:
        return []
    registry.cleanup(timestamp=time.time() + ABANDON_MARGIN)
    return sorted(before - set(registry.get_job_ids(cleanup=False)))


class SyncWorker(Worker):
    """An RQ worker that notices a killed worker's job within about a minute.

    ``flask --app wsgi sync worker`` runs it; with plain ``rq worker`` pass
    ``-w app.worker.SyncWorker`` (and the intervals above, since the rq
    command passes its own defaults).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("job_monitoring_interval", HEARTBEAT_SECONDS)
        kwargs.setdefault("maintenance_interval", MAINTENANCE_SECONDS)
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        super().__init__(*args, **kwargs)

    def clean_registries(self) -> None:
        """RQ's maintenance, after handing dead workers' jobs back."""
        for queue in self.queues:
            for job_id in reap_abandoned(queue):
                self.log.warning("job %s was abandoned by a dead worker", job_id)
        super().clean_registries()
