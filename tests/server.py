"""A real GitLeague server process (gunicorn) on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """gunicorn serving ``wsgi:app`` against ``database_url`` until stopped."""

    def __init__(
        self, database_url: str, *, workers: int = 2, env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.workers = workers
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    def start(self, log_dir: Path) -> LiveServer:
        """Start gunicorn and wait until ``/readyz`` answers (30 s at most)."""
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "e2e-secret-key-0123456789abcdef0123456789",
            "JWT_SECRET_KEY": "e2e-jwt-secret-0123456789abcdef0123456789",
            "GITLEAGUE_LOGIN_RATE_LIMIT": "1000 per minute",
            **self.extra_env,
        }
        self.log_path = log_dir / f"gunicorn-{self.port}.log"
        cmd = [
            sys.executable, "-m", "gunicorn", "--workers", str(self.workers),
            "--bind", f"127.0.0.1:{self.port}", "--timeout", "120", "wsgi:app",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:  # the child keeps its own handle
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log()}")
            try:
                if requests.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:  # not listening or still booting
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not become ready: {self.log()}")

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        """Stop gunicorn (TERM, then KILL after 10 s)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc:
            self.proc.wait()

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
