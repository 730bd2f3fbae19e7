"""Shared fixtures for the client's tests: hermetic git, real repositories.

Repositories are built with the git binary (the reference the client is
measured against); the client itself never needs git at run time.

- ``git_env`` (autouse): no ``GIT_*`` variable leaks in, ``HOME`` is a fresh
  folder with a minimal ``.gitconfig``.
- ``make_repo``: a factory of :class:`GitRepo`, a small driver for writing
  files and committing with chosen dates, authors and encodings.
- ``generated_repo``: a factory that builds a long generated history with
  ``git fast-import`` (see :func:`generate_history`), cached per session.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

# The client is its own distribution; when it is not installed in the
# environment running the tests, import it from the source tree.
if importlib.util.find_spec("gitleague_client") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load_source(name: str) -> ModuleType:
    """``gitleague_client/<name>.py`` run from source, even where a compiled build shadows it.

    Loaded under another name: its globals and classes can be patched (a
    compiled module's cannot) and it can be compared with the compiled one.
    """
    spec = importlib.util.spec_from_file_location(
        f"gitleague_client._{name}_source",
        Path(__file__).resolve().parents[1] / "gitleague_client" / f"{name}.py",
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def xdlsplit_source() -> ModuleType:
    """The source of xdlsplit.py (see :func:`load_source`)."""
    return load_source("xdlsplit")


@pytest.fixture(scope="session")
def xdlclean_source() -> ModuleType:
    """The source of xdlclean.py (see :func:`load_source`)."""
    return load_source("xdlclean")


def git_diff_counts(tmp_path: Path, old: bytes, new: bytes) -> tuple[int, int]:
    """``(added, deleted)`` of git's own diff of two versions of a file (the reference)."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(old)
    b.write_bytes(new)
    out = subprocess.run(
        ["git", "diff", "--no-index", "--numstat", str(a), str(b)], capture_output=True
    ).stdout.split()
    return (int(out[0]), int(out[1])) if out else (0, 0)


GITCONFIG = """\
[user]
\tname = Test User
\temail = test@example.com
[init]
\tdefaultBranch = main
[core]
\tautocrlf = false
[commit]
\tgpgsign = false
[advice]
\tdetachedHead = false
"""


@pytest.fixture(autouse=True)
def git_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hermetic git: clear ``GIT_*`` variables and point ``HOME`` at a temp folder."""
    for name in list(os.environ):
        if name.startswith("GIT_"):
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(GITCONFIG)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("LC_ALL", "C")
    return home


def run_git(
    cwd: Path | str, *args: str, input: bytes | None = None, env: dict | None = None
) -> bytes:
    """Run ``git args`` in ``cwd`` and return its stdout; raise with stderr on failure."""
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run(
        ["git", *args], cwd=cwd, input=input, env=full_env, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


@dataclass
class GitRepo:
    """A real repository under ``path`` driven through the git binary."""

    path: Path
    _tick: int = field(default=1_700_000_000, repr=False)

    def git(self, *args: str, input: bytes | None = None, env: dict | None = None) -> bytes:
        """Run a git command in the repository; return stdout."""
        return run_git(self.path, *args, input=input, env=env)

    def write(self, name: str, data: bytes | str, mode: int | None = None) -> Path:
        """Write a file (creating folders); ``mode`` e.g. 0o755."""
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_bytes(data.encode() if isinstance(data, str) else data)
        if mode is not None:
            target.chmod(mode)
        return target

    def symlink(self, name: str, points_to: str) -> None:
        """Create (or replace) a symbolic link."""
        target = self.path / name
        if target.exists() or target.is_symlink():
            target.unlink()
        target.symlink_to(points_to)

    def remove(self, name: str) -> None:
        """Delete a file or folder from the work tree and the index."""
        self.git("rm", "-q", "-r", "--", name)
        target = self.path / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)  # empty folders git left behind

    def commit(
        self,
        message: str | bytes = "change",
        *,
        date: str | None = None,
        author: tuple[bytes | str, bytes | str] | None = None,
        encoding: str | None = None,
        allow_empty: bool = False,
    ) -> str:
        """Stage everything and commit; return the new commit's hex sha.

        ``date`` is git's raw form (``"1700000000 +0530"``); by default each
        commit is one minute after the previous one. ``encoding`` sets
        ``i18n.commitEncoding`` so git writes an ``encoding`` header and
        stores ``message`` bytes as given.
        """
        self.git("add", "-A")
        if date is None:
            self._tick += 60
            date = f"{self._tick} +0000"
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        if author is not None:
            # fsdecode round-trips raw bytes (e.g. Latin-1) through the environment.
            name, email = (os.fsdecode(x) if isinstance(x, bytes) else x for x in author)
            env.update(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email)
        args = ["commit", "-q", "--no-verify", "--allow-empty-message", "-F", "-"]
        if allow_empty:
            args.append("--allow-empty")
        if encoding:
            args = ["-c", f"i18n.commitEncoding={encoding}", *args]
        data = message.encode() if isinstance(message, str) else message
        self.git(*args, input=data, env=env)
        return self.head()

    def head(self) -> str:
        """The hex sha HEAD points to."""
        return self.git("rev-parse", "HEAD").decode().strip()


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., GitRepo]:
    """Factory: ``make_repo(name="repo", bare=False)`` initialises a repository."""

    def factory(name: str = "repo", bare: bool = False) -> GitRepo:
        path = tmp_path / name
        path.mkdir(parents=True)
        run_git(path, "init", "-q", *(["--bare"] if bare else []))
        return GitRepo(path)

    return factory


# --------------------------------------------------------------------------
# Generated histories with git fast-import
# --------------------------------------------------------------------------

_WORDS = (
    "self value item count index data result config name path node key user "
    "request response buffer offset total cache state error handler parser"
).split()
# Lines that recur all over real code; they exercise xdiff's treatment of
# frequent lines (its "discard" heuristic), which decides git's counts.
_FREQUENT = [b"", b"", b"", b"}", b"    }", b"        return None", b"end", b"#", b"    pass"]


def _code_line(rng: random.Random) -> bytes:
    if rng.random() < 0.22:
        return rng.choice(_FREQUENT)
    indent = b"    " * rng.randint(0, 3)
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 7)))
    return indent + f"{words} = {rng.randint(0, 999)}".encode()


@dataclass
class _File:
    lines: list[bytes]
    mode: str = "100644"
    eol: bytes = b"\n"
    final_newline: bool = True
    binary: bytes | None = None

    def render(self) -> bytes:
        if self.binary is not None:
            return self.binary
        data = self.eol.join(self.lines)
        if self.lines and self.final_newline:
            data += self.eol
        return data


@dataclass(frozen=True)
class HistoryProfile:
    """Knobs of :func:`generate_history`; the defaults model a real project."""

    files: int = 400
    median_lines: int = 150
    max_lines: int = 4000
    files_per_commit: tuple[int, int] = (1, 3)
    hunks_per_file: tuple[int, int] = (1, 3)
    merge_every: int = 40
    # Probabilities per commit of the less common events.
    p_add: float = 0.03
    p_delete: float = 0.01
    p_rewrite: float = 0.005
    p_binary: float = 0.01
    p_mode: float = 0.005
    p_symlink: float = 0.003
    p_empty: float = 0.003
    p_odd_encoding: float = 0.01


TORTURE = HistoryProfile(
    files=60,
    median_lines=30,
    max_lines=800,
    merge_every=15,
    p_add=0.08,
    p_delete=0.04,
    p_rewrite=0.05,
    p_binary=0.05,
    p_mode=0.04,
    p_symlink=0.03,
    p_empty=0.02,
    p_odd_encoding=0.05,
)

PROFILES = {"default": HistoryProfile(), "torture": TORTURE}


class _Generator:
    """Writes a fast-import stream for a random but reproducible history."""

    def __init__(self, out, profile: HistoryProfile, seed: int) -> None:
        self.out = out
        self.p = profile
        self.rng = random.Random(seed)
        self.mark = 0
        self.time = 1_600_000_000

    def new_file(self) -> _File:
        rng = self.rng
        n = min(self.p.max_lines, int(rng.lognormvariate(0, 1.0) * self.p.median_lines) + 1)
        f = _File([_code_line(rng) for _ in range(n)])
        if rng.random() < 0.05:
            f.eol = b"\r\n"
        if rng.random() < 0.08:
            f.final_newline = False
        return f

    def new_path(self, tree: dict[str, _File]) -> str:
        # Folders are named d*, files f*: a path is never both a file and a folder.
        rng = self.rng
        while True:
            # Few files at the top, most a folder or two down, as in real projects.
            depth = rng.choice((0, 1, 1, 2, 2, 2, 3, 3))
            parts = [f"d{rng.randint(0, 9)}" for _ in range(depth)]
            name = f"f{rng.randint(0, 10**6)}.{rng.choice(('py', 'c', 'md', 'txt'))}"
            path = "/".join([*parts, name])
            if path not in tree:
                return path

    def edit(self, f: _File) -> None:
        rng = self.rng
        if f.mode == "120000":
            f.binary = f"../f{rng.randint(0, 99)}.py".encode()
            return
        if f.binary is not None:
            if rng.random() < 0.3:
                f.binary, f.lines = None, [_code_line(rng) for _ in range(20)]
            else:
                f.binary = b"\x89PNG\0" + rng.randbytes(rng.randint(10, 3000))
            return
        for _ in range(rng.randint(*self.p.hunks_per_file)):
            at = rng.randint(0, len(f.lines))
            drop = rng.choice((0, 1, 1, 2, 2, 3, 4))
            new = [_code_line(rng) for _ in range(rng.choice((0, 1, 1, 2, 3, 5)))]
            if rng.random() < 0.2 and at < len(f.lines):
                # Move a line: a change where LCS and xdiff can disagree.
                new.append(f.lines[at])
            f.lines[at : at + drop] = new
        if rng.random() < 0.02:
            f.final_newline = not f.final_newline

    def person(self) -> bytes:
        rng = self.rng
        names = [b"Alice Smith", b"Bob O'Brien", "José Núñez".encode(), "Zoë 山田".encode()]
        name = rng.choice(names)
        email = name.split()[0].lower() + b"@example.com"
        offset = rng.choice(["+0000", "+0530", "-0700", "+0100", "-0330", "+1245"])
        self.time += rng.randint(30, 20000)
        return name + b" <" + email + b"> " + f"{self.time} {offset}".encode()

    def commit(self, branch: str, tree: dict[str, _File], changed: dict, merge: list[int]) -> int:
        self.mark += 1
        who = self.person()
        msg = f"change {self.mark}\n\nbody line\n".encode()
        encoding = None
        if self.rng.random() < self.p.p_odd_encoding:
            encoding = b"ISO-8859-1"
            who = b"Ren\xe9 Latin <rene@example.com> " + who.rsplit(b"> ", 1)[1]
            msg = b"caf\xe9 cr\xe8me " + msg
        w = self.out.write
        w(f"commit refs/heads/{branch}\nmark :{self.mark}\n".encode())
        w(b"author " + who + b"\ncommitter " + who + b"\n")
        if encoding:
            w(b"encoding " + encoding + b"\n")
        w(f"data {len(msg)}\n".encode() + msg + b"\n")
        for parent in merge:
            w(f"merge :{parent}\n".encode())
        for path, f in changed.items():
            if f is None:
                w(f"D {path}\n".encode())
                continue
            data = f.render()
            w(f"M {f.mode} inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        return self.mark

    def step(self, tree: dict[str, _File]) -> dict:
        """Mutate ``tree`` like one commit would; return the changed paths."""
        rng, p = self.rng, self.p
        changed: dict[str, _File | None] = {}
        if rng.random() < p.p_empty:
            return changed
        for _ in range(rng.randint(*p.files_per_commit)):
            # Hot files: real projects edit a few files far more than the rest.
            paths = list(tree)
            path = paths[int(len(paths) * rng.random() ** 3)] if paths else None
            if path is None or rng.random() < 0.3:
                path = rng.choice(paths) if paths else None
            if path is not None:
                self.edit(tree[path])
                changed[path] = tree[path]
        events = [
            (p.p_add, self._add),
            (p.p_delete, self._delete),
            (p.p_rewrite, self._rewrite),
            (p.p_binary, self._binary),
            (p.p_mode, self._mode),
            (p.p_symlink, self._symlink),
        ]
        for prob, action in events:
            if rng.random() < prob:
                action(tree, changed)
        return changed

    def _add(self, tree, changed):
        path = self.new_path(tree)
        tree[path] = changed[path] = self.new_file()

    def _delete(self, tree, changed):
        if len(tree) > 5:
            path = self.rng.choice(list(tree))
            del tree[path]
            changed[path] = None

    def _rewrite(self, tree, changed):
        path = self.rng.choice(list(tree))
        f = tree[path]
        if f.binary is None and f.mode != "120000":
            keep = self.rng.random()
            f.lines = [ln if self.rng.random() < keep else _code_line(self.rng) for ln in f.lines]
            head = f.lines[: len(f.lines) // 3]
            self.rng.shuffle(head)
            f.lines[: len(head)] = head
            changed[path] = f

    def _binary(self, tree, changed):
        path = self.new_path(tree)
        blob = self.rng.randbytes(self.rng.randint(10, 3000))
        tree[path] = changed[path] = _File([], binary=b"\x89PNG\0" + blob)

    def _mode(self, tree, changed):
        path = self.rng.choice(list(tree))
        f = tree[path]
        if f.mode in ("100644", "100755"):
            f.mode = "100755" if f.mode == "100644" else "100644"
            changed[path] = f

    def _symlink(self, tree, changed):
        path = self.new_path(tree)
        target = self.rng.choice(list(tree)).encode()
        tree[path] = changed[path] = _File([], mode="120000", binary=target)


def generate_history(
    path: Path, commits: int, *, seed: int = 1, profile: HistoryProfile | None = None
) -> Path:
    """Build a bare repository at ``path`` with ``commits`` generated commits.

    The stream goes straight into ``git fast-import`` (one process, not one
    git command per commit). The history is on ``main`` with feature branches
    merged back every ``profile.merge_every`` commits (now and then an octopus).
    Returns ``path``.
    """
    profile = profile or HistoryProfile()
    path.mkdir(parents=True, exist_ok=True)
    run_git(path, "init", "-q", "--bare", "--initial-branch=main")
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=path,
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    gen = _Generator(proc.stdin, profile, seed)
    tree: dict[str, _File] = {}
    for _ in range(profile.files):
        tree[gen.new_path(tree)] = gen.new_file()
    head = gen.commit("main", tree, dict(tree), [])
    made = 1
    while made < commits:
        if profile.merge_every and made % profile.merge_every == 0 and commits - made > 6:
            head, n = _feature_branches(gen, tree, head)
            made += n
            continue
        changed = gen.step(tree)
        head = gen.commit("main", tree, changed, [])
        made += 1
    _, err = proc.communicate(b"done\n")  # also closes the pipes
    if proc.returncode != 0:
        raise RuntimeError(f"git fast-import failed: {err.decode(errors='replace')}")
    return path


def _feature_branches(gen: _Generator, tree: dict[str, _File], head: int) -> tuple[int, int]:
    """Fork one to three branches off ``head``, commit on each, merge them back."""
    made = 0
    tips = []
    merged: dict[str, _File | None] = {}
    for b in range(gen.rng.choice((1, 1, 1, 2, 3))):
        # Each branch edits its own copy of the files it touches.
        side = {
            p: _File(list(f.lines), f.mode, f.eol, f.final_newline, f.binary)
            for p, f in tree.items()
        }
        gen.out.write(f"reset refs/heads/topic{b}\nfrom :{head}\n".encode())
        for _ in range(gen.rng.randint(1, 2)):
            changed = gen.step(side)
            tip = gen.commit(f"topic{b}", side, changed, [])
            made += 1
            for p, f in changed.items():
                if p not in merged:
                    merged[p] = f
        tips.append(tip)
    for p, f in merged.items():
        if f is None:
            tree.pop(p, None)
        else:
            tree[p] = f
    merge_changes = {p: tree.get(p) for p in merged}
    return gen.commit("main", tree, merge_changes, tips), made + 1


_HISTORY_CACHE: dict[tuple, Path] = {}


@pytest.fixture(scope="session")
def generated_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Path]]:
    """Factory: ``generated_repo(commits, seed=1, profile="default")`` -> bare repo path.

    ``profile`` is a :class:`HistoryProfile` or a name from ``PROFILES``
    ("default": a realistic project; "torture": small files, many odd events).

    Built once per session for each set of arguments (fast-import of a few
    thousand commits takes a few seconds). Treat the result as read-only.
    """

    def factory(commits: int, seed: int = 1, profile: str | HistoryProfile = "default") -> Path:
        if isinstance(profile, str):
            profile = PROFILES[profile]
        key = (commits, seed, profile)
        if key not in _HISTORY_CACHE:
            path = tmp_path_factory.mktemp("generated") / f"h{commits}-{seed}.git"
            env = {"HOME": str(path.parent), "GIT_CONFIG_NOSYSTEM": "1"}
            with _temp_env(env):
                _HISTORY_CACHE[key] = generate_history(path, commits, seed=seed, profile=profile)
        return _HISTORY_CACHE[key]

    yield factory


class _temp_env:
    """Context manager: a hermetic environment for session-scoped git work."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __enter__(self) -> None:
        self.saved = dict(os.environ)
        for name in list(os.environ):
            if name.startswith("GIT_"):
                del os.environ[name]
        os.environ.update(self.env)

    def __exit__(self, *exc: object) -> None:
        os.environ.clear()
        os.environ.update(self.saved)


# --------------------------------------------------------------------------
# A scripted HTTP server for the API client's tests
# --------------------------------------------------------------------------


@dataclass
class Seen:
    """One request as the scripted server received it."""

    method: str
    path: str
    body: Any
    headers: dict[str, str]


Reply = tuple[int, dict[str, str], Any]


@dataclass
class Scripted:
    """A server whose answers come from ``script`` (a list, or a function of the request)."""

    url: str
    seen: list[Seen] = field(default_factory=list)
    script: list[Reply] | Callable[[Seen], Reply] = field(default_factory=list)
    delay: float = 0.0

    def reply(self, request: Seen) -> Reply:
        self.seen.append(request)
        if callable(self.script):
            return self.script(request)
        return self.script.pop(0) if self.script else (200, {}, {"ok": True})


@pytest.fixture
def scripted_server() -> Iterator[Scripted]:
    """A real HTTP server on 127.0.0.1 answering from a script (gitleague_client tests)."""
    state = Scripted(url="")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            seen = Seen(self.command, self.path, json.loads(raw) if raw else None,
                        dict(self.headers))  # fmt: skip
            status, headers, body = state.reply(seen)
            if state.delay:
                time.sleep(state.delay)
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (timeout tests)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def protocol(scripted_server: Scripted) -> Any:
    """test_cli.py's scripted push protocol, serving from ``scripted_server``."""
    from .test_cli import Protocol  # type: ignore[import-not-found]

    proto = Protocol()
    scripted_server.script = proto
    return proto
