"""Every sync is seen by the server, and input the client cannot trust fails that repo.

Runs against test_cli.py's scripted push protocol, with real repositories.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dulwich.repo import Repo

from .conftest import GitRepo, Reply, Scripted, Seen, run_git  # type: ignore[import-not-found]
from .test_cli import KEY, Protocol, remote, run, write_config  # type: ignore[import-not-found]

__all__ = ["remote"]  # the fixture, used by name


def test_a_sync_without_new_commits_still_opens_and_closes_a_run(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote))
    cfg = write_config(tmp_path, scripted_server.url,
                       [{"path": str(tmp_path / "c.git"), "git_url": str(remote)}])  # fmt: skip
    assert run("sync", "--config", str(cfg)).exit_code == 0
    again = run("sync", "--config", str(cfg))
    assert again.exit_code == 0 and "No new commits" in again.output
    head = run_git(remote, "rev-parse", "main").decode().strip()
    assert [(r["status"], r.get("head_sha")) for r in protocol.runs] == [("succeeded", head)] * 2
    # a dry run changes nothing anywhere, runs included
    assert run("sync", "--config", str(cfg), "--dry-run").exit_code == 0
    assert len(protocol.runs) == 2
    work = GitRepo(tmp_path / "work")
    work.write("g.txt", "one more\n")
    work.commit("one more")
    work.git("push", "-q", str(remote), "main")
    one = run("sync", "--config", str(cfg))
    assert "abc123: 1 new commit, 1 inserted" in one.output
    assert "Total: 1 repo, 1 new commit, 1 inserted" in one.output


def test_a_repo_failing_on_this_machine_is_reported_as_a_failed_run(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    gone = tmp_path / "gone.git"
    shutil.copytree(remote, gone)
    url = f"file://user:s3cret@localhost{gone}"  # user info that must not reach the server
    protocol.add_repo("abc123", url)
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(remote), str(clone))
    run_git(clone, "remote", "set-url", "origin", url)
    cfg = write_config(tmp_path, scripted_server.url, [{"path": str(clone), "branch": "nope"}])
    result = run("sync", "--config", str(cfg), "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["repos"][0]["status"] == "failed"
    (closed,) = protocol.runs
    assert closed["status"] == "failed" and "Branch not found: 'nope'" in closed["error"]
    assert "s3cret" not in json.dumps(protocol.runs)


def test_a_shallow_clone_is_deepened_before_anything_is_sent(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote))
    clone = tmp_path / "shallow"
    run_git(tmp_path, "clone", "-q", "--depth", "2", f"file://{remote}", str(clone))
    run_git(clone, "remote", "set-url", "origin", str(remote))
    cfg = write_config(tmp_path, scripted_server.url, [{"path": str(clone)}])
    refused = run("sync", "--config", str(cfg), "--no-fetch", "--json")
    doc = json.loads(refused.output)["repos"][0]
    assert refused.exit_code == 1 and doc["status"] == "failed"
    assert "is a shallow clone (not deepened: --no-fetch was given)" in doc["error"]
    assert "git fetch --unshallow" in doc["hint"]
    assert protocol.stored["abc123"] == [] and protocol.runs[-1]["status"] == "failed"
    result = run("sync", "--config", str(cfg), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)["repos"][0]
    assert doc["new_commits"] == 5 and any("deepened" in n for n in doc["notes"])
    assert not (clone / ".git" / "shallow").exists()
    posts = [c for s in scripted_server.seen if s.method == "POST" and s.path.endswith("/commits")
             for c in s.body["commits"]]  # fmt: skip
    assert [len(c["parents"]) for c in posts] == [0, 1, 1, 1, 1]


def test_a_shallow_clone_that_cannot_be_deepened_fails_naming_the_fix(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    partial = tmp_path / "partial.git"  # a remote that is shallow itself
    run_git(tmp_path, "clone", "-q", "--bare", "--depth", "3", f"file://{remote}", str(partial))
    protocol.add_repo("abc123", str(partial))
    clone = tmp_path / "shallow"
    run_git(tmp_path, "clone", "-q", "--depth", "2", f"file://{partial}", str(clone))
    run_git(clone, "remote", "set-url", "origin", str(partial))
    cfg = write_config(tmp_path, scripted_server.url, [{"path": str(clone)}])
    result = run("sync", "--config", str(cfg), "--json")
    doc = json.loads(result.output)["repos"][0]
    assert result.exit_code == 1 and doc["status"] == "failed"
    assert doc["error"].startswith(f"{clone} is a shallow clone (deepening it from origin failed")
    assert "git fetch --unshallow" in doc["hint"]
    assert protocol.stored["abc123"] == [] and protocol.runs[-1]["status"] == "failed"


def test_a_missing_object_fails_the_repo_naming_it_and_git_fsck(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, make_repo
) -> None:
    work: GitRepo = make_repo("work")
    work.write("a.txt", "one\n")
    work.commit("one")
    work.write("a.txt", "two\n")
    work.commit("two")
    blob = run_git(work.path, "rev-parse", "HEAD~1:a.txt").decode().strip()
    (work.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    run_git(work.path, "remote", "add", "origin", "https://example.org/o/r.git")
    protocol.add_repo("abc123", "https://example.org/o/r.git")
    cfg = write_config(tmp_path, scripted_server.url, [{"path": str(work.path)}])
    result = run("sync", "--config", str(cfg), "--no-fetch", "--json")
    doc = json.loads(result.output)["repos"][0]
    assert result.exit_code == 1 and doc["status"] == "failed"
    assert doc["error"] == (
        f"{work.path}: object {blob} is missing; the repository is incomplete or corrupt"
    )
    assert "git fsck" in doc["hint"]
    assert protocol.runs[-1]["status"] == "failed" and blob in protocol.runs[-1]["error"]


def test_inserted_counts_a_batch_whose_answer_was_lost(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote))
    lost = []

    def script(seen: Seen) -> Reply:
        reply = protocol(seen)
        if seen.path.endswith("/commits") and seen.method == "POST" and not lost:
            lost.append(seen)
            return 502, {}, {}  # stored, but the answer never arrives
        return reply

    scripted_server.script = script
    cfg = write_config(tmp_path, scripted_server.url,
                       [{"path": str(tmp_path / "c.git"), "git_url": str(remote)}])  # fmt: skip
    cfg.write_text(cfg.read_text().replace("max_retries: 0", "max_retries: 2"))
    result = run("sync", "--config", str(cfg), "--json")
    doc = json.loads(result.output)["repos"][0]
    assert result.exit_code == 0 and lost
    assert (doc["new_commits"], doc["inserted"], doc["duplicates"]) == (5, 5, 0)


@pytest.fixture
def slow_http_remote(remote: Path) -> Iterator[str]:
    """``remote`` over smart HTTP (dulwich.web), each request held back 0.4 s."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from dulwich.server import DictBackend
    from dulwich.web import make_wsgi_chain

    repo = Repo(str(remote))
    chain = make_wsgi_chain(DictBackend({"/r.git": repo}))

    def slow(environ: dict[str, Any], start_response: Any) -> Any:
        time.sleep(0.4)
        return chain(environ, start_response)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    httpd = make_server("127.0.0.1", 0, slow, handler_class=Quiet)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/r.git"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)
    repo.close()


