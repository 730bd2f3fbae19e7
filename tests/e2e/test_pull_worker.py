"""Pull sync through real parts: redis-server, ``flask sync worker`` processes, and a git
server on 127.0.0.1 that requires the token (git http-backend behind basic auth).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.scheduler import RQScheduler

from app.db import db, utcnow
from app.models import AuditLog, Commit, Repo, SyncRun
from app.queue import get_queue
from app.sync_methods.pull_celery import QUEUE_NAME, job_id
from tests.git_http import GitHttpServer
from tests.helpers import detached_repo as repo_row
from tests.helpers import stored_commits as stored
from tests.pull_helpers import TOKEN, head_sha, make_bare_repo, numstat
from tests.pull_worker import RedisServer, WorkerProcess, wait_for, worker_env

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def world(app, seed, tmp_path, redis_server, database_url) -> Iterator[dict[str, Any]]:
    """A git server with repos, the app wired to our Redis, and a worker factory."""
    redis_server.connection().flushall()
    app.config["REDIS_URL"] = redis_server.url
    app.config["GITLEAGUE_PULL_RETRY_INTERVALS"] = (1, 1)  # set on the job when queued
    app.extensions.pop("gitleague.redis", None)
    owner = seed.actor()
    root = tmp_path / "remotes"
    env = worker_env(database_url, redis_server.url, tmp_path / "mirrors")
    workers: list[WorkerProcess] = []

    def worker(**extra: str) -> WorkerProcess:
        log = tmp_path / "logs" / f"worker{len(workers)}.log"
        log.parent.mkdir(exist_ok=True)
        w = WorkerProcess({**env, **extra}, log).start()
        workers.append(w)
        return w

    with GitHttpServer(root, TOKEN) as git:
        yield {"owner": owner, "pid": seed.project(owner), "root": root, "git": git,
               "worker": worker, "seed": seed}  # fmt: skip
        for w in workers:
            w.stop()


def pull_repo(app, world: dict[str, Any], name: str, commits: int, token: str = TOKEN) -> str:
    make_bare_repo(world["root"] / name, commits)
    rid = world["seed"].repo(
        world["pid"], git_url=world["git"].url(name), sync_method="pull_celery"
    )
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": token}
    )
    assert result.exit_code == 0, result.output
    return rid


def enqueue(app, *repo_ids: str) -> None:
    result = app.test_cli_runner().invoke(args=["sync", "enqueue", *repo_ids])
    assert result.exit_code == 0, result.output


def job_done(app, repo_id: str) -> str | None:
    with app.app_context():
        status = Job.fetch(job_id(repo_id), connection=get_queue().connection).get_status()
    return status.value if status.value in ("finished", "failed") else None


def scan_for(needle: bytes, redis_server: RedisServer, paths: list[Path]) -> list[str]:
    """Every place among Redis keys/values and files under ``paths`` holding ``needle``."""
    hits = []
    redis = redis_server.connection()
    for key in redis.scan_iter(count=1000):
        kind = redis.type(key)
        values: list[bytes] = [key]
        if kind == b"string":
            values.append(redis.get(key) or b"")
        elif kind == b"hash":
            values += [x for kv in redis.hgetall(key).items() for x in kv]
        elif kind in (b"list",):
            values += redis.lrange(key, 0, -1)
        elif kind == b"set":
            values += list(redis.smembers(key))
        elif kind == b"zset":
            values += [m for m, _ in redis.zrange(key, 0, -1, withscores=True)]
        if any(needle in v for v in values):
            hits.append(f"redis:{key!r}")
    for base in paths:
        for path in [base] if base.is_file() else base.rglob("*"):
            if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                hits.append(str(path))
    return hits


def _new_temp_entries(since: float) -> list[Path]:
    """Files in the system temp folder, and folders a GitLeague part would make, since ``since``."""
    found = []
    for entry in Path(tempfile.gettempdir()).iterdir():
        try:
            fresh = entry.stat().st_mtime >= since
        except OSError:
            continue
        if fresh and (entry.is_file() or entry.name.startswith(("gitleague", "tmp", "rq"))):
            found.append(entry)
    return found


def test_worker_syncs_with_the_token_and_a_wrong_token_leaks_nowhere(
    app, world, redis_server, tmp_path
):
    started = time.time()
    good = pull_repo(app, world, "good.git", 300)
    bad = pull_repo(app, world, "bad.git", 20, token="wrong-" + TOKEN[::-1])
    enqueue(app, good, bad)
    worker = world["worker"]()
    wait_for(lambda: job_done(app, good) and job_done(app, bad), 120, "jobs did not finish")

    assert job_done(app, good) == "finished"
    assert stored(app, good) == numstat(world["root"] / "good.git")
    repo = repo_row(app, good)
    assert repo.sync_status == "healthy"
    assert repo.last_ingested_sha == head_sha(world["root"] / "good.git")

    # Permanent failure: no retry storm, readable error, failed-job registry.
    assert job_done(app, bad) == "failed"
    repo = repo_row(app, bad)
    assert repo.sync_status == "failing"
    assert repo.last_error.startswith("authentication failed for http://127.0.0.1:")
    assert stored(app, bad) == {}
    with app.app_context():
        conn = get_queue().connection
        failed = FailedJobRegistry(QUEUE_NAME, connection=conn)
        assert job_id(bad) in failed.get_job_ids()
        job = Job.fetch(job_id(bad), connection=conn)
        assert job.args == (bad,)
        assert "authentication failed" in (job.latest_result().exc_string or "")
        runs = db.session.scalars(sa.select(SyncRun).where(SyncRun.repo_id == bad)).all()
        assert [r.status for r in runs] == ["failed"]

    # The scan finds a marker planted in each place first, then no token anywhere.
    marker = b"planted-marker-7d1c"
    redis = redis_server.connection()
    redis.set(b"gitleague:test:marker", marker)
    (tmp_path / "mirrors" / "marker.txt").write_bytes(marker)
    with worker.log_path.open("ab") as log:
        log.write(marker)
    worker.stop()  # flush and close its log
    places = [tmp_path, Path(app.instance_path), *_new_temp_entries(started)]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        places.append(Path(app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///") :]))
    assert len(scan_for(marker, redis_server, places)) >= 3
    redis.delete(b"gitleague:test:marker")
    for token in (TOKEN, "wrong-" + TOKEN[::-1]):
        assert scan_for(token.encode(), redis_server, places) == []
    assert TOKEN not in worker.log() and "authentication failed" in worker.log()


def test_worker_killed_mid_sync_loses_and_duplicates_nothing(app, world, redis_server):
    rid = pull_repo(app, world, "big.git", 600)
    enqueue(app, rid)
    worker = world["worker"](
        GITLEAGUE_PULL_BATCH_SIZE="20",
        GITLEAGUE_PULL_BATCH_PAUSE="0.05",
    )
    wait_for(lambda: len(stored(app, rid)) >= 100, 120, "sync did not start storing")
    worker.kill()
    at_kill = len(stored(app, rid))
    assert 0 < at_kill < 600

    # RQ notices an abandoned job once its heartbeat expires (a minute or so),
    # and the dead worker's scheduler lock expires too; move both clocks
    # forward instead of waiting. The job is then retried (Retry), as in production.
    with app.app_context():
        conn = get_queue().connection
        started = StartedJobRegistry(QUEUE_NAME, connection=conn)
        assert job_id(rid) in started.get_job_ids(cleanup=False)
        started.cleanup(timestamp=time.time() + 3600)
        conn.delete(RQScheduler.get_locking_key(QUEUE_NAME))
    world["worker"]()
    wait_for(lambda: job_done(app, rid), 120, "the retried job did not finish")

    assert stored(app, rid) == numstat(world["root"] / "big.git")
    repo = repo_row(app, rid)
    assert repo.sync_status == "healthy"
    assert repo.last_ingested_sha == head_sha(world["root"] / "big.git")
    with app.app_context():
        runs = db.session.scalars(
            sa.select(SyncRun).where(SyncRun.repo_id == rid).order_by(SyncRun.id)
        ).all()
        assert [(r.status, r.error) for r in runs] == [
            ("failed", "abandoned: the worker stopped mid-sync"),
            ("succeeded", None),
        ]
        assert runs[1].inserted == 600 - at_kill or runs[1].inserted + at_kill >= 600
        total = db.session.scalar(sa.select(sa.func.count()).where(Commit.repo_id == rid))
        assert total == 600


def test_process_argv_never_holds_the_token(app, world):
    rid = pull_repo(app, world, "argv.git", 50)
    enqueue(app, rid)
    world["worker"](GITLEAGUE_PULL_BATCH_SIZE="5", GITLEAGUE_PULL_BATCH_PAUSE="0.02")
    seen = []

    def look() -> bool:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                seen.append(Path(f"/proc/{pid}/cmdline").read_bytes())
            except OSError:
                continue
        return bool(job_done(app, rid))

    wait_for(look, 120, "job did not finish", step=0.01)
    assert seen and not [c for c in seen if TOKEN.encode() in c]


def _extract(path: Path, exclude: list[str]) -> list[dict[str, Any]]:
    """The push client's own extraction of a bare repository (what it would send)."""
    from dulwich.repo import Repo as GitRepo
    from gitleague_client.extract import iter_commits

    repo = GitRepo(str(path))
    try:
        head = head_sha(path).encode()
        return list(iter_commits(repo, [head], [s.encode() for s in exclude]))
    finally:
        repo.close()


