"""Fetches running ahead in threads: bounded, failing alone, output in config order.

The remotes are real repositories served over an "SSH" transport: a stand-in ``ssh``
first on ``PATH`` logs when it starts and ends, waits a moment (the network), then
runs ``git upload-pack`` locally, as sshd would on the far side. The log shows how
many fetches overlapped.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from dulwich.repo import Repo
from gitleague_client.errors import ExitCode

from .conftest import GitRepo, Scripted, run_git  # type: ignore[import-not-found]
from .test_cli import Protocol, run, write_config  # type: ignore[import-not-found]

FAKE_SSH = """#!{python}
import os, subprocess, sys, time
command = sys.argv[-1]  # git-upload-pack '/path/to/repo.git'
if "-N" in sys.argv or "-O" in sys.argv:
    sys.exit(255)  # no shared connections here: the client must fetch without them
def note(what):
    with open(os.environ["FAKE_SSH_LOG"], "a") as log:
        log.write(f"{{what}} {{time.time()}} {{command}}\\n")
note("start")
time.sleep(float(os.environ["FAKE_SSH_DELAY"]) * (4 if "slow" in command else 1))
code = subprocess.call(command.replace("git-upload-pack", "git upload-pack", 1), shell=True)
note("end")
sys.exit(code)
"""


@pytest.fixture
def protocol(scripted_server: Scripted) -> Protocol:
    """The scripted server speaking the push protocol (as in test_cli)."""
    proto = Protocol()
    scripted_server.script = proto
    return proto


@pytest.fixture
def fake_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the stand-in ``ssh`` first on PATH; returns its log."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    ssh = bindir / "ssh"
    ssh.write_text(FAKE_SSH.format(python=sys.executable))
    ssh.chmod(ssh.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "ssh.log"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SSH_LOG", str(log))
    monkeypatch.setenv("FAKE_SSH_DELAY", "0.3")
    return log


def max_overlap(log: Path) -> int:
    """The largest number of stand-in ssh processes that ran at the same time."""
    events = []
    for line in log.read_text().splitlines():
        what, when, _ = line.split(" ", 2)
        events.append((float(when), 1 if what == "start" else -1))
    running = peak = 0
    for _, step in sorted(events):  # at a tie an end (-1) sorts before a start
        running += step
        peak = max(peak, running)
    return peak


@pytest.fixture
def remotes(make_repo: Callable[..., GitRepo], tmp_path: Path) -> Callable[[int], list[Path]]:
    """Factory: ``n`` bare remotes, the i-th with i + 1 commits, the first named ``slow``."""

    def factory(n: int) -> list[Path]:
        work = make_repo("work")
        out = []
        for i in range(n):
            work.write("f.txt", f"{i}\n")
            work.commit(f"commit {i}")
            bare = tmp_path / ("slow.git" if i == 0 else f"remote{i}.git")
            run_git(tmp_path, "clone", "-q", "--bare", str(work.path), str(bare))
            out.append(bare)
        return out

    return factory


def ssh_url(path: Path) -> str:
    return f"ssh://git.example.invalid{path}"


def configure(
    tmp_path: Path,
    server: Scripted,
    protocol: Protocol,
    remotes: list[Path],
    workers: int | None = None,
) -> Path:
    """A config with one bare clone (not made yet) per remote, registered on the server."""
    repos = []
    for i, remote in enumerate(remotes):
        protocol.add_repo(f"r{i:02d}", ssh_url(remote))
        repos.append(
            {"path": str(tmp_path / "clones" / f"r{i:02d}.git"), "git_url": ssh_url(remote)}
        )
    cfg = write_config(tmp_path, server.url, repos)
    if workers is not None:
        cfg.write_text(cfg.read_text() + f"fetch_workers: {workers}\n")
    return cfg


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_fetches_run_in_parallel_up_to_fetch_workers(
    tmp_path: Path,
    protocol: Protocol,
    scripted_server: Scripted,
    remotes: Callable[[int], list[Path]],
    fake_ssh: Path,
    workers: int,
) -> None:
    cfg = configure(tmp_path, scripted_server, protocol, remotes(6), workers)
    result = run("sync", "--config", str(cfg), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"]["inserted"] == 1 + 2 + 3 + 4 + 5 + 6
    assert max_overlap(fake_ssh) == workers
    assert fake_ssh.read_text().count("start") == 6


def test_a_failing_fetch_fails_its_repo_only_and_output_keeps_config_order(
    tmp_path: Path,
    protocol: Protocol,
    scripted_server: Scripted,
    remotes: Callable[[int], list[Path]],
    fake_ssh: Path,
) -> None:
    made = remotes(5)
    cfg = configure(tmp_path, scripted_server, protocol, made, workers=4)
    # The slow remote (first) finishes last; the third one is gone.
    gone = made[2].rename(made[2].with_name("gone.git"))
    result = run("sync", "--config", str(cfg))
    assert result.exit_code == ExitCode.PARTIAL_FAILURE, result.output
    lines = [line for line in result.output.splitlines() if " / r" in line]
    assert [line.split(" / ")[1].split(":")[0] for line in lines] == [f"r{i:02d}" for i in range(5)]
    assert lines[2].startswith("✗ My Project / r02: fetch from ssh://") and "failed" in lines[2]
    assert all(line.startswith("✓") for i, line in enumerate(lines) if i != 2)
    assert not (tmp_path / "clones" / "r02.git").exists()  # the failed first clone is removed
    assert [len(protocol.stored[f"r{i:02d}"]) for i in range(5)] == [1, 2, 0, 4, 5]
    assert "1 failed" in result.output.splitlines()[-1]
    assert max_overlap(fake_ssh) == 4
    # Each result's time includes its own fetch, not the wait for the slow one.
    gone.rename(made[2])
    doc = json.loads(run("sync", "--config", str(cfg), "--json").output)
    assert [r["path"] for r in doc["repos"]] == [
        str(tmp_path / "clones" / f"r{i:02d}.git") for i in range(5)
    ]
    statuses = [r["status"] for r in doc["repos"]]
    assert statuses == ["up_to_date", "up_to_date", "synced", "up_to_date", "up_to_date"]
    slow, fast = doc["repos"][0]["seconds"], doc["repos"][1]["seconds"]
    assert slow >= 1.2 > fast


def test_dry_run_fetches_in_parallel_into_scratch_repos_only(
    tmp_path: Path,
    protocol: Protocol,
    scripted_server: Scripted,
    remotes: Callable[[int], list[Path]],
    fake_ssh: Path,
) -> None:
    made = remotes(4)
    cfg = configure(tmp_path, scripted_server, protocol, made, workers=4)
    assert run("sync", "--config", str(cfg), "--quiet").exit_code == 0
    work = GitRepo(tmp_path / "work")
    work.write("f.txt", "new\n")
    new_head = work.commit("new")
    for remote in made:
        work.git("push", "-q", "--force", str(remote), "HEAD:main")
    clones = sorted((tmp_path / "clones").rglob("*"))
    before = [(p, p.stat().st_mtime_ns) for p in clones]
    result = run("sync", "--config", str(cfg), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.count("[DRY RUN] My Project / r") == 4
    assert max_overlap(fake_ssh) == 4
    assert [(p, p.stat().st_mtime_ns) for p in sorted((tmp_path / "clones").rglob("*"))] == before
    for i in range(4):
        with Repo(str(tmp_path / "clones" / f"r{i:02d}.git")) as repo:
            assert new_head.encode() not in repo.object_store


def test_no_fetch_runs_no_ssh(
    tmp_path: Path,
    protocol: Protocol,
    scripted_server: Scripted,
    remotes: Callable[[int], list[Path]],
    fake_ssh: Path,
) -> None:
    cfg = configure(tmp_path, scripted_server, protocol, remotes(3), workers=3)
    assert run("sync", "--config", str(cfg), "--quiet").exit_code == 0
    fake_ssh.unlink()
    result = run("sync", "--config", str(cfg), "--no-fetch", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["totals"]["repos"] == 3
    assert not fake_ssh.exists()
