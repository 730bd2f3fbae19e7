"""The gitleague-client this server ships: a wheel and a source archive of ``cli_client/``.

The server serves the client it was released with, so a commissioner installs the
one that speaks its protocol (not the unrelated ``gitleague-client`` 0.1.0 on the
public index). The wheel is built on first request with the project's own build
backend (``pip wheel``, no build isolation, no index: no network), from a copy of
the source, into a cache folder keyed by a digest of that source; concurrent
workers build it once, under a file lock.

The wheel is pure Python, one file for every platform. The source archive
(an sdist) is for machines with a C compiler: pip builds it there and compiles
the line diff's two hottest modules with mypyc (``cli_client/setup.py``).
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
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitLeagueError, NotFoundError

log = logging.getLogger(__name__)

#: Where the client's source lives in a checkout of this repository.
CLIENT_SOURCE = Path(__file__).resolve().parents[2] / "cli_client"
#: A build takes seconds; one stuck for this long is given up.
BUILD_TIMEOUT = 300

#: The files of cli_client/ a build reads, beside the package.
_TOP_FILES = ("pyproject.toml", "setup.py", "README.md", "LICENSE")
_PACKAGE_SUFFIXES = {".py", ".typed"}

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

    @classmethod
    def of(cls, version: str) -> ClientDist:
        """The client of ``version``, with its wheel's file name."""
        return cls(version, f"gitleague_client-{version}-py3-none-any.whl")

    @property
    def sdist(self) -> str:
        """File name of the source archive."""
        return f"gitleague_client-{self.version}.tar.gz"


def client_dist(source: Path = CLIENT_SOURCE) -> ClientDist:
    """Version and wheel name of the client in ``source``; 404 when it is not there."""
    init = source / "gitleague_client" / "__init__.py"
    try:
        match = _VERSION_RE.search(init.read_text(encoding="utf-8"))
    except OSError:
        match = None
    if match is None:
        raise NotFoundError("this server was installed without the gitleague-client source")
    return ClientDist.of(match.group(1))


def wheel_path(cache_dir: Path, source: Path = CLIENT_SOURCE) -> Path:
    """The built wheel, building it first when this source was never built here."""
    return _cached(cache_dir, source, client_dist(source).filename, _build)


def sdist_path(cache_dir: Path, source: Path = CLIENT_SOURCE) -> Path:
    """The source archive, packed first when this source was never packed here."""
    return _cached(cache_dir, source, client_dist(source).sdist, _pack)


def _cached(cache_dir: Path, source: Path, name: str, make: Callable[[Path, Path], None]) -> Path:
    target = cache_dir / _digest(source) / name
    if target.is_file():
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with _locked(cache_dir / ".lock"):
            if not target.is_file():  # another worker may have made it meanwhile
                make(source, target)
    except OSError as exc:  # the operator's folder: missing rights, a file in the way
        # The path goes to the log, not to the anonymous caller.
        log.error("client wheel folder %s is unusable: %s", cache_dir, exc)
        raise ClientBuildError(
            "the client wheel cannot be stored on this server: its folder "
            "(GITLEAGUE_CLIENT_WHEEL_DIR) is unusable; the server log says why"
        ) from None
    return target


def _source_files(source: Path) -> list[Path]:
    """What a build of the client reads: its metadata and package, not tests or builds.

    An editable install leaves compiled modules (``*.so``) beside the source;
    they are the builder's machine's, never shipped.
    """
    files = [source / name for name in _TOP_FILES]
    files += [
        path
        for path in (source / "gitleague_client").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in _PACKAGE_SUFFIXES
    ]
    return sorted(path for path in files if path.is_file())


def _digest(source: Path) -> str:
    """A digest of the source, so a changed source is built again."""
    digest = hashlib.sha256()
    for path in _source_files(source):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _pack(source: Path, target: Path) -> None:
    """A reproducible ``.tar.gz`` of the source (pip builds it as an sdist)."""
    root = target.name.removesuffix(".tar.gz")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    with tarfile.open(partial, "w:gz") as tar:
        for path in _source_files(source):
            info = tar.gettarinfo(path, f"{root}/{path.relative_to(source).as_posix()}")
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with open(path, "rb") as handle:
                tar.addfile(info, handle)
    partial.replace(target)


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
        for path in _source_files(source):
            copy = src / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
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
