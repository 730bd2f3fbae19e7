"""Rows stored from a shallow clone's boundary are replaced when the full commit arrives.

An older client synced ``git clone --depth N``: the boundary commit went out
with no parents and its whole tree as its diff. The same sha sent later with
its parents replaces that row (counted as ``corrected``), and the league
rollup stays equal to a plain aggregate over ``commits``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dulwich.repo import Repo as GitRepo
from gitleague_client.extract import iter_commits

from app.db import db
from app.models import AuditLog, Commit
from tests.helpers import stored_commits
from tests.pull_helpers import _git, add_commits, head_sha, make_bare_repo, numstat
from tests.test_rollup import expected_rollup, stored_rollup


@pytest.fixture
def owner(seed: Any) -> Any:
    return seed.actor("owner@example.org")


@pytest.fixture
def git_repos(tmp_path: Path) -> dict[str, Path]:
    """A full repository of 8 commits and a ``--depth 3`` clone of it."""
    full = make_bare_repo(tmp_path / "full.git", 8)
    shallow = tmp_path / "shallow"
    _git("clone", "-q", "--depth", "3", "--bare", f"file://{full}", str(shallow), cwd=tmp_path)
    return {"full": full, "shallow": shallow}


def extract(path: Path) -> list[dict[str, Any]]:
    """The commits the client sends for ``path``, parents first."""
    with GitRepo(str(path)) as repo:
        return list(iter_commits(repo, [head_sha(path).encode()]))


def push(client: Any, owner: Any, repo_id: str, commits: list[Any], **extra: Any) -> Any:
    resp = client.post(
        f"/api/v1/repos/{repo_id}/commits",
        json={"commits": commits, **extra},
        headers=owner.headers(),
    )
    assert resp.status_code == 200, resp.json
    return resp.json


def git_parents(path: Path) -> dict[str, list[str]]:
    lines = _git("log", "--format=%H %P", "main", cwd=path).decode().splitlines()
    return {line.split()[0]: line.split()[1:] for line in lines}


def stored_parents(app: Any, repo_id: str) -> dict[str, list[str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Commit.sha, Commit.parents).where(Commit.repo_id == repo_id)
        )
        return {sha: list(parents) for sha, parents in rows}


def assert_rollup_exact(app: Any, project_id: str, repo_ids: list[str]) -> None:
    with app.app_context():
        pid = uuid.UUID(project_id)
        assert stored_rollup(pid, repo_ids) == expected_rollup(pid)


def test_the_boundary_row_is_replaced_by_the_full_commit(client, app, seed, owner, git_repos):
    project = seed.project(owner)
    repo_id = seed.repo(project)
    shallow = extract(git_repos["shallow"])
    assert len(shallow) == 3 and shallow[0]["parents"] == []  # as the old client sent it
    push(client, owner, repo_id, shallow)
    boundary = shallow[0]["sha"]
    truth = numstat(git_repos["full"])
    assert stored_commits(app, repo_id)[boundary] != truth[boundary]  # the wrong row

    run = client.post(f"/api/v1/repos/{repo_id}/sync-runs", json={}, headers=owner.headers())
    answer = push(client, owner, repo_id, extract(git_repos["full"]), sync_run_id=run.json["id"])
    assert answer == {
        "received": 8, "inserted": 5, "corrected": 1, "duplicates": 2, "rejected": []
    }  # fmt: skip
    assert stored_commits(app, repo_id) == truth
    assert stored_parents(app, repo_id) == git_parents(git_repos["full"])
    assert_rollup_exact(app, project, [repo_id])

    done = client.patch(
        f"/api/v1/repos/{repo_id}/sync-runs/{run.json['id']}",
        json={"status": "succeeded"},
        headers=owner.headers(),
    )
    assert done.json["corrected"] == 1 and done.json["duplicates"] == 2
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "sync_commits"))
        assert entry.one().data["corrected"] == 1

    again = push(client, owner, repo_id, extract(git_repos["full"]))
    assert again["corrected"] == 0 and again["duplicates"] == 8  # corrected once only


def test_a_root_commit_sent_again_is_a_plain_duplicate(client, app, seed, owner, git_repos):
    project = seed.project(owner)
    repo_id = seed.repo(project)
    full = extract(git_repos["full"])
    push(client, owner, repo_id, full)
    root = full[0]
    assert root["parents"] == []
    answer = push(client, owner, repo_id, [root])
    assert answer == {"received": 1, "inserted": 0, "corrected": 0, "duplicates": 1, "rejected": []}
    assert stored_commits(app, repo_id) == numstat(git_repos["full"])
    assert_rollup_exact(app, project, [repo_id])


def test_a_correction_beside_rejected_items(client, app, seed, owner, git_repos):
    project = seed.project(owner)
    repo_id = seed.repo(project)
    shallow = extract(git_repos["shallow"])
    push(client, owner, repo_id, shallow, resume_sha=shallow[-1]["sha"])
    full = {c["sha"]: c for c in extract(git_repos["full"])}
    boundary = full[shallow[0]["sha"]]
    bad = {**full[shallow[1]["sha"]], "deletions": -1}
    answer = push(client, owner, repo_id, [boundary, bad], resume_sha=boundary["sha"])
    assert answer["corrected"] == 1 and answer["inserted"] == 0 and answer["duplicates"] == 0
    assert [r["index"] for r in answer["rejected"]] == [1]
    assert seed.get_repo(repo_id).last_ingested_sha == shallow[-1]["sha"]  # not moved
    truth = numstat(git_repos["full"])
    assert stored_commits(app, repo_id)[boundary["sha"]] == truth[boundary["sha"]]
    assert_rollup_exact(app, project, [repo_id])


def test_a_boundary_shared_with_another_repo_of_the_project(client, app, seed, owner, git_repos):
    # The fork holds the full commit; the project counted the sha once, from
    # whichever copy came first, so the correction recomputes those authors.
    project = seed.project(owner)
    upstream, fork = seed.repo(project), seed.repo(project)
    push(client, owner, upstream, extract(git_repos["shallow"]))
    add_commits(git_repos["full"], 2)
    push(client, owner, fork, extract(git_repos["full"]))
    assert stored_commits(app, upstream) != numstat(git_repos["full"])
    answer = push(client, owner, upstream, extract(git_repos["full"]))
    assert answer["corrected"] == 1 and answer["inserted"] == 7
    assert stored_commits(app, upstream) == numstat(git_repos["full"])
    assert_rollup_exact(app, project, [upstream, fork])


def test_concurrent_corrections_count_once_and_keep_the_rollup_exact(
    app: Any, seed: Any, owner: Any, git_repos: dict[str, Path], live_server: Any
) -> None:
    """Two writers per repo send the full history at once to an upstream and a fork."""
    import threading

    import requests

    project = seed.project(owner)
    repos = [seed.repo(project), seed.repo(project)]
    with app.test_client() as client:
        for repo in repos:
            push(client, owner, repo, extract(git_repos["shallow"]))
    full = extract(git_repos["full"])
    answers: dict[str, list[dict[str, Any]]] = {repo: [] for repo in repos}
    failures: list[str] = []

    def writer(repo: str) -> None:
        for _attempt in range(5):  # a deadlock is a 503 the client retries
            resp = requests.post(f"{live_server.url}/api/v1/repos/{repo}/commits",
                                 json={"commits": full}, headers=owner.headers(), timeout=60)  # fmt: skip
            if resp.status_code != 503:
                break
        if resp.status_code == 200:
            answers[repo].append(resp.json())
        else:
            failures.append(f"{resp.status_code} {resp.text[:200]}")

    threads = [threading.Thread(target=writer, args=(repo,)) for repo in repos * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, live_server.log()[-3000:]
    for repo in repos:
        assert sum(a["corrected"] for a in answers[repo]) == 1
        assert sum(a["inserted"] for a in answers[repo]) == 5
        assert stored_commits(app, repo) == numstat(git_repos["full"])
    assert_rollup_exact(app, project, repos)
