"""gitleague-client against the real server (gunicorn on 127.0.0.1), on both databases.

The client runs as its own process (``python -m gitleague_client``), as under cron;
repositories are real, built with the git binary.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

pytestmark = pytest.mark.e2e

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, date: int | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    if date is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"{date} +0200"
    out = subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=cwd, env=env,
                         check=True, capture_output=True, text=True)  # fmt: skip
    return out.stdout.strip()


class Work:
    """A working repository that pushes to a bare remote."""

    def __init__(self, root: Path) -> None:
        self.path = root / "work"
        self.remote = root / "remote.git"
        self.tick = 1_700_000_000
        self.path.mkdir()
        git(self.path, "init", "-q")
        git(root, "init", "-q", "--bare", str(self.remote))

    def commit(self, name: str, text: str) -> str:
        (self.path / name).write_text(text)
        git(self.path, "add", "-A")
        self.tick += 60
        git(self.path, "commit", "-q", "-m", f"edit {name}", date=self.tick)
        return git(self.path, "rev-parse", "HEAD")

    def push(self, force: bool = False) -> None:
        git(self.path, "push", "-q", *(["--force"] if force else []), str(self.remote), "main")


def client(config: Path, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITLEAGUE_API_KEY"}
    if key is not None:
        env["GITLEAGUE_API_KEY"] = key
    return subprocess.run([sys.executable, "-m", "gitleague_client", *args, "--config",
                           str(config)], env=env, capture_output=True, text=True, timeout=120)  # fmt: skip


def api_repo(server: Any, key: str, repo_id: str) -> dict[str, Any]:
    resp = requests.get(f"{server.url}/api/v1/repos/{repo_id}",
                        headers={"Authorization": f"Bearer {key}"}, timeout=10)  # fmt: skip
    resp.raise_for_status()
    return resp.json()  # type: ignore[no-any-return]


def test_client_sync_end_to_end(live_server: Any, seed: Any, tmp_path: Path) -> None:
    work = Work(tmp_path)
    for i in range(4):
        work.commit("a.txt", f"line {i}\n")
    git(work.path, "checkout", "-q", "-b", "topic")
    work.commit("b.txt", "topic\n")
    git(work.path, "checkout", "-q", "main")
    work.commit("c.txt", "main\n")
    git(work.path, "merge", "-q", "--no-ff", "-m", "merge topic", "topic")
    work.push()
    total = int(git(work.path, "rev-list", "--count", "main"))
    assert total == 7

    owner = seed.actor("commissioner@example.org")
    project_id = seed.project(owner, "My Project")
    repo_id = seed.repo(project_id, name="my-repo", git_url=str(work.remote))
    pull_id = seed.repo(project_id, name="legacy", git_url="https://example.org/org/legacy.git",
                        sync_method="pull_celery")  # fmt: skip
    config = tmp_path / "repos.yaml"
    config.write_text(yaml.safe_dump({
        "api_url": live_server.url, "api_key": owner.key, "batch_size": 3, "max_retries": 1,
        "projects": [{"name": "My Project", "project_id": project_id, "repos": [
            {"path": str(tmp_path / "clones" / "my-repo.git"), "git_url": str(work.remote)},
        ]}],
    }))  # fmt: skip

    # test: the guide's lines; the repo is not cloned yet, which is fine
    result = client(config, "test")
    assert result.returncode == 0, result.stdout + result.stderr
    masked = owner.key.rsplit("_", 1)[0] + "_***"
    assert result.stdout.splitlines()[:5] == [
        "Testing connection to GitLeague API...",
        "✓ Connected to GitLeague API",
        f"✓ API Key: {masked}",
        "✓ Projects: 1",
        "  - My Project (2 repos)",
    ]
    assert owner.key not in result.stdout + result.stderr

    # dry run: nothing anywhere
    result = client(config, "sync", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "7 new commits" in result.stdout and "in 3 batches of up to 3" in result.stdout
    assert not (tmp_path / "clones").exists()
    assert api_repo(live_server, owner.key, repo_id)["commit_count"] == 0

    # first sync: clone, upload parents first in batches, resume point at the head
    result = client(config, "sync", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["totals"] == {"repos": 1, "failed": 0, "new_commits": 7, "inserted": 7,
                             "duplicates": 0, "rejected": 0, "batches": 3}  # fmt: skip
    head = git(work.path, "rev-parse", "main")
    server_repo = api_repo(live_server, owner.key, repo_id)
    assert server_repo["commit_count"] == 7 and server_repo["last_ingested_sha"] == head
    assert server_repo["sync_status"] == "healthy"

    # again: the guide's "No new commits", exit 0
    result = client(config, "sync")
    assert result.returncode == 0
    assert "My Project / my-repo: No new commits" in result.stdout

    # a force push rewrites the last commit: negotiated, only the new one is sent
    git(work.path, "reset", "-q", "--hard", "HEAD~1")
    new_head = work.commit("d.txt", "rewritten\n")
    work.push(force=True)
    result = client(config, "sync", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    repo_doc = json.loads(result.stdout)["repos"][0]
    assert "no longer an ancestor" in repo_doc["notes"][0]
    assert (repo_doc["new_commits"], repo_doc["inserted"]) == (1, 1)
    assert api_repo(live_server, owner.key, repo_id)["last_ingested_sha"] == new_head

    # the environment's key wins over the file's, and an unknown one is "API key not found"
    result = client(config, "sync", key="tgl_nobody_" + "x" * 30)
    assert result.returncode == 4
    assert "API key not found" in result.stderr and "GITLEAGUE_API_KEY" in result.stderr

    # a repo whose sync method does not accept pushes: named, the others unaffected
    cfg = yaml.safe_load(config.read_text())
    legacy = tmp_path / "legacy"
    git(tmp_path, "clone", "-q", str(work.remote), str(legacy))
    cfg["projects"][0]["repos"].append(
        {"path": str(legacy), "git_url": "https://example.org/org/legacy.git"}
    )
    config.write_text(yaml.safe_dump(cfg))
    result = client(config, "test")
    assert result.returncode == 1
    assert f"Ask your GitLeague admin to migrate repo {pull_id} to push_client" in result.stderr
    result = client(config, "sync", "--no-fetch")
    assert result.returncode == 1
    assert "pull_celery" in result.stderr
    assert "My Project / my-repo: No new commits" in result.stdout


def fast_import_history(remote: Path, commits: int) -> str:
    """A linear history of ``commits`` small commits pushed into the bare ``remote``."""
    lines = []
    for i in range(1, commits + 1):
        data = f"line {i}\n".encode()
        lines.append(
            b"commit refs/heads/main\n"
            + f"mark :{i}\ncommitter Ada <ada@example.org> {1_700_000_000 + i * 60} +0000\n".encode()
            + f"data {len(f'c{i}')}\nc{i}\n".encode()
            + (f"from :{i - 1}\n".encode() if i > 1 else b"")
            + f"M 100644 inline f{i % 50}.txt\ndata {len(data)}\n".encode()
            + data
            + b"\n"
        )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=remote, input=b"".join(lines),
                   check=True, env={**os.environ, **GIT_ENV})  # fmt: skip
    return git(remote, "rev-parse", "main")


def test_killed_sync_resumes_without_loss_or_duplicates(
    live_server: Any, seed: Any, tmp_path: Path
) -> None:
    total, batch = 600, 10
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    head = fast_import_history(remote, total)
    owner = seed.actor("commissioner@example.org")
    project_id = seed.project(owner, "My Project")
    repo_id = seed.repo(project_id, name="big", git_url=str(remote))
    config = tmp_path / "repos.yaml"
    config.write_text(yaml.safe_dump({
        "api_url": live_server.url, "api_key": owner.key, "batch_size": batch,
        "projects": [{"name": "My Project", "project_id": project_id,
                      "repos": [{"path": str(remote)}]}],
    }))  # fmt: skip
    git(remote, "config", "remote.origin.url", str(remote))  # its own origin: no clone needed
    env = {k: v for k, v in os.environ.items() if k != "GITLEAGUE_API_KEY"}
    proc = subprocess.Popen([sys.executable, "-m", "gitleague_client", "sync", "--config",
                             str(config), "--no-fetch"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline and proc.poll() is None:
            stored = api_repo(live_server, owner.key, repo_id)["commit_count"]
            if stored >= 5 * batch:
                proc.kill()  # SIGKILL: no chance to close the run or finish a batch
                break
            time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.returncode != 0, "the sync finished before it could be killed"
    time.sleep(0.5)  # a batch the server was still writing when the client died lands now
    at_kill = api_repo(live_server, owner.key, repo_id)
    assert 0 < at_kill["commit_count"] < total
    # the resume point is the last commit of an accepted batch: everything before it is there
    assert at_kill["last_ingested_sha"] is not None

    result = client(config, "sync", "--no-fetch", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)["repos"][0]
    after = api_repo(live_server, owner.key, repo_id)
    assert after["commit_count"] == total  # nothing lost, no second rows
    assert after["last_ingested_sha"] == head
    assert doc["inserted"] == total - at_kill["commit_count"]
    assert doc["duplicates"] <= batch  # at most the one batch in flight is resent


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_stopped_sync_closes_its_run_and_leaves_no_process(
    live_server: Any, seed: Any, tmp_path: Path, sig: int, code: int
) -> None:
    """Ctrl-C, and SIGTERM (``timeout``, a stopping cron daemon), end a sync cleanly."""
    total = 2500  # over extract.PARALLEL_MIN_COMMITS: two extraction workers run
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    fast_import_history(remote, total)
    owner = seed.actor("commissioner@example.org")
    project_id = seed.project(owner, "My Project")
    repo_id = seed.repo(project_id, name="big", git_url=str(remote))
    config = tmp_path / "repos.yaml"
    config.write_text(yaml.safe_dump({
        "api_url": live_server.url, "api_key": owner.key, "batch_size": 10,
        "extract_workers": 2,
        "projects": [{"name": "My Project", "project_id": project_id,
                      "repos": [{"path": str(remote)}]}],
    }))  # fmt: skip
    git(remote, "config", "remote.origin.url", str(remote))
    env = {k: v for k, v in os.environ.items() if k != "GITLEAGUE_API_KEY"}
    proc = subprocess.Popen([sys.executable, "-m", "gitleague_client", "sync", "--config",
                             str(config), "--no-fetch"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    children: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if api_repo(live_server, owner.key, repo_id)["commit_count"] >= 50:
                found = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                       text=True).stdout.split()  # fmt: skip
                children = [int(pid) for pid in found]
                proc.send_signal(sig)
                break
            time.sleep(0.01)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.returncode == code, stderr
    assert children, "no extraction workers were running"
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]
    stored = api_repo(live_server, owner.key, repo_id)
    assert 0 < stored["commit_count"] < total
    assert stored["sync_status"] == "failing" and stored["last_error"] == "interrupted"
