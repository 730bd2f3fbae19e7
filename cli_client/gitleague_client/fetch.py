"""Getting the configured branch into a local repository, with dulwich only.

Only the one branch is asked for: dulwich's ``porcelain.fetch`` wants every ref the
remote has, which on a large repository costs tens of seconds for nothing. SSH runs
the system's ``ssh`` (no prompt under cron, the configured key only, new host keys
accepted and remembered). No git binary is needed anywhere.
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import urllib3
from dulwich.client import (
    GitClient,
    HTTPUnauthorized,
    default_urllib3_manager,
    get_transport_and_path,
)
from dulwich.errors import GitProtocolError, NotGitRepository
from dulwich.protocol import Protocol
from dulwich.repo import Repo

from gitleague_client.errors import ClientError

if TYPE_CHECKING:
    from dulwich.objects import ObjectID
    from dulwich.refs import Ref
from gitleague_client.urls import is_ssh_url, normalize_git_url, redact_url

BRANCH_HINT = (
    '1. Check branch name in repos.yaml (default: "main")\n'
    "2. Verify repository has commits on that branch"
)


#: The depth ``git fetch --unshallow`` asks for: everything.
UNSHALLOW_DEPTH = 2**31 - 1

SHALLOW_HINT = (
    "Run `git fetch --unshallow` in the clone (or clone it again without --depth),\n"
    "then sync again. Nothing of this repo was sent: a shallow history would give\n"
    "its oldest commits no parents and their whole tree as their changes."
)


class ShallowCloneError(ClientError):
    """The clone is shallow and could not be deepened: its history cannot be trusted."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"{path} is a shallow clone ({why})", hint=SHALLOW_HINT)


class FetchError(ClientError):
    """The remote could not be read (network, authentication, not a repository)."""


class BranchNotFoundError(ClientError):
    """The configured branch does not exist (the guide's "Branch not found")."""

    def __init__(self, branch: str, where: str) -> None:
        super().__init__(f"Branch not found: '{branch}' in {where}", hint=BRANCH_HINT)
        self.branch = branch


class NotARepositoryError(ClientError):
    """``path`` exists but holds no git repository."""


def ssh_options(ssh_key: Path | None) -> list[str]:
    """``ssh`` and the options every SSH connection of the client uses.

    BatchMode: fail instead of prompting (cron has no terminal). accept-new: trust a
    host on first contact, refuse a changed key afterwards. IdentitiesOnly only with a
    configured key, so agents still work for those who configure none. A host that
    does not answer fails after 30 s, and a connection that dies mid-fetch within a
    minute (keep-alives), instead of hanging the next cron run behind this one.
    """
    opts = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
            "-o", "ConnectTimeout=30", "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=4"]  # fmt: skip
    if ssh_key is not None:
        opts[:0] = ["-o", "IdentitiesOnly=yes"]
    return ["ssh", *opts]


def ssh_command(ssh_key: Path | None, extra: Sequence[str] = ()) -> str:
    """The ``ssh`` command line dulwich runs (it adds ``-i KEY`` itself)."""
    return shlex.join([*ssh_options(ssh_key), *extra])


def open_repo(path: Path) -> Repo:
    """Open the repository at ``path`` (working tree or bare)."""
    try:
        return Repo(str(path))
    except NotGitRepository:
        raise NotARepositoryError(f"{path} is not a git repository") from None


def origin_url(repo: Repo) -> str | None:
    """The ``origin`` remote's URL, used when the config names no git_url."""
    try:
        url = repo.get_config().get((b"remote", b"origin"), b"url")
    except KeyError:
        return None
    return url.decode("utf-8", "replace") if url else None


def branch_ref(branch: str, prefix: bytes = b"refs/heads/") -> Ref:
    """``refs/heads/<branch>`` (or another prefix) as dulwich's ref type."""
    return cast("Ref", prefix + branch.encode("utf-8"))


def as_sha(sha: bytes) -> ObjectID:
    """A hex sha as dulwich's object id type."""
    return cast("ObjectID", sha)


def local_head(repo: Repo, branch: str) -> bytes | None:
    """The branch's head in ``repo``, or None.

    A working clone's remote-tracking ref (what was last fetched from origin) comes
    first, the local branch second; a bare clone holds the remote's branches as its own.
    """
    heads = [branch_ref(branch), branch_ref(branch, b"refs/remotes/origin/")]
    if not repo.bare:
        heads.reverse()
    for ref in heads:
        try:
            return repo.refs[ref]
        except KeyError:
            continue
    return None


