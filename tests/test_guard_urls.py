"""Guards for the server's remote URL policy (issue 14): what a pull job may fetch.

``check_remote_url`` keeps the server from fetching through transport helpers,
option-like values, its own loopback or private network, or URLs carrying
a password. Addresses are IP literals and names that resolve without a
network (``localhost``, an over-long label), so these tests stay offline.
"""

from __future__ import annotations

import pytest

from app.services.remote_url import (
    TOKEN_HOME,
    RemoteUrlRefusedError,
    check_remote_url,
    is_global,
    origin,
    user_info_problem,
)

NOT_HTTPS = "is not an https URL"
NEEDS_HTTPS = "pull sync needs an https:// URL"
NO_HOST = "it has no host name"
INTERNAL = "is a loopback, private or otherwise non-global address"
PASSWORD = "must not hold user info or a token"
UNRESOLVED = "does not resolve"
SCHEME = "(pull sync uses https)"
CHARACTERS = "it contains a backslash, a space or a control character"
NON_ASCII = "it contains non-ASCII characters"
AMBIGUOUS = "it is ambiguous (URL parsers disagree on its host)"

CASES = [
    # url, allow_local, refusal (None: accepted)
    ("https://8.8.8.8/org/x.git", False, None),
    ("HTTPS://8.8.8.8/org/x.git", False, None),
    ("https://user@8.8.8.8/org/x.git", False, PASSWORD),
    ("https://name.invalid/x.git", True, UNRESOLVED),
    ("", True, NOT_HTTPS),
    (" https://github.com/x", True, NOT_HTTPS),
    ("https://github.com/x\n", True, NOT_HTTPS),
    ("-https://github.com/x", True, NOT_HTTPS),
    ("ext::sh -c x/y", True, NOT_HTTPS),
    ("fd::17/x", True, NOT_HTTPS),
    ("relative/path.git", True, NEEDS_HTTPS),
    ("/srv/git/x.git", False, NEEDS_HTTPS),
    ("/srv/git/x.git", True, None),
    ("https://u:secret@github.com/x", True, PASSWORD),
    ("https://u:@github.com/x", False, PASSWORD),
    ("https:///x.git", True, NO_HOST),
    ("http:///x.git", True, NO_HOST),
    ("http://github.com/x.git", False, SCHEME),
    ("http://8.8.4.4/x.git", True, None),
    ("file:///srv/git/x.git", False, SCHEME),
    ("file:///srv/git/x.git", True, None),
    ("ssh://github.com/x.git", True, SCHEME),
    ("git://github.com/x.git", True, SCHEME),
    ("ftp://github.com/x.git", True, SCHEME),
    ("https://127.0.0.1/x.git", False, INTERNAL),
    ("https://127.0.0.1/x.git", True, None),
    ("https://localhost/x.git", False, INTERNAL),
    ("https://10.0.0.1/x.git", False, INTERNAL),
    ("https://192.168.1.1/x.git", False, INTERNAL),
    ("https://169.254.169.254/x.git", False, INTERNAL),
    ("https://0.0.0.0/x.git", False, INTERNAL),
    ("https://[::1]/x.git", False, INTERNAL),
    ("https://[fe80::1]/x.git", False, INTERNAL),
    ("http://10.0.0.1/x.git", True, None),
    # Each refused by its own check alone: the later ones would accept them.
    ("https://8.8.8.8/x y.git", False, CHARACTERS),
    ("https://8.8.8.8/x\\y.git", False, CHARACTERS),
    ("https://8.8.8.8/x\x7f.git", False, CHARACTERS),
    ("https://8.8.8.8/\u00e9.git", False, NON_ASCII),
    ("https://[2001:4860:4860::8888%251]/x.git", False, AMBIGUOUS),  # a zone id
    ("https://8.8.8.8%2f/x.git", False, AMBIGUOUS),  # parsers agree, but on an escape
]


@pytest.mark.parametrize(("url", "allow_local", "refusal"), CASES)
def test_remote_url_policy(url, allow_local, refusal):
    """Each URL refused with its own reason, or accepted and returned as the target's URL."""
    if refusal is None:
        assert check_remote_url(url, allow_local=allow_local).url == url
        return
    with pytest.raises(RemoteUrlRefusedError) as info:
        check_remote_url(url, allow_local=allow_local)
    assert info.value.message.startswith("remote URL refused: ")
    assert refusal in info.value.message
    assert "secret" not in info.value.message


