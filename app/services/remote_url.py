"""Where a git URL points: its origin, and whether a stored token may follow it.

A stored token is sent to the remote's origin (scheme, host, port) as basic
auth. :func:`origin` is what decides whether a changed ``git_url`` still
points at the origin the token was given for; it parses URLs the way
urllib3 (the HTTP stack dulwich fetches with) does.
"""

from __future__ import annotations

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from .. import models

_DEFAULT_PORTS = {"http": 80, "https": 443, "ssh": 22, "git": 9418}

Origin = tuple[str, str, int | None]


def origin(url: str) -> Origin | None:
    """``(scheme, host, port)`` of ``url`` with default ports filled in; None when unparsable.

    Local paths are ``("file", "", None)``; scp-like ``user@host:path`` is ssh.
    """
    if "://" not in url:
        if url.startswith(("/", "~", ".")):
            return ("file", "", None)
        host = url.split(":", 1)[0].rpartition("@")[2]
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
