"""Pull-sync benchmark: one big first sync, a no-change cycle, 1 vs 2 workers.

    python bench/bench_pull.py [--commits 20000] [--repos 100] [--db sqlite,postgresql]

Everything is real and local: a generated repository served by ``git
http-backend`` behind basic auth on 127.0.0.1 (tests/git_http.py), a fresh
migrated database, a private redis-server and ``flask sync worker`` processes.

1. First sync of a ``--commits`` repository, split into fetch, extract and ingest.
2. No-change cycle: ``--repos`` pull repos already synced, each checked once
   (ls-remote, heads equal, nothing fetched); total wall time.
3. Throughput: ``--jobs`` repos of ``--job-commits`` commits queued at once,
   drained by 1 and then by 2 workers (``flask sync worker --burst``).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from bench.bench_ingest import fresh_database  # noqa: E402
from tests.conftest import TEST_CONFIG  # noqa: E402
from tests.git_http import GitHttpServer  # noqa: E402
from tests.helpers import Seed  # noqa: E402
from tests.pull_helpers import TOKEN, make_bare_repo  # noqa: E402
from tests.pull_worker import RedisServer, worker_env  # noqa: E402


def make_app(url: str, tmp: Path, **extra: Any) -> Any:
    """An app on ``url`` that may pull from 127.0.0.1."""
    config = {
        **TEST_CONFIG,
        "SQLALCHEMY_DATABASE_URI": url,
        "GITLEAGUE_ALLOW_LOCAL_REMOTES": True,
        "GITLEAGUE_MIRROR_DIR": str(tmp / "mirrors"),
        **extra,
    }
    config.pop("TESTING")
    return create_app(config)


def add_pull_repos(app: Any, urls: list[str]) -> list[str]:
    """Pull repos with the token stored, one per URL, in one project."""
    seed = Seed(app)
    owner = seed.actor(f"bench-{uuid.uuid4().hex[:8]}@example.org")
    pid = seed.project(owner)
    ids = [seed.repo(pid, git_url=u, sync_method="pull_celery") for u in urls]
    runner = app.test_cli_runner()
    for rid in ids:
        runner.invoke(args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": TOKEN})
    return ids


def first_sync(app: Any, rid: str) -> dict[str, float]:
    """Time one full pull, split into its phases."""
    from app.services import git_remote, pull_sync

    phases = {"fetch": 0.0, "extract": 0.0}
    real_fetch, real_iter = git_remote.fetch_branch, pull_sync.iter_commits

    def timed_fetch(*a: Any, **k: Any) -> Any:
        start = time.perf_counter()
        try:
            return real_fetch(*a, **k)
        finally:
            phases["fetch"] += time.perf_counter() - start

    def timed_iter(*a: Any, **k: Any) -> Any:
        it = real_iter(*a, **k)
        while True:
            start = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:
                phases["extract"] += time.perf_counter() - start
                return
            phases["extract"] += time.perf_counter() - start
            yield item

    git_remote.fetch_branch, pull_sync.iter_commits = timed_fetch, timed_iter
    try:
        with app.app_context():
            start = time.perf_counter()
            outcome = pull_sync.run(rid, app.config)
            total = time.perf_counter() - start
    finally:
        git_remote.fetch_branch, pull_sync.iter_commits = real_fetch, real_iter
    assert outcome.status == "synced", outcome
    ingest = total - phases["fetch"] - phases["extract"]
    return {**phases, "ingest+other": ingest, "total": total, "commits": outcome.inserted}


def no_change_cycle(app: Any, ids: list[str]) -> float:
    """Seconds for one check of every repo, all unchanged."""
    from app.services import pull_sync

    with app.app_context():
        for rid in ids:
            assert pull_sync.run(rid, app.config).status == "synced"
        start = time.perf_counter()
        for rid in ids:
            assert pull_sync.run(rid, app.config).status == "unchanged"
        return time.perf_counter() - start


def drain(app: Any, env: dict[str, str], ids: list[str], workers: int, tmp: Path) -> float:
    """Seconds ``workers`` running workers take to drain ``ids`` queued at once."""
    from rq import Worker
    from rq.job import Job

    from app.queue import enqueue_sync, get_queue
    from app.sync_methods.pull_celery import job_id

    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "sync", "worker"]
    procs = [
        subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=(tmp / f"w{i}.log").open("wb"), stderr=subprocess.STDOUT
        )  # fmt: skip
        for i in range(workers)
    ]
    try:
        with app.app_context():
            queue = get_queue()
            while len(Worker.all(queue=queue)) < workers:
                time.sleep(0.05)
            start = time.perf_counter()
            for rid in ids:
                enqueue_sync(queue, rid, config=app.config)
            pending = {job_id(rid) for rid in ids}
            while pending:
                jobs = Job.fetch_many(list(pending), connection=queue.connection)
                for job in jobs:
                    if job is not None and job.get_status() in ("finished", "failed"):
                        assert job.get_status() == "finished", job.id
                        pending.discard(job.id)
                time.sleep(0.02)
            return time.perf_counter() - start
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)


def bench(kind: str, args: argparse.Namespace, tmp: Path, git: GitHttpServer) -> None:
    """All three measurements on one database kind."""
    print(f"\n== {kind} ==")
    url = fresh_database(kind, tmp)
    app = make_app(url, tmp / kind)
    big = add_pull_repos(app, [git.url("big.git")])[0]
    phases = first_sync(app, big)
    rate = phases["commits"] / phases["total"]
    print(
        f"first sync of {phases['commits']} commits: {phases['total']:.1f} s ({rate:.0f} commits/s)"
        f"; fetch {phases['fetch']:.1f} s, extract {phases['extract']:.1f} s,"
        f" ingest and rest {phases['ingest+other']:.1f} s"
    )
    small = add_pull_repos(app, [git.url(f"small{i}.git") for i in range(args.repos)])
    cycle = no_change_cycle(app, small)
    print(
        f"no-change cycle over {args.repos} repos: {cycle:.2f} s ({cycle / args.repos * 1000:.0f} ms each)"
    )

    redis = RedisServer(tmp).start()
    try:
        for workers in (1, 2):
            app = make_app(url, tmp / f"{kind}-w{workers}", REDIS_URL=redis.url)
            ids = add_pull_repos(app, [git.url(f"job{i}.git") for i in range(args.jobs)])
            env = worker_env(url, redis.url, tmp / f"{kind}-w{workers}" / "mirrors")
            env.pop("GITLEAGUE_PULL_RETRY_INTERVALS")
            seconds = drain(app, env, ids, workers, tmp)
            total = args.jobs * args.job_commits
            print(f"{workers} worker(s): {args.jobs} jobs, {total} commits in {seconds:.1f} s "
                  f"({total / seconds:.0f} commits/s)")  # fmt: skip
            with app.app_context():
                db.engine.dispose()
    finally:
        redis.stop()


def main() -> None:
    """Build the remotes once, then measure each database."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=20000)
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--job-commits", type=int, default=1500)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="gitleague-bench-pull-"))
    try:
        remotes = tmp / "remotes"
        start = time.perf_counter()
        make_bare_repo(remotes / "big.git", args.commits)
        make_bare_repo(remotes / "small0.git", 5)
        for i in range(1, args.repos):
            (remotes / f"small{i}.git").symlink_to(remotes / "small0.git")
        make_bare_repo(remotes / "job0.git", args.job_commits)
        for i in range(1, args.jobs):
            (remotes / f"job{i}.git").symlink_to(remotes / "job0.git")
        print(f"generated remotes in {time.perf_counter() - start:.1f} s")
        with GitHttpServer(remotes, TOKEN) as git:
            for kind in args.db.split(","):
                bench(kind, args, tmp, git)
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
