"""``GITLEAGUE_LOG_FORMAT=json``: a request and the RQ job it queues log one request id.

Real gunicorn, real redis-server, real ``flask sync worker``, a real git
server; every line both processes print is one JSON object.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from app.db import db
from app.models import AuditLog
from app.sync_methods.pull_celery import job_id
from tests.e2e import test_pull_worker as pull_tests
from tests.pull_worker import wait_for
from tests.server import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
redis_server, world = pull_tests.redis_server, pull_tests.world
REQUEST_ID = "req-json-logs-0001"


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` as a JSON object (fails on a line that is not one)."""
    out = []
    for line in text.splitlines():
        if line.strip():
            obj = json.loads(line)
            assert isinstance(obj, dict), line
            out.append(obj)
    return out


def test_request_and_its_pull_job_log_one_request_id(
    app, world, redis_server, database_url, tmp_path
):
    rid = pull_tests.pull_repo(app, world, "logs.git", 30)
    env = {"GITLEAGUE_LOG_FORMAT": "json", "REDIS_URL": redis_server.url,
           "GITLEAGUE_ALLOW_LOCAL_REMOTES": "true"}  # fmt: skip
    with LiveServer(database_url, workers=2, env=env).start(tmp_path) as server:
        resp = requests.post(
            f"{server.url}/api/v1/repos/{rid}/pull-jobs",
            headers={**world["owner"].headers(), "X-Request-ID": REQUEST_ID},
            timeout=30,
        )
        assert resp.status_code == 202, resp.text
        assert resp.json() == {"job_id": job_id(rid), "queued": True, "request_id": REQUEST_ID}
        again = requests.post(
            f"{server.url}/api/v1/repos/{rid}/pull-jobs",
            headers=world["owner"].headers(),
            timeout=30,
        )
        assert again.status_code == 202 and again.json()["queued"] is False
        worker = world["worker"](GITLEAGUE_LOG_FORMAT="json")
        wait_for(lambda: pull_tests.job_done(app, rid), 120, "the pull job did not finish")
        assert pull_tests.job_done(app, rid) == "finished"
        server_lines = json_lines(server.log())
    worker_lines = json_lines(worker.log())

    mine = [line for line in server_lines if line["request_id"] == REQUEST_ID]
    assert {"app", "gunicorn.access"} <= {line["logger"] for line in mine}
    assert any(f"pull job {job_id(rid)} of {rid}: queued" in line["message"] for line in mine)
    job_lines = [line for line in worker_lines if line["request_id"] == REQUEST_ID]
    assert any(f"pull sync of {rid} started" in line["message"] for line in job_lines)
    assert any(f"pull sync of {rid}: synced, inserted 30" in line["message"] for line in job_lines)
    assert {"time", "level", "logger", "message", "request_id"} <= set(worker_lines[0])
    with app.app_context():
        audit = db.session.scalar(
            sa.select(AuditLog).where(AuditLog.action == "sync_commits", AuditLog.repo_id == rid)
        )
        assert audit.request_id == REQUEST_ID


def test_pull_jobs_route_refuses_what_it_cannot_queue(client, seed):
    owner = seed.actor()
    pid = seed.project(owner)
    push = seed.repo(pid)
    pull = seed.repo(pid, git_url="https://example.org/o/p.git", sync_method="pull_celery")
    resp = client.post(f"/api/v1/repos/{push}/pull-jobs", headers=owner.headers())
    assert resp.status_code == 409 and "push_client" in resp.json["error"]["message"]
    resp = client.post(f"/api/v1/repos/{pull}/pull-jobs", headers=owner.headers())
    assert resp.status_code == 409 and "no credentials" in resp.json["error"]["message"]
    cred = client.put(
        f"/api/v1/repos/{pull}/credentials", json={"token": "t"}, headers=owner.headers()
    )
    assert cred.status_code == 200
    resp = client.post(f"/api/v1/repos/{pull}/pull-jobs", headers=owner.headers())
    assert resp.status_code == 503 and resp.json["error"]["code"] == "queue_unavailable"
    assert "REDIS_URL" in resp.json["error"]["message"]
