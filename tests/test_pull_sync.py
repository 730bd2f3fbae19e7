"""Pull sync in the foreground (``flask sync run``) against a real git server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.db import db
from app.models import AuditLog, Repo, SyncRun
from app.services import git_remote
from tests.git_http import GitHttpServer
from tests.helpers import detached_repo as row
from tests.helpers import stored_commits as stored
from tests.pull_helpers import TOKEN, add_commits, head_sha, make_bare_repo, numstat


@pytest.fixture
def git(tmp_path: Path) -> Iterator[GitHttpServer]:
    with GitHttpServer(tmp_path / "remotes", TOKEN) as server:
        yield server


@pytest.fixture
def pull(app, seed, git, tmp_path) -> dict[str, Any]:
    app.config.update(GITLEAGUE_ALLOW_LOCAL_REMOTES=True, GITLEAGUE_MIRROR_DIR=str(tmp_path / "m"))
    owner = seed.actor()
    return {"owner": owner, "pid": seed.project(owner), "root": tmp_path / "remotes"}


def new_repo(app, seed, git, pull, name: str, commits: int, token: str | None = TOKEN) -> str:
    if commits:
        make_bare_repo(pull["root"] / name, commits)
    rid = seed.repo(pull["pid"], git_url=git.url(name), sync_method="pull_celery")
    if token is not None:
        result = app.test_cli_runner().invoke(
            args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": token}
        )
        assert result.exit_code == 0, result.output
    return rid


def sync(app, rid: str) -> Any:
    return app.test_cli_runner().invoke(args=["sync", "run", rid])


def test_sync_run_stores_what_git_log_shows_then_only_new_commits(app, seed, git, pull):
    rid = new_repo(app, seed, git, pull, "r.git", 120)
    result = sync(app, rid)
    assert result.exit_code == 0, result.output
    assert "synced" in result.output and "inserted: 120" in result.output
    assert stored(app, rid) == numstat(pull["root"] / "r.git")
    repo = row(app, rid)
    assert (repo.sync_status, repo.last_error) == ("healthy", None)
    assert repo.last_ingested_sha == head_sha(pull["root"] / "r.git")

    before = len(git.app.calls)
    again = sync(app, rid)
    assert "unchanged" in again.output
    # ls-remote only (protocol v2: capabilities, then ls-refs); a fetch would add two more.
    assert [c[0] for c in git.app.calls[before:] if c[2]] == ["GET", "POST"]

    add_commits(pull["root"] / "r.git", 7)
    third = sync(app, rid)
    assert "inserted: 7, duplicates: 0" in third.output
    assert stored(app, rid) == numstat(pull["root"] / "r.git")
    assert row(app, rid).last_ingested_sha == head_sha(pull["root"] / "r.git")
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "sync_commits", AuditLog.repo_id == rid)
        ).all()
        assert [e.data["inserted"] for e in entries] == [120, 7]
        assert all("errors: 0" in e.details for e in entries)
        assert all(e.actor == "pull-worker" for e in entries)


def test_wrong_token_fails_clearly_and_shows_in_failures(app, seed, git, pull, client):
    rid = new_repo(app, seed, git, pull, "r.git", 5, token="not-the-token")
    result = sync(app, rid)
    assert result.exit_code == 1
    assert "authentication failed for http://127.0.0.1:" in result.output
    assert "not-the-token" not in result.output
    repo = row(app, rid)
    assert repo.sync_status == "failing" and repo.last_error.startswith("authentication failed")
    listing = app.test_cli_runner().invoke(args=["sync", "failures"])
    assert rid in listing.output and "authentication failed" in listing.output
    body = client.get(f"/api/v1/repos/{rid}", headers=pull["owner"].headers()).json
    assert body["sync_status"] == "failing" and "authentication failed" in body["last_error"]
    assert stored(app, rid) == {}


@pytest.mark.parametrize(
    ("case", "expected"),
    [("no-branch", "branch not found: 'main'"), ("no-repo", "repository not found")],
)
def test_missing_branch_or_repository(app, seed, git, pull, case, expected):
    if case == "no-branch":
        make_bare_repo(pull["root"] / "r.git", 3, branch="trunk")
        rid = new_repo(app, seed, git, pull, "r.git", 0)
    else:
        rid = new_repo(app, seed, git, pull, "missing.git", 0)
    result = sync(app, rid)
    assert result.exit_code == 1 and expected in result.output
    assert row(app, rid).last_error.startswith(expected)


def test_unusable_keys_fail_closed(app, seed, git, pull):
    rid = new_repo(app, seed, git, pull, "r.git", 3)
    app.config["GITLEAGUE_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    result = sync(app, rid)
    assert result.exit_code == 1 and "none of GITLEAGUE_ENCRYPTION_KEYS matches" in result.output
    assert row(app, rid).sync_status == "failing"
    app.config["GITLEAGUE_ENCRYPTION_KEYS"] = ""
    assert "GITLEAGUE_ENCRYPTION_KEYS is not set" in sync(app, rid).output
    assert stored(app, rid) == {}


def test_repo_without_credentials_needs_them(app, seed, git, pull):
    rid = new_repo(app, seed, git, pull, "r.git", 3, token=None)
    result = sync(app, rid)
    assert result.exit_code == 1 and "needs_credentials" in result.output
    assert row(app, rid).sync_status == "needs_credentials"
    assert git.app.requests == 0


def test_push_repo_is_skipped(app, seed, git, pull):
    rid = seed.repo(pull["pid"], git_url=git.url("x.git"))
    assert "skipped" in sync(app, rid).output


def test_mirror_is_rebuilt_when_its_origin_differs(tmp_path):
    path = tmp_path / "m" / "r.git"
    first = git_remote.open_mirror(path, "https://example.org/a.git", "main")
    first.close()
    same = git_remote.open_mirror(path, "https://EXAMPLE.org/a", "main")
    same.close()
    other = git_remote.open_mirror(path, "https://example.org/b.git", "main")
    origin = other.get_config().get((b"remote", b"origin"), b"url")
    other.close()
    assert origin == b"https://example.org/b.git"


@pytest.mark.parametrize(
    ("url", "local_ok", "allowed"),
    [
        ("https://140.82.112.3/org/x.git", False, True),  # names: test_security_urls.py
        ("http://github.com/org/x.git", False, False),
        ("http://127.0.0.1:8080/x.git", True, True),
        ("https://127.0.0.1/x.git", False, False),
        ("https://10.1.2.3/x.git", False, False),
        ("https://localhost/x.git", False, False),
        ("/srv/git/x.git", False, False),
        ("/srv/git/x.git", True, True),
        ("file:///srv/git/x.git", False, False),
        ("ext::sh -c touch% /tmp/pwned", True, False),
        ("-uhelp", True, False),
        ("--upload-pack=touch /tmp/x", True, False),
        ("git@github.com:org/x.git", True, False),
        ("ssh://git@github.com/org/x.git", True, False),
        ("https://user:secret@github.com/org/x.git", True, False),
    ],
)
def test_remote_url_policy(url, local_ok, allowed):
    if allowed:
        git_remote.check_remote_url(url, allow_local=local_ok)
    else:
        with pytest.raises(git_remote.RemoteUrlRefusedError) as info:
            git_remote.check_remote_url(url, allow_local=local_ok)
        assert "secret" not in info.value.message


def test_url_refused_without_local_remotes(app, seed, git, pull):
    rid = new_repo(app, seed, git, pull, "r.git", 2)
    app.config["GITLEAGUE_ALLOW_LOCAL_REMOTES"] = False
    result = sync(app, rid)
    assert result.exit_code == 1 and "remote URL refused" in result.output
    assert git.app.requests == 0


def test_sync_runs_are_recorded_once_per_sync(app, seed, git, pull):
    rid = new_repo(app, seed, git, pull, "r.git", 30)
    app.config["GITLEAGUE_PULL_BATCH_SIZE"] = 7
    sync(app, rid)
    with app.app_context():
        runs = db.session.scalars(sa.select(SyncRun).where(SyncRun.repo_id == rid)).all()
        assert [(r.status, r.received, r.inserted, r.method) for r in runs] == [
            ("succeeded", 30, 30, "pull_celery")
        ]


def test_pull_settings_from_the_environment():
    from app.config import pull_from_environment

    assert pull_from_environment({}) == {}
    assert pull_from_environment({"CELERY_ENABLED": "false"}) == {"PULL_SYNC_ENABLED": False}
    assert pull_from_environment({"PULL_SYNC_ENABLED": "0"}) == {"PULL_SYNC_ENABLED": False}
    assert pull_from_environment({"PULL_SYNC_ENABLED": "true"}) == {}
    got = pull_from_environment(
        {
            "GITLEAGUE_ALLOW_LOCAL_REMOTES": "yes",
            "GITLEAGUE_PULL_RETRY_INTERVALS": "5, 10",
            "GITLEAGUE_PULL_INTERVAL_SECONDS": "600",
        }
    )
    assert got == {
        "GITLEAGUE_ALLOW_LOCAL_REMOTES": True,
        "GITLEAGUE_PULL_RETRY_INTERVALS": (5, 10),
        "GITLEAGUE_PULL_INTERVAL_SECONDS": 600,
    }


def test_a_silent_remote_times_out(app, seed, git, pull):
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections (backlog), never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/x.git"
        rid = seed.repo(pull["pid"], git_url=url, sync_method="pull_celery")
        app.test_cli_runner().invoke(
            args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": TOKEN}
        )
        app.config["GITLEAGUE_GIT_TIMEOUT"] = 1
        result = sync(app, rid)
    assert result.exit_code == 1 and f"timeout talking to {url}" in result.output
    assert row(app, rid).last_error == f"timeout talking to {url}"


def test_due_repos_follow_each_repos_interval(app, seed, client, pull):
    import datetime as dt

    from app.db import utcnow
    from app.services import pull_schedule

    ids = [seed.repo(pull["pid"], sync_method="pull_celery") for _ in range(3)]
    runner = app.test_cli_runner()
    for rid in ids[:2]:
        runner.invoke(args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": "t"})
    slow = client.patch(
        f"/api/v1/repos/{ids[1]}",
        json={"pull_interval_seconds": 3 * 3600},
        headers=pull["owner"].headers(),
    )
    assert slow.status_code == 200 and slow.json["pull_interval_seconds"] == 3 * 3600
    bad = client.patch(
        f"/api/v1/repos/{ids[1]}",
        json={"pull_interval_seconds": 5},
        headers=pull["owner"].headers(),
    )
    assert bad.status_code == 422
    now = utcnow()
    with app.app_context():
        for rid in ids:
            db.session.get(Repo, rid).last_sync_at = now - dt.timedelta(hours=2)
        db.session.commit()
        app.config["GITLEAGUE_PULL_JITTER_SECONDS"] = 0
        due, missing, later = pull_schedule.due_repos(now, app.config)
        assert (due, missing, later) == ([ids[0]], [ids[2]], 1)
        assert db.session.get(Repo, ids[2]).sync_status == "needs_credentials"
        app.config["PULL_SYNC_ENABLED"] = False
        assert pull_schedule.schedule_once(None, app.config).disabled
