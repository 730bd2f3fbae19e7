"""Which git URLs the server may fetch, and where exactly a fetch connects.

A stored token is sent to the remote's origin (scheme, host, port) as basic
auth, so the server must know that origin exactly as its HTTP stack
(urllib3, under dulwich) will see it. A URL that ``urllib.parse`` and
urllib3 read differently (``https://169.254.169.254\\@github.com/``) is
refused, as are backslashes, spaces, control characters and user info.
The host name is resolved once; every address must be global (unless
``GITLEAGUE_ALLOW_LOCAL_REMOTES``), and the fetch connects to the checked
address (:class:`PinnedPoolManager`) instead of resolving the name again,
so DNS cannot answer differently the second time. Redirects are not
followed (see :mod:`app.services.git_remote`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from .. import models
from ..errors import GitLeagueError, ValidationFailedError

_DEFAULT_PORTS = {"http": 80, "https": 443, "ssh": 22, "git": 9418}
#: Not global, whatever this Python's ``is_global`` says (it changed across 3.11-3.13).
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "::/96",  # IPv4-compatible (deprecated) addresses
        "64:ff9b::/96",  # NAT64: reaches the IPv4 address inside
        "64:ff9b:1::/48",
        "2002::/16",  # 6to4: likewise
        "2001::/32",  # Teredo
    )
)
_FORBIDDEN_CHARS = frozenset("\\ \t\r\n\x00\x7f") | frozenset(map(chr, range(32)))

Origin = tuple[str, str, int | None]


class RemoteUrlRefusedError(ValidationFailedError):
    """The URL is not allowed for pull sync (see :func:`check_remote_url`)."""

    code = "remote_url_refused"


class NameResolutionError(GitLeagueError):
    """DNS did not answer now (a retry may work); an unknown name is refused instead."""

    code = "remote_error"
    status = 502
    kind = "network"
    permanent = False


@dataclass(frozen=True)
class RemoteTarget:
    """A checked URL; for http(s), the one address every connection goes to."""

    url: str
    host: str | None = None
    address: str | None = None


def _refuse(reason: str) -> RemoteUrlRefusedError:
    return RemoteUrlRefusedError(f"remote URL refused: {reason}")


def _is_local_path(url: str) -> bool:
    """Whether ``url`` (one without ``scheme://``) is a local path: absolute, home or relative."""
    return url.startswith(("/", "~", "."))


def origin(url: str) -> Origin | None:
    """``(scheme, host, port)`` of ``url`` with default ports filled in; None when unparsable.

    Local paths are ``("file", "", None)``; scp-like ``user@host:path`` is ssh.
    """
    if "://" not in url:
        if _is_local_path(url):
            return ("file", "", None)
        host = url.partition(":")[0].rpartition("@")[2]
        return ("ssh", host.lower(), 22)
    try:
        parts = parse_url(url)
    except LocationParseError:
        return None
    scheme = (parts.scheme or "").lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme)
    return (scheme, (parts.host or "").lower(), port)


def token_may_follow(repo: models.Repo, new_url: str) -> bool:
    """Whether ``repo``'s stored token may be sent to ``new_url``: same origin only."""
    old = origin(repo.git_url)
    return old is not None and old == origin(new_url)


def has_user_info(url: str) -> bool:
    """Whether a ``scheme://`` URL carries ``user@`` or ``user:password@`` (by either parser)."""
    if "://" not in url:
        return False
    # Up to the first "/", so "host?@x" and "host#@x" count too: refusing
    # them costs nothing, and parsers disagree on where such an authority ends.
    return "@" in url.split("://", 1)[1].split("/", 1)[0]


#: Where a token belongs instead of a git URL (the message of every refusal).
TOKEN_HOME = (
    "a git URL must not hold user info or a token: store a pull token with "
    "PUT /api/v1/repos/<id>/credentials (or flask repos set-credentials), and give "
    "the push client its git credentials through git (a credential helper or ssh key) "
    "or its own config, not the URL"
)
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})


def user_info_problem(url: str) -> str | None:
    """Why ``url`` carries a secret, or None.

    Any user info in an http(s), git or file URL (``https://ghp_x@host`` is
    a token as much as ``https://user:pass@host``); a password in an ssh
    URL. An ssh login name alone (``git@host:org/x``, ``ssh://git@host/x``)
    is fine: it is not a secret.
    """
    if "://" in url:
        scheme, _, rest = url.partition("://")
        userinfo = rest.partition("/")[0].rpartition("@")[0]
        if not has_user_info(url):
            return None
        if scheme.lower() in _SSH_SCHEMES and ":" not in userinfo and "%" not in userinfo:
            return None
        return TOKEN_HOME
    user, at, _ = url.partition("@")
    if at and ":" in user.partition("/")[0] and not _is_local_path(url):
        return TOKEN_HOME
    return None