def fetch_branch(
    repo: Repo,
    url: str,
    branch: str,
    ssh_key: Path | None = None,
    progress: Callable[[bytes], None] | None = None,
    ssh_extra: Sequence[str] = (),
    timeouts: tuple[float, float] | None = None,
    unshallow: bool = False,
) -> bytes:
    """Fetch ``branch`` from ``url`` into ``repo``'s object store; return its head sha.

    ``unshallow``: ask for the whole history behind the head (``git fetch
    --unshallow``), for a shallow clone whose commits stop at a boundary.

    Refs are not touched here (see :func:`record_head`), so a fetch into a scratch
    repository (dry run) and a real one behave the same. ``ssh_extra`` are more
    ``ssh`` options (a shared connection's socket, see sshmux.py); ``timeouts``
    (connect, read) bound every HTTP(S) request, so a stalled server fails the repo
    with "Connection timeout" instead of hanging the run.
    """
    want_ref = b"refs/heads/" + branch.encode()
    found: dict[str, bytes] = {}

    def determine_wants(
        refs: Mapping[bytes, bytes | None], depth: int | None = None
    ) -> list[bytes]:
        sha = refs.get(want_ref)
        if sha is None:
            return []
        found["sha"] = sha
        if unshallow:
            return [sha]  # wanted even when present: the server sends what is behind it
        return [] if as_sha(sha) in repo.object_store else [sha]

    with remote(url, ssh_key, ssh_extra, timeouts) as (client, remote_path):
        client.fetch(
            remote_path,
            repo,
            determine_wants=determine_wants,  # type: ignore[arg-type]
            ref_prefix=[want_ref],
            progress=progress,
            depth=UNSHALLOW_DEPTH if unshallow else None,
        )
    if "sha" not in found:
        raise BranchNotFoundError(branch, redact_url(url))
    return found["sha"]


def remote_head(
    url: str,
    branch: str,
    ssh_key: Path | None = None,
    timeouts: tuple[float, float] | None = None,
) -> bytes | None:
    """The branch's head on the remote (``git ls-remote``), or None when it has no such branch."""
    want_ref = branch_ref(branch)
    with remote(url, ssh_key, (), timeouts) as (client, remote_path):
        path = remote_path.encode() if isinstance(remote_path, str) else remote_path
        sha = client.get_refs(path, ref_prefix=[want_ref]).refs.get(want_ref)
    return bytes(sha) if sha else None


@contextlib.contextmanager
def remote(
    url: str,
    ssh_key: Path | None,
    ssh_extra: Sequence[str],
    timeouts: tuple[float, float] | None,
) -> Iterator[tuple[GitClient, str]]:
    """A dulwich client for ``url`` and the path to ask it for; its errors as FetchError.

    Every connection it opened is closed on the way out (see :func:`_track_connections`).
    """
    shown = redact_url(url)
    try:
        client, remote_path = get_transport_and_path(
            url,
            key_filename=str(ssh_key) if ssh_key else None,
            ssh_command=ssh_command(ssh_key, ssh_extra) if is_ssh_url(url) else None,
            quiet=True,
            pool_manager=_http_pool(url, timeouts),
        )
    except ValueError as exc:
        raise FetchError(f"cannot fetch from {shown}: {exc}") from None
    opened = _track_connections(client)
    try:
        yield client, remote_path
    except HTTPUnauthorized:
        raise FetchError(
            f"fetch from {shown} failed: the remote asks for credentials",
            hint="Use an SSH git_url with ssh_key, or a URL that needs no login.",
        ) from None
    except NotGitRepository:
        raise FetchError(f"fetch from {shown} failed: not a git repository") from None
    except (GitProtocolError, OSError, urllib3.exceptions.HTTPError) as exc:
        # HangupException is a GitProtocolError carrying ssh's own message.
        raise _fetch_failed(url, exc) from None
    except KeyError as exc:  # dulwich: an object missing (a shallow or damaged remote)
        missing = exc.args[0] if exc.args else b"?"
        sha = missing.decode("ascii", "replace") if isinstance(missing, bytes) else missing
        raise FetchError(
            f"fetch from {shown} failed: object {sha} is missing "
            "(is the remote itself shallow or damaged?)"
        ) from None
    finally:
        for proto in opened:
            proto.close()  # idempotent: a no-op for connections dulwich closed itself
        client.close()


def _http_pool(url: str, timeouts: tuple[float, float] | None) -> Any:
    """dulwich's own pool manager for an HTTP(S) URL, with our timeouts; else None."""
    if timeouts is None or not url.lower().startswith(("http://", "https://")):
        return None
    connect, read = timeouts
    timeout = urllib3.Timeout(connect=connect, read=read)
    # dulwich passes the value through to urllib3, which takes a Timeout as well.
    return default_urllib3_manager(None, timeout=cast(float, timeout))


