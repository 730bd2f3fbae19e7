"""Guards for ingest's checks at their exact values, on both databases (issue 14).

PostgreSQL and SQLite take different paths through app/services/ingest.py
(one JSON parameter and an array literal against executemany), so each test
runs on both.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from app.db import db
from app.metrics import KEY as METRICS
from app.models import Commit, LeagueRepoTotal, LeagueTotal
from tests.helpers import chain, commit_json, fake_sha, stored_commits
from tests.test_ingest import push


@pytest.fixture
def owner(seed: Any) -> Any:
    return seed.actor("owner@example.org")


@pytest.fixture
def project(seed: Any, owner: Any) -> str:
    return seed.project(owner)


@pytest.fixture
def repo_id(seed: Any, project: str) -> str:
    return seed.repo(project)


def ask_known(client: Any, headers: dict[str, str], repo_id: str, shas: list[Any]) -> Any:
    return client.post(
        f"/api/v1/repos/{repo_id}/commits/known", json={"shas": shas}, headers=headers
    )


@pytest.mark.parametrize(
    "bad",
    ["a" * 41, "xyz" + "a" * 40, "a" * 40 + "xyz", "a" * 40 + "\n", "A" * 40, "", "a,b", "{}"],
)
def test_known_refuses_what_is_not_a_sha(client, owner, repo_id, bad):
    push(client, owner, repo_id, chain(1))
    resp = ask_known(client, owner.headers(), repo_id, [fake_sha("ok"), bad])
    assert resp.status_code == 422, resp.json
    assert resp.json["error"]["message"] == f"shas: not a commit id: {bad!r}"


@pytest.mark.parametrize("bad", [7, None, ["a" * 40]])
def test_known_refuses_what_is_not_a_string(client, owner, repo_id, bad):
    resp = ask_known(client, owner.headers(), repo_id, [fake_sha("ok"), bad])
    assert resp.status_code == 422, resp.json
    assert resp.json["error"]["message"].startswith("shas: 1:")


def test_known_takes_exactly_the_limit(client, owner, repo_id):
    commits = chain(3)
    push(client, owner, repo_id, commits)
    filler = [fake_sha(f"f{i}") for i in range(497)]
    shas = [c["sha"] for c in commits] + filler
    assert len(shas) == 500
    resp = ask_known(client, owner.headers(), repo_id, list(reversed(shas)))
    assert resp.status_code == 200, resp.json
    assert resp.json == {"known": [c["sha"] for c in reversed(commits)]}
    over = ask_known(client, owner.headers(), repo_id, [*shas, fake_sha("one more")])
    assert over.status_code == 413 and over.json["error"]["limit"] == 500


def test_known_answers_in_request_order_once_each(client, owner, repo_id):
    commits = chain(3)
    push(client, owner, repo_id, commits)
    a, b, c = (x["sha"] for x in commits)
    resp = ask_known(client, owner.headers(), repo_id, [c, fake_sha("x"), a, c, a])
    assert resp.json == {"known": [c, a]}
    assert ask_known(client, owner.headers(), repo_id, []).json == {"known": []}


def test_known_needs_the_sync_scope(client, seed, owner, repo_id):
    read_only = seed.key(owner, ("read:repos",))
    resp = ask_known(client, {"Authorization": f"Bearer {read_only}"}, repo_id, [])
    assert resp.status_code == 403 and "sync:commits" in resp.json["error"]["message"]


def test_empty_batch_is_an_empty_result(client, owner, repo_id):
    resp = push(client, owner, repo_id, [])
    assert resp.status_code == 200, resp.json
    assert resp.json == {
        "received": 0,
        "inserted": 0,
        "corrected": 0,
        "duplicates": 0,
        "rejected": [],
    }


def test_all_rejected_batch_is_200_with_every_rejection(client, app, owner, repo_id):
    bad = [commit_json(fake_sha(f"b{i}"), additions=-1) for i in range(3)]
    resp = push(client, owner, repo_id, bad, resume_sha=None)
    assert resp.status_code == 200, resp.json
    assert resp.json["received"] == 3 and resp.json["inserted"] == 0
    assert resp.json["duplicates"] == 0
    assert [r["index"] for r in resp.json["rejected"]] == [0, 1, 2]
    assert stored_commits(app, repo_id) == {}


def test_a_batch_takes_exactly_the_limit(client, app, owner, repo_id):
    app.config["GITLEAGUE_MAX_BATCH_COMMITS"] = 7
    commits = chain(8)
    assert push(client, owner, repo_id, commits).status_code == 413
    resp = push(client, owner, repo_id, commits[:7])
    assert resp.status_code == 200 and resp.json["inserted"] == 7


def test_resume_sha_in_the_batch_or_stored_moves_the_resume_point(client, seed, owner, repo_id):
    commits = chain(3)
    push(client, owner, repo_id, commits[:1])
    resp = push(client, owner, repo_id, commits[1:2], resume_sha=commits[0]["sha"])
    assert resp.status_code == 200, resp.json
    assert seed.get_repo(repo_id).last_ingested_sha == commits[0]["sha"]
    resp = push(client, owner, repo_id, commits[2:], resume_sha=commits[2]["sha"])
    assert resp.status_code == 200, resp.json
    assert seed.get_repo(repo_id).last_ingested_sha == commits[2]["sha"]


def test_rejected_item_does_not_count_as_the_resume_point(client, seed, owner, repo_id):
    good, bad = chain(2)
    resp = push(client, owner, repo_id, [good, {**bad, "additions": -1}], resume_sha=bad["sha"])
    assert resp.status_code == 422 and "resume_sha" in resp.json["error"]["message"]
    assert seed.get_repo(repo_id).last_ingested_sha is None


def test_stored_row_is_the_pushed_commit(client, app, owner, repo_id):
    parents = [fake_sha("p1"), fake_sha("p2")]
    sent = commit_json(
        fake_sha("merge"),
        parents,
        when="2024-02-29T23:59:59.000001-09:30",
        author_name="Zoë",
        committer_email="c@example.org",
        message="m\n",
        additions=2**31 - 1,
        deletions=0,
        files_changed=1000,
    )
    assert push(client, owner, repo_id, [sent]).json["inserted"] == 1
    with app.app_context():
        row = db.session.scalars(sa.select(Commit).where(Commit.repo_id == repo_id)).one()
        assert row.parents == parents and row.is_merge
        assert (row.author_name, row.committer_email, row.message) == (
            "Zoë",
            "c@example.org",
            "m\n",
        )
        assert (row.additions, row.deletions, row.files_changed) == (2**31 - 1, 0, 1000)
        assert row.author_tz_offset == row.committer_tz_offset == -570
        assert row.authored_at.isoformat().startswith("2024-03-01T09:29:59.000001")


def test_a_rejection_keeps_the_resume_point_where_it_was(client, seed, owner, repo_id):
    good, other = chain(2)
    resp = push(client, owner, repo_id, [good, {**other, "deletions": -1}], resume_sha=good["sha"])
    assert resp.status_code == 200 and len(resp.json["rejected"]) == 1
    assert seed.get_repo(repo_id).last_ingested_sha is None


def test_already_stored_finds_each_stored_sha(client, app, owner, repo_id):
    # The pre-check that skips stored shas is invisible through the API (ON
    # CONFLICT would catch them), so it is checked on its own, on both paths.
    from app.services.ingest import _already_stored

    commits = chain(4)
    push(client, owner, repo_id, commits[:3])
    shas = [c["sha"] for c in commits]
    with app.app_context():
        conn = db.session.connection()
        assert sorted(_already_stored(conn, repo_id, shas)) == sorted(shas[:3])
        assert _already_stored(conn, repo_id, shas[3:]) == {}
        assert _already_stored(conn, repo_id, []) == {}
        assert _already_stored(conn, "other", shas) == {}


def test_pushing_needs_the_sync_scope(client, app, seed, owner, repo_id):
    read_only = seed.key(owner, ("read:repos", "write:repos"))
    resp = client.post(
        f"/api/v1/repos/{repo_id}/commits",
        json={"commits": chain(1)},
        headers={"Authorization": f"Bearer {read_only}"},
    )
    assert resp.status_code == 403 and "sync:commits" in resp.json["error"]["message"]
    assert stored_commits(app, repo_id) == {}


def league_figures(app: Any, project: str, repo_id: str) -> dict[str, tuple[int, int, int]]:
    """(commits, additions, active days) summed over the project's and the repo's totals."""
    with app.app_context():
        rows = {
            "project": db.session.scalars(
                sa.select(LeagueTotal).where(LeagueTotal.project_id == uuid.UUID(project))
            ).all(),
            "repo": db.session.scalars(
                sa.select(LeagueRepoTotal).where(LeagueRepoTotal.repo_id == repo_id)
            ).all(),
        }
        return {
            scope: (
                sum(r.commits + r.merges for r in found),
                sum(r.additions for r in found),
                sum(r.active_days for r in found),
            )
            for scope, found in rows.items()
        }


def test_a_batch_adds_exactly_its_new_commits_to_the_rollup(client, app, owner, project, repo_id):
    """The rollup follows each insert in the batch's transaction, resent shas counted once."""
    commits = chain(4)  # one author, 3 additions each, all on 2024-01-01 UTC
    push(client, owner, repo_id, commits[:3])
    assert league_figures(app, project, repo_id) == {"project": (3, 9, 1), "repo": (3, 9, 1)}
    push(client, owner, repo_id, commits)
    assert league_figures(app, project, repo_id) == {"project": (4, 12, 1), "repo": (4, 12, 1)}


