"""Which fetches share an SSH connection (the connection itself: tests/e2e/test_client_ssh.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitleague_client.sshmux import SshMultiplexer, Target, target_of


@pytest.mark.parametrize(
    "url, expected",
    [
        ("git@github.com:org/x.git", Target("github.com", "git", None, None)),
        ("ssh://git@github.com/org/x.git", Target("github.com", "git", None, None)),
        ("ssh://deploy@git.example.org:2222/x", Target("git.example.org", "deploy", 2222, None)),
        ("git+ssh://host.example/x", Target("host.example", None, None, None)),
        ("https://github.com/org/x.git", None),
        ("/srv/git/x.git", None),
        ("file:///srv/git/x.git", None),
    ],
)
def test_target_of_names_the_login(url: str, expected: Target | None) -> None:
    assert target_of(url, None) == expected


def test_the_key_is_part_of_the_login() -> None:
    # Deploy keys differ per repository on one host: one master per key.
    a = target_of("git@github.com:org/a.git", Path("/keys/a"))
    b = target_of("git@github.com:org/b.git", Path("/keys/b"))
    assert a is not None and b is not None
    assert a != b
    assert a == target_of("ssh://git@github.com/org/c.git", Path("/keys/a"))
    assert a.login_args() == ["-i", "/keys/a"]
    assert Target("h", "u", 2222, None).login_args() == ["-p", "2222"]


def test_no_master_for_a_login_used_once(tmp_path: Path) -> None:
    once = [target_of("git@a.example:x.git", None), target_of("git@b.example:y.git", None), None]
    with SshMultiplexer() as mux:
        before = set(Path("/tmp").glob("glc-*"))
        mux.start(once)
        assert set(Path("/tmp").glob("glc-*")) == before  # nothing to share, nothing started
        assert mux.options(once[0]) == []
        assert mux.options(None) == []


def test_an_unreachable_host_leaves_fetches_on_their_own() -> None:
    # Nothing listens on port 9 of 127.0.0.1: the master fails at once, and the
    # fetches get no ControlPath, so they connect and report the error themselves.
    dead = Target("127.0.0.1", "nobody", 9, None)
    before = set(Path("/tmp").glob("glc-*"))
    with SshMultiplexer() as mux:
        mux.start([dead, dead])
        assert mux.options(dead) == []
    assert set(Path("/tmp").glob("glc-*")) == before


def test_a_host_or_user_that_looks_like_an_option_gets_no_master() -> None:
    # ssh would read "-oProxyCommand=..." as an option: such logins are never shared
    # (dulwich refuses them for the fetch itself).
    sneaky = [
        target_of("ssh://-oProxyCommand=touch%20x@host.example/x", None),
        Target("-oProxyCommand=touch x", None, None, None),
    ]
    before = set(Path("/tmp").glob("glc-*"))
    with SshMultiplexer() as mux:
        mux.start(sneaky * 2)
        assert set(Path("/tmp").glob("glc-*")) == before
        assert all(mux.options(t) == [] for t in sneaky)