def _push(client, actor, rid: str, commits: list[dict[str, Any]], size: int = 200) -> None:
    run = client.post(f"/api/v1/repos/{rid}/sync-runs", json={}, headers=actor.headers()).json
    for i in range(0, len(commits), size):
        batch = commits[i : i + size]
        body = {"sync_run_id": run["id"], "resume_sha": batch[-1]["sha"], "commits": batch}
        resp = client.post(f"/api/v1/repos/{rid}/commits", json=body, headers=actor.headers())
        assert resp.status_code == 200, resp.json
        assert not resp.json["rejected"]
    done = client.patch(
        f"/api/v1/repos/{rid}/sync-runs/{run['id']}",
        json={"status": "succeeded", "head_sha": commits[-1]["sha"]},
        headers=actor.headers(),
    )
    assert done.status_code == 200, done.json


def test_migration_racing_a_running_job_leaves_no_half_state(app, world, client):
    rid = pull_repo(app, world, "race.git", 600)
    path = world["root"] / "race.git"
    enqueue(app, rid)
    world["worker"](GITLEAGUE_PULL_BATCH_SIZE="20", GITLEAGUE_PULL_BATCH_PAUSE="0.05")
    wait_for(lambda: len(stored(app, rid)) >= 100, 120, "sync did not start storing")
    result = app.test_cli_runner().invoke(args=["migrate-sync", "migrate", rid])
    assert result.exit_code == 0, result.output
    wait_for(lambda: job_done(app, rid), 120, "the job did not stop")

    with app.app_context():
        job = Job.fetch(job_id(rid), connection=get_queue().connection)
        assert job.get_status().value == "finished"
        assert job.return_value()["status"] == "stopped"
    repo = repo_row(app, rid)
    assert repo.sync_method == "push_client" and repo.credentials_encrypted is None
    # What is stored is exactly the first k commits (whole batches), parents first,
    # and last_ingested_sha is the k-th: no batch was half written or written after.
    order = [c["sha"] for c in _extract(path, [])]
    have = stored(app, rid)
    k = len(have)
    assert 100 <= k < 600 and k % 20 == 0
    assert set(order[:k]) == set(have) and repo.last_ingested_sha == order[k - 1]
    with app.app_context():
        audit = db.session.scalar(
            sa.select(AuditLog).where(AuditLog.action == "migrate_repo_sync_method")
        )
        assert audit.data["last_ingested_sha"] == repo.last_ingested_sha
        runs = db.session.scalars(sa.select(SyncRun).where(SyncRun.repo_id == rid)).all()
        assert [r.status for r in runs] == ["failed"]
        assert runs[0].error.startswith("stopped: repository") and runs[0].inserted == k

    # The push client continues from the kept last_ingested_sha.
    rest = _extract(path, [repo.last_ingested_sha])
    assert len(rest) == 600 - k
    _push(client, world["owner"], rid, rest)
    assert stored(app, rid) == numstat(path)
    assert repo_row(app, rid).last_ingested_sha == head_sha(path)


