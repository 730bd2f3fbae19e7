"""Fetching one branch with dulwich, from real repositories on disk."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dulwich.repo import Repo
from gitleague_client.fetch import (
    BranchNotFoundError,
    FetchError,
    fetch_branch,
    init_clone,
    local_head,
    open_repo,
    record_head,
    remove_failed_clone,
    scratch_repo,
    ssh_command,
)

from .conftest import GitRepo, run_git  # type: ignore[import-not-found]


@pytest.fixture
def remote(make_repo: Callable[..., GitRepo], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A bare remote with ``main`` (3 commits) and ``other`` (1 more, with its own blob)."""
    work = make_repo("work")
    work.write("a.txt", "one\n")
    work.commit("first")
    work.write("a.txt", "one\ntwo\n")
    work.commit("second")
    work.git("checkout", "-q", "-b", "other")
    work.write("secret.txt", "only on other\n")
    other = work.commit("other")
    work.git("checkout", "-q", "main")
    work.write("b.txt", "b\n")
    main = work.commit("third")
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "clone", "-q", "--bare", str(work.path), str(bare))
    blob = work.git("rev-parse", "other:secret.txt").decode().strip()
    return bare, {"main": main, "other": other, "secret_blob": blob}


def object_count(path: Path) -> int:
    with Repo(str(path)) as repo:
        return sum(1 for _ in repo.object_store)


def test_clone_fetches_only_the_configured_branch(remote, tmp_path: Path) -> None:
    bare, shas = remote
    repo = init_clone(tmp_path / "clone", str(bare), "main")
    with repo:
        head = fetch_branch(repo, str(bare), "main")
        record_head(repo, "main", head, str(bare))
        assert head.decode() == shas["main"]
        assert repo.refs[b"refs/heads/main"] == head
        assert repo.refs.read_ref(b"HEAD") == b"ref: refs/heads/main"
        assert shas["secret_blob"].encode() not in repo.object_store
        assert shas["other"].encode() not in repo.object_store
        assert b"refs/heads/other" not in repo.refs
    # git itself can read what dulwich wrote
    assert run_git(tmp_path / "clone", "rev-parse", "main").decode().strip() == shas["main"]
    run_git(tmp_path / "clone", "fsck", "--no-progress")


def test_fetch_into_working_clone_moves_only_the_remote_tracking_ref(
    remote, tmp_path: Path, make_repo: Callable[..., GitRepo]
) -> None:
    bare, shas = remote
    run_git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(tmp_path / "mine"))
    mine = GitRepo(tmp_path / "mine")
    mine.git("reset", "-q", "--hard", "HEAD~2")  # local branch lags behind
    mine.git("update-ref", "refs/remotes/origin/main", "HEAD")
    old_local = mine.head()
    with open_repo(mine.path) as repo:
        assert local_head(repo, "main") == old_local.encode()
        head = fetch_branch(repo, str(bare), "main")
        record_head(repo, "main", head, str(bare))
        assert repo.refs[b"refs/remotes/origin/main"].decode() == shas["main"]
        assert repo.refs[b"refs/heads/main"].decode() == old_local
        assert local_head(repo, "main").decode() == shas["main"]


def test_record_head_leaves_an_unrelated_working_clone_alone(remote, make_repo) -> None:
    bare, _ = remote
    other = make_repo("unrelated")
    other.write("x", "x")
    other.commit()
    with open_repo(other.path) as repo:
        before = repo.get_refs()
        head = fetch_branch(repo, str(bare), "main")
        record_head(repo, "main", head, str(bare))  # origin is not the fetched URL
        assert repo.get_refs() == before


def test_missing_branch_is_branch_not_found(remote, tmp_path: Path) -> None:
    bare, _ = remote
    repo = init_clone(tmp_path / "clone", str(bare), "nope")
    with pytest.raises(BranchNotFoundError) as info:
        fetch_branch(repo, str(bare), "nope")
    assert info.value.message == f"Branch not found: 'nope' in {bare}"
    assert 'Check branch name in repos.yaml (default: "main")' in (info.value.hint or "")
    remove_failed_clone(repo)
    assert not (tmp_path / "clone").exists()


