"""The server's git layer: ls-remote, bare mirrors, branch fetch (URL policy: remote_url).

Everything is dulwich; no git binary runs, so a token never reaches a
process's argv, a git config file or a URL. Credentials go to dulwich's
HTTP client as basic-auth fields (sent only to the remote's own origin),
and every error message names the URL as configured, which holds no
secret (URLs with user info are refused). HTTP(S) connections go only to
the address :func:`check_remote_url` checked, and redirects are refused.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from dulwich.client import (
    GitClient,
    HTTPUnauthorized,
    Urllib3HttpGitClient,
    default_user_agent_string,
)
from dulwich.client import get_transport_and_path as _local_transport
from dulwich.errors import GitProtocolError, HangupException, NotGitRepository
from dulwich.repo import Repo as GitRepo
from gitleague_client.fetch import branch_ref, init_clone, record_head
from gitleague_client.urls import normalize_git_url
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from ..errors import GitLeagueError
from .credentials import Credentials
from .remote_url import PinnedPoolManager, RemoteTarget, RemoteUrlRefusedError, check_remote_url

__all__ = [
    "AuthenticationFailedError",
    "BranchNotFoundError",
    "RemoteError",
    "RemoteRedirectError",
    "RemoteRepositoryNotFoundError",
    "RemoteTarget",
    "RemoteTimeoutError",
    "RemoteUrlRefusedError",
    "check_remote_url",
    "checked_mirror_path",
    "fetch_branch",
    "mirror_path",
    "open_mirror",
    "remote_head",
    "remove_mirror",
]


class RemoteError(GitLeagueError):
    """A pull could not read the remote; ``kind`` says why, ``permanent`` whether to retry."""

    code = "remote_error"
    status = 502
    kind = "network"
    permanent = False


class AuthenticationFailedError(RemoteError):
    """The remote refused the token."""

    kind, permanent = "authentication failed", True


class RemoteRepositoryNotFoundError(RemoteError):
    """The remote has no repository at that URL (or hides it from this token)."""

    kind, permanent = "repository not found", True


class BranchNotFoundError(RemoteError):
    """The configured branch does not exist on the remote."""

    kind, permanent = "branch not found", True


class RemoteTimeoutError(RemoteError):
    """The remote did not answer in time."""

    kind = "timeout"


class RemoteRedirectError(RemoteError):
    """The remote answered with a redirect, which a pull never follows."""

    kind, permanent = "redirected", True


# -- talking to the remote -----------------------------------------------------


class _HttpClient(Urllib3HttpGitClient):
    """dulwich's HTTP client, releasing the connection of a refused request.

    dulwich 1.2 raises on 401/404/other statuses without releasing the
    response it opened unread, leaking its socket until garbage collection.
    A redirect is refused, not followed: its target was never checked.
    """

    def _http_request(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        data: Any = None,
        raise_for_status: bool = True,
    ) -> Any:
        resp, read = super()._http_request(url, headers, data, raise_for_status=False)
        if not raise_for_status or resp.status == 200:
            return resp, read
        status, challenge = resp.status, resp.headers.get("WWW-Authenticate")
        location = resp.headers.get("Location")
        resp.close()  # urllib3 2: close the socket, then give the slot back
        resp.release_conn()  # type: ignore[attr-defined]
        if 300 <= status < 400:
            raise RemoteRedirectError(
                f"the remote {self._base_url} redirected to {_shown(location)}: pull sync "
                "follows no redirect; set git_url to the repository's current https URL"
            )
        if status == 404:
            raise NotGitRepository
        if status == 401:
            raise HTTPUnauthorized(challenge, url)
        raise GitProtocolError(f"unexpected http resp {status} for {url}")


def _shown(location: str | None) -> str:
    """A redirect target without user info or query (either could hold a secret)."""
    try:
        parts = parse_url(location or "")
    except LocationParseError:
        return "an unreadable location"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme or 'https'}://{parts.host or '?'}{port}{parts.path or ''}"


def _client(
    target: RemoteTarget, creds: Credentials | None, timeout: float
) -> tuple[GitClient, str]:
    """A dulwich client for ``target``; http(s) connects only to its checked address."""
    if target.address is None:
        return _local_transport(target.url, quiet=True)
    pool = PinnedPoolManager(
        target,
        headers={"User-agent": default_user_agent_string()},
        cert_reqs="CERT_REQUIRED",
        timeout=timeout,
    )
    http = _HttpClient(
        target.url,
        pool_manager=pool,
        username=creds.http_username if creds else None,
        password=creds.token if creds else None,
        timeout=timeout,
        quiet=True,
    )
    return http, ""


def _root_cause(exc: BaseException) -> BaseException:
    """dulwich wraps urllib3's errors in GitProtocolError; the cause says what happened."""
    seen = exc
    while seen.__cause__ is not None:
        seen = seen.__cause__
    reason = getattr(seen, "reason", None)  # urllib3's MaxRetryError carries the real one
    return reason if isinstance(reason, BaseException) else seen


