"""One SSH connection per server for a whole sync (OpenSSH connection sharing).

Each fetch over SSH pays a TCP connect, a key exchange and a login (0.5-0.8 s
measured on loopback) before git says a word, so 20 repositories on one host
paid it 20 times. When several configured repositories share a target (user,
host, port and key: deploy keys differ per repository on one host), the sync
opens one master connection for it first and every fetch then runs as a
session multiplexed over it.

- POSIX only: Windows' OpenSSH has no connection sharing.
- Sockets live in a private directory made for the run under ``/tmp`` (macOS'
  long ``$TMPDIR`` would overflow the 104-byte limit of a socket path) and
  are removed with it.
- Masters are stopped with ``ssh -O exit`` when the sync ends; should the
  client be killed first, ``ControlPersist`` ends them once idle.
- A master that does not come up (host down, key refused) changes nothing:
  the fetches then connect on their own and report the error as before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gitleague_client.fetch import ssh_options
from gitleague_client.urls import ssh_login

#: Seconds an orphaned master waits for a client before it exits by itself.
PERSIST_SECONDS = 60
#: Seconds a master may take to connect and log in before we fetch without it.
START_TIMEOUT = 30


@dataclass(frozen=True)
class Target:
    """Where an SSH fetch logs in: one master connection serves each."""

    host: str
    user: str | None
    port: int | None
    key: str | None

    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    def plausible(self) -> bool:
        """False for a host or user that ssh would read as an option (``-oProxy...``)."""
        return not self.host.startswith("-") and not (self.user or "").startswith("-")

    def login_args(self) -> list[str]:
        args = ["-p", str(self.port)] if self.port else []
        return [*args, "-i", self.key] if self.key else args


def target_of(url: str, ssh_key: Path | None) -> Target | None:
    """The login ``url`` needs, or None when it is not fetched over SSH."""
    login = ssh_login(url)
    if login is None:
        return None
    user, host, port = login
    return Target(host, user, port, str(ssh_key) if ssh_key else None)


class SshMultiplexer:
    """Master connections for the targets several fetches of one sync share.

    Use as a context manager: :meth:`start` on entry is up to the caller, the
    masters and their sockets go on exit.
    """

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._sockets: dict[Target, Path] = {}

    @staticmethod
    def supported() -> bool:
        """Connection sharing needs OpenSSH on a POSIX system."""
        return os.name == "posix" and shutil.which("ssh") is not None

    def start(self, targets: Iterable[Target | None], workers: int = 4) -> None:
        """Open a master for each target named more than once (at once, in threads)."""
        counts = Counter(t for t in targets if t is not None and t.plausible())
        shared = [t for t, n in counts.items() if n > 1]
        if not shared or not self.supported():
            return
        try:
            self._dir = Path(tempfile.mkdtemp(prefix="glc-", dir="/tmp"))
        except OSError:  # no writable /tmp (some containers): fetch without sharing
            return
        planned = {t: self._dir / str(i) for i, t in enumerate(shared)}
        # Each master is recorded as soon as it is up, so that one that comes up
        # while Ctrl-C interrupts this start is still stopped by close().
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(planned)))) as pool:
            list(pool.map(lambda item: self._start_and_record(*item), planned.items()))

    def options(self, target: Target | None) -> list[str]:
        """Extra ``ssh`` options for a fetch: the master's socket when it has one."""
        socket = self._sockets.get(target) if target is not None else None
        if socket is None:
            return []
        # ControlMaster=no: use the master, and if it went away meanwhile,
        # connect directly rather than become a master nobody stops.
        return ["-o", f"ControlPath={socket}", "-o", "ControlMaster=no"]

    def close(self) -> None:
        """Stop every master and remove the sockets' directory."""
        for target, socket in list(self._sockets.items()):
            cmd = [*_ssh(target), "-o", f"ControlPath={socket}", "-O", "exit"]
            try:
                subprocess.run([*cmd, "--", target.destination()], stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=10, check=False)  # fmt: skip
            except (OSError, subprocess.TimeoutExpired):
                pass  # ControlPersist ends it once idle
        self._sockets = {}
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> SshMultiplexer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start_and_record(self, target: Target, socket: Path) -> None:
        if self._start_master(target, socket):
            self._sockets[target] = socket  # one key per thread: no lock needed

    def _start_master(self, target: Target, socket: Path) -> bool:
        cmd = [
            *_ssh(target), "-x", "-N", "-f",
            "-o", "ControlMaster=yes", "-o", f"ControlPath={socket}",
            "-o", f"ControlPersist={PERSIST_SECONDS}",
            *target.login_args(), "--", target.destination(),
        ]  # fmt: skip
        # -f puts the master in the background once logged in; it keeps the
        # descriptors it was given, so no pipe here (reading one to its end
        # would wait for the master to exit): stderr goes to a file.
        with tempfile.TemporaryFile() as errors:
            try:
                done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=errors, timeout=START_TIMEOUT, check=False)  # fmt: skip
            except (OSError, subprocess.TimeoutExpired):
                return False
        return done.returncode == 0 and socket.exists()


def _ssh(target: Target) -> list[str]:
    # The fetches' own options (BatchMode, accept-new, IdentitiesOnly), so
    # the master logs in exactly as each fetch would have.
    return ssh_options(Path(target.key) if target.key else None)