def test_refusal_names_the_address_and_the_setting():
    """The refusal of a non-global address says which address and which setting allows it."""
    with pytest.raises(RemoteUrlRefusedError) as info:
        check_remote_url("https://10.1.2.3/x.git", allow_local=False)
    assert info.value.message == (
        "remote URL refused: 10.1.2.3 is a loopback, private or otherwise non-global address "
        "(10.1.2.3; set GITLEAGUE_ALLOW_LOCAL_REMOTES=true on self-hosted servers)"
    )


@pytest.mark.parametrize(
    ("address", "is_public"),
    [
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("::1", False),
        ("10.255.0.1", False),
        ("172.16.0.1", False),
        ("169.254.0.1", False),
        ("100.64.0.1", False),
        ("fe80::1", False),
        ("0.0.0.0", False),
        ("::", False),
        ("64:ff9b::a00:1", False),
        ("2002:a00:1::", False),
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
    ],
)
def test_global_addresses(address, is_public):
    """Loopback, private, link-local, CGNAT, unspecified and NAT64/6to4 forms are not global."""
    assert is_global(address) is is_public


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/srv/git/x.git", ("file", "", None)),
        ("~/x.git", ("file", "", None)),
        ("./x.git", ("file", "", None)),
        ("file:///srv/git/x.git", ("file", "", None)),
        ("git@GitHub.com:org/x.git", ("ssh", "github.com", 22)),
        ("git@host.example:a@b:c", ("ssh", "host.example", 22)),
        ("github.com:org/x.git", ("ssh", "github.com", 22)),
        ("HTTPS://GitHub.com/x", ("https", "github.com", 443)),
        ("https://github.com:8443/x", ("https", "github.com", 8443)),
        ("http://github.com/x", ("http", "github.com", 80)),
        ("ssh://github.com/x", ("ssh", "github.com", 22)),
        ("git://github.com/x", ("git", "github.com", 9418)),
        ("https://[::1/x", None),
        ("https://github.com:99999/x", None),
    ],
)
def test_origin_is_scheme_host_and_port(url, expected):
    """A stored token follows a changed git_url only to this same origin (token_may_follow)."""
    assert origin(url) == expected


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("https://github.com/x", False),
        ("https://ghp_x@github.com/x", True),
        ("https://u:p@github.com/x", True),
        ("https://@github.com/x", True),
        ("https://github.com/x@y", False),
        ("git://u@github.com/x", True),
        ("file://u@/srv/x", True),
        ("ssh://git@github.com/x", False),
        ("SSH://git@github.com/x", False),
        ("git+ssh://git@github.com/x", False),
        ("ssh+git://git@github.com/x", False),
        ("ssh://git@github.com/a:b@c", False),
        ("ssh://git:pw@github.com/x", True),
        ("ssh://git%3Apw@github.com/x", True),
        ("git@github.com:org/x.git", False),
        ("git:pw@github.com:org/x.git", True),
        ("github.com:org/x.git", False),
        ("a/b:c@d", False),
        ("/srv/a:b@c", False),
        ("./a:b@c", False),
        ("~a:b@c", False),
        (".a:b@c", False),
        ("./a:b@c", False),
        ("~a:b@c", False),
        (".a:b@c", False),
    ],
)
def test_user_info_problem_finds_tokens_and_passwords(url, secret):
    """Any user info outside ssh is a secret; in ssh, only a password (``:`` or ``%``) is."""
    assert user_info_problem(url) == (TOKEN_HOME if secret else None)


@pytest.mark.parametrize("form", ["{}", "file://{}"])
def test_local_paths_inside_the_server_folders_are_refused(tmp_path, form):
    """A local path or file:// URL is accepted only outside the protected folders."""
    mirrors = tmp_path / "mirrors"
    (mirrors / "x.git").mkdir(parents=True)
    (tmp_path / "fine.git").mkdir()
    fine = form.format(tmp_path / "fine.git")
    assert check_remote_url(fine, allow_local=True, protected=[str(mirrors)]).url == fine
    with pytest.raises(RemoteUrlRefusedError) as info:
        check_remote_url(form.format(mirrors / "x.git"), allow_local=True, protected=[str(mirrors)])
    assert "inside the server's own mirror or instance folder" in info.value.message
