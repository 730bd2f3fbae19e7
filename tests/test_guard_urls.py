"""Guards for the server's remote URL policy (issue 14): what a pull job may fetch.

``check_remote_url`` keeps the server from fetching through transport helpers,
option-like values, its own loopback or private network, or URLs carrying
a password. Addresses are IP literals and names that resolve without a
network (``localhost``, an over-long label), so these tests stay offline.
"""

from __future__ import annotations

import pytest

from app.services.git_remote import RemoteUrlRefusedError, _is_internal, check_remote_url

NOT_HTTPS = "is not an https URL"
NEEDS_HTTPS = "pull sync needs an https:// URL"
NO_HOST = "it has no host name"
INTERNAL = "is a loopback or private address"
PASSWORD = "it contains a password"
SCHEME = "(pull sync uses https)"

CASES = [
    # url, allow_local, refusal (None: accepted)
    ("https://github.com/org/x.git", False, None),
    ("HTTPS://github.com/org/x.git", False, None),
    ("https://user@github.com/org/x.git", False, None),
    ("https://8.8.8.8/x.git", False, None),
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
    ("http://github.com/x.git", True, None),
    ("file:///srv/git/x.git", False, SCHEME),
    ("file:///srv/git/x.git", True, None),
    ("ssh://git@github.com/x.git", True, SCHEME),
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
        "remote URL refused: 10.1.2.3 is a loopback or private address "
        "(set GITLEAGUE_ALLOW_LOCAL_REMOTES=true on self-hosted servers)"
    )


@pytest.mark.parametrize(
    ("host", "internal"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("::1", True),
        ("10.255.0.1", True),
        ("172.16.0.1", True),
        ("169.254.0.1", True),
        ("fe80::1", True),
        ("0.0.0.0", True),
        ("::", True),
        ("8.8.8.8", False),
        ("2001:4860:4860::8888", False),
        ("a" * 64 + ".example", False),
        ("", False),
    ],
)
def test_internal_addresses(host, internal):
    assert _is_internal(host) is internal
