"""Guards for the client's URL policy (issue 14): which URLs it takes and how it compares them."""

from __future__ import annotations

import os

import pytest
from gitleague_client.urls import is_ssh_url, normalize_git_url, ssh_login, url_problem

ACCEPTED = [
    "https://github.com/org/x.git",
    "HTTPS://github.com/org/x",
    "http://host:8080/x",
    "ssh://git@host/org/x.git",
    "git+ssh://git@host/x",
    "ssh+git://git@host/x",
    "git://host/x",
    "file:///srv/git/x.git",
    "git@github.com:org/x.git",
    "me@h2:x",
    "/srv/git/x",
    "~/code/x",
    "./x",
    "../x",
    "\\\\server\\share\\x",
    "C:\\repos\\x",
    "c:/repos/x",
]
REFUSED = {
    "": "must be a non-empty URL",
    "   ": "must be a non-empty URL",
    " https://h/x": "must be a non-empty URL",
    "https://h/x\n": "must be a non-empty URL",
    "ftp://h/x": "unsupported URL scheme 'ftp'",
    "ext::sh -c x": "not a git URL",
    "https:///x": "URL has no host name",
    "https://h:99999/x": "URL has an invalid port",
    "https://h:port/x": "URL has an invalid port",
    "https://h/": "URL has no repository path",
    "https://h": "URL has no repository path",
    "github.com:org/x.git": "not a git URL",
    "git@h:/x": "not a git URL",
    "git@h:\\x": "not a git URL",
    "git@C:x": "not a git URL",
    "@h:x": "not a git URL",
    "a b@h:x": "not a git URL",
    "git@h_x:y": "not a git URL",
    "x": "not a git URL",
    "C:x": "not a git URL",
    ".x": "not a git URL",
    "1:\\x": "not a git URL",
    "git@hh:org/x\nevil": "not a git URL",
}


@pytest.mark.parametrize("url", ACCEPTED)
def test_accepted_urls(url):
    assert url_problem(url) is None


@pytest.mark.parametrize("url", sorted(REFUSED))
def test_refused_urls_say_why(url):
    problem = url_problem(url)
    assert problem is not None and problem.startswith(REFUSED[url]), problem


def test_the_scheme_list_is_named_in_the_refusal():
    assert url_problem("svn://h/x") == (
        "unsupported URL scheme 'svn' (use one of: file, git, git+ssh, http, https, ssh, ssh+git)"
    )


@pytest.mark.parametrize(
    ("url", "login"),
    [
        ("ssh://git@host:2222/x", ("git", "host", 2222)),
        ("SSH://host/x", (None, "host", None)),
        ("git+ssh://u@h/x", ("u", "h", None)),
        ("ssh+git://u@h/x", ("u", "h", None)),
        ("git@github.com:org/x.git", ("git", "github.com", None)),
        ("h2:x", (None, "h2", None)),
        ("ssh:///x", None),
        ("https://h/x", None),
        ("git://h/x", None),
        ("/srv/x", None),
        ("./h:x", None),
        ("C:/h:x", None),
        ("x", None),
        ("hh:x\ny", None),
    ],
)
def test_ssh_urls_and_their_login(url, login):
    assert ssh_login(url) == login
    assert is_ssh_url(url) == (login is not None or url == "ssh:///x")


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://GitHub.com/org/x.git", "github.com/org/x"),
        ("https://github.com/org/x/", "github.com/org/x"),
        ("https://github.com/org/x.git/", "github.com/org/x"),
        ("ssh://git@github.com:22/org/x.git", "github.com/org/x"),
        ("http://h:80/x", "h/x"),
        ("https://h:443/x", "h/x"),
        ("git://h:9418/x", "h/x"),
        ("https://h:8443/x", "h:8443/x"),
        ("ssh://h:2222/x", "h:2222/x"),
        ("git@GitHub.com:org/x.git", "github.com/org/x"),
        ("  git@hh:org/x  ", "hh/org/x"),
        ("git@hh:org\\x", "hh/org/x"),
        ("https://h/a.gitx", "h/a.gitx"),
        ("https://h/x.git.git", "h/x.git"),
        ("file:///srv/x.git", "file://srv/x"),
        ("/srv/x.git/", "file://srv/x"),
        ("nothing", "nothing"),
    ],
)
def test_normal_forms(url, normal):
    assert normalize_git_url(url) == normal


def test_a_path_and_its_file_url_compare_equal(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    here = str(tmp_path).strip("/")
    assert (
        normalize_git_url("./x.git")
        == normalize_git_url(f"file://{tmp_path}/x")
        == f"file://{here}/x"
    )
    assert normalize_git_url("~/x") == "file://" + os.path.expanduser("~/x").strip("/")
