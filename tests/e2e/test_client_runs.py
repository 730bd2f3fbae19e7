"""A day in the life: a cron-like loop of gitleague-client against a real gunicorn.

Four repos: one with new commits each run, a quiet one, a shallow clone and one whose
remote is gone. Afterwards the server (and ``gitleague-client status``) shows each as
it is: healthy, healthy (not stale), healthy with the full history, failing with why.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.test_client_sync import Work, api_repo, client, git
from tests.server import LiveServer

pytestmark = pytest.mark.e2e

STALE_AFTER = 4


def work_in(root: Path) -> Work:
    root.mkdir()
    return Work(root)


def test_a_day_in_the_life(database_url: str, seed: Any, tmp_path: Path) -> None:
    busy, quiet, deep, down = (work_in(tmp_path / n) for n in ("busy", "quiet", "deep", "down"))
    for work in (busy, quiet, deep, down):
        for i in range(4):
            work.commit("a.txt", f"line {i}\n")
        work.push()
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{deep.remote}", str(shallow))
    git(shallow, "remote", "set-url", "origin", str(deep.remote))
    owner = seed.actor()
    project_id = seed.project(owner)
    ids = {name: seed.repo(project_id, name=name, git_url=str(w.remote))
           for name, w in (("busy", busy), ("quiet", quiet), ("deep", deep), ("down", down))}  # fmt: skip
    shutil.rmtree(down.remote)  # its remote is gone before the first run
    server = LiveServer(database_url, env={"GITLEAGUE_STALE_AFTER_SECONDS": str(STALE_AFTER)})
    server.start(tmp_path)
    try:
        config = tmp_path / "repos.yaml"
        config.write_text(yaml.safe_dump({
            "api_url": server.url, "api_key": owner.key, "max_retries": 1,
            "projects": [{"name": "P", "project_id": project_id, "repos": [
                {"path": str(tmp_path / "c" / "busy.git"), "git_url": str(busy.remote)},
                {"path": str(tmp_path / "c" / "quiet.git"), "git_url": str(quiet.remote)},
                {"path": str(shallow)},
                {"path": str(tmp_path / "c" / "down.git"), "git_url": str(down.remote)},
            ]}],
        }))  # fmt: skip
        for day in range(3):
            if day:
                busy.commit("a.txt", f"day {day}\n")
                busy.push()
                time.sleep(STALE_AFTER * 0.7)  # run 3 is past the window since run 1
            result = client(config, "sync", "--quiet")
            assert result.returncode == 1, result.stdout + result.stderr  # "down" fails
        seen = {name: api_repo(server, owner.key, rid) for name, rid in ids.items()}
        assert {n: r["sync_status"] for n, r in seen.items()} == {
            "busy": "healthy",
            "quiet": "healthy",
            "deep": "healthy",
            "down": "failing",
        }
        assert seen["busy"]["commit_count"] == 6 and seen["quiet"]["commit_count"] == 4
        assert seen["deep"]["commit_count"] == 4  # the whole history, not the 2 shallow ones
        assert not (shallow / ".git" / "shallow").exists()
        assert "fetch from" in seen["down"]["last_error"]
        status = client(config, "status", "--json")
        assert status.returncode == 1  # one repo is failing
        states = {s["repo_id"]: s for s in json.loads(status.stdout)["repos"]}
        assert {states[rid]["sync_status"] for rid in ids.values()} == {"healthy", "failing"}
        assert states[ids["down"]]["last_error"] == seen["down"]["last_error"]
        assert states[ids["busy"]]["commit_count"] == 6
        text = client(config, "status")
        assert "✗ P / down: failing, push_client" in text.stderr
        assert "✓ P / quiet: healthy, push_client, last sync " in text.stdout
    finally:
        server.stop()


def test_a_commit_the_server_rejects_does_not_freeze_the_resume_point(
    live_server: Any, seed: Any, tmp_path: Path
) -> None:
    work = Work(tmp_path)
    work.commit("a.txt", "one\n")
    (work.path / "a.txt").write_text("from the future\n")
    git(work.path, "commit", "-q", "-am", "dated 2100", date="@4102500000")  # type: ignore[arg-type]  # 2100-01-01
    future = git(work.path, "rev-parse", "HEAD")
    work.commit("a.txt", "three\n")
    work.push()
    owner = seed.actor()
    project_id = seed.project(owner)
    repo_id = seed.repo(project_id, git_url=str(work.remote))
    config = tmp_path / "repos.yaml"
    config.write_text(yaml.safe_dump({
        "api_url": live_server.url, "api_key": owner.key, "batch_size": 10,
        "projects": [{"name": "P", "project_id": project_id, "repos": [
            {"path": str(tmp_path / "c.git"), "git_url": str(work.remote)}]}],
    }))  # fmt: skip
    first = client(config, "sync", "--json")
    doc = json.loads(first.stdout)["repos"][0]
    assert first.returncode == 1 and doc["status"] == "partial"
    assert doc["rejections"][0]["sha"] == future
    head = work.commit("a.txt", "four\n")
    work.push()
    second = client(config, "sync", "--json")
    doc = json.loads(second.stdout)["repos"][0]
    assert second.returncode == 0, second.stdout
    assert doc["new_commits"] == 1 and doc["rejected"] == 0  # the tail is not resent
    seen = api_repo(live_server, owner.key, repo_id)
    assert seen["last_ingested_sha"] == head and seen["sync_status"] == "healthy"
    assert seen["commit_count"] == 3  # all but the rejected one