@pytest.mark.parametrize("fetch_workers", [1, 4])
def test_a_repos_time_counts_its_fetch_once(
    tmp_path: Path,
    protocol: Protocol,
    scripted_server: Scripted,
    slow_http_remote: str,
    fetch_workers: int,
) -> None:
    protocol.add_repo("abc123", slow_http_remote)
    cfg = write_config(tmp_path, scripted_server.url,
                       [{"path": str(tmp_path / "c.git"), "git_url": slow_http_remote}])  # fmt: skip
    cfg.write_text(cfg.read_text() + f"fetch_workers: {fetch_workers}\n")
    result = run("sync", "--config", str(cfg), "--json")
    doc = json.loads(result.output)
    assert result.exit_code == 0, result.output
    assert doc["repos"][0]["seconds"] <= doc["seconds"]  # a part is not longer than the whole


def test_status_prints_the_servers_view_and_fails_on_a_failing_repo(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote), sync_status="healthy", commit_count=5,
                      last_sync_at="2026-12-01T02:00:04+00:00")  # fmt: skip
    protocol.add_repo("bad", "https://example.org/o/bad.git", sync_status="failing",
                      last_error="fetch failed\x1b[2J")  # fmt: skip
    cfg = write_config(tmp_path, scripted_server.url, [
        {"path": str(tmp_path / "a.git"), "git_url": str(remote)},
        {"path": str(tmp_path / "b.git"), "git_url": "https://example.org/o/bad.git"},
        {"path": str(tmp_path / "c.git"), "git_url": "https://example.org/o/unknown.git"},
    ])  # fmt: skip
    result = run("status", "--config", str(cfg))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    head = "✓ My Project / abc123: healthy, push_client, last sync 2026-12-01T02:00:04+00:00"
    assert f"{head}, 5 commits" in lines
    assert "✗ My Project / bad: failing, push_client, last sync never, 0 commits" in lines
    assert "    last error: fetch failed\\x1b[2J" in lines
    assert any(line.startswith("✗ My Project / ") and "Repository not found" in line
               for line in lines)  # fmt: skip
    doc = json.loads(run("status", "--config", str(cfg), "--json").output)
    assert [s.get("sync_status") for s in doc["repos"]] == ["healthy", "failing", None]
    assert doc["ok"] is False and "Repository not found" in doc["repos"][2]["error"]
    assert not [s for s in scripted_server.seen if s.method != "GET"]  # only asks


def test_the_error_sent_to_the_server_is_clean_text(
    protocol: Protocol, scripted_server: Scripted
) -> None:
    from gitleague_client.api import ApiClient
    from gitleague_client.outcome import RepoResult, fail
    from gitleague_client.runs import RunKeeper
    from gitleague_client.sync import SyncOptions

    protocol.add_repo("abc123", "https://example.org/o/r.git")
    result = RepoResult(project="P", path="/x", name="x", repo_id="abc123")
    fail(result, "fetch from https://u:tok@h.org/r failed:\n\x1b[31m /x/\udcff", None, 1)
    with ApiClient(scripted_server.url, KEY, max_retries=0) as api:
        RunKeeper(api, result, SyncOptions()).close(interrupted=False)
    (run_,) = protocol.runs
    assert run_["status"] == "failed"
    assert run_["error"] == "fetch from https://h.org/r failed:\\n\\x1b[31m /x/?"
