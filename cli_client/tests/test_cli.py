"""The command line: init, test and sync, against a scripted scripted_server on 127.0.0.1.

The end-to-end tests against the real scripted_server process live in tests/e2e/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from dulwich.repo import Repo
from gitleague_client.cli import cli
from gitleague_client.errors import ExitCode

from .conftest import GitRepo, Reply, Scripted, Seen, run_git  # type: ignore[import-not-found]

PID = "550e8400-e29b-41d4-a716-446655440000"
KEY = "tgl_test_s3cr3t"


# -- a small in-memory scripted_server speaking the push protocol -----------------------------------
class Protocol:
    """Enough of issue 2's protocol to drive the client: one project, repos by git_url."""

    def __init__(self) -> None:
        self.repos: dict[str, dict[str, Any]] = {}
        self.stored: dict[str, list[str]] = {}
        self.runs: list[dict[str, Any]] = []
        self.batch_limit = 1000

    def add_repo(self, repo_id: str, git_url: str, **extra: Any) -> None:
        self.repos[repo_id] = {"id": repo_id, "name": repo_id, "git_url": git_url,
                               "branch": "main", "sync_method": "push_client",
                               "last_ingested_sha": None, **extra}  # fmt: skip
        self.stored[repo_id] = []

    def __call__(self, seen: Seen) -> Reply:
        path = seen.path.split("?")[0].removeprefix("/api/v1")
        if seen.headers.get("Authorization") != f"Bearer {KEY}":
            return 401, {}, {"error": {"code": "unauthorized", "message": "API key not found"}}
        if path == "/me":
            projects = [{"id": PID, "name": "My Project", "repo_count": len(self.repos)}]
            return 200, {}, {"api_key": "tgl_test_***", "projects": projects}
        if path == f"/projects/{PID}/repos":
            want = re.search(r"git_url=([^&]+)", seen.path)
            items = [r for r in self.repos.values() if not want or want.group(1) in
                     _quoted(r["git_url"])]  # fmt: skip
            return 200, {}, {"items": items, "total": len(items), "page": 1, "per_page": 100}
        m = re.fullmatch(r"/repos/([^/]+)(/.*)?", path)
        if not m or m.group(1) not in self.repos:
            return 404, {}, {"error": {"code": "not_found", "message": "Repository not found"}}
        repo, rest = self.repos[m.group(1)], m.group(2) or ""
        stored = self.stored[repo["id"]]
        if rest == "":
            return 200, {}, {**repo, "commit_count": len(stored)}
        if rest == "/mailmap":  # the .mailmap at the synced head (gitleague_client.mailmap)
            if seen.method == "PUT":
                repo["mailmap"] = seen.body["blob_sha"]
            elif seen.method == "DELETE":
                repo.pop("mailmap", None)
            return 200, {}, {"blob_sha": repo.get("mailmap")}
        if rest == "/commits/known":
            return 200, {}, {"known": [s for s in seen.body["shas"] if s in stored]}
        if rest == "/sync-runs":
            self.runs.append({"id": len(self.runs) + 1, "status": "running", "inserted": 0,
                              **(seen.body or {})})  # fmt: skip
            return 201, {}, self.runs[-1]
        if rest.startswith("/sync-runs/"):
            run = self.runs[int(rest.rsplit("/", 1)[1]) - 1]
            run.update(seen.body)
            return 200, {}, run
        commits = seen.body["commits"]
        if len(commits) > self.batch_limit:
            return 413, {}, {"error": {"code": "too_large", "message": "batch too large"}}
        new = [c["sha"] for c in commits if c["sha"] not in stored]
        stored.extend(new)
        if seen.body.get("resume_sha"):
            repo["last_ingested_sha"] = seen.body["resume_sha"]
        run_id = seen.body.get("sync_run_id")
        if isinstance(run_id, int) and 0 < run_id <= len(self.runs):
            self.runs[run_id - 1]["inserted"] += len(new)
        return 200, {}, {"received": len(commits), "inserted": len(new),
                         "duplicates": len(commits) - len(new), "rejected": []}  # fmt: skip


def _quoted(url: str) -> str:
    from urllib.parse import quote

    return quote(url, safe="")


@pytest.fixture
def remote(make_repo: Callable[..., GitRepo], tmp_path: Path) -> Path:
    """A bare remote whose main has 5 commits."""
    work = make_repo("work")
    for i in range(5):
        work.write("f.txt", f"{i}\n")
        work.commit(f"commit {i}")
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "clone", "-q", "--bare", str(work.path), str(bare))
    return bare


def write_config(tmp_path: Path, server_url: str, repos: list[dict[str, str]]) -> Path:
    cfg = {"api_url": server_url, "api_key": KEY, "batch_size": 2, "max_retries": 0,
           "projects": [{"name": "My Project", "project_id": PID, "repos": repos}]}  # fmt: skip
    path = tmp_path / "repos.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


