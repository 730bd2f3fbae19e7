"""Benchmark a no-new-commit ``gitleague-client sync`` whose repositories are fetched over SSH.

    python bench/bench_client_ssh.py [--repos 20] [--runs 5] [--client-src DIR]

20 repositories (200 commits each) on a real sshd on 127.0.0.1 (tests/sshd.py: its
own host key, one user key), registered on gunicorn (SQLite) and synced once (the
client clones them); then the wall time of the whole ``gitleague-client sync`` process
when nothing is new, median of ``--runs``, and the number of SSH logins sshd accepted
per run. ``--client-src DIR`` runs another copy of the client's package (for instance
``git archive`` of an older commit's ``cli_client``) for a before/after comparison in
the same session.

sshd runs each session's command through the account's login shell, and bash reads
``~/.bashrc`` for commands run by sshd: on this machine root's (pyenv's init) costs
~0.1 s per session, which a git host does not have. The sessions therefore get an
empty ``HOME`` (sshd's ``SetEnv``); ``--with-shell-rc`` keeps the account's own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_ingest import CONFIG, fresh_database  # noqa: E402

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from tests.helpers import Seed  # noqa: E402
from tests.server import LiveServer  # noqa: E402
from tests.sshd import Sshd, ssh_shim, start_sshd, stop  # noqa: E402


def make_remote(path: Path, commits: int) -> None:
    """A bare repository with ``commits`` commits on main, written by git fast-import."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    lines = []
    for i in range(commits):
        data = f"line {i}\n".encode()
        when = 1_700_000_000 + 60 * i
        # "data 5" + "edit" + the joining newline: the message is "edit\n".
        lines += [b"commit refs/heads/main", b"committer A <a@example.org> %d +0000" % when,
                  b"data 5", b"edit", b"M 100644 inline f.txt", b"data %d" % len(data), data]  # fmt: skip
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"\n".join(lines) + b"\n",
                   check=True)  # fmt: skip
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=path, check=True)


def write_config(path: Path, server_url: str, key: str, project_id: str, repos: list) -> None:
    path.write_text(yaml.safe_dump({
        "api_url": server_url, "api_key": key, "max_retries": 0,
        "projects": [{"name": "Bench", "project_id": project_id, "repos": repos}],
    }))  # fmt: skip


def run_sync(config: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gitleague_client", "sync", "--config",
                           str(config), "--quiet"], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"sync failed ({done.returncode}): {done.stdout}{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--client-src", type=Path, help="directory holding gitleague_client/")
    parser.add_argument("--with-shell-rc", action="store_true",
                        help="let sessions read the account's shell start-up files")  # fmt: skip
    args = parser.parse_args()
    print(f"# {dt.date.today()} {platform.node()} {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {os.getloadavg()[0]:.1f} load")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-ssh-") as tmpdir:
        tmp = Path(tmpdir)
        extra: tuple[str, ...] = ()
        if not args.with_shell_rc:
            (tmp / "session-home").mkdir()
            extra = (f"SetEnv HOME={tmp / 'session-home'}",)
        sshd = start_sshd(tmp / "sshd", extra)
        try:
            measure(args, tmp, sshd)
        finally:
            stop(sshd.proc)


def measure(args: argparse.Namespace, tmp: Path, sshd: Sshd) -> None:
    template = tmp / "template.git"
    make_remote(template, args.commits)
    url = fresh_database("sqlite", tmp)
    app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    seed = Seed(app)
    owner = seed.actor()
    project_id = seed.project(owner, "Bench")
    repos = []
    for i in range(args.repos):
        remote = tmp / "remotes" / f"r{i}.git"
        shutil.copytree(template, remote)
        seed.repo(project_id, name=f"r{i}", git_url=sshd.url(remote))
        repos.append({"path": str(tmp / "clones" / f"r{i}.git"), "git_url": sshd.url(remote),
                      "ssh_key": str(sshd.key)})  # fmt: skip
    with app.app_context():
        db.engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITLEAGUE_"))}
    env["PATH"] = ssh_shim(tmp / "bin", tmp / "prompted")
    env["HOME"] = str(tmp / "home")
    if args.client_src:
        env["PYTHONPATH"] = str(args.client_src.resolve())
    config = tmp / "repos.yaml"
    with LiveServer(url, workers=2).start(tmp) as server:
        write_config(config, server.url, owner.key, project_id, repos)
        first = run_sync(config, env)  # clones every repository
        times, logins = [], []
        for _ in range(args.runs):
            before = sshd.log().count("Accepted publickey")
            times.append(run_sync(config, env))
            logins.append(sshd.log().count("Accepted publickey") - before)
    print(f"first sync (clone) {first:.2f} s; no new commits, {args.repos} repos over SSH: "
          f"{statistics.median(times):.2f} s median of {args.runs} "
          f"(runs {', '.join(f'{t:.2f}' for t in times)}), "
          f"{statistics.median(logins):.0f} SSH logins per run"
          f"{' (sessions read the shell rc)' if args.with_shell_rc else ''}")  # fmt: skip


if __name__ == "__main__":
    main()
