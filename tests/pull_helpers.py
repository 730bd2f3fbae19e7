"""Helpers for pull tests: generated git repositories and what ``git log`` says of them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from cryptography.fernet import Fernet

TOKEN = "ghp_test_token_" + "S3cr3t" * 4
ENCRYPTION_KEY = Fernet.generate_key().decode()
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(*args: str, cwd: Path, stdin: bytes | None = None) -> bytes:
    env = {**os.environ, **GIT_ENV, "HOME": str(cwd)}
    return subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, env=env, capture_output=True, check=True
    ).stdout


def fast_import_stream(n: int, *, branch: str = "main", start: int = 0, parent: str = "") -> bytes:
    """A ``git fast-import`` stream of ``n`` commits on ``branch`` touching a few files."""
    out = []
    for i in range(start, start + n):
        lines = "".join(f"line {j} of commit {i}\n" for j in range(i % 5 + 1))
        data = lines.encode()
        when = 1_700_000_000 + i * 60
        msg = f"commit {i}\n".encode()
        out.append(f"commit refs/heads/{branch}\nmark :{i + 1}\n".encode())
        out.append(f"author Ada <ada@example.org> {when} +0200\n".encode())
        out.append(f"committer Ada <ada@example.org> {when} +0200\n".encode())
        out.append(b"data %d\n%s" % (len(msg), msg))
        if i == start and parent:
            out.append(f"from {parent}\n".encode())
        out.append(f"M 100644 inline f{i % 7}.txt\n".encode())
        out.append(b"data %d\n%s\n" % (len(data), data))
    return b"".join(out)


def make_bare_repo(path: Path, n: int, *, branch: str = "main") -> Path:
    """A bare repository at ``path`` with ``n`` commits on ``branch``."""
    path.mkdir(parents=True)
    _git("init", "--bare", "-q", "-b", branch, ".", cwd=path)
    _git("fast-import", "--quiet", cwd=path, stdin=fast_import_stream(n, branch=branch))
    return path


def add_commits(path: Path, n: int, *, branch: str = "main") -> None:
    """Append ``n`` commits to ``branch`` of the bare repository at ``path``."""
    head = head_sha(path, branch)
    count = int(_git("rev-list", "--count", branch, cwd=path))
    stream = fast_import_stream(n, branch=branch, start=count, parent=head)
    _git("fast-import", "--quiet", cwd=path, stdin=stream)


def head_sha(path: Path, branch: str = "main") -> str:
    """The sha ``branch`` points at."""
    return _git("rev-parse", f"refs/heads/{branch}", cwd=path).decode().strip()


def numstat(path: Path, branch: str = "main") -> dict[str, tuple[int, int, int]]:
    """``{sha: (additions, deletions, files_changed)}`` as ``git log --numstat`` counts them."""
    text = _git("log", "--numstat", "--no-renames", "--format=@%H", branch, cwd=path).decode()
    stats: dict[str, list[int]] = {}
    sha = ""
    for line in text.splitlines():
        if line.startswith("@"):
            sha = line[1:]
            stats[sha] = [0, 0, 0]
        elif line.strip():
            added, deleted, _ = line.split("\t", 2)
            entry = stats[sha]
            entry[0] += int(added) if added != "-" else 0
            entry[1] += int(deleted) if deleted != "-" else 0
            entry[2] += 1
    return {k: (v[0], v[1], v[2]) for k, v in stats.items()}
