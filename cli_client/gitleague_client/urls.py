"""Git URL forms: which ones the client accepts, and one normalized form to compare them.

``git@github.com:org/x.git``, ``https://github.com/org/x`` and
``ssh://git@github.com/org/x.git`` name one repository; the server matches them the
same way, so ``--repo``, ``init --scan`` and ``test`` compare normalized forms.
"""

from __future__ import annotations

import os
import re
from urllib.parse import SplitResult, urlsplit

#: Schemes dulwich can fetch from.
SCHEMES = frozenset({"http", "https", "ssh", "git", "git+ssh", "ssh+git", "file"})

# user@host:path, as git and ssh write it (scp-like syntax). The host part must not
# look like a Windows drive letter ("C:\\x"), hence two or more characters.
_SCP_RE = re.compile(r"^(?:(?P<user>[^@/\s]+)@)?(?P<host>[A-Za-z0-9.\-]{2,}):(?P<path>[^/\\].*)$")


def split_url(url: str) -> SplitResult | None:
    """``urlsplit(url)``, or None for what it refuses (``https://a]/b``: "Invalid IPv6 URL")."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def redact_url(url: str) -> str:
    """``url`` without the secrets people put in it, fit to print or to send to the server.

    ``https://x-access-token:ghp_...@github.com/o/r`` becomes ``https://github.com/o/r``:
    over HTTP(S) the user part of a URL is a credential (a token as user name works too).
    An SSH login name stays (it is not a secret, and ``git@`` is part of the address);
    a password never does. SCP-like ``git@host:path`` carries no password.
    """
    if "://" not in url or "@" not in url:
        return url
    parts = split_url(url)
    if parts is None or parts.hostname is None:
        # Not a URL we can take apart: keep only what follows the last "@".
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{rest.rsplit('@', 1)[-1]}"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if parts.username and parts.scheme.lower() in {"ssh", "git+ssh", "ssh+git"}:
        netloc = f"{parts.username}@{netloc}"
    return parts._replace(netloc=netloc).geturl()


_USERINFO_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@]+@")


def redact_text(text: str) -> str:
    """``text`` (an error message) with the user info of every URL in it removed."""
    return _USERINFO_RE.sub(lambda m: m.group("scheme"), text)


def url_problem(url: str) -> str | None:
    """Return why ``url`` is not a git URL the client can fetch, or None when it is."""
    if not url.strip() or url != url.strip():
        return "must be a non-empty URL without surrounding spaces"
    if "://" in url:
        parts = split_url(url)
        if parts is None:
            return "not a valid URL (unbalanced [ ] around the host?)"
        if parts.scheme.lower() not in SCHEMES:
            allowed = ", ".join(sorted(SCHEMES))
            return f"unsupported URL scheme {parts.scheme!r} (use one of: {allowed})"
        if parts.scheme.lower() != "file" and not parts.hostname:
            return "URL has no host name"
        try:
            parts.port  # noqa: B018 - urllib checks the port only when asked
        except ValueError:
            return "URL has an invalid port (use a number from 1 to 65535)"
        if not parts.path.strip("/"):
            return "URL has no repository path"
        return None
    if _is_local_path(url):
        return None
    m = _SCP_RE.match(url)
    if m and m.group("user"):
        return None
    return (
        "not a git URL: use https://host/org/repo.git, ssh://git@host/org/repo.git, "
        "git@host:org/repo.git or a local path"
    )


def is_ssh_url(url: str) -> bool:
    """True when fetching ``url`` goes through the system's ``ssh``."""
    if "://" in url:
        parts = split_url(url)
        return parts is not None and parts.scheme.lower() in {"ssh", "git+ssh", "ssh+git"}
    return not _is_local_path(url) and bool(_SCP_RE.match(url))


def ssh_login(url: str) -> tuple[str | None, str, int | None] | None:
    """``(user, host, port)`` of an SSH URL (user and port None when not given)."""
    if not is_ssh_url(url):
        return None
    if "://" in url:
        parts = split_url(url)
        if parts is None or not parts.hostname:
            return None
        try:
            return parts.username, parts.hostname, parts.port
        except ValueError:  # a port that is not a number
            return None
    m = _SCP_RE.match(url)
    return (m.group("user"), m.group("host"), None) if m else None


def normalize_git_url(url: str) -> str:
    """Return a comparable form: ``host/path`` without user, port 22, ``.git`` or case of host.

    Local paths become ``file://`` plus the absolute path, so that a path and its
    ``file://`` URL compare equal.
    """
    url = url.strip()
    if "://" in url:
        parts = split_url(url)
        if parts is None:
            return url
        if parts.scheme.lower() == "file":
            return "file://" + _clean_path(os.path.abspath(parts.path))
        host = (parts.hostname or "").lower()
        try:
            port = parts.port
        except ValueError:
            port = None
        if port and port not in (22, 80, 443, 9418):
            host = f"{host}:{port}"
        return host + "/" + _clean_path(parts.path)
    if _is_local_path(url):
        return "file://" + _clean_path(os.path.abspath(os.path.expanduser(url)))
    m = _SCP_RE.match(url)
    if m:
        return m.group("host").lower() + "/" + _clean_path(m.group("path"))
    return url


def _clean_path(path: str) -> str:
    path = path.replace("\\", "/").strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    return path.rstrip("/")


def _is_local_path(url: str) -> bool:
    # Windows drive paths ("C:\\repos\\x", "C:/repos/x") and POSIX/home paths.
    if re.match(r"^[A-Za-z]:[\\/]", url):
        return True
    return url.startswith(("/", "~", "./", "../", "\\\\"))
