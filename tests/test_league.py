"""The league table of a project's contributors (GET /api/v1/projects/<id>/contributors)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import commit_json, fake_sha


def by(name: str, email: str, when: str, adds: int, dels: int, **extra: Any) -> dict[str, Any]:
    sha = fake_sha(f"{email}-{when}-{adds}")
    return commit_json(sha, when=when, author_name=name, author_email=email, additions=adds,
                       deletions=dels, files_changed=1, **extra)  # fmt: skip


def push(client: Any, owner: Any, repo_id: str, commits: list[dict[str, Any]]) -> None:
    resp = client.post(f"/api/v1/repos/{repo_id}/commits", json={"commits": commits},
                       headers=owner.headers())  # fmt: skip
    assert resp.status_code == 200 and not resp.json["rejected"], resp.json


@pytest.fixture
def league(client: Any, seed: Any) -> dict[str, Any]:
    owner = seed.actor("owner@example.org")
    project = seed.project(owner, "League")
    upstream, fork = seed.repo(project, name="upstream"), seed.repo(project, name="fork")
    elsewhere = seed.repo(seed.project(owner, "Other"), name="other")
    a1 = by("Alice", "alice@example.org", "2024-01-01T10:00:00+01:00", 10, 1)
    a2 = by("Alice", "ALICE@example.org", "2024-02-01T10:00:00+01:00", 5, 0)
    a3 = by("Alice Smith", "alice@example.org", "2024-03-01T10:00:00+01:00", 1, 1)
    merge = commit_json(fake_sha("merge"), [a2["sha"], a3["sha"]], when="2024-03-02T10:00:00Z",
                        author_name="Alice Smith", author_email="alice@example.org",
                        additions=0, deletions=0, files_changed=0)  # fmt: skip
    b1 = by("Bob", "bob@example.org", "2024-02-15T08:00:00-05:00", 100, 50)
    b2 = by("Bob", "bob@example.org", "2024-02-16T08:00:00-05:00", 1, 0)
    old = by("Dave", "dave@example.org", "2023-06-01T00:00:00Z", 7, 7)
    push(client, owner, upstream, [old, a1, a2, a3, merge, b1])
    push(client, owner, fork, [b1, b2])  # b1 is in both repos: counted once
    push(client, owner, elsewhere, [by("Carol", "carol@example.org", "2024-01-05T00:00:00Z", 9, 9)])
    return {"owner": owner, "project": project}


def table(client: Any, league: dict[str, Any], query: str = "") -> Any:
    return client.get(f"/api/v1/projects/{league['project']}/contributors{query}",
                      headers=league["owner"].headers())  # fmt: skip


def test_contributors_ranked_with_commits_counted_once(client: Any, league: dict[str, Any]):
    resp = table(client, league)
    assert resp.status_code == 200, resp.json
    doc = resp.json
    assert (doc["total"], doc["page"], doc["per_page"]) == (3, 1, 30)
    rows = {r["author_email"]: r for r in doc["items"]}
    assert [r["author_email"] for r in doc["items"]] == [
        "alice@example.org", "bob@example.org", "dave@example.org",
    ]  # fmt: skip
    assert [r["rank"] for r in doc["items"]] == [1, 2, 3]
    alice = rows["alice@example.org"]
    assert (alice["commits"], alice["merges"], alice["additions"], alice["deletions"]) == (
        3,
        1,
        16,
        2,
    )
    assert alice["author_name"] == "Alice Smith"  # the name on the latest commit
    assert alice["repos"] == 1
    assert alice["first_commit_at"] == "2024-01-01T09:00:00+00:00"
    assert alice["last_commit_at"] == "2024-03-02T10:00:00+00:00"
    bob = rows["bob@example.org"]
    assert (bob["commits"], bob["additions"], bob["deletions"], bob["repos"]) == (2, 101, 50, 2)
    assert "carol@example.org" not in rows  # another project's


def test_repos_counted_in_the_period_only(client: Any, league: dict[str, Any]):
    # Bob's b1 (Feb 15) is in both repos, b2 (Feb 16) in the fork only.
    def bob_repos(query: str) -> int:
        rows = table(client, league, query).json["items"]
        return next(r["repos"] for r in rows if r["author_email"] == "bob@example.org")

    assert bob_repos("?since=2024-02-16T00:00:00Z&until=2024-02-17T00:00:00Z") == 1
    assert bob_repos("?since=2024-02-15T00:00:00Z&until=2024-02-16T00:00:00Z") == 2
    assert bob_repos("?period=all") == 2


def test_a_period_and_pages(client: Any, league: dict[str, Any]):
    doc = table(client, league, "?since=2024-02-01T00:00:00Z&until=2024-03-01T00:00:00Z").json
    assert [(r["author_email"], r["commits"]) for r in doc["items"]] == [
        ("bob@example.org", 2), ("alice@example.org", 1),
    ]  # fmt: skip
    first = table(client, league, "?per_page=2&page=1").json
    second = table(client, league, "?per_page=2&page=2").json
    assert first["total"] == second["total"] == 3
    assert [r["rank"] for r in first["items"] + second["items"]] == [1, 2, 3]
    assert second["items"][0]["author_email"] == "dave@example.org"


@pytest.mark.parametrize(
    "query, fragment",
    [
        ("?since=yesterday", "since"),
        ("?since=2024-02-01T00:00:00", "since"),  # no offset: ambiguous
        ("?since=2024-03-01T00:00:00Z&until=2024-02-01T00:00:00Z", "until"),
        ("?per_page=101", "per_page"),
        ("?since=1900-01-01T00:00:00Z", "since"),
    ],
)
def test_bad_queries_are_named(client: Any, league: dict[str, Any], query: str, fragment: str):
    resp = table(client, league, query)
    assert resp.status_code == 422, resp.json
    assert fragment in resp.json["error"]["message"]


def test_an_empty_project_has_an_empty_table(client: Any, seed: Any):
    owner = seed.actor("owner@example.org")
    project = seed.project(owner, "Empty")
    resp = client.get(f"/api/v1/projects/{project}/contributors", headers=owner.headers())
    assert resp.json == {"items": [], "total": 0, "page": 1, "per_page": 30}
