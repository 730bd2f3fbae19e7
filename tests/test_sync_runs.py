"""Sync runs of the push protocol: abandoned runs, runs without commits, failed runs."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from app.db import db
from app.models import AuditLog, SyncRun
from tests.helpers import chain


@pytest.fixture
def owner(seed: Any) -> Any:
    return seed.actor("owner@example.org")


@pytest.fixture
def repo_id(seed: Any, owner: Any) -> str:
    return seed.repo(seed.project(owner))


def open_run(client: Any, owner: Any, repo_id: str, **body: Any) -> int:
    resp = client.post(f"/api/v1/repos/{repo_id}/sync-runs", json=body, headers=owner.headers())
    assert resp.status_code == 201, resp.json
    return int(resp.json["id"])


def close_run(client: Any, owner: Any, repo_id: str, run_id: int, **body: Any) -> Any:
    return client.patch(
        f"/api/v1/repos/{repo_id}/sync-runs/{run_id}", json=body, headers=owner.headers()
    )


def test_a_run_left_open_by_a_killed_client_is_closed_when_the_next_one_starts(
    client: Any, app: Any, owner: Any, repo_id: str
) -> None:
    killed = open_run(client, owner, repo_id)  # the client died before closing it
    nxt = open_run(client, owner, repo_id)
    with app.app_context():
        run = db.session.get(SyncRun, killed)
        assert run.status == "failed" and run.finished_at is not None
        assert run.error == "abandoned: never finished (a newer run started)"
        entry = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "sync_commits")
        ).one()
        assert entry.data["sync_run_id"] == killed and "errors: 1" in entry.details
        assert db.session.get(SyncRun, nxt).status == "running"
    # the killed client's late batch or close is refused, naming why
    late = client.post(f"/api/v1/repos/{repo_id}/commits", headers=owner.headers(),
                       json={"commits": chain(1), "sync_run_id": killed})  # fmt: skip
    assert late.status_code == 409 and "abandoned" in late.json["error"]["message"]
    assert close_run(client, owner, repo_id, nxt, status="succeeded").status_code == 200
    repo = client.get(f"/api/v1/repos/{repo_id}", headers=owner.headers()).json
    assert repo["sync_status"] == "healthy"


def test_runs_of_other_repos_are_left_alone(
    client: Any, app: Any, seed: Any, owner: Any, repo_id: str
) -> None:
    other = seed.repo(seed.project(owner))
    theirs = open_run(client, owner, other)
    open_run(client, owner, repo_id)
    with app.app_context():
        assert db.session.get(SyncRun, theirs).status == "running"


def test_a_finished_run_is_recorded_in_one_request(
    client: Any, app: Any, owner: Any, repo_id: str
) -> None:
    quiet = client.post(f"/api/v1/repos/{repo_id}/sync-runs", headers=owner.headers(),
                        json={"status": "succeeded"})  # fmt: skip
    assert quiet.status_code == 201 and quiet.json["status"] == "succeeded"
    assert quiet.json["finished_at"] is not None
    repo = client.get(f"/api/v1/repos/{repo_id}", headers=owner.headers()).json
    assert repo["sync_status"] == "healthy" and repo["last_sync_at"]
    failed = client.post(f"/api/v1/repos/{repo_id}/sync-runs", headers=owner.headers(),
                         json={"status": "failed", "error": "fetch from https://h/x failed"})  # fmt: skip
    assert failed.status_code == 201 and failed.json["status"] == "failed"
    repo = client.get(f"/api/v1/repos/{repo_id}", headers=owner.headers()).json
    assert repo["sync_status"] == "failing"
    assert repo["last_error"] == "fetch from https://h/x failed"
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "sync_commits")
        ).all()
        assert [e.data["status"] for e in entries] == ["succeeded", "failed"]
    bad = client.post(f"/api/v1/repos/{repo_id}/sync-runs", headers=owner.headers(),
                      json={"status": "running"})  # fmt: skip
    assert bad.status_code == 422


@pytest.mark.parametrize("run_id", [2**31, 2**63, 10**30])
def test_run_ids_beyond_the_columns_range_are_404_not_500(
    client: Any, owner: Any, repo_id: str, run_id: int
) -> None:
    patched = close_run(client, owner, repo_id, run_id, status="succeeded")
    assert patched.status_code == 404, patched.json
    batch = client.post(f"/api/v1/repos/{repo_id}/commits", headers=owner.headers(),
                        json={"commits": chain(1), "sync_run_id": run_id})  # fmt: skip
    assert batch.status_code in (404, 422), batch.json