def test_pull_and_push_repos_of_one_project_sync_at_once(app, world, client):
    pulled = pull_repo(app, world, "pulled.git", 400)
    pushed_path = make_bare_repo(world["root"] / "pushed.git", 1500)
    pushed = world["seed"].repo(world["pid"], git_url="https://example.org/o/pushed.git")
    enqueue(app, pulled)
    world["worker"](GITLEAGUE_PULL_BATCH_SIZE="20", GITLEAGUE_PULL_BATCH_PAUSE="0.1")
    wait_for(lambda: len(stored(app, pulled)) > 0, 120, "pull did not start")
    _push(client, world["owner"], pushed, _extract(pushed_path, []), size=100)
    wait_for(lambda: job_done(app, pulled), 120, "pull did not finish")

    assert stored(app, pulled) == numstat(world["root"] / "pulled.git")
    assert stored(app, pushed) == numstat(pushed_path)
    with app.app_context():
        runs = {r.repo_id: r for r in db.session.scalars(sa.select(SyncRun))}
    assert {(r.repo_id, r.method, r.status) for r in runs.values()} == {
        (pulled, "pull_celery", "succeeded"),
        (pushed, "push_client", "succeeded"),
    }
    pull_run, push_run = runs[pulled], runs[pushed]  # the two syncs overlapped in time
    assert push_run.started_at < pull_run.finished_at and pull_run.started_at < push_run.finished_at