def _translate(exc: BaseException, url: str) -> RemoteError:
    """A readable, secret-free error for what dulwich or urllib3 raised."""
    if isinstance(exc, HTTPUnauthorized):
        return AuthenticationFailedError(f"authentication failed for {url}: check the token")
    if isinstance(exc, NotGitRepository):
        return RemoteRepositoryNotFoundError(f"repository not found: {url}")
    cause = _root_cause(exc)
    name = type(cause).__name__
    if "Timeout" in name or isinstance(cause, TimeoutError):
        return RemoteTimeoutError(f"timeout talking to {url}")
    if "unexpected http resp 403" in str(exc):
        return AuthenticationFailedError(f"authentication failed for {url}: access denied")
    if "NewConnectionError" in name or "NameResolution" in name or "refused" in str(cause):
        return RemoteError(f"network: cannot reach {url}: {_short(cause)}")
    if isinstance(exc, HangupException | ValueError) or "ProtocolError" in name:
        # dulwich raises ValueError for a pack cut short ("truncated pack")
        return RemoteError(f"network: the remote {url} broke off: {name}")
    return RemoteError(f"network: cannot read from {url}: {name}")


def _short(cause: BaseException) -> str:
    text = str(cause)
    for known in ("Connection refused", "Name or service not known", "No route to host"):
        if known in text:
            return known.lower()
    return type(cause).__name__


def _network_errors() -> tuple[type[BaseException], ...]:
    from urllib3.exceptions import HTTPError as Urllib3Error

    return (
        HTTPUnauthorized,
        NotGitRepository,
        GitProtocolError,
        HangupException,
        Urllib3Error,
        OSError,
        ValueError,
    )


def remote_head(
    target: RemoteTarget, branch: str, creds: Credentials | None, *, timeout: float
) -> bytes | None:
    """The branch's head sha on the remote (``git ls-remote``), None when no such branch.

    ``target`` comes from :func:`check_remote_url`, which picked the address.
    """
    url = target.url
    client, path = _client(target, creds, timeout)
    want = branch_ref(branch)
    try:
        refs = client.get_refs(path.encode(), ref_prefix=[want]).refs
    except _network_errors() as exc:
        raise _translate(exc, url) from None
    finally:
        client.close()
    sha = refs.get(want)
    return bytes(sha) if sha else None


def fetch_branch(
    mirror: GitRepo,
    target: RemoteTarget,
    branch: str,
    creds: Credentials | None,
    *,
    timeout: float,
) -> bytes:
    """Fetch only ``branch`` into ``mirror`` and move the mirror's branch; returns the head."""
    url = target.url
    want_ref = branch_ref(branch)
    found: dict[str, bytes] = {}

    def wants(refs: Mapping[bytes, bytes | None], depth: int | None = None) -> list[bytes]:
        sha = refs.get(want_ref)
        if sha is None:
            return []
        found["sha"] = sha
        return [] if cast(Any, sha) in mirror.object_store else [sha]

    client, path = _client(target, creds, timeout)
    try:
        client.fetch(
            path,
            mirror,
            determine_wants=wants,  # type: ignore[arg-type]
            ref_prefix=[want_ref],
        )
    except _network_errors() as exc:
        raise _translate(exc, url) from None
    finally:
        client.close()
    if "sha" not in found:
        raise BranchNotFoundError(f"branch not found: '{branch}' in {url}")
    record_head(mirror, branch, found["sha"], url)
    return found["sha"]


# -- mirrors -------------------------------------------------------------------


def mirror_path(mirror_dir: str | os.PathLike[str], repo_id: str) -> Path:
    """Where ``repo_id``'s bare mirror lives."""
    return Path(mirror_dir) / f"{repo_id}.git"


def checked_mirror_path(mirror_dir: str | os.PathLike[str], repo_id: str) -> Path:
    """:func:`mirror_path`, refusing (``ValueError``) an id that leads out of ``mirror_dir``."""
    root = Path(mirror_dir).resolve()
    path = mirror_path(root, repo_id)
    if path.parent != root or path.name != f"{repo_id}.git" or repo_id in ("", ".", ".."):
        raise ValueError(f"not a mirror of {mirror_dir}: {repo_id!r}")
    return path


def remove_mirror(mirror_dir: str | os.PathLike[str], repo_id: str) -> bool:
    """Delete ``repo_id``'s bare mirror; returns whether a folder was removed.

    Only the folder :func:`mirror_path` names, directly inside ``mirror_dir``,
    is touched: an id that would point elsewhere, or a symlink in the
    mirror's place (the pull never makes one), is refused with ``ValueError``.
    A missing mirror is not an error. ``OSError`` (permissions) reaches the caller.
    """
    path = checked_mirror_path(mirror_dir, repo_id)
    if path.is_symlink():
        raise ValueError(f"{path} is a symlink, not a mirror")
    if not path.exists():
        return False
    # rmtree unlinks symlinks found inside rather than following them.
    shutil.rmtree(path)
    return True


def open_mirror(path: Path, url: str, branch: str) -> GitRepo:
    """The bare mirror at ``path`` whose origin is ``url``; made afresh when absent or foreign.

    A mirror whose origin is another repository (the repo's git_url was
    changed, or the folder holds something else) is deleted and recreated,
    so commits of one remote are never read as another's.
    """
    if path.exists():
        try:
            repo = GitRepo(str(path))
            origin = repo.get_config().get((b"remote", b"origin"), b"url").decode()
            if repo.bare and normalize_git_url(origin) == normalize_git_url(url):
                return repo
            repo.close()
        except (NotGitRepository, KeyError, UnicodeDecodeError, OSError):
            pass
        shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return init_clone(path, url, branch)
