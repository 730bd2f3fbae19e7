"""Guards for the server's remote URL policy (issue 14): what a pull job may fetch.

``check_remote_url`` keeps the server from fetching through transport helpers,
option-like values, its own loopback or private network, or URLs carrying
a password. Addresses are IP literals and names that resolve without a
network (``localhost``, an over-long label), so these tests stay offline.
"""

from __future__ import annotations

import pytest

from app.services.remote_url import RemoteUrlRefusedError, check_remote_url, is_global

NOT_HTTPS = "is not an https URL"
NEEDS_HTTPS = "pull sync needs an https:// URL"
NO_HOST = "it has no host name"
INTERNAL = "is a loopback, private or otherwise non-global address"
PASSWORD = "must not hold user info or a token"
UNRESOLVED = "does not resolve"
SCHEME = "(pull sync uses https)"

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
]


@pytest.mark.parametrize(("url", "allow_local", "refusal"), CASES)
def test_remote_url_policy(url, allow_local, refusal):
    if refusal is None:
        check_remote_url(url, allow_local=allow_local)
        return
    with pytest.raises(RemoteUrlRefusedError) as info:
        check_remote_url(url, allow_local=allow_local)
    assert info.value.message.startswith("remote URL refused: ")
    assert refusal in info.value.message
    assert "secret" not in info.value.message


def test_refusal_names_the_address_and_the_setting():
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
    assert is_global(address) is is_public