# -- init ----------------------------------------------------------------------------------
def test_init_writes_the_guides_commented_yaml_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "repos.yaml"
    result = run("init", "--config", str(target))
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert text.count("#") > 5  # commented
    assert 'api_key: "tgl_xxx_yyy"  # Paste your API key here' in text
    assert 'project_id: "550e8400-e29b-41d4-a716-446655440000"  # From web UI' in text
    data = yaml.safe_load(text)
    assert data["api_url"] == "https://api.thegitleague.com"
    assert (data["batch_size"], data["max_retries"]) == (100, 3)
    assert data["projects"][0]["repos"][0] == {
        "path": "~/code/my-repo",
        "git_url": "git@github.com:org/my-repo.git",
        "ssh_key": "~/.ssh/id_ed25519",
    }
    target.write_text("mine")
    again = run("init", "--config", str(target))
    assert again.exit_code == ExitCode.CONFIG
    assert "already exists" in again.output and "--force" in again.output
    assert target.read_text() == "mine"
    assert run("init", "--config", str(target), "--force").exit_code == 0
    assert target.read_text() == text


def test_init_fills_in_projects_from_the_server_and_scans_for_clones(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote))
    protocol.add_repo("def456", "git@github.com:org/elsewhere.git")
    code = tmp_path / "code"
    run_git(tmp_path, "clone", "-q", str(remote), str(code / "deep" / "mine"))
    target = tmp_path / "out" / "repos.yaml"
    result = run("init", "--config", str(target), "--api-url", scripted_server.url,
                 "--api-key", KEY, "--scan", str(code))  # fmt: skip
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(target.read_text())
    repos = data["projects"][0]["repos"]
    assert data["api_key"] == KEY and data["projects"][0]["project_id"] == PID
    assert repos[0]["path"] == str((code / "deep" / "mine").resolve())
    assert repos[1]["path"] == "~/code/def456"  # not found locally: sync will clone it
    assert target.stat().st_mode & 0o077 == 0  # the key is in it


# -- test ----------------------------------------------------------------------------------
def test_test_command_prints_the_guides_lines(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote))
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(remote), str(clone))
    cfg = write_config(tmp_path, scripted_server.url, [{"path": str(clone)}])
    result = run("test", "--config", str(cfg))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:5] == [
        "Testing connection to GitLeague API...",
        "✓ Connected to GitLeague API",
        "✓ API Key: tgl_test_***",
        "✓ Projects: 1",
        "  - My Project (1 repo)",
    ]
    head = run_git(remote, "rev-parse", "main").decode()[:7]
    assert lines[5] == (
        f"✓ {clone}: git repository, registered as abc123 (abc123), sync method push_client, "
        f"remote answers, branch main at {head}"
    )
    assert KEY not in result.output


def test_test_command_fails_on_each_kind_of_problem(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote), sync_method="pull_celery")
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(remote), str(clone))
    run_git(tmp_path, "clone", "-q", str(remote), str(tmp_path / "clone2"))
    (tmp_path / "plain").mkdir()
    cfg = write_config(tmp_path, scripted_server.url, [
        {"path": str(clone)},
        {"path": str(tmp_path / "clone2"), "git_url": str(remote), "branch": "nope"},
        {"path": str(tmp_path / "plain"), "git_url": "https://example.com/x.git"},
    ])  # fmt: skip
    result = run("test", "--config", str(cfg))
    assert result.exit_code == ExitCode.PARTIAL_FAILURE
    assert "repo abc123 is synced by pull_celery, which takes no pushes" in result.output
    assert "Ask your GitLeague admin to migrate repo abc123 to push_client" in result.output
    assert "is not a git repository" in result.output  # branches: see test_check.py


def test_test_command_with_an_unknown_key(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted
) -> None:
    cfg = write_config(tmp_path, scripted_server.url, [{"path": "x", "git_url": "https://e.com/x"}])
    result = run("test", "--config", str(cfg), env={"GITLEAGUE_API_KEY": "tgl_other_key"})
    assert result.exit_code == ExitCode.AUTH
    assert "✗ API key not found" in result.output
    assert "2. Add to repos.yaml or GITLEAGUE_API_KEY env var" in result.output
    assert "tgl_other_key" not in result.output


