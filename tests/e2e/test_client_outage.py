"""gitleague-client against a real gunicorn that goes away: a restart mid-sync, tokens in URLs.

The client runs as its own process; the server is tests/server.py's gunicorn, whose
access log (stdout) is read back to check what reached it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.e2e.test_client_sync import Work, api_repo, git
from tests.server import LiveServer

pytestmark = pytest.mark.e2e

TOKEN = "ghp_PLANTED0123456789abcdefABCDEF"


def write_config(path: Path, server: Any, key: str, project_id: str, repos: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({
        "api_url": server.url, "api_key": key, "batch_size": 2, "max_retries": 2,
        "projects": [{"name": "P", "project_id": project_id, "repos": repos}],
    }))  # fmt: skip
    return path


def start_client(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITLEAGUE_API_KEY"}
    return subprocess.Popen([sys.executable, "-m", "gitleague_client", *args, "--config",
                             str(config)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_a_sync_rides_through_a_gunicorn_restart(
    database_url: str, seed: Any, tmp_path: Path
) -> None:
    work = Work(tmp_path)
    for i in range(6):
        work.commit("a.txt", f"line {i}\n")
    work.push()
    owner = seed.actor()
    project_id = seed.project(owner)
    repo_id = seed.repo(project_id, git_url=str(work.remote))
    server = LiveServer(database_url).start(tmp_path)
    try:
        config = write_config(tmp_path / "repos.yaml", server, owner.key, project_id,
                              [{"path": str(tmp_path / "clone.git"), "git_url": str(work.remote)}])  # fmt: skip
        server.stop()  # down: connections are refused until it is back
        proc = start_client(config, "sync", "--json")
        time.sleep(10)
        assert proc.poll() is None  # still retrying (the old budget gave up after ~4 s)
        (tmp_path / "second").mkdir()
        server.start(tmp_path / "second")  # same port
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, out + err
        assert api_repo(server, owner.key, repo_id)["commit_count"] == 6
    finally:
        server.stop()


def test_an_outage_past_the_budget_is_its_own_exit_code(
    database_url: str, seed: Any, tmp_path: Path
) -> None:
    owner = seed.actor()
    project_id = seed.project(owner)
    server = LiveServer(database_url).start(tmp_path)
    server.stop()
    config = write_config(tmp_path / "repos.yaml", server, owner.key, project_id,
                          [{"path": str(tmp_path / "c"), "git_url": "https://e.org/o/r.git"}])  # fmt: skip
    text = config.read_text() + "retry_seconds: 2\n"
    config.write_text(text)
    proc = start_client(config, "sync")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 5, out + err
    assert f"Connection refused: {server.url}" in err


def test_a_token_in_origin_never_reaches_the_server_or_the_output(
    database_url: str, seed: Any, tmp_path: Path
) -> None:
    work = Work(tmp_path)
    work.commit("a.txt", "one\n")
    work.commit("a.txt", "two\n")
    known = "https://github.com/org/known.git"
    git(work.path, "remote", "add", "origin",
        f"https://x-access-token:{TOKEN}@github.com/org/known.git")  # fmt: skip
    stranger = tmp_path / "stranger"
    git(tmp_path, "clone", "-q", str(work.path), str(stranger))
    git(stranger, "remote", "set-url", "origin",
        f"https://{TOKEN}@github.com/org/unknown.git")  # fmt: skip
    owner = seed.actor()
    project_id = seed.project(owner)
    repo_id = seed.repo(project_id, git_url=known)
    server = LiveServer(database_url).start(tmp_path)
    try:
        config = write_config(tmp_path / "repos.yaml", server, owner.key, project_id,
                              [{"path": str(work.path)}, {"path": str(stranger)}])  # fmt: skip
        outputs = []
        for args in (
            ["test", "--offline"],
            ["sync", "--no-fetch"],
            ["sync", "--no-fetch", "--json"],
        ):
            proc = start_client(config, *args)
            out, err = proc.communicate(timeout=120)
            outputs.append(out + err)
            assert proc.returncode == 1, out + err  # the stranger is not on the server
        assert api_repo(server, owner.key, repo_id)["commit_count"] == 2
        assert "no repo with git_url https://github.com/org/unknown.git" in outputs[1]
        requests.get(f"{server.url}/readyz", timeout=5)
    finally:
        server.stop()
    log = server.log()
    assert "git_url=" in log  # the stranger was looked up by URL ...
    assert "unknown.git" in log
    for text in [log, *outputs]:
        assert TOKEN not in text and "x-access-token" not in text  # ... without its token
