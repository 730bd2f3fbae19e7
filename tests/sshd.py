"""A real sshd on 127.0.0.1 for fetch tests and benchmarks: own host key, one user key.

OpenSSH reads ``~/.ssh/known_hosts`` from the passwd entry, not from ``$HOME``, so
:func:`ssh_shim` puts an ``ssh`` first on ``PATH`` that adds ``UserKnownHostsFile``
under ``$HOME``: accept-new then writes there and never into the real user's file
(whose stale entry for a reused port would otherwise fail a later run).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.server import free_port

SSHD = Path("/usr/sbin/sshd")


def keygen(path: Path, passphrase: str = "") -> Path:
    """A new ed25519 key pair at ``path`` / ``path.pub``; returns the private key."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", path.name,
                    "-f", str(path)], check=True, capture_output=True, timeout=30)  # fmt: skip
    return path


@dataclass
class Sshd:
    """A running sshd: where it listens, who may log in, with which key."""

    port: int
    user: str
    key: Path
    root: Path
    proc: subprocess.Popen[bytes]

    def url(self, path: Path) -> str:
        """The ``ssh://`` URL of a repository on this server."""
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        """What sshd logged so far."""
        return (self.root / "sshd.log").read_text(errors="replace")


def _sshd_config(root: Path, user: str, extra: tuple[str, ...] = ()) -> Path:
    config = root / "sshd_config"
    config.write_text(
        "\n".join([
            "ListenAddress 127.0.0.1",
            f"HostKey {root / 'host_key'}",
            f"AuthorizedKeysFile {root / 'authorized_keys'}",
            f"PidFile {root / 'sshd.pid'}",
            f"AllowUsers {user}",
            "StrictModes no",  # the tmp folders' modes are not sshd's business here
            "PermitRootLogin prohibit-password",  # CI runs as root
            # Offered on purpose: without BatchMode, ssh would prompt for a password.
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "AcceptEnv GIT_PROTOCOL",  # as GitHub does: dulwich asks for protocol v2
            *extra,
            "",
        ])
    )  # fmt: skip
    return config


def _wait_listening(sshd: Sshd, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sshd.proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {sshd.proc.returncode}: {sshd.log()}")
        try:
            with socket.create_connection(("127.0.0.1", sshd.port), timeout=1):
                return
        except OSError:  # not listening yet
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen within {seconds} s: {sshd.log()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait(5)


def start_sshd(root: Path, extra_config: tuple[str, ...] = ()) -> Sshd:
    """The system's sshd on a free port of 127.0.0.1, for the current user, one key.

    ``extra_config`` are more sshd_config lines.
    """
    if os.geteuid() == 0:
        # A root sshd wants its privilege separation folder (systemd makes it at boot).
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    keygen(root / "host_key")
    key = keygen(root / "user_key")
    shutil.copyfile(root / "user_key.pub", root / "authorized_keys")
    user = pwd.getpwuid(os.getuid()).pw_name  # $USER may name someone else
    port = free_port()
    cmd = [
        str(SSHD),
        "-D",
        "-e",
        "-f",
        str(_sshd_config(root, user, extra_config)),
        "-p",
        str(port),
    ]
    with (root / "sshd.log").open("wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    server = Sshd(port, user, key, root, proc)
    try:
        _wait_listening(server)
    except BaseException:
        stop(proc)
        raise
    return server


def ssh_shim(bindir: Path, prompted: Path) -> str:
    """``PATH`` whose ``ssh`` keeps known_hosts under ``$HOME`` (see module doc).

    Its ``askpass`` notes every prompt ssh would have shown into ``prompted``.
    """
    real = shutil.which("ssh")
    assert real is not None
    bindir.mkdir(parents=True, exist_ok=True)
    shim = bindir / "ssh"
    # ssh creates the real ~/.ssh itself when it first records a host; this one is ours.
    shim.write_text(
        '#!/bin/sh\nmkdir -p -m 700 "$HOME/.ssh"\n'
        f'exec {real} -o UserKnownHostsFile="$HOME/.ssh/known_hosts" "$@"\n'
    )
    shim.chmod(0o755)
    askpass = bindir / "askpass"
    askpass.write_text(f'#!/bin/sh\necho "$1" >> {prompted}\nexit 1\n')
    askpass.chmod(0o755)
    return f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"
