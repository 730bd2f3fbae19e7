"""A pull worker killed whole (main process, job process and scheduler, SIGKILL by PID).

Its job must not stay ``started`` for RQ's ten-minute maintenance: a
restarted worker or a scheduler pass hands it back within about a minute,
and ``sync enqueue --force`` replaces it at once. Real redis-server, real
``flask sync worker`` processes, no clock moved.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from rq.job import Job

from app.db import db
from app.models import SyncRun
from app.queue import get_queue
from app.sync_methods.pull_celery import job_id
from tests.e2e import test_pull_worker as pull_tests
from tests.helpers import stored_commits as stored
from tests.pull_helpers import numstat
from tests.pull_worker import WorkerProcess, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
# The real redis-server, git server and worker factory of the pull tests.
redis_server, world = pull_tests.redis_server, pull_tests.world
enqueue, job_done, pull_repo = pull_tests.enqueue, pull_tests.job_done, pull_tests.pull_repo
SLOW_SYNC = {"GITLEAGUE_PULL_BATCH_SIZE": "20", "GITLEAGUE_PULL_BATCH_PAUSE": "0.2"}
#: Bounds for waiting, well above "about a minute"; RQ alone took 12.6 minutes.
DETECT_WITHIN = 120


def _state(app, rid: str) -> str:
    with app.app_context():
        status = Job.fetch(job_id(rid), connection=get_queue().connection).get_status()
    return str(status.value)


def _kill_mid_sync(app, world: dict[str, Any], name: str) -> tuple[str, WorkerProcess, float]:
    """A pull repo whose job was running when its worker was SIGKILLed."""
    rid = pull_repo(app, world, name, 600)
    enqueue(app, rid)
    worker = world["worker"](**SLOW_SYNC)
    wait_for(lambda: len(stored(app, rid)) >= 40, 120, "sync did not start storing")
    worker.kill()
    assert _state(app, rid) == "started"
    assert 0 < len(stored(app, rid)) < 600
    return rid, worker, time.monotonic()


def _assert_finishes_complete(app, world: dict[str, Any], rid: str, name: str) -> None:
    wait_for(lambda: job_done(app, rid), 180, "the job did not finish after the kill")
    assert job_done(app, rid) == "finished"
    assert stored(app, rid) == numstat(world["root"] / name)
    with app.app_context():
        runs = db.session.scalars(
            sa.select(SyncRun).where(SyncRun.repo_id == rid).order_by(SyncRun.id)
        ).all()
        assert [(r.status, r.error) for r in runs] == [
            ("failed", "abandoned: the worker stopped mid-sync"),
            ("succeeded", None),
        ]


def test_restarted_worker_takes_over_a_killed_workers_job(app, world):
    rid, _, killed_at = _kill_mid_sync(app, world, "restart.git")
    world["worker"]()
    wait_for(lambda: _state(app, rid) != "started", DETECT_WITHIN, "job still 'started'", 0.5)
    print(
        f"\nrestarted worker: job handed back {time.monotonic() - killed_at:.0f} s after the kill"
    )
    _assert_finishes_complete(app, world, rid, "restart.git")


def test_scheduler_pass_hands_a_killed_workers_job_back(app, world):
    rid, _, killed_at = _kill_mid_sync(app, world, "sched.git")
    runner = app.test_cli_runner()

    def reaped() -> bool:
        result = runner.invoke(args=["sync", "schedule", "--once"])
        assert result.exit_code == 0, result.output
        return f"{job_id(rid)}: abandoned by a dead worker" in result.output

    wait_for(reaped, DETECT_WITHIN, "no scheduler pass noticed the dead job", step=2)
    print(f"\nscheduler: job handed back {time.monotonic() - killed_at:.0f} s after the kill")
    assert _state(app, rid) in ("scheduled", "queued")  # RQ retries it (Retry on the job)
    world["worker"]()
    _assert_finishes_complete(app, world, rid, "sched.git")


def test_enqueue_force_replaces_a_dead_workers_job_but_not_a_live_one(app, world):
    rid = pull_repo(app, world, "force.git", 600)
    enqueue(app, rid)
    worker = world["worker"](**SLOW_SYNC)
    wait_for(lambda: len(stored(app, rid)) >= 40, 120, "sync did not start storing")
    runner = app.test_cli_runner()
    live = runner.invoke(args=["sync", "enqueue", "--force", rid])
    assert live.exit_code == 1
    assert "which is alive: not replaced" in live.output
    assert _state(app, rid) == "started"

    worker.kill()
    pending = runner.invoke(args=["sync", "enqueue", rid])
    assert pending.exit_code == 0 and "already pending" in pending.output
    forced = runner.invoke(args=["sync", "enqueue", "--force", rid])
    assert forced.exit_code == 0, forced.output
    assert f"{job_id(rid)}: queued (replaced a started job)" in forced.output
    assert _state(app, rid) == "queued"
    world["worker"]()
    _assert_finishes_complete(app, world, rid, "force.git")
