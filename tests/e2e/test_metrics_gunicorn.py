"""``/metrics`` from a real gunicorn with 2 workers: counts add up across workers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests

from tests.helpers import chain
from tests.pull_worker import RedisServer
from tests.server import LiveServer
from tests.test_metrics import TOKEN, samples

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
THREADS, PER_THREAD = 8, 10


def _scrape(server: LiveServer) -> dict:
    resp = requests.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    return samples(resp.text)


def _hammer(server: LiveServer, path: str) -> None:
    def hit() -> None:
        with requests.Session() as http:
            for _ in range(PER_THREAD):
                assert http.get(server.url + path, timeout=30).status_code == 200

    threads = [threading.Thread(target=hit) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)


def _pids(folder: Path) -> set[str]:
    return {p.stem.rsplit("_", 1)[1] for p in folder.glob("counter_*.db")}


def test_metrics_add_up_across_gunicorn_workers(app, seed, database_url, tmp_path, runner):
    owner = seed.actor()
    pid = seed.project(owner)
    rid = seed.repo(pid)
    pulls = [seed.repo(pid, git_url=f"https://example.org/o/p{i}.git", sync_method="pull_celery")
             for i in range(2)]  # fmt: skip
    redis = RedisServer(tmp_path).start()
    folder = tmp_path / "prometheus"
    env = {"GITLEAGUE_METRICS_TOKEN": TOKEN, "REDIS_URL": redis.url,
           "PROMETHEUS_MULTIPROC_DIR": str(folder)}  # fmt: skip
    try:
        app.config["REDIS_URL"] = redis.url
        assert runner.invoke(args=["sync", "enqueue", *pulls]).exit_code == 0
        with LiveServer(database_url, workers=2, env=env).start(tmp_path) as server:
            assert requests.get(f"{server.url}/metrics", timeout=10).status_code == 401
            _hammer(server, "/healthz")
            with requests.Session() as http:
                http.headers["Authorization"] = f"Bearer {owner.key}"
                url = f"{server.url}/api/v1/repos/{rid}"
                run = http.post(f"{url}/sync-runs", json={}).json()
                commits = chain(120)
                for batch in (commits[:70], commits[50:], commits):  # 120 new, 140 resent
                    resp = http.post(
                        f"{url}/commits", json={"sync_run_id": run["id"], "commits": batch}
                    )
                    assert resp.status_code == 200
                done = {"status": "succeeded", "head_sha": commits[-1]["sha"]}
                assert http.patch(f"{url}/sync-runs/{run['id']}", json=done).status_code == 200
            got = _scrape(server)
            pids = _pids(folder)
        # Each worker writes its own files; the scrape must add them up. Which
        # worker takes which request is the kernel's choice (an idle machine may
        # hand all of them to one), so only the totals below are asserted.
        assert pids, "no worker wrote its metric files"
        health = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
        assert got[("gitleague_http_requests_total", health)] == THREADS * PER_THREAD
        latency = (("method", "GET"), ("route", "/healthz"))
        assert (
            got[("gitleague_http_request_duration_seconds_count", latency)] == THREADS * PER_THREAD
        )
        assert got[("gitleague_commits_ingested_total", (("method", "push_client"),))] == 120
        assert (
            got[("gitleague_sync_runs", (("method", "push_client"), ("status", "succeeded")))] == 1
        )
        assert ("gitleague_seconds_since_last_successful_sync",
                (("method", "push_client"), ("repo_id", rid))) in got  # fmt: skip
        assert got[("gitleague_rq_jobs", (("state", "queued"),))] == 2
        assert got[("gitleague_rq_jobs", (("state", "failed"),))] == 0
        assert got[("gitleague_redis_up", ())] == 1

        # A restarted server starts counting afresh from the same folder.
        with LiveServer(database_url, workers=2, env=env).start(tmp_path) as server:
            again = _scrape(server)
        assert ("gitleague_http_requests_total", health) not in again
        assert (
            again[("gitleague_sync_runs", (("method", "push_client"), ("status", "succeeded")))]
            == 1
        )
    finally:
        redis.stop()
