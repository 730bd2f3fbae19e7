"""``test`` checks what ``sync`` will need: scopes, paths, branches, remotes, methods."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .conftest import Reply, Scripted, Seen, run_git  # type: ignore[import-not-found]
from .test_cli import Protocol, remote, run, write_config  # type: ignore[import-not-found]

__all__ = ["remote"]  # the fixture, used by name


def with_scopes(proto: Protocol, scopes: list[str]) -> Any:
    def script(seen: Seen) -> Reply:
        status, headers, body = proto(seen)
        if seen.path == "/api/v1/me" and status == 200:
            body = {**body, "scopes": scopes}
        return status, headers, body

    return script


def test_a_key_without_the_sync_scopes_fails(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote))
    cfg = write_config(tmp_path, scripted_server.url,
                       [{"path": str(tmp_path / "new.git"), "git_url": str(remote)}])  # fmt: skip
    scripted_server.script = with_scopes(protocol, ["read:repos"])
    result = run("test", "--config", str(cfg))
    assert result.exit_code == 1
    assert "✗ API key lacks the scope(s) sync needs: sync:commits" in result.output
    scripted_server.script = with_scopes(protocol, ["read:repos", "sync:commits", "read:audit"])
    result = run("test", "--config", str(cfg))
    assert result.exit_code == 0, result.output
    assert "✓ Scopes: read:repos, sync:commits" in result.output
    assert "not cloned yet: sync will make a new bare clone here from" in result.output


def test_branches_are_checked_on_the_remote_or_offline_locally(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote))
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(remote), str(clone))
    run_git(clone, "branch", "local-only")
    cfg = write_config(
        tmp_path, scripted_server.url, [{"path": str(clone), "branch": "local-only"}]
    )
    online = run("test", "--config", str(cfg))
    assert online.exit_code == 1  # sync fetches the branch from the remote: it must be there
    assert f"✗ {clone}: Branch not found: 'local-only' in {remote}" in online.output
    offline = run("test", "--config", str(cfg), "--offline")
    assert offline.exit_code == 0, offline.output
    assert "branch local-only at" in offline.output and "remote not checked" in offline.output
    cfg = write_config(tmp_path, scripted_server.url, [{"path": str(clone), "branch": "nope"}])
    offline = run("test", "--config", str(cfg), "--offline")
    assert offline.exit_code == 1 and "Branch not found: 'nope'" in offline.output


def test_a_remote_that_does_not_answer_fails_and_offline_skips_it(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(remote), str(clone))
    gone = tmp_path / "gone.git"
    shutil.copytree(remote, gone)
    run_git(clone, "remote", "set-url", "origin", str(gone))
    protocol.add_repo("abc123", str(gone))
    shutil.rmtree(gone)
    cfg = write_config(tmp_path, scripted_server.url, [{"path": str(clone)}])
    result = run("test", "--config", str(cfg))
    assert result.exit_code == 1 and f"fetch from {gone} failed" in result.output
    assert run("test", "--config", str(cfg), "--offline").exit_code == 0


def test_a_mistyped_path_is_not_a_silent_tick(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted, remote: Path
) -> None:
    protocol.add_repo("abc123", str(remote))
    (tmp_path / "notes").mkdir()
    cfg = write_config(tmp_path, scripted_server.url, [
        {"path": str(tmp_path / "notes"), "git_url": str(remote)},
        {"path": str(tmp_path / "typo")},
    ])  # fmt: skip
    result = run("test", "--config", str(cfg))
    assert result.exit_code == 1
    assert f"✗ {tmp_path / 'notes'}: {tmp_path / 'notes'} is not a git repository" in result.output
    assert "path does not exist and no git_url is configured" in result.output
    assert result.output.count("Set path to a clone of this repo") == 2