def test_a_shallow_boundary_row_sent_with_parents_counts_as_corrected(
    client, app, owner, project, repo_id
):
    """A row stored without parents is replaced by the full commit: corrected, not a duplicate."""
    parent = commit_json(fake_sha("parent"))
    full = commit_json(fake_sha("boundary"), [parent["sha"]])
    boundary = {**full, "parents": [], "additions": 50, "files_changed": 20}  # the whole tree
    child = commit_json(fake_sha("child"), [full["sha"]])
    push(client, owner, repo_id, [boundary, child])
    assert league_figures(app, project, repo_id)["project"] == (2, 53, 1)
    resp = push(client, owner, repo_id, [parent, full, child])
    assert resp.json == {
        "received": 3, "inserted": 1, "corrected": 1, "duplicates": 1, "rejected": []
    }  # fmt: skip
    assert stored_commits(app, repo_id)[full["sha"]] == (3, 1, 2)
    assert league_figures(app, project, repo_id) == {"project": (3, 9, 1), "repo": (3, 9, 1)}


def test_new_commits_are_counted_in_the_metrics(client, app, owner, repo_id):
    """``gitleague_commits_ingested_total`` grows by the rows inserted, resent ones not."""
    registry = app.extensions[METRICS].registry

    def counted() -> float | None:
        return registry.get_sample_value(
            "gitleague_commits_ingested_total", {"method": "push_client"}
        )

    commits = chain(3)
    push(client, owner, repo_id, commits[:2])
    assert counted() == 2
    push(client, owner, repo_id, commits)
    assert counted() == 3
