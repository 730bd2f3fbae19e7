"""Real parts for pull tests: a private redis-server and ``flask sync worker`` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from redis import Redis

from tests.server import ROOT, free_port


class RedisServer:
    """A redis-server of our own on 127.0.0.1 (no persistence), stoppable and restartable."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        """Start it and wait until it answers PING."""
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self._ping(), 10, "redis-server did not start")
        return self

    def _ping(self) -> bool:
        try:
            with Redis.from_url(self.url, socket_timeout=0.5) as redis:
                return bool(redis.ping())
        except Exception:  # noqa: BLE001 (not up yet)
            return False

    def stop(self) -> None:
        """Stop it (its data goes with it)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def connection(self) -> Redis:
        """A new client connection."""
        return Redis.from_url(self.url)


def wait_for(check: Callable[[], Any], timeout: float, message: str, step: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(message)


class WorkerProcess:
    """``flask --app wsgi sync worker`` in its own session (so it can be killed whole)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        """Start the worker, logging to ``log_path``."""
        cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "sync", "worker"]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its job process at once, as a crash would.

        RQ puts each job process in its own process group, so the worker's
        children are found through /proc and killed first.
        """
        assert self.proc is not None
        children = _children(self.proc.pid)
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        # Until they have exited, the children hold copies of the worker's
        # sockets (Redis still sees its connections), as a real crash would not.
        wait_for(lambda: not [p for p in children if _alive(p)], 10, "children outlived SIGKILL")

    def stop(self) -> None:
        """Stop gracefully (SIGTERM lets a running job finish), KILL after 20 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def log(self) -> str:
        """What the worker printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie has closed its files)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry))
    return found


def worker_env(database_url: str, redis_url: str, mirror_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker process for tests (hermetic: no GIT_*/GITLEAGUE_* leak in)."""
    from tests.conftest import TEST_CONFIG

    base = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITLEAGUE_"))}
    return {
        **base,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
        "JWT_SECRET_KEY": TEST_CONFIG["JWT_SECRET_KEY"],
        "GITLEAGUE_ENCRYPTION_KEYS": TEST_CONFIG["GITLEAGUE_ENCRYPTION_KEYS"],
        "GITLEAGUE_ALLOW_LOCAL_REMOTES": "true",
        "GITLEAGUE_MIRROR_DIR": str(mirror_dir),
        "GITLEAGUE_PULL_RETRY_INTERVALS": "1,1",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
