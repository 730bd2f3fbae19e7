"""Extraction in several processes, and extraction overlapped with upload.

Real repositories throughout; worker processes are real ``spawn`` processes.
The parallel records must be exactly the one-process records, in the same
order, and no worker may outlive its generator, however it ends.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dulwich.repo import Repo
from gitleague_client import extract, parallel
from gitleague_client.api import ApiClient
from gitleague_client.extract import iter_commits
from gitleague_client.sync import RepoResult
from gitleague_client.upload import ReadAhead, Uploader

from .conftest import GitRepo, Scripted, run_git  # type: ignore[import-not-found]
from .test_cli import KEY, Protocol, run, write_config  # type: ignore[import-not-found]


@pytest.fixture(scope="module")
def history(generated_repo) -> Path:
    # The same history as test_extract.py's (built once per session): 2,500 commits,
    # more than extract.PARALLEL_MIN_COMMITS, so the default threshold is exercised.
    return generated_repo(2500, seed=7, profile="torture")


def head_of(path: Path) -> bytes:
    return run_git(path, "rev-parse", "main").strip()


def dumped(records: list[dict]) -> list[str]:
    """Records as bytes on the wire would compare: key order and all."""
    return [json.dumps(r, ensure_ascii=False) for r in records]


def workers_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    return alive


@pytest.mark.parametrize("commits", [1, 15, 2000, 2500, 20000, 80001])
@pytest.mark.parametrize("workers", [2, 3])
def test_chunks_cover_the_history_and_shrink_towards_its_end(commits: int, workers: int) -> None:
    """Every commit in exactly one chunk, no chunk over the cap, and the last
    chunks short: the tip (often where the huge edits are) is shared out."""
    sizes = list(parallel.chunk_sizes(commits, workers))
    assert sum(sizes) == commits
    assert max(sizes) <= parallel.CHUNK_COMMITS
    assert all(s >= parallel.CHUNK_MIN_COMMITS for s in sizes[:-1])
    assert sizes == sorted(sizes, reverse=True)  # never longer than the one before
    tail = sizes[-2 * workers :]
    assert sum(tail) <= max(commits // 20, 2 * workers * parallel.CHUNK_MIN_COMMITS)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parallel extraction on histories of any length, in chunks of a few commits."""
    monkeypatch.setattr(extract, "PARALLEL_MIN_COMMITS", 0)
    monkeypatch.setattr(parallel, "CHUNK_COMMITS", 7)


def test_parallel_records_equal_one_process_records(history: Path) -> None:
    head = head_of(history)
    with Repo(str(history)) as repo:
        sequential = dumped(list(iter_commits(repo, [head])))
        records = iter_commits(repo, [head], workers=2)
        first = next(records)
        assert len(multiprocessing.active_children()) == 2  # really in two workers
        parallel_ = dumped([first, *records])
    assert len(sequential) == 2500
    assert parallel_ == sequential
    assert multiprocessing.active_children() == []


def test_many_small_chunks_three_workers_and_an_excluded_range(
    history: Path, small_chunks: None
) -> None:
    shas = run_git(history, "rev-list", "--first-parent", "main").decode().split()
    head, base = shas[0].encode(), shas[300].encode()
    with Repo(str(history)) as repo:
        sequential = dumped(list(iter_commits(repo, [head], [base])))
        parallel_ = dumped(list(iter_commits(repo, [head], [base], workers=3, cache_bytes=1 << 20)))
    assert len(sequential) > 300
    assert parallel_ == sequential


@pytest.mark.parametrize("how", ["close", "interrupt", "caller error"])
def test_workers_are_gone_however_the_caller_stops(history: Path, how: str) -> None:
    with Repo(str(history)) as repo:
        records = iter_commits(repo, [head_of(history)], workers=2)
        next(records)
        pids = [p.pid for p in multiprocessing.active_children() if p.pid]
        assert len(pids) == 2
        if how == "close":
            records.close()
        elif how == "interrupt":  # Ctrl-C while the caller is between two records
            with pytest.raises(KeyboardInterrupt):
                records.throw(KeyboardInterrupt)
        else:
            with pytest.raises(ValueError, match="upload failed"):
                records.throw(ValueError("upload failed"))
    assert multiprocessing.active_children() == []
    assert workers_alive(pids) == []