def test_schedule_queues_due_repos_once_and_marks_missing_credentials(app, world):
    due = pull_repo(app, world, "due.git", 5)
    recent = pull_repo(app, world, "recent.git", 5)
    bare = world["seed"].repo(
        world["pid"], git_url=world["git"].url("x.git"), sync_method="pull_celery"
    )
    world["seed"].repo(world["pid"])  # a push repo is never scheduled
    with app.app_context():
        db.session.get(Repo, recent).last_sync_at = utcnow()
        db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["sync", "schedule", "--once"])
    assert first.exit_code == 0, first.output
    assert "enqueued: 1, already pending: 0, needs_credentials: 1, not due: 1" in first.output
    second = runner.invoke(args=["sync", "schedule", "--once"])
    assert "enqueued: 0, already pending: 1" in second.output
    with app.app_context():
        queued = get_queue().get_job_ids()
    assert queued == [job_id(due)]
    assert repo_row(app, bare).sync_status == "needs_credentials"
    app.config["PULL_SYNC_ENABLED"] = False
    assert "disabled" in runner.invoke(args=["sync", "schedule", "--once"]).output


def test_redis_down_push_works_and_pulls_resume_after(app, world, client, redis_server):
    rid = pull_repo(app, world, "later.git", 30)
    push_rid = world["seed"].repo(world["pid"], git_url="https://example.org/o/p.git")
    redis_server.stop()
    try:
        _push(client, world["owner"], push_rid, _extract(world["root"] / "later.git", []))
        result = app.test_cli_runner().invoke(args=["sync", "enqueue", rid])
        assert result.exit_code == 1 and "Redis is unreachable" in result.output
    finally:
        redis_server.start()
    enqueue(app, rid)
    world["worker"]()
    wait_for(lambda: job_done(app, rid), 120, "pull did not run after Redis came back")
    assert stored(app, rid) == numstat(world["root"] / "later.git")


def test_network_failures_are_retried_then_marked_failing_once(app, world):
    from tests.server import free_port

    rid = world["seed"].repo(
        world["pid"], git_url=f"http://127.0.0.1:{free_port()}/gone.git", sync_method="pull_celery"
    )
    result = app.test_cli_runner().invoke(
        args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": TOKEN}
    )
    assert result.exit_code == 0
    enqueue(app, rid)
    worker = world["worker"]()
    wait_for(lambda: job_done(app, rid), 120, "the job did not fail")

    assert job_done(app, rid) == "failed"
    assert worker.log().count("(retrying)") == 2  # Retry(max=2): three tries in all
    repo = repo_row(app, rid)
    assert repo.sync_status == "failing"
    assert repo.last_error.startswith("network: cannot reach http://127.0.0.1:")
    with app.app_context():
        runs = db.session.scalars(sa.select(SyncRun).where(SyncRun.repo_id == rid)).all()
        entries = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "sync_commits", AuditLog.repo_id == rid)
        ).all()
    assert [r.status for r in runs] == ["failed"] and len(entries) == 1
    assert "errors: 1" in entries[0].details
