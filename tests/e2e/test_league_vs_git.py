"""The league table of a synced repository agrees with git's own per-author figures."""

from __future__ import annotations

import collections
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.e2e.test_client_sync import GIT_ENV, client, git

pytestmark = pytest.mark.e2e

AUTHORS = [("Ada", "ada@example.org"), ("Bo", "BO@example.org"), ("Cy", "cy@example.org")]


def commit_as(work: Path, author: tuple[str, str], tick: int, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (work / name).write_bytes(data)
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
           "GIT_AUTHOR_DATE": f"{tick} +0100", "GIT_COMMITTER_DATE": f"{tick} +0100"}  # fmt: skip
    subprocess.run(["git", "add", "-A"], cwd=work, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", f"work {tick}"], cwd=work, check=True, env=env)


def git_figures(repo: Path) -> dict[str, dict[str, int]]:
    """Per lower-cased author email: non-merge commits, merges, added and deleted lines."""
    out: dict[str, dict[str, int]] = collections.defaultdict(collections.Counter)  # type: ignore[arg-type]
    email = ""
    for line in git(
        repo, "log", "--no-merges", "--numstat", "--no-renames", "--format=@%ae"
    ).splitlines():
        if line.startswith("@"):
            email = line[1:].lower()
            out[email]["commits"] += 1
        elif line.strip():
            adds, dels, _ = line.split("\t", 2)
            if adds != "-":  # binary files: changed, no line counts
                out[email]["additions"] += int(adds)
                out[email]["deletions"] += int(dels)
    for merger in git(repo, "log", "--merges", "--format=%ae").splitlines():
        out[merger.lower()]["merges"] += 1
    return out


def sync_and_read_league(live_server: Any, seed: Any, work: Path, tmp_path: Path) -> Any:
    """Sync ``work`` with the real client into a new project; its league table's response."""
    owner = seed.actor("commissioner@example.org")
    project_id = seed.project(owner, "My Project")
    seed.repo(project_id, name="work", git_url=str(work))
    config = tmp_path / "repos.yaml"
    config.write_text(yaml.safe_dump({
        "api_url": live_server.url, "api_key": owner.key,
        "projects": [{"name": "My Project", "project_id": project_id,
                      "repos": [{"path": str(work), "git_url": str(work)}]}],
    }))  # fmt: skip
    result = client(config, "sync", "--no-fetch")
    assert result.returncode == 0, result.stdout + result.stderr
    resp = requests.get(f"{live_server.url}/api/v1/projects/{project_id}/contributors",
                        headers={"Authorization": f"Bearer {owner.key}"}, timeout=10)  # fmt: skip
    assert resp.status_code == 200, resp.text
    return resp


def test_league_table_matches_git(live_server: Any, seed: Any, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    tick = 1_700_000_000
    for i in range(30):
        author = AUTHORS[i % 3] if i % 5 else AUTHORS[0]
        lines = "".join(f"line {j} of {i}\n" for j in range(i % 7 + 1))
        files = {f"f{i % 4}.txt": lines.encode()}
        if i == 12:
            files["logo.bin"] = bytes(range(256)) * 4
        commit_as(work, author, tick := tick + 60, files)
        if i == 20:
            git(work, "checkout", "-q", "-b", "topic")
            commit_as(work, AUTHORS[2], tick := tick + 60, {"topic.txt": b"a\nb\n"})
            git(work, "checkout", "-q", "main")
            commit_as(work, AUTHORS[1], tick := tick + 60, {"f0.txt": b"rewritten\n"})
            env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_NAME": "Bo", "GIT_AUTHOR_EMAIL": "bo@example.org",
                   "GIT_COMMITTER_NAME": "Bo", "GIT_COMMITTER_EMAIL": "bo@example.org"}  # fmt: skip
            subprocess.run(["git", "merge", "-q", "--no-ff", "-m", "merge topic", "topic"],
                           cwd=work, check=True, env=env)  # fmt: skip
    resp = sync_and_read_league(live_server, seed, work, tmp_path)
    served = {
        row["author_email"]: {k: row[k] for k in ("commits", "merges", "additions", "deletions")}
        for row in resp.json()["items"]
    }
    expected = {
        email: {k: figures.get(k, 0) for k in ("commits", "merges", "additions", "deletions")}
        for email, figures in git_figures(work).items()
    }
    assert served == expected
    assert [r["commits"] for r in resp.json()["items"]] == sorted(
        (e["commits"] for e in expected.values()), reverse=True
    )
