"""The server's git layer: remote URL policy, ls-remote, bare mirrors, branch fetch.

Everything is dulwich; no git binary runs, so a token never reaches a
process's argv, a git config file or a URL. Credentials go to dulwich's
HTTP client as basic-auth fields (sent only to the remote's own origin),
and every error message names the URL as configured, which holds no
secret (URLs with a password in them are refused).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from dulwich.client import GitClient, HTTPUnauthorized, Urllib3HttpGitClient
from dulwich.client import get_transport_and_path as _local_transport
from dulwich.errors import GitProtocolError, HangupException, NotGitRepository
from dulwich.repo import Repo as GitRepo
from gitleague_client.fetch import branch_ref, init_clone, record_head
from gitleague_client.urls import normalize_git_url

from ..errors import GitLeagueError, ValidationFailedError
from .credentials import Credentials


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


class RemoteUrlRefusedError(ValidationFailedError):
    """The URL is not allowed for pull sync (see :func:`check_remote_url`)."""

    code = "remote_url_refused"


# -- URL policy ----------------------------------------------------------------


def check_remote_url(url: str, *, allow_local: bool) -> None:
    """Refuse URLs a server must not fetch.

    Always refused: ``ext::`` and other transport helpers, option-like
    values (a leading ``-``), scp-like and ssh URLs (pull uses HTTPS tokens),
    and URLs carrying a password. Local paths, ``file://``, plain ``http``
    and loopback or private addresses only with ``allow_local``.
    """
    if not url or url != url.strip() or url.startswith("-") or "::" in url.split("/")[0]:
        raise RemoteUrlRefusedError(f"remote URL refused: {url[:200]!r} is not an https URL")
    if "://" not in url:
        if allow_local and url.startswith("/"):
            return
        raise RemoteUrlRefusedError("remote URL refused: pull sync needs an https:// URL")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if parts.password is not None:
        raise RemoteUrlRefusedError(
            "remote URL refused: it contains a password; store the token as credentials"
        )
    if scheme == "https" or (allow_local and scheme in ("http", "file")):
        if scheme != "file" and not parts.hostname:
            raise RemoteUrlRefusedError("remote URL refused: it has no host name")
        if scheme != "file" and not allow_local and _is_internal(parts.hostname or ""):
            raise RemoteUrlRefusedError(
                f"remote URL refused: {parts.hostname} is a loopback or private address "
                "(set GITLEAGUE_ALLOW_LOCAL_REMOTES=true on self-hosted servers)"
            )
        return
    raise RemoteUrlRefusedError(f"remote URL refused: scheme {scheme!r} (pull sync uses https)")


def _is_internal(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return False  # cannot resolve: the fetch will fail with a network error
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_unspecified:
            return True
    return False


# -- talking to the remote -----------------------------------------------------


class _HttpClient(Urllib3HttpGitClient):
    """dulwich's HTTP client, releasing the connection of a refused request.

    dulwich 1.2 raises on 401/404/other statuses without releasing the
    response it opened unread, leaking its socket until garbage collection.
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
        resp.close()  # urllib3 2: close the socket, then give the slot back
        resp.release_conn()  # type: ignore[attr-defined]
        if status == 404:
            raise NotGitRepository
        if status == 401:
            raise HTTPUnauthorized(challenge, url)
        raise GitProtocolError(f"unexpected http resp {status} for {url}")


def _client(url: str, creds: Credentials | None, timeout: float) -> tuple[GitClient, str]:
    scheme = urlsplit(url).scheme.lower() if "://" in url else "file"
    if scheme in ("http", "https"):
        http = _HttpClient(
            url,
            username=creds.http_username if creds else None,
            password=creds.token if creds else None,
            timeout=timeout,
            quiet=True,
        )
        return http, ""
    return _local_transport(url, quiet=True)


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
    url: str, branch: str, creds: Credentials | None, *, timeout: float
) -> bytes | None:
    """The branch's head sha on the remote (``git ls-remote``), None when no such branch."""
    client, path = _client(url, creds, timeout)
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
    mirror: GitRepo, url: str, branch: str, creds: Credentials | None, *, timeout: float
) -> bytes:
    """Fetch only ``branch`` into ``mirror`` and move the mirror's branch; returns the head."""
    want_ref = branch_ref(branch)
    found: dict[str, bytes] = {}

    def wants(refs: Mapping[bytes, bytes | None], depth: int | None = None) -> list[bytes]:
        sha = refs.get(want_ref)
        if sha is None:
            return []
        found["sha"] = sha
        return [] if cast(Any, sha) in mirror.object_store else [sha]

    client, path = _client(url, creds, timeout)
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