# -- sync ----------------------------------------------------------------------------------
def test_sync_clones_uploads_in_batches_then_finds_nothing_new(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote))
    target = tmp_path / "clones" / "repo.git"
    cfg = write_config(
        tmp_path, scripted_server.url, [{"path": str(target), "git_url": str(remote)}]
    )
    result = run("sync", "--config", str(cfg))
    assert result.exit_code == 0, result.output
    assert (
        "My Project / abc123: 5 new commits, 5 inserted, 0 duplicates, 0 rejected" in result.output
    )
    assert len(protocol.stored["abc123"]) == 5
    posts = [
        s.body for s in scripted_server.seen if s.method == "POST" and s.path.endswith("/commits")
    ]
    assert [len(b["commits"]) for b in posts] == [2, 2, 1]
    assert protocol.repos["abc123"]["last_ingested_sha"] == protocol.stored["abc123"][-1]
    assert protocol.runs[0]["status"] == "succeeded"
    with Repo(str(target)) as repo:
        assert repo.bare and repo.refs[b"refs/heads/main"].decode() == protocol.stored["abc123"][-1]
    again = run("sync", "--config", str(cfg), "--json")
    doc = json.loads(again.output)
    assert again.exit_code == 0 and doc["ok"] and doc["totals"]["new_commits"] == 0
    assert doc["repos"][0]["status"] == "up_to_date"


def test_dry_run_changes_nothing_and_reports_range_and_batches(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote))
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(remote), str(clone))
    run_git(clone, "update-ref", "refs/remotes/origin/main", "HEAD~3")
    missing = tmp_path / "not-yet"
    cfg = write_config(tmp_path, scripted_server.url, [
        {"path": str(clone)},
        {"path": str(missing), "git_url": str(remote)},
    ])  # fmt: skip
    before = sorted((p.relative_to(clone), p.stat().st_mtime_ns) for p in clone.rglob("*"))
    result = run("sync", "--config", str(cfg), "--dry-run")
    assert result.exit_code == 0, result.output
    first = run_git(remote, "rev-list", "--reverse", "main").decode().split()[0][:7]
    head = run_git(remote, "rev-parse", "main").decode().strip()[:7]
    expected = f"5 new commits ({first}..{head}) would be sent in 3 batches of up to 2"
    assert f"[DRY RUN] My Project / abc123: {expected}" in result.output
    assert result.output.count(expected) == 2  # the clone, and the repo not cloned yet
    assert "nothing was changed" in result.output
    assert sorted((p.relative_to(clone), p.stat().st_mtime_ns) for p in clone.rglob("*")) == before
    assert not missing.exists()
    assert not [s for s in scripted_server.seen if s.method in ("POST", "PATCH")]


def test_force_push_negotiates_and_repos_fail_independently(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote))
    target = tmp_path / "repo.git"
    cfg = write_config(tmp_path, scripted_server.url, [
        {"path": str(tmp_path / "missing-no-url")},
        {"path": str(target), "git_url": str(remote)},
        {"path": str(tmp_path / "unknown.git"), "git_url": "https://example.com/none.git"},
    ])  # fmt: skip
    assert run("sync", "--config", str(cfg), "--repo", str(remote)).exit_code == 0
    # Rewrite the last two commits on the remote and push them over the old ones.
    work = GitRepo(tmp_path / "work")
    work.git("reset", "-q", "--hard", "HEAD~2")
    work.write("g.txt", "rewritten\n")
    work.commit("rewritten")
    work.git("push", "-q", "--force", str(remote), "main")
    protocol.repos["abc123"]["last_ingested_sha"] = "f" * 40  # unknown locally
    result = run("sync", "--config", str(cfg), "--json")
    doc = json.loads(result.output)
    assert result.exit_code == ExitCode.PARTIAL_FAILURE
    by_path = {r["path"]: r for r in doc["repos"]}
    ok = by_path[str(target)]
    assert ok["status"] == "synced" and ok["new_commits"] == 1 and ok["inserted"] == 1
    assert "not in the local history" in ok["notes"][0] and "it has 3" in ok["notes"][0]
    assert "no git_url is configured" in by_path[str(tmp_path / "missing-no-url")]["error"]
    assert by_path[str(tmp_path / "unknown.git")]["error"].startswith("Repository not found")
    assert doc["totals"]["failed"] == 2


def test_sync_exit_codes_for_config_auth_and_unreachable(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted
) -> None:
    cfg = write_config(tmp_path, scripted_server.url, [{"path": "x", "git_url": "https://e.com/x"}])
    bad = tmp_path / "bad.yaml"
    bad.write_text(cfg.read_text().replace("batch_size", "batchsize"))
    result = run("sync", "--config", str(bad))
    assert result.exit_code == ExitCode.CONFIG and "did you mean 'batch_size'" in result.output
    assert scripted_server.seen == []  # nothing sent
    result = run("sync", "--config", str(cfg), "--quiet", env={"GITLEAGUE_API_KEY": "tgl_no_no"})
    assert result.exit_code == ExitCode.AUTH and "API key not found" in result.output
    cfg.write_text(cfg.read_text().replace(scripted_server.url, "http://127.0.0.1:9"))
    result = run("sync", "--config", str(cfg), "--json")
    assert result.exit_code == ExitCode.UNREACHABLE
    assert json.loads(result.output)["error"].startswith("Connection refused")
    result = run("sync", "--config", str(cfg), "--project", "Other")
    assert result.exit_code == ExitCode.CONFIG and "no configured repo matches" in result.output