# What ssh, urllib3 (wrapped by dulwich) and the OS say when the remote cannot be
# reached, and how the guide names it.
_UNREACHABLE = (
    ("timed out", "Connection timeout", "timed out"),
    ("Connection refused", "Connection refused", "connection refused"),
    ("Name or service not known", "Unknown host", "host name not found"),
    ("Failed to resolve", "Unknown host", "host name not found"),
    ("Could not resolve hostname", "Unknown host", "host name not found"),
    ("No route to host", "Connection failed", "no route to host"),
    ("Network is unreachable", "Connection failed", "network unreachable"),
)


def _fetch_failed(url: str, exc: BaseException) -> FetchError:
    """The error for a failed fetch, titled by what happened when the remote is unreachable.

    "Connection timeout" (the guide's words) only when it timed out: a refused
    connection and a host name that does not resolve call for different fixes.
    """
    shown = redact_url(url)
    text = str(exc).replace(url, shown)
    url = shown
    for marker, title, reason in _UNREACHABLE:
        if marker in text:
            return FetchError(
                f"{title}: fetch from {url} failed ({reason})",
                hint="1. Check git_url\n2. Verify network connectivity\n"
                "3. Check firewall rules\n4. The next run tries again",
            )
    return FetchError(f"fetch from {url} failed: {text}")


def _track_connections(client: GitClient) -> list[Protocol]:
    """Record the connections ``client`` opens, so that they can be closed for sure.

    dulwich 1.2 leaves a connection open when the remote hangs up before the handshake
    (an SSH login refused, say): its ssh process and pipes then leak until the garbage
    collector warns. Wrapping ``_connect`` is the one place that sees every connection.
    """
    opened: list[Protocol] = []
    connect = getattr(client, "_connect", None)
    if connect is None:  # local and HTTP clients hold no such connection
        return opened

    def tracking_connect(*args: Any, **kwargs: Any) -> Any:
        conn = connect(*args, **kwargs)
        opened.append(conn[0])
        return conn

    client._connect = tracking_connect  # type: ignore[attr-defined]
    return opened


def record_head(repo: Repo, branch: str, sha: bytes, url: str) -> None:
    """Remember what was fetched, the way ``git fetch`` would.

    Bare clones mirror the remote, so their own branch moves. A working clone gets
    ``refs/remotes/origin/<branch>`` only when origin is the configured URL: the user's
    local branches are never moved.
    """
    if repo.bare:
        ref = branch_ref(branch)
    else:
        origin = origin_url(repo)
        if origin is None or normalize_git_url(origin) != normalize_git_url(url):
            return
        ref = branch_ref(branch, b"refs/remotes/origin/")
    try:
        current: bytes | None = repo.refs[ref]
    except KeyError:
        current = None
    if current != sha:  # an unchanged ref is not rewritten (many repos, cron)
        repo.refs[ref] = as_sha(sha)


def init_clone(path: Path, url: str, branch: str) -> Repo:
    """Create an empty bare repository at ``path`` whose origin is ``url``.

    The caller fetches into it; :func:`remove_failed_clone` takes it away again when that
    first fetch fails, so that the next run starts afresh.
    """
    path.mkdir(parents=True)
    repo = Repo.init_bare(str(path))
    config = repo.get_config()
    config.set((b"remote", b"origin"), b"url", url.encode())
    config.set((b"remote", b"origin"), b"fetch", b"+refs/heads/*:refs/heads/*")
    config.write_to_path()
    repo.refs.set_symbolic_ref(cast("Ref", b"HEAD"), branch_ref(branch))
    return repo


def remove_failed_clone(repo: Repo) -> None:
    """Close and delete a repository made by :func:`init_clone` whose first fetch failed."""
    path = repo.path
    repo.close()
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def scratch_repo(base: Repo | None) -> Iterator[Repo]:
    """A temporary bare repository that sees ``base``'s objects through an alternate.

    A dry run fetches into it, so the real repository gains no object and no ref; the
    copied heads let the remote send only what ``base`` lacks.
    """
    with tempfile.TemporaryDirectory(prefix="gitleague-dry-run-") as tmp:
        scratch = Repo.init_bare(tmp)
        try:
            if base is not None:
                scratch.object_store.add_alternate_path(base.object_store.path)  # type: ignore[attr-defined]
                for ref, sha in base.get_refs().items():
                    if ref.startswith((b"refs/heads/", b"refs/remotes/")):
                        scratch.refs[ref] = sha
            yield scratch
        finally:
            scratch.close()
