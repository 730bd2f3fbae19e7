"""Push ingest: per-item rejection, dedupe, resume point, sync runs, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from app.db import db
from app.models import AuditLog, Commit, Repo, SyncRun
from tests.helpers import chain, commit_json, fake_sha


@pytest.fixture
def owner(seed: Any) -> Any:
    return seed.actor("owner@example.org")


@pytest.fixture
def repo_id(seed: Any, owner: Any) -> str:
    return seed.repo(seed.project(owner))


def push(client: Any, owner: Any, repo_id: str, commits: list[Any], **extra: Any) -> Any:
    return client.post(
        f"/api/v1/repos/{repo_id}/commits",
        json={"commits": commits, **extra},
        headers=owner.headers(),
    )


def count_commits(app: Any, repo_id: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Commit).where(Commit.repo_id == repo_id)
        )


def test_batch_is_stored_and_duplicates_are_counted(client, app, owner, repo_id):
    commits = chain(5)
    first = push(client, owner, repo_id, commits[:3])
    assert first.status_code == 200, first.json
    assert first.json == {
        "received": 3,
        "inserted": 3,
        "corrected": 0,
        "duplicates": 0,
        "rejected": [],
    }
    again = push(client, owner, repo_id, commits)
    assert again.json == {
        "received": 5,
        "inserted": 2,
        "corrected": 0,
        "duplicates": 3,
        "rejected": [],
    }
    all_dupes = push(client, owner, repo_id, commits)
    assert all_dupes.json == {
        "received": 5,
        "inserted": 0,
        "corrected": 0,
        "duplicates": 5,
        "rejected": [],
    }
    assert count_commits(app, repo_id) == 5


def test_same_sha_twice_in_one_batch_is_one_row(client, app, owner, repo_id):
    c = chain(1)[0]
    resp = push(client, owner, repo_id, [c, c])
    assert resp.json["inserted"] == 1 and resp.json["duplicates"] == 1
    assert count_commits(app, repo_id) == 1


def test_invalid_item_is_rejected_alone(client, app, owner, repo_id):
    good = chain(3)
    bad = [
        {**good[0], "sha": "not-a-sha"},
        {**good[1], "authored_at": "2024-01-01T00:00:00"},  # no offset
        {**good[2], "additions": -1},
        "not an object",
        {**commit_json(fake_sha("x")), "extra": 1},
        {**commit_json(fake_sha("y")), "message": "nul\x00byte"},
        {**commit_json(fake_sha("z")), "committed_at": "1500-01-01T00:00:00+00:00"},
        {**commit_json(fake_sha("w")), "is_merge": True},
    ]
    resp = push(client, owner, repo_id, [*good, *bad])
    assert resp.status_code == 200
    body = resp.json
    assert body["received"] == 11 and body["inserted"] == 3
    errors = {r["index"]: r["error"] for r in body["rejected"]}
    assert sorted(errors) == list(range(3, 11))
    assert "sha" in errors[3]
    assert "authored_at" in errors[4]
    assert "additions" in errors[5]
    assert "object" in errors[6]
    assert "extra" in errors[7]
    assert "NUL" in errors[8]
    assert "committed_at" in errors[9]
    assert "is_merge" in errors[10]
    assert count_commits(app, repo_id) == 3


def test_offsets_survive_the_round_trip(client, owner, repo_id):
    c = commit_json(fake_sha("tz"), when="2024-03-01T12:00:00-07:30")
    push(client, owner, repo_id, [c])
    listed = client.get(f"/api/v1/repos/{repo_id}/commits", headers=owner.headers()).json
    assert listed["items"][0]["authored_at"] == "2024-03-01T12:00:00-07:30"
    assert listed["items"][0]["committed_at"] == "2024-03-01T12:00:00-07:30"


def test_times_and_offsets_of_every_kind_are_stored_exactly(app, client, owner, repo_id):
    # PostgreSQL derives the offset from the text in SQL, SQLite gets it from
    # Python: both must agree with the offset the client sent.
    sent = {
        "2024-03-01T12:00:00Z": ("2024-03-01T12:00:00+00:00", 0),
        "2024-03-01T12:00:00+00:00": ("2024-03-01T12:00:00+00:00", 0),
        "2024-03-01T23:30:00.250000+05:45": ("2024-03-01T23:30:00.250000+05:45", 345),
        "2024-01-01T00:00:00-12:00": ("2024-01-01T00:00:00-12:00", -720),
        "1970-01-02T13:59:59+14:00": ("1970-01-02T13:59:59+14:00", 840),
        "2099-12-31T12:00:00.000001-00:30": ("2099-12-31T12:00:00.000001-00:30", -30),
        # git records any offset (+1700, -2359); PostgreSQL's casts stop at 15:59.
        "2024-06-30T23:59:59+16:00": ("2024-06-30T23:59:59+16:00", 960),
        "2024-01-01T00:00:00.5-23:59": ("2024-01-01T00:00:00.500000-23:59", -1439),
    }
    commits = [commit_json(fake_sha(f"t{i}"), when=w) for i, w in enumerate(sent)]
    commits[2]["committed_at"] = "2024-03-02T01:00:00+01:00"
    assert push(client, owner, repo_id, commits).json["inserted"] == len(sent)
    with app.app_context():
        rows = {c.sha: c for c in db.session.scalars(sa.select(Commit))}
    for i, (when, (_, minutes)) in enumerate(sent.items()):
        row = rows[commits[i]["sha"]]
        assert row.author_tz_offset == minutes, when
        assert row.authored_at == dt.datetime.fromisoformat(when), when
        assert row.authored_at.tzinfo == dt.timezone.utc
    assert rows[commits[2]["sha"]].committer_tz_offset == 60
    listed = client.get(
        f"/api/v1/repos/{repo_id}/commits?per_page=100", headers=owner.headers()
    ).json["items"]
    shown_by_sha = {item["sha"]: item["authored_at"] for item in listed}
    for i, (shown, _) in enumerate(sent.values()):
        assert shown_by_sha[commits[i]["sha"]] == shown


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ("{not json", 400, "malformed JSON"),
        ("[]", 422, "object"),
        ('{"commits": "x"}', 422, "commits"),
        ('{"commits": [], "sync_method": "pull_celery"}', 422, "sync_method"),
        ('{"commits": [], "resume_sha": "abc"}', 422, "resume_sha"),
    ],
)
def test_whole_batch_problems_write_nothing(client, app, owner, repo_id, body, status, fragment):
    push(client, owner, repo_id, chain(2))
    resp = client.post(
        f"/api/v1/repos/{repo_id}/commits",
        data=body,
        content_type="application/json",
        headers=owner.headers(),
    )
    assert resp.status_code == status, resp.json
    assert fragment in resp.json["error"]["message"]
    assert count_commits(app, repo_id) == 2


def test_too_many_items_is_413_with_limit(client, app, owner, repo_id):
    app.config["GITLEAGUE_MAX_BATCH_COMMITS"] = 10
    resp = push(client, owner, repo_id, chain(11))
    assert resp.status_code == 413
    assert resp.json["error"]["limit"] == 10
    assert count_commits(app, repo_id) == 0


def test_body_over_limit_is_413_before_parsing(client, app, owner, repo_id):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    resp = push(client, owner, repo_id, chain(20))
    assert resp.status_code == 413
    assert resp.json["error"]["code"] == "payload_too_large"


def test_resume_sha_moves_only_when_nothing_was_rejected(client, seed, owner, repo_id):
    commits = chain(4)
    push(client, owner, repo_id, commits[:2], resume_sha=commits[1]["sha"])
    assert seed.get_repo(repo_id).last_ingested_sha == commits[1]["sha"]
    bad = {**commits[3], "additions": "many"}
    resp = push(client, owner, repo_id, [commits[2], bad], resume_sha=commits[2]["sha"])
    assert len(resp.json["rejected"]) == 1
    assert seed.get_repo(repo_id).last_ingested_sha == commits[1]["sha"]


def test_resume_sha_must_be_known(client, owner, repo_id):
    resp = push(client, owner, repo_id, chain(1), resume_sha=fake_sha("elsewhere"))
    assert resp.status_code == 422
    assert "resume_sha" in resp.json["error"]["message"]


def test_known_negotiation(client, owner, repo_id):
    commits = chain(3)
    push(client, owner, repo_id, commits[:2])
    shas = [c["sha"] for c in commits]
    resp = client.post(
        f"/api/v1/repos/{repo_id}/commits/known", json={"shas": shas}, headers=owner.headers()
    )
    assert resp.json == {"known": shas[:2]}
    too_many = client.post(
        f"/api/v1/repos/{repo_id}/commits/known",
        json={"shas": [fake_sha(str(i)) for i in range(501)]},
        headers=owner.headers(),
    )
    assert too_many.status_code == 413 and too_many.json["error"]["limit"] == 500


def test_sync_run_counts_status_and_audit(client, app, seed, owner, repo_id):
    run = client.post(f"/api/v1/repos/{repo_id}/sync-runs", json={}, headers=owner.headers())
    assert run.status_code == 201
    run_id = run.json["id"]
    commits = chain(3)
    push(client, owner, repo_id, commits, sync_run_id=run_id, resume_sha=commits[-1]["sha"])
    push(client, owner, repo_id, commits[:1], sync_run_id=run_id)
    done = client.patch(
        f"/api/v1/repos/{repo_id}/sync-runs/{run_id}",
        json={"status": "succeeded", "head_sha": commits[-1]["sha"]},
        headers=owner.headers(),
    )
    assert done.status_code == 200, done.json
    assert done.json["received"] == 4 and done.json["inserted"] == 3
    assert done.json["duplicates"] == 1
    repo = client.get(f"/api/v1/repos/{repo_id}", headers=owner.headers()).json
    assert repo["sync_status"] == "healthy" and repo["last_sync_at"]
    assert repo["commit_count"] == 3 and repo["last_ingested_sha"] == commits[-1]["sha"]
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "sync_commits")
        ).one()
        assert entry.repo_id == repo_id
        assert "received: 4, inserted: 3, duplicates: 1, rejected: 0, errors: 0" in entry.details
        assert entry.data["sync_run_id"] == run_id
    again = client.patch(
        f"/api/v1/repos/{repo_id}/sync-runs/{run_id}",
        json={"status": "failed"},
        headers=owner.headers(),
    )
    assert again.status_code == 409


def test_failed_run_marks_repo_failing(client, owner, repo_id):
    run_id = client.post(
        f"/api/v1/repos/{repo_id}/sync-runs", json={}, headers=owner.headers()
    ).json["id"]
    client.patch(
        f"/api/v1/repos/{repo_id}/sync-runs/{run_id}",
        json={"status": "failed", "error": "Branch not found"},
        headers=owner.headers(),
    )
    repo = client.get(f"/api/v1/repos/{repo_id}", headers=owner.headers()).json
    assert repo["sync_status"] == "failing" and repo["last_error"] == "Branch not found"


def test_push_to_pull_repo_is_409_naming_the_method(client, seed, owner):
    pull = seed.repo(seed.project(owner), sync_method="pull_celery")
    resp = push(client, owner, pull, chain(1))
    assert resp.status_code == 409
    assert "pull_celery" in resp.json["error"]["message"]
    run = client.post(f"/api/v1/repos/{pull}/sync-runs", json={}, headers=owner.headers())
    assert run.status_code == 409


def test_commit_list_filters_and_pages(client, owner, repo_id):
    commits = chain(5)
    commits[0]["author_email"] = "grace@example.org"
    push(client, owner, repo_id, commits)
    url = f"/api/v1/repos/{repo_id}/commits"
    page = client.get(url + "?per_page=2", headers=owner.headers()).json
    assert page["total"] == 5 and len(page["items"]) == 2 and page["per_page"] == 2
    assert page["items"][0]["sha"] == commits[-1]["sha"]  # newest first
    grace = client.get(url + "?author=Grace@example.org", headers=owner.headers()).json
    assert [c["sha"] for c in grace["items"]] == [commits[0]["sha"]]
    since = commits[3]["committed_at"]
    recent = client.get(url, query_string={"since": since}, headers=owner.headers()).json
    assert recent["total"] == 2
    too_big = client.get(url + "?per_page=101", headers=owner.headers())
    assert too_big.status_code == 422 and "per_page" in too_big.json["error"]["message"]


def test_deleting_a_repo_deletes_its_commits(client, app, owner, repo_id):
    push(client, owner, repo_id, chain(3))
    assert client.delete(f"/api/v1/repos/{repo_id}", headers=owner.headers()).status_code == 204
    assert count_commits(app, repo_id) == 0
    with app.app_context():
        assert db.session.get(Repo, repo_id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0


def test_healthy_turns_stale_after_the_setting(client, app, owner, repo_id):
    run_id = client.post(
        f"/api/v1/repos/{repo_id}/sync-runs", json={}, headers=owner.headers()
    ).json["id"]
    client.patch(
        f"/api/v1/repos/{repo_id}/sync-runs/{run_id}",
        json={"status": "succeeded"},
        headers=owner.headers(),
    )
    assert (
        client.get(f"/api/v1/repos/{repo_id}", headers=owner.headers()).json["sync_status"]
        == "healthy"
    )
    app.config["GITLEAGUE_STALE_AFTER_SECONDS"] = 0
    assert (
        client.get(f"/api/v1/repos/{repo_id}", headers=owner.headers()).json["sync_status"]
        == "stale"
    )


def test_runs_left_open_for_hours_are_closed_as_abandoned(client, app, owner, repo_id):
    import datetime as dt

    old = client.post(f"/api/v1/repos/{repo_id}/sync-runs", json={}, headers=owner.headers()).json
    with app.app_context():
        run = db.session.get(SyncRun, old["id"])
        run.started_at = run.started_at - dt.timedelta(hours=7)
        db.session.commit()
    client.post(f"/api/v1/repos/{repo_id}/sync-runs", json={}, headers=owner.headers())
    with app.app_context():
        run = db.session.get(SyncRun, old["id"])
        assert run.status == "failed" and run.error.startswith("abandoned")
        entry = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "sync_commits")
        ).one()
        assert entry.data["sync_run_id"] == old["id"] and "errors: 1" in entry.details
