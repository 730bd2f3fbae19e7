"""Projects and repos through the API: CRUD, URL matching, bad input, audit."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def owner(seed: Any) -> Any:
    return seed.actor("owner@example.org")


def test_create_list_and_match_any_url_form(client, owner):
    h = owner.headers()
    project = client.post("/api/v1/projects", json={"name": "My Project"}, headers=h)
    assert project.status_code == 201
    pid = project.json["id"]
    repo = client.post(
        f"/api/v1/projects/{pid}/repos",
        json={"name": "Frontend", "git_url": "git@github.com:org/x.git"},
        headers=h,
    )
    assert repo.status_code == 201, repo.json
    assert repo.json["sync_method"] == "push_client" and repo.json["branch"] == "main"
    rid = repo.json["id"]
    for form in (
        "https://github.com/org/x",
        "ssh://git@github.com/org/x.git",
        "git@GitHub.com:org/x",
    ):
        found = client.get(
            f"/api/v1/projects/{pid}/repos", query_string={"git_url": form}, headers=h
        )
        assert [r["id"] for r in found.json["items"]] == [rid], form
    other = client.get(
        f"/api/v1/projects/{pid}/repos",
        query_string={"git_url": "https://github.com/org/y"},
        headers=h,
    )
    assert other.json["items"] == []
    dup = client.post(
        f"/api/v1/projects/{pid}/repos",
        json={"name": "Again", "git_url": "https://github.com/org/x"},
        headers=h,
    )
    assert dup.status_code == 409
    listed = client.get("/api/v1/projects", headers=h).json
    assert listed["total"] == 1 and listed["items"][0]["repo_count"] == 1


def test_pull_repo_starts_needing_credentials(client, seed, owner):
    pid = seed.project(owner)
    repo = client.post(
        f"/api/v1/projects/{pid}/repos",
        json={
            "name": "Legacy",
            "git_url": "https://github.com/org/l",
            "sync_method": "pull_celery",
        },
        headers=owner.headers(),
    )
    assert repo.json["sync_status"] == "needs_credentials"


@pytest.mark.parametrize(
    "path_kind, method, body, fragment",
    [
        ("project", "patch", {"name": ""}, "name"),
        ("project", "patch", {"id": "x"}, "id"),
        ("project", "patch", {"owner_id": 2}, "owner_id"),
        ("project", "patch", {"name": "x" * 201}, "name"),
        ("repo", "patch", {"sync_method": "pull_celery"}, "sync_method"),
        ("repo", "patch", {"last_ingested_sha": "a" * 40}, "last_ingested_sha"),
        ("repo", "patch", {"git_url": "ext::sh -c x"}, "git_url"),
        ("repo", "patch", {"git_url": "--upload-pack=evil"}, "git_url"),
        ("repo", "patch", {"branch": "bad..branch"}, "branch"),
        ("repo", "patch", {"name": 5}, "name"),
        ("repos", "post", {"name": "x", "git_url": "https://h.example/o/r", "id": "UPPER"}, "id"),
        (
            "repos",
            "post",
            {"name": "x", "git_url": "https://h.example/o/r", "sync_method": "ftp"},
            "ftp",
        ),
        ("repos", "post", {"name": "x"}, "git_url"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(
    client, seed, owner, path_kind, method, body, fragment
):
    pid = seed.project(owner)
    rid = seed.repo(pid, name="Keep", git_url="https://h.example/o/keep")
    url = {
        "project": f"/api/v1/projects/{pid}",
        "repo": f"/api/v1/repos/{rid}",
        "repos": f"/api/v1/projects/{pid}/repos",
    }[path_kind]
    before = client.get(f"/api/v1/repos/{rid}", headers=owner.headers()).json
    resp = getattr(client, method)(url, json=body, headers=owner.headers())
    assert 400 <= resp.status_code < 500, resp.json
    assert fragment in resp.json["error"]["message"], resp.json
    after = client.get(f"/api/v1/repos/{rid}", headers=owner.headers()).json
    assert after == before
    assert client.get(f"/api/v1/projects/{pid}/repos", headers=owner.headers()).json["total"] == 1


def test_admin_creates_for_a_commissioner_who_cannot_for_others(client, seed, owner):
    admin = seed.actor("admin@example.org", admin=True)
    made = client.post(
        "/api/v1/projects",
        json={"name": "Theirs", "owner_email": "owner@example.org"},
        headers=admin.headers(),
    )
    assert made.status_code == 201 and made.json["owner_email"] == "owner@example.org"
    refused = client.post(
        "/api/v1/projects",
        json={"name": "Nope", "owner_email": "admin@example.org"},
        headers=owner.headers(),
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/projects", headers=owner.headers()).json["total"] == 1


def test_audit_log_lists_changes_newest_first_and_filters(client, seed, owner):
    h = owner.headers()
    pid = client.post("/api/v1/projects", json={"name": "P"}, headers=h).json["id"]
    rid = client.post(
        f"/api/v1/projects/{pid}/repos",
        json={"name": "R", "git_url": "https://h.example/o/r"},
        headers=h,
    ).json["id"]
    client.patch(f"/api/v1/repos/{rid}", json={"name": "R2"}, headers=h)
    logs = client.get("/api/v1/audit-logs", headers=h).json
    actions = [e["action"] for e in logs["items"]]
    assert actions[:3] == ["repo_updated", "repo_created", "project_created"]
    only = client.get("/api/v1/audit-logs?action=repo_created", headers=h).json
    assert [e["repo_id"] for e in only["items"]] == [rid]
    assert only["items"][0]["actor"].startswith("owner@example.org (key tgl_")
    assert owner.key not in str(logs)
    stranger = seed.actor("stranger@example.org")
    assert client.get("/api/v1/audit-logs", headers=stranger.headers()).json["total"] == 0


@pytest.mark.parametrize("clash", ["git_url", "id"])
def test_a_create_racing_another_gets_409_and_the_first_stays(
    client, seed, monkeypatch: pytest.MonkeyPatch, clash: str
):
    """Two creates at once: both pass the checks before either commits, so the
    second meets a unique constraint. It gets the 409 a later create gets (not
    a 500), naming what clashed, and the first repo is untouched."""
    from app.services import repos as repo_svc

    admin = seed.actor("root@example.org", admin=True)
    pid = seed.project(admin)
    url = f"/api/v1/projects/{pid}/repos"
    first = {"name": "first", "git_url": "https://git.example/o/race.git", "id": "race-1"}
    assert client.post(url, json=first, headers=admin.headers()).status_code == 201
    # The second request's checks ran before the first committed: they saw nothing.
    check_unique = repo_svc._check_unique
    calls = []

    def checked_too_early(*args, **kwargs):
        calls.append(args)
        if len(calls) > 1:  # after the clash, the first repo is there to see
            check_unique(*args, **kwargs)

    monkeypatch.setattr(repo_svc, "_check_unique", checked_too_early)
    monkeypatch.setattr(repo_svc, "_new_id", lambda actor, requested: requested)
    second = {"name": "second", "git_url": "https://git.example/o/other.git", "id": "race-2"}
    second[clash] = first[clash]
    resp = client.post(url, json=second, headers=admin.headers())
    assert resp.status_code == 409, resp.get_data(as_text=True)
    expected = "already has that git_url" if clash == "git_url" else "repository id race-1 is taken"
    assert expected in resp.json["error"]["message"]
    listed = client.get(url, headers=admin.headers()).json
    assert [(r["id"], r["name"], r["git_url"]) for r in listed["items"]] == [
        ("race-1", "first", "https://git.example/o/race.git")
    ]
