"""Tokens in git URLs are refused, and none reaches a log, the database or Redis.

Issue 9, security item 4 (server side), through a real gunicorn and a
private redis-server, on both databases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.access_log import redact
from app.db import db
from app.models import AuditLog, Repo
from tests.conftest import TEST_CONFIG
from tests.helpers import Seed
from tests.pull_worker import RedisServer
from tests.server import LiveServer
from tests.test_schema import scratch_url  # noqa: F401 (a fixture)

TOKEN = "ghp_" + "Pl4nted" * 5
TOKEN_URLS = [
    f"https://x-access-token:{TOKEN}@github.com/org/x.git",
    f"https://{TOKEN}@github.com/org/x.git",
    f"http://user:{TOKEN}@git.example.org/org/x",
    f"ssh://git:{TOKEN}@github.com/org/x.git",
    f"git:{TOKEN}@github.com:org/x.git",
]


@pytest.mark.parametrize("url", TOKEN_URLS)
def test_create_and_update_refuse_user_info_and_say_where_tokens_go(client, seed, url):
    owner = seed.actor()
    pid = seed.project(owner)
    rid = seed.repo(pid, git_url="https://github.com/org/keep.git", sync_method="pull_celery")
    made = client.post(
        f"/api/v1/projects/{pid}/repos", json={"name": "x", "git_url": url}, headers=owner.headers()
    )
    changed = client.patch(f"/api/v1/repos/{rid}", json={"git_url": url}, headers=owner.headers())
    listed = client.get(
        f"/api/v1/projects/{pid}/repos", query_string={"git_url": url}, headers=owner.headers()
    )
    for resp, status in ((made, 422), (changed, 422), (listed, 400)):
        assert resp.status_code == status, resp.json
        message = resp.json["error"]["message"]
        assert "/credentials" in message and "credential helper" in message
        assert TOKEN not in resp.get_data(as_text=True)
    assert seed.get_repo(rid).git_url == "https://github.com/org/keep.git"


@pytest.mark.parametrize(
    "url", ["git@github.com:org/x.git", "ssh://git@github.com/org/x.git", "https://h.example/a@b"]
)
def test_an_ssh_login_name_is_not_a_secret(client, seed, url):
    owner = seed.actor()
    made = client.post(
        f"/api/v1/projects/{seed.project(owner)}/repos",
        json={"name": "x", "git_url": url},
        headers=owner.headers(),
    )
    assert made.status_code == 201, made.json


def test_malformed_ipv6_is_a_validation_error(client, seed):
    owner = seed.actor()
    pid = seed.project(owner)
    made = client.post(
        f"/api/v1/projects/{pid}/repos",
        json={"name": "x", "git_url": "https://[::1/x"},
        headers=owner.headers(),
    )
    assert made.status_code == 422 and "git_url" in made.json["error"]["message"]
    listed = client.get(
        f"/api/v1/projects/{pid}/repos",
        query_string={"git_url": "https://[::1/x"},
        headers=owner.headers(),
    )
    # The same rule as the body: since the remote_url module merged, a 422 naming git_url.
    assert listed.status_code == 422 and "git_url" in listed.json["error"]["message"]


def test_cli_refuses_user_info(runner, seed):
    pid = seed.project(seed.actor())
    result = runner.invoke(args=["repos", "add", pid, "--name", "x", "--git-url", TOKEN_URLS[0]])
    assert result.exit_code == 1 and "/credentials" in result.output
    assert TOKEN not in result.output


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            f"GET /r?git_url={quote(TOKEN_URLS[0], safe='')} HTTP/1.1",
            "GET /r?git_url=***%40github.com%2Forg%2Fx.git HTTP/1.1",
        ),
        (f"GET /r?git_url={TOKEN_URLS[1]}&a=b", "GET /r?git_url=***@github.com/org/x.git&a=b"),
        (f"GET /r?u={TOKEN_URLS[4]}", "GET /r?u=***@github.com:org/x.git"),
        ("GET /r?git_url=git%40github.com%3Aorg", "GET /r?git_url=git%40github.com%3Aorg"),
        ("GET /r?git_url=https://github.com/o/r", "GET /r?git_url=https://github.com/o/r"),
    ],
)
def test_access_log_redaction(line, expected):
    assert redact(line) == expected


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def _redis_dump(redis_server: RedisServer) -> str:
    redis = redis_server.connection()
    out = []
    for key in redis.scan_iter(count=1000):
        kind = redis.type(key)
        out.append(repr(key))
        if kind == b"string":
            out.append(repr(redis.get(key)))
        elif kind == b"hash":
            out.append(repr(redis.hgetall(key)))
        elif kind == b"list":
            out.append(repr(redis.lrange(key, 0, -1)))
        elif kind in (b"set", b"zset"):
            out.append(repr(redis.zrange(key, 0, -1) if kind == b"zset" else redis.smembers(key)))
    return "\n".join(out)


def _database_dump(app: Any) -> str:
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditLog)).all()
        repos = db.session.scalars(sa.select(Repo)).all()
        return json.dumps(
            [[e.action, e.details, e.data] for e in entries]
            + [[r.git_url, r.git_url_normalized, r.last_error] for r in repos],
            default=str,
        )


@pytest.mark.e2e
def test_planted_tokens_land_nowhere(app, seed, database_url, tmp_path, redis_server):
    owner = seed.actor()
    pid = seed.project(owner)
    rid = seed.repo(pid, git_url="https://github.com/org/keep.git", sync_method="pull_celery")
    server = LiveServer(database_url, env={"REDIS_URL": redis_server.url}).start(tmp_path)
    try:
        api, h = server.url + "/api/v1", owner.headers()
        for url in TOKEN_URLS:
            requests.post(
                f"{api}/projects/{pid}/repos", json={"name": "x", "git_url": url}, headers=h
            )
            requests.patch(f"{api}/repos/{rid}", json={"git_url": url}, headers=h)
            requests.get(f"{api}/projects/{pid}/repos", params={"git_url": url}, headers=h)
            requests.get(f"{api}/projects/{pid}/repos?git_url={url}", headers=h)
    finally:
        server.stop()
    app.config["REDIS_URL"] = redis_server.url
    app.extensions.pop("gitleague.redis", None)
    queued = app.test_cli_runner().invoke(args=["sync", "enqueue", rid])
    assert queued.exit_code == 0, queued.output
    log = server.log()
    assert f"/api/v1/projects/{pid}/repos?git_url=" in log and " 400 " in log
    dumps = {"access log": log, "database": _database_dump(app), "redis": _redis_dump(redis_server)}
    assert "sync_repo-" + rid in dumps["redis"]
    leaks = {
        where: [ln for ln in text.splitlines() if TOKEN in ln] for where, text in dumps.items()
    }
    assert {where: lines for where, lines in leaks.items() if lines} == {}


def test_migration_0004_scrubs_tokens_stored_before(scratch_url):  # noqa: F811
    """Rows written when token URLs were still accepted lose the token on upgrade."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade()
    seed = Seed(app)
    rid = seed.repo(seed.project(seed.actor()), git_url="git@github.com:org/keep.git")
    with app.app_context():
        repo = db.session.get(Repo, rid)
        repo.git_url, repo.last_error = TOKEN_URLS[1], f"repository not found: {TOKEN_URLS[1]}"
        db.session.add(
            AuditLog(
                actor="cli",
                action="repo_updated",
                repo_id=rid,
                data={"git_url": TOKEN_URLS[0]},
                details=f"git_url: {TOKEN_URLS[0]}",
            )  # fmt: skip
        )
        db.session.commit()
        downgrade(revision="0003")
        upgrade()
        db.session.remove()
        repo = db.session.get(Repo, rid)
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "repo_updated"))
        got = (repo.git_url, repo.last_error, entry.data, entry.details)
        db.session.remove()
        db.engine.dispose()
    assert got == (
        "https://github.com/org/x.git",
        "repository not found: https://github.com/org/x.git",
        {"git_url": "https://github.com/org/x.git"},
        "git_url: https://github.com/org/x.git",
    )
