"""Migrate and roll back over HTTP: the same service as the CLI and scripts."""

from __future__ import annotations


def test_migrate_and_rollback_over_http(client, seed):
    owner = seed.actor("owner@example.org")
    other = seed.actor("other@example.org")
    pid = seed.project(owner)
    mine = seed.repo(pid, sync_method="pull_celery", repo_id="frontend")
    theirs = seed.repo(seed.project(other), sync_method="pull_celery", repo_id="backend")
    url = "/api/v1/migration"
    dry = client.post(
        f"{url}/migrate", json={"repo_ids": [mine], "dry_run": True}, headers=owner.headers()
    )
    assert dry.status_code == 200 and dry.json["dry_run"] is True
    assert "Set sync_method to: push_client" in dry.json["results"][0]["changes"]
    assert seed.get_repo(mine).sync_method == "pull_celery"

    done = client.post(f"{url}/migrate", json={"repo_ids": [mine, theirs]}, headers=owner.headers())
    body = done.json
    assert done.status_code == 200 and body["ok"] is False
    assert (body["succeeded"], body["failed"], body["total"]) == (1, 1, 2)
    outcome = {r["repo_id"]: r for r in body["results"]}
    assert outcome[mine]["ok"] and outcome[theirs]["message"] == "Repository not found"
    assert seed.get_repo(mine).sync_method == "push_client"
    assert seed.get_repo(theirs).sync_method == "pull_celery"

    logs = client.get(
        "/api/v1/audit-logs?action=migrate_repo_sync_method", headers=owner.headers(use_jwt=True)
    ).json
    assert [e["repo_id"] for e in logs["items"]] == [mine]

    back = client.post(f"{url}/rollback", json={"repo_ids": [mine]}, headers=owner.headers())
    assert back.json["ok"] is True
    repo = seed.get_repo(mine)
    assert repo.sync_method == "pull_celery" and repo.sync_status == "needs_credentials"


def test_bad_migration_requests_are_named(client, seed):
    owner = seed.actor()
    for body, fragment in (
        ({}, "repo_ids"),
        ({"repo_ids": ["x"], "to": "Bad-Name"}, "to"),
        ({"repo_ids": ["x"], "surprise": 1}, "surprise"),
    ):
        resp = client.post("/api/v1/migration/migrate", json=body, headers=owner.headers())
        assert resp.status_code == 422 and fragment in resp.json["error"]["message"], resp.json
