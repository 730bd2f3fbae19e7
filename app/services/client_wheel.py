"""The gitleague-client wheel this server ships: built once from ``cli_client/``.

The server serves the client it was released with, so a commissioner installs the
one that speaks its protocol (not the unrelated ``gitleague-client`` 0.1.0 on the
public index). The wheel is built on first request with the project's own build
backend (``pip wheel``, no build isolation, no index: no network), from a copy of
the source, into a cache folder keyed by a digest of that source; concurrent
workers build it once, under a file lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitLeagueError, NotFoundError

log = logging.getLogger(__name__)

#: Where the client's source lives in a checkout of this repository.
CLIENT_SOURCE = Path(__file__).resolve().parents[2] / "cli_client"
#: A build takes seconds; one stuck for this long is given up.
BUILD_TIMEOUT = 300

_VERSION_RE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)


class ClientBuildError(GitLeagueError):
    """The client's wheel could not be built here (a broken install of the server)."""

    code = "client_unavailable"
    status = 503


@dataclass(frozen=True)
class ClientDist:
    """The shipped client: its version and the wheel's file name."""

    version: str
    filename: str


def client_dist(source: Path = CLIENT_SOURCE) -> ClientDist:
    """Version and wheel name of the client in ``source``; 404 when it is not there."""
    init = source / "gitleague_client" / "__init__.py"
    try:
        match = _VERSION_RE.search(init.read_text(encoding="utf-8"))
    except OSError:
        match = None
    if match is None:
        raise NotFoundError("this server was installed without the gitleague-client source")
    version = match.group(1)
    return ClientDist(version, f"gitleague_client-{version}-py3-none-any.whl")


def wheel_path(cache_dir: Path, source: Path = CLIENT_SOURCE) -> Path:
    """The built wheel, building it first when this source was never built here."""
    dist = client_dist(source)
    target = cache_dir / _digest(source) / dist.filename
    if target.is_file():
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with _locked(cache_dir / ".lock"):
            if not target.is_file():  # another worker may have built it meanwhile
                _build(source, target)
    except OSError as exc:  # the operator's folder: missing rights, a file in the way
        # The path goes to the log, not to the anonymous caller.
        log.error("client wheel folder %s is unusable: %s", cache_dir, exc)
        raise ClientBuildError(
            "the client wheel cannot be stored on this server: its folder "
            "(GITLEAGUE_CLIENT_WHEEL_DIR) is unusable; the server log says why"
        ) from None
    return target


def _digest(source: Path) -> str:
    """A digest of what goes into the wheel, so a changed source is built again."""
    digest = hashlib.sha256()
    files = [source / "pyproject.toml", source / "setup.py", *source.glob("gitleague_client/*")]
    for path in sorted(files):
        if path.is_file() and path.suffix != ".so":  # an editable install's builds
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(source: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="client-build-", dir=target.parent.parent) as tmp:
        # A copy: setuptools writes build/ and *.egg-info beside the source it builds.
        src = Path(tmp) / "src"
        shutil.copytree(
            source,
            src,
            ignore=shutil.ignore_patterns("tests", "__pycache__", "*.egg-info", "build", "*.so"),
        )
        out = Path(tmp) / "dist"
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
               "--no-index", "--disable-pip-version-check", "-q", "-w", str(out), str(src)]  # fmt: skip
        # One wheel for every platform: the compiled build (cli_client/setup.py)
        # is for installs from source, where pip compiles for the machine.
        env = {**os.environ, "GITLEAGUE_CLIENT_PURE": "1"}
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT, env=env
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClientBuildError(f"building the client wheel failed: {exc}") from None
        built = out / target.name
        if proc.returncode != 0 or not built.is_file():
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ClientBuildError(f"building the client wheel failed: {last[0][:300]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(built), target.with_suffix(".tmp"))
        target.with_suffix(".tmp").replace(target)