def test_a_workers_error_is_raised_in_the_parent_with_its_message(
    make_repo: Callable[..., GitRepo], small_chunks: None
) -> None:
    r = make_repo()
    for i in range(30):
        r.write(f"f{i % 4}.txt", f"{i}\n" * (i + 1))
        r.commit(f"commit {i}")
    # A blob lost from the object store: the parent's walk reads commits only, so
    # the first to need it is a worker, diffing commit 20.
    blob = r.git("rev-parse", "HEAD~9:f0.txt").decode().strip()
    (r.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    with Repo(str(r.path)) as repo:
        with pytest.raises(KeyError) as one_process:
            list(iter_commits(repo, [r.head().encode()]))
        got = []
        with pytest.raises(KeyError) as workers:
            for record in iter_commits(repo, [r.head().encode()], workers=2):
                got.append(record)
    assert blob in str(workers.value)
    assert str(workers.value) == str(one_process.value)
    assert len(got) >= 7  # the chunks before the failing one were yielded
    assert multiprocessing.active_children() == []


# --------------------------------------------------------------------------
# Overlapping extraction with upload
# --------------------------------------------------------------------------


def test_read_ahead_keeps_order_raises_after_the_batches_before_and_closes_early() -> None:
    closed: list[str] = []

    def numbers(stop_at: int | None) -> Iterator[int]:
        try:
            for i in range(10):
                if i == stop_at:
                    raise RuntimeError(f"bad commit {i}")
                yield i
        finally:
            closed.append(threading.current_thread().name)

    with ReadAhead(numbers(None), lambda: 3) as batches:
        assert list(batches) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    got = []
    with pytest.raises(RuntimeError, match="bad commit 7"):
        with ReadAhead(numbers(7), lambda: 3) as batches:
            got.extend(batches)
    assert got == [[0, 1, 2], [3, 4, 5]]
    with ReadAhead(numbers(None), lambda: 2) as batches:
        assert next(batches) == [0, 1]  # the consumer leaves: the generator is closed
    assert closed == ["gitleague-extract"] * 3  # each closed in the thread running it


def test_ctrl_c_while_uploading_stops_the_read_ahead_thread_and_the_workers(history: Path) -> None:
    with Repo(str(history)) as repo:
        records = iter_commits(repo, [head_of(history)], workers=2)
        with pytest.raises(KeyboardInterrupt):
            with ReadAhead(records, lambda: 100) as batches:
                assert len(next(batches)) == 100
                assert len(multiprocessing.active_children()) == 2
                raise KeyboardInterrupt  # as if pressed during the upload of that batch
    assert multiprocessing.active_children() == []
    assert not [t for t in threading.enumerate() if t.name == "gitleague-extract"]


def test_uploader_sends_batches_in_order_and_stops_at_an_extraction_error(
    scripted_server: Scripted,
) -> None:
    protocol = Protocol()
    scripted_server.script = protocol
    protocol.add_repo("abc", "https://example.com/a.git")
    shas = [f"{i:040x}" for i in range(1, 8)]

    def commits() -> Iterator[dict[str, Any]]:
        for sha in shas:
            yield {"sha": sha}
        raise ValueError("corrupt pack entry")

    result = RepoResult(project="p", path="x", name="x")
    sent: list[int] = []
    with ApiClient(scripted_server.url, KEY, max_retries=0) as api:
        with pytest.raises(ValueError, match="corrupt pack entry"):
            Uploader(api, "abc", result, batch_size=3).run(commits(), 1, sent.append)
    # Two full batches went out, in order, each moving the resume point; the
    # partial third one is not sent (as before the read-ahead).
    assert protocol.stored["abc"] == shas[:6]
    assert protocol.repos["abc"]["last_ingested_sha"] == shas[5]
    assert sent == [3, 3] and result.batches == 2


def test_sync_with_extract_workers_sends_what_one_process_sends(
    tmp_path: Path,
    scripted_server: Scripted,
    make_repo: Callable[..., GitRepo],
    small_chunks: None,
) -> None:
    work = make_repo("work")
    for i in range(25):
        work.write(f"f{i % 3}.txt", f"line {i}\n" * (i % 5 + 1))
        work.commit(f"commit {i}")
    remote = tmp_path / "remote.git"
    run_git(tmp_path, "clone", "-q", "--bare", str(work.path), str(remote))
    uploads = {}
    for workers in (1, 2):
        protocol = Protocol()
        scripted_server.script = protocol
        scripted_server.seen.clear()
        protocol.add_repo("abc", str(remote))
        cfg = write_config(tmp_path, scripted_server.url, [
            {"path": str(tmp_path / f"clone{workers}.git"), "git_url": str(remote)}])  # fmt: skip
        cfg.write_text(cfg.read_text() + f"extract_workers: {workers}\n")
        result = run("sync", "--config", str(cfg))
        assert result.exit_code == 0, result.output
        posts = [s.body for s in scripted_server.seen if s.path.endswith("/commits")]
        uploads[workers] = posts
        assert protocol.repos["abc"]["last_ingested_sha"] == protocol.stored["abc"][-1]
    assert [len(b["commits"]) for b in uploads[2]] == [2] * 12 + [1]
    assert uploads[2] == uploads[1]
    assert multiprocessing.active_children() == []


KILLED_PARENT = """
import os, sys, time, multiprocessing
from dulwich.repo import Repo
from gitleague_client.extract import iter_commits

if __name__ == "__main__":
    with Repo(sys.argv[1]) as repo:
        records = iter_commits(repo, [sys.argv[2].encode()], workers=2)
        next(records)
        print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
        time.sleep(60)
"""


def test_workers_exit_when_their_parent_is_killed(history: Path, tmp_path: Path) -> None:
    """SIGKILL runs no cleanup in the parent: the workers notice and exit by themselves."""
    script = tmp_path / "parent.py"
    script.write_text(KILLED_PARENT)
    parent = subprocess.Popen([sys.executable, str(script), str(history), head_of(history).decode()],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) >= 2, pids  # the two workers (and the resource tracker)
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
    deadline = time.monotonic() + 15
    while workers_alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers_alive(pids) == []
