"""gitleague-client fetching over SSH from a real sshd on 127.0.0.1, with a generated key.

The sshd is the system's, started by the test on a free port with its own host key and
authorized_keys (tests/sshd.py); the client runs the system's ``ssh`` as under cron,
through a shim that keeps known_hosts under the test's ``HOME``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.test_client_sync import Work, api_repo, git
from tests.sshd import SSHD, Sshd, keygen, ssh_shim, start_sshd, stop

pytestmark = pytest.mark.e2e

# Only the server's data differs between backends, not the transport: SQLite suffices.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _require(found: bool, what: str) -> None:
    """Skip without ``what`` on a developer's machine; CI installs it (.ci/run), so fail."""
    if found:
        return
    message = f"{what} is not installed (apt-get install openssh-server openssh-client)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """The system's sshd on a free port of 127.0.0.1, for the current user, one key."""
    _require(SSHD.exists(), str(SSHD))
    _require(bool(shutil.which("ssh") and shutil.which("ssh-keygen")), "ssh")
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        stop(server.proc)


@pytest.fixture
def ssh_path(tmp_path: Path) -> str:
    """``PATH`` whose ``ssh`` keeps known_hosts under this test's ``HOME``."""
    return ssh_shim(tmp_path / "bin", tmp_path / "prompted")


def run_client(
    config: Path, path_env: str, *args: str, home: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    """``gitleague-client sync`` as its own process with no terminal input; and its time."""
    env = {k: v for k, v in os.environ.items() if k != "GITLEAGUE_API_KEY"}
    env["PATH"] = path_env
    # Were ssh to prompt (no BatchMode), it would run this instead of reading a terminal.
    env["SSH_ASKPASS"] = str(Path(path_env.split(os.pathsep)[0]) / "askpass")
    env["SSH_ASKPASS_REQUIRE"] = "force"
    if home is not None:
        env["HOME"] = str(home)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "gitleague_client", "sync", "--config", str(config), *args],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
        start_new_session=True,  # no controlling terminal, as under cron: nothing to prompt on
    )  # fmt: skip
    return result, time.monotonic() - started


def write_config(
    config: Path, server: Any, key: str, project_id: str, *repos: dict[str, Any]
) -> Path:
    config.write_text(yaml.safe_dump({
        "api_url": server.url, "api_key": key, "batch_size": 4, "max_retries": 0,
        "projects": [{"name": "My Project", "project_id": project_id, "repos": list(repos)}],
    }))  # fmt: skip
    return config


def history(tmp_path: Path) -> Work:
    """A bare remote with a small history holding a merge."""
    work = Work(tmp_path)
    for i in range(5):
        work.commit("a.txt", f"line {i}\n")
    git(work.path, "checkout", "-q", "-b", "topic")
    work.commit("b.txt", "topic\n")
    git(work.path, "checkout", "-q", "main")
    work.commit("c.txt", "main\n")
    git(work.path, "merge", "-q", "--no-ff", "-m", "merge topic", "topic")
    work.push()
    return work


@SQLITE_ONLY
def test_sync_over_ssh_with_a_key(
    live_server: Any, seed: Any, sshd: Sshd, ssh_path: str, tmp_path: Path
) -> None:
    work = history(tmp_path)
    url = sshd.url(work.remote)
    owner = seed.actor("commissioner@example.org")
    project_id = seed.project(owner, "My Project")
    repo_id = seed.repo(project_id, name="over-ssh", git_url=url)
    clone = tmp_path / "clones" / "over-ssh.git"
    config = write_config(tmp_path / "repos.yaml", live_server, owner.key, project_id,
                          {"path": str(clone), "git_url": url, "ssh_key": str(sshd.key)})  # fmt: skip

    # first sync: a bare clone over SSH; the unknown host key is accepted and remembered
    result, _ = run_client(config, ssh_path, "--json")
    assert result.returncode == 0, result.stdout + result.stderr + sshd.log()
    total = int(git(work.path, "rev-list", "--count", "main"))
    doc = json.loads(result.stdout)["repos"][0]
    assert (doc["status"], doc["new_commits"], doc["inserted"]) == ("synced", total, total)
    stored = api_repo(live_server, owner.key, repo_id)
    assert stored["commit_count"] == total
    assert stored["last_ingested_sha"] == git(work.path, "rev-parse", "main")
    assert git(clone, "rev-parse", "main") == git(work.path, "rev-parse", "main")
    known_hosts = Path(os.environ["HOME"]) / ".ssh" / "known_hosts"
    host_key = (sshd.root / "host_key.pub").read_text().split()[1]
    assert host_key in known_hosts.read_text()  # host names may be hashed (HashKnownHosts)

    # more commits: only those are fetched and sent, the remembered host key is trusted
    work.commit("a.txt", "more\n")
    work.commit("d.txt", "new file\n")
    work.push()
    result, _ = run_client(config, ssh_path, "--json")
    assert result.returncode == 0, result.stdout + result.stderr + sshd.log()
    doc = json.loads(result.stdout)["repos"][0]
    assert (doc["new_commits"], doc["inserted"], doc["duplicates"]) == (2, 2, 0)
    total = int(git(work.path, "rev-list", "--count", "main"))
    stored = api_repo(live_server, owner.key, repo_id)
    assert stored["commit_count"] == total
    assert stored["last_ingested_sha"] == git(work.path, "rev-parse", "main")

    result, _ = run_client(config, ssh_path)
    assert result.returncode == 0, result.stderr
    assert "No new commits" in result.stdout


