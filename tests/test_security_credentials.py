"""A stored token goes only to the origin it was given for (issue 9, security item 1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.db import db
from app.models import AuditLog
from tests.git_http import GitHttpServer
from tests.helpers import detached_repo as row
from tests.pull_helpers import TOKEN, make_bare_repo


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[GitHttpServer, GitHttpServer]]:
    """The owner's git server and an attacker's, each holding ``r.git``."""
    with (
        GitHttpServer(tmp_path / "a", TOKEN) as owners,
        GitHttpServer(tmp_path / "b", TOKEN) as attackers,
    ):
        make_bare_repo(tmp_path / "a" / "r.git", 2)
        make_bare_repo(tmp_path / "b" / "r.git", 2)
        yield owners, attackers


def _pull_repo(app: Any, client: Any, seed: Any, owner: Any, url: str, rid: str) -> str:
    seed.repo(seed.project(owner), git_url=url, sync_method="pull_celery", repo_id=rid)
    put = client.put(
        f"/api/v1/repos/{rid}/credentials", json={"token": TOKEN}, headers=owner.headers()
    )
    assert put.status_code == 200, put.json
    return rid


def _cleared_entries(app: Any, rid: str) -> list[dict[str, Any]]:
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditLog).where(
                AuditLog.action == "credentials_cleared", AuditLog.repo_id == rid
            )
        )
        return [e.data for e in entries]


@pytest.mark.parametrize(
    "new_url",
    [
        "https://attacker.example/org/r.git",  # host
        "http://git.example.org/org/r.git",  # scheme
        "https://git.example.org:8443/org/r.git",  # port
        "https://GIT.example.org.evil.example/org/r.git",
    ],
)
def test_patching_git_url_to_another_origin_clears_the_token(app, client, seed, new_url):
    owner = seed.actor()
    rid = _pull_repo(app, client, seed, owner, "https://git.example.org/org/r.git", "pull-one")
    writer = {"Authorization": f"Bearer {seed.key(owner, ('write:repos',))}"}
    resp = client.patch(f"/api/v1/repos/{rid}", json={"git_url": new_url}, headers=writer)
    assert resp.status_code == 200, resp.json
    assert resp.json["has_credentials"] is False
    assert resp.json["sync_status"] == "needs_credentials"
    assert _cleared_entries(app, rid) == [
        {"had": True, "reason": "git_url moved to another scheme, host or port"}
    ]


@pytest.mark.parametrize(
    "new_url",
    [
        "https://git.example.org/org/renamed.git",
        "https://GIT.example.org:443/org/r",
        "https://git.example.org/other/r.git",
    ],
)
def test_same_origin_keeps_the_token(app, client, seed, new_url):
    owner = seed.actor()
    rid = _pull_repo(app, client, seed, owner, "https://git.example.org/org/r.git", "pull-two")
    resp = client.patch(f"/api/v1/repos/{rid}", json={"git_url": new_url}, headers=owner.headers())
    assert resp.status_code == 200 and resp.json["has_credentials"] is True
    assert _cleared_entries(app, rid) == []


def test_next_pull_sends_no_token_to_the_new_host(app, client, seed, servers, tmp_path):
    owners, attackers = servers
    app.config.update(GITLEAGUE_ALLOW_LOCAL_REMOTES=True, GITLEAGUE_MIRROR_DIR=str(tmp_path / "m"))
    owner = seed.actor()
    rid = _pull_repo(app, client, seed, owner, owners.url("r.git"), "pull-three")
    assert app.test_cli_runner().invoke(args=["sync", "run", rid]).exit_code == 0
    assert any(authorized for *_, authorized in owners.app.calls)
    writer = {"Authorization": f"Bearer {seed.key(owner, ('write:repos',))}"}
    moved = client.patch(
        f"/api/v1/repos/{rid}", json={"git_url": attackers.url("r.git")}, headers=writer
    )
    assert moved.status_code == 200
    result = app.test_cli_runner().invoke(args=["sync", "run", rid])
    assert "needs_credentials" in result.output
    assert not any(authorized for *_, authorized in attackers.app.calls)
    assert row(app, rid).sync_status == "needs_credentials"


def test_a_reused_id_starts_without_the_old_token(app, client, seed):
    alice, bob = seed.actor("alice@example.org"), seed.actor("bob@example.org")
    admin = seed.actor("root@example.org", admin=True)  # only admins choose ids
    rid = _pull_repo(app, client, seed, alice, "https://git.example.org/a/r.git", "secret-proj-x")
    assert client.delete(f"/api/v1/repos/{rid}", headers=alice.headers()).status_code == 204
    made = client.post(
        f"/api/v1/projects/{seed.project(bob)}/repos",
        json={
            "id": rid,
            "name": "mine",
            "git_url": "https://bob.example/b/r.git",
            "sync_method": "pull_celery",
        },
        headers=admin.headers(),
    )
    assert made.status_code == 201, made.json
    assert made.json["has_credentials"] is False
    assert made.json["sync_status"] == "needs_credentials"