def test_unreachable_remote_is_a_fetch_error(tmp_path: Path) -> None:
    target = init_clone(tmp_path / "clone", "/nonexistent/repo.git", "main")
    with target, pytest.raises(FetchError, match="fetch from /nonexistent/repo.git failed"):
        fetch_branch(target, "/nonexistent/repo.git", "main")


def test_dry_run_scratch_repo_leaves_the_repository_untouched(remote, tmp_path: Path) -> None:
    bare, shas = remote
    run_git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(tmp_path / "mine"))
    mine = GitRepo(tmp_path / "mine")
    # Someone else pushes a commit that "mine" has not fetched yet.
    run_git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(tmp_path / "pusher"))
    pusher = GitRepo(tmp_path / "pusher")
    pusher.write("c.txt", "new\n")
    shas["main"] = pusher.commit("pushed later")
    pusher.git("push", "-q", "origin", "main")
    objects_before = object_count(mine.path)
    files_before = sorted(p.relative_to(mine.path) for p in (mine.path / ".git").rglob("*"))
    with open_repo(mine.path) as base, scratch_repo(base) as scratch:
        head = fetch_branch(scratch, str(bare), "main")
        assert head.decode() == shas["main"]
        assert head in scratch.object_store  # visible through the scratch repo ...
        assert head not in base.object_store  # ... and nowhere else
        assert scratch.refs[b"refs/remotes/origin/main"] == base.refs[b"refs/remotes/origin/main"]
        scratch_path = Path(scratch.path)
    assert not scratch_path.exists()
    assert object_count(mine.path) == objects_before
    assert sorted(p.relative_to(mine.path) for p in (mine.path / ".git").rglob("*")) == files_before


def test_ssh_runs_the_system_ssh_with_key_and_batch_options(tmp_path: Path, monkeypatch) -> None:
    # A stand-in ``ssh`` on PATH records its arguments; the connection then fails.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "argv"
    fake = bindir / "ssh"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\necho "denied" >&2\nexit 255\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    key = tmp_path / "id_ed25519"
    key.write_text("not really a key")
    target = init_clone(tmp_path / "clone", "git@example.invalid:org/x.git", "main")
    with target, pytest.raises(FetchError):
        fetch_branch(target, "git@example.invalid:org/x.git", "main", ssh_key=key)
    argv = record.read_text().splitlines()
    assert argv[:6] == ["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                        "-o", "StrictHostKeyChecking=accept-new"]  # fmt: skip
    assert argv[argv.index("-i") + 1] == str(key)
    assert "git@example.invalid" in argv
    assert argv[-1] == "git-upload-pack 'org/x.git'"


def test_ssh_command_without_key_keeps_agents_usable() -> None:
    assert ssh_command(None).startswith(
        "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=30"
    )
    assert "IdentitiesOnly" not in ssh_command(None)
    assert "IdentitiesOnly=yes" in ssh_command(Path("k"))


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An HTTP "server" on 127.0.0.1 that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:  # the accept timeout, or the listener closed
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/org/x.git"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_stalled_https_remote_times_out_with_the_guides_words(
    silent_server: str, tmp_path: Path
) -> None:
    repo = Repo.init_bare(str(tmp_path / "r.git"), mkdir=True)
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetch_branch(repo, silent_server, "main", timeouts=(1.0, 1.0))
    assert time.monotonic() - started < 30  # not the OS's minutes-long default
    assert err.value.message.startswith(f"Connection timeout: fetch from {silent_server} failed")
    assert err.value.message.endswith("(timed out)")


def test_a_refused_https_remote_fails_cleanly(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/org/x.git"
    repo = Repo.init_bare(str(tmp_path / "r.git"), mkdir=True)
    with pytest.raises(FetchError) as err:
        fetch_branch(repo, url, "main", timeouts=(1.0, 1.0))
    assert err.value.message == f"Connection refused: fetch from {url} failed (connection refused)"