def authority(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of a ``scheme://`` URL; refused unless both parsers agree.

    ``urllib.parse`` (what this module and the client check) and urllib3
    (what connects) must see the same scheme, host, port and no user info.
    """
    if any(c in _FORBIDDEN_CHARS for c in url):
        raise _refuse("it contains a backslash, a space or a control character")
    if not url.isascii():
        raise _refuse("it contains non-ASCII characters (write the host in its xn-- form)")
    if has_user_info(url):
        raise _refuse(TOKEN_HOME)
    try:
        split = urlsplit(url)
        mine = (split.scheme.lower(), (split.hostname or "").lower(), split.port)
        theirs = parse_url(url)
    except (ValueError, LocationParseError):
        raise _refuse("it is not a well-formed URL") from None
    host = (theirs.host or "").lower()
    if host.startswith("["):
        host = host[1:-1]
    if mine != ((theirs.scheme or "").lower(), host, theirs.port) or "%" in split.netloc:
        raise _refuse("it is ambiguous (URL parsers disagree on its host)")
    return mine


def is_global(address: str) -> bool:
    """Whether ``address`` is globally routable (mapped and NAT64/6to4 forms refused)."""
    addr = ipaddress.ip_address(address.partition("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if not addr.is_global or addr.is_multicast:
        return False
    return not any(addr.version == net.version and addr in net for net in _NOT_GLOBAL)


def resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to; refused when the name does not exist."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except UnicodeError:
        raise _refuse(f"{host!r} is not a valid host name") from None
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_AGAIN, getattr(socket, "EAI_SYSTEM", None)):
            raise NameResolutionError(f"network: cannot resolve {host} now") from None
        raise _refuse(f"{host} does not resolve") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def server_dirs(config: Mapping[str, Any]) -> list[str]:
    """Folders of the server's own that no pull may read: the mirrors and the instance."""
    dirs = [config.get("GITLEAGUE_MIRROR_DIR"), config.get("GITLEAGUE_INSTANCE_DIR")]
    return [str(d) for d in dirs if d]


def _check_local_path(path: str, protected: Sequence[str]) -> None:
    """Refuse a path inside one of ``protected`` (symlinks resolved on both sides)."""
    for candidate in {path, unquote(path)}:
        real = Path(candidate).resolve()
        for folder in protected:
            inside = Path(folder).resolve()
            if real == inside or inside in real.parents:
                raise _refuse(
                    "it points inside the server's own mirror or instance folder "
                    "(another repository's mirror, the database, the secrets)"
                )


def check_remote_url(url: str, *, allow_local: bool, protected: Sequence[str] = ()) -> RemoteTarget:
    """Refuse URLs a server must not fetch; for http(s), pick the address to connect to.

    Always refused: ``ext::`` and other transport helpers, option-like
    values (a leading ``-``), scp-like and ssh URLs (pull uses HTTPS tokens),
    URLs with user info, ambiguous URLs (see :func:`authority`) and names
    that do not resolve. Local paths, ``file://``, plain ``http`` and
    addresses that are not global only with ``allow_local``, and no path
    inside the ``protected`` folders (see :func:`server_dirs`).
    """
    if not url or url != url.strip() or url.startswith("-") or "::" in url.split("/")[0]:
        # Not repeated: a refused URL may hold a secret.
        raise _refuse("it is not an https URL (no transport helpers or option-like values)")
    if "://" not in url:
        if allow_local and url.startswith("/"):
            _check_local_path(url, protected)
            return RemoteTarget(url)
        raise _refuse("pull sync needs an https:// URL")
    scheme, host, _port = authority(url)
    if scheme == "file" and allow_local:
        _check_local_path(urlsplit(url).path, protected)
        return RemoteTarget(url)
    if scheme != "https" and not (allow_local and scheme == "http"):
        raise _refuse(f"scheme {scheme!r} (pull sync uses https)")
    if not host:
        raise _refuse("it has no host name")
    addresses = resolve(host)
    if not allow_local:
        for address in addresses:
            if not is_global(address):
                raise _refuse(
                    f"{host} is a loopback, private or otherwise non-global address "
                    f"({address}; set GITLEAGUE_ALLOW_LOCAL_REMOTES=true on self-hosted servers)"
                )
    return RemoteTarget(url, host, addresses[0])


# -- connecting to the checked address ----------------------------------------


def _pinned(base: type[HTTPConnection], address: str) -> type[HTTPConnection]:
    """``base`` opening its socket to ``address``; the host name still names the server.

    urllib3 resolves and connects to ``_dns_host`` in ``_new_conn`` only, and
    reads the same attribute (as ``host``) for the Host header, TLS SNI and
    the certificate check; so it holds the checked address for the socket
    and the name again for everything after. A connection is used by one
    thread at a time.
    """

    class Pinned(base):  # type: ignore[valid-type,misc]
        def _new_conn(self) -> Any:
            name, self._dns_host = self._dns_host, address  # type: ignore[has-type]
            try:
                return super()._new_conn()
            finally:
                self._dns_host = name

    return Pinned


class PinnedPoolManager(PoolManager):
    """A urllib3 pool manager that reaches only ``target``'s host, at its checked address."""

    def __init__(self, target: RemoteTarget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if target.host is None or target.address is None:
            raise ValueError("PinnedPoolManager needs an http(s) target")
        self.target = target
        self._classes = {
            "http": _pinned(HTTPConnection, target.address),
            "https": _pinned(HTTPSConnection, target.address),
        }

    def urlopen(  # type: ignore[override]
        self, method: str, url: str, redirect: bool = True, **kw: Any
    ) -> Any:
        """Every request, with redirects returned to the caller instead of followed."""
        return super().urlopen(method, url, redirect=False, **kw)

    def _new_pool(
        self,
        scheme: str,
        host: str,
        port: int,
        request_context: dict[str, Any] | None = None,
    ) -> HTTPConnectionPool:
        if host.strip("[]").lower() != self.target.host:
            raise _refuse(f"{host} is not the checked host {self.target.host}")
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.ConnectionCls = self._classes[scheme]  # type: ignore[assignment]
        return pool