@SQLITE_ONLY
def test_refused_ssh_fetch_fails_fast_with_a_clear_message(
    live_server: Any, seed: Any, sshd: Sshd, ssh_path: str, tmp_path: Path
) -> None:
    """Each refusal in its own run (one server for all: starting gunicorn is the cost)."""
    work = history(tmp_path)
    url = sshd.url(work.remote)
    owner = seed.actor("commissioner@example.org")
    project_id = seed.project(owner, "My Project")
    repo_id = seed.repo(project_id, name="over-ssh", git_url=url)
    stranger = keygen(tmp_path / "stranger_key")
    # Authorized, but unusable without a prompt: BatchMode must not ask for the passphrase.
    locked = keygen(tmp_path / "locked_key", passphrase="secret passphrase")
    with (sshd.root / "authorized_keys").open("a") as keys:
        keys.write(locked.with_suffix(".pub").read_text())
    impostor = keygen(tmp_path / "impostor_host_key").with_suffix(".pub").read_text().split()
    cases = [
        ("unauthorized key", stranger, "", "Permission denied (publickey,password)"),
        ("key with a passphrase", locked, "", "Permission denied (publickey,password)"),
        ("changed host key", sshd.key, f"[127.0.0.1]:{sshd.port} {impostor[0]} {impostor[1]}\n",
         "Host key verification failed"),
    ]  # fmt: skip
    for case, key, known, expected in cases:
        home = tmp_path / case.replace(" ", "-")
        (home / ".ssh").mkdir(parents=True)
        (home / ".ssh" / "known_hosts").write_text(known)
        clone = tmp_path / "clones" / "over-ssh.git"
        config = write_config(tmp_path / "repos.yaml", live_server, owner.key, project_id,
                              {"path": str(clone), "git_url": url, "ssh_key": str(key)})  # fmt: skip

        result, seconds = run_client(config, ssh_path, home=home)
        output = f"{case}: {result.stdout}{result.stderr}"
        assert result.returncode == 1, output
        assert seconds < 30, output  # BatchMode: no prompt to wait on
        assert f"✗ My Project / over-ssh: fetch from {url} failed" in result.stderr, output
        assert expected in result.stderr, output
        assert "Traceback" not in result.stderr, output
        assert not clone.exists(), output  # the failed first clone was taken away
    assert not (tmp_path / "prompted").exists(), (tmp_path / "prompted").read_text()
    assert api_repo(live_server, owner.key, repo_id)["commit_count"] == 0


@SQLITE_ONLY
def test_repos_on_one_server_share_one_ssh_login(
    live_server: Any, seed: Any, sshd: Sshd, ssh_path: str, tmp_path: Path
) -> None:
    """Three repositories behind one host and key: one login, three fetches, no leftovers."""
    owner = seed.actor("commissioner@example.org")
    project_id = seed.project(owner, "My Project")
    repos = []
    for name in ("one", "two", "three"):
        (tmp_path / name).mkdir()
        work = history(tmp_path / name)
        url = sshd.url(work.remote)
        seed.repo(project_id, name=name, git_url=url)
        repos.append({"path": str(tmp_path / "clones" / f"{name}.git"), "git_url": url,
                      "ssh_key": str(sshd.key)})  # fmt: skip
    config = write_config(tmp_path / "repos.yaml", live_server, owner.key, project_id, *repos)
    sockets_before = set(Path("/tmp").glob("glc-*"))
    logins_before = sshd.log().count("Accepted publickey")

    result, _ = run_client(config, ssh_path, "--json")
    assert result.returncode == 0, result.stdout + result.stderr + sshd.log()
    assert [r["status"] for r in json.loads(result.stdout)["repos"]] == ["synced"] * 3
    assert sshd.log().count("Accepted publickey") - logins_before == 1, sshd.log()
    # The master was stopped and its socket directory removed with the run.
    assert set(Path("/tmp").glob("glc-*")) == sockets_before
    masters = subprocess.run(["pgrep", "-f", "ControlMaster=yes"], capture_output=True, text=True)
    assert masters.stdout.strip() == "", masters.stdout

    # A key the server refuses: no master, and each fetch fails on its own, as before.
    stranger = keygen(tmp_path / "stranger_key")
    config.write_text(config.read_text().replace(str(sshd.key), str(stranger)))
    result, _ = run_client(config, ssh_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.count("Permission denied") == 3, result.stderr
    assert set(Path("/tmp").glob("glc-*")) == sockets_before
