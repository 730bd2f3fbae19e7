"""Input the client cannot trust: server-supplied names, hostile repos.yaml, tokens in URLs."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
import yaml
from gitleague_client.config import ConfigError, load_config
from gitleague_client.errors import ExitCode
from gitleague_client.text import printable
from gitleague_client.urls import redact_url
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Scripted  # type: ignore[import-not-found]
from .test_cli import (  # type: ignore[import-not-found]
    KEY,
    PID,
    Protocol,
    run,
    write_config,
)

HOSTILE = [
    "evil\n  - name: injected\n    project_id: 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    'quote " and \\ backslash # not a comment',
    "line\u2028separator\x85next\x7fdel\x1b[31mred",
    "*alias &anchor !!python/object:os.system",
]


def test_init_writes_hostile_server_names_that_read_back_exactly(
    tmp_path: Path, scripted_server: Scripted
) -> None:
    proto = Protocol()
    repos = {name: f"https://example.org/o/r{i}.git" for i, name in enumerate(HOSTILE)}
    for i, (name, url) in enumerate(repos.items()):
        proto.add_repo(f"r{i}", url, name=name, branch="main")

    def script(seen):  # type: ignore[no-untyped-def]
        if seen.path.split("?")[0] == "/api/v1/me":
            projects = [{"id": PID, "name": HOSTILE[0], "repo_count": 4},
                        {"id": "p2", "name": HOSTILE[2], "repo_count": 0}]  # fmt: skip
            return 200, {}, {"api_key": "tgl_test_***", "projects": projects}
        if seen.path.startswith("/api/v1/projects/p2/"):
            return 200, {}, {"items": [], "total": 0, "page": 1, "per_page": 100}
        return proto(seen)

    scripted_server.script = script
    target = tmp_path / "repos.yaml"
    result = run("init", "--config", str(target), "--api-url", scripted_server.url,
                 "--api-key", KEY)  # fmt: skip
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert [p["name"] for p in data["projects"]] == [HOSTILE[0]]  # p2 has no repos
    assert [r["git_url"] for r in data["projects"][0]["repos"]] == list(repos.values())
    assert set(data) == {"api_url", "api_key", "batch_size", "max_retries", "projects"}
    config = load_config(target)  # and the client itself reads it back
    assert config.projects[0].name == HOSTILE[0]
    assert len(list(config.iter_repos())) == 4


def test_names_from_the_server_are_printed_with_controls_escaped(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted
) -> None:
    protocol.add_repo("r1", "https://example.org/o/r.git", name="x\x1b]0;pwned\x07\nFAKE ✓")
    cfg = write_config(tmp_path, scripted_server.url,
                       [{"path": str(tmp_path / "c"), "git_url": "https://example.org/o/r.git"}])  # fmt: skip
    result = run("test", "--config", str(cfg), "--offline")  # no remote off this machine
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "x\\x1b]0;pwned\\x07\\nFAKE" in result.output
    assert printable("a\tb\u202ec") == "a\\tb\\u202ec"


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "repos.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('api_url: !!python/unicode "https://x.org"\nprojects: []\n', ":1: unsupported YAML tag"),
        ("api_url: !!python/object/apply:os.system [id]\n", ":1: unsupported YAML tag"),
        ("a: &a {x: 1}\nb:\n  <<: *a\n", ":3: merge keys (<<) are not supported"),
        ("a: &a [1, *a]\n", ":1: an alias refers to a node that contains it"),
        ('api_url: "https://a]/b"\nprojects: []\n', "api_url: must be an http(s) URL"),
        ("[" * 2000 + "]" * 2000, "nested too deeply"),
        ("api_url: !!timestamp x\n", ":1: 'x' is not a valid timestamp"),
        ("batch_size: !!int ten\n", ":1: 'ten' is not a valid int"),
    ],
)
def test_hostile_files_get_a_clear_error_never_a_traceback(
    tmp_path: Path, text: str, expected: str
) -> None:
    found = _problems(tmp_path, text)
    assert any(expected in p for p in found), found


def test_an_unparsable_git_url_is_a_problem_of_its_field(tmp_path: Path) -> None:
    found = _problems(tmp_path, f"""
        api_url: "https://x.org"
        projects:
          - name: p
            project_id: "{PID}"
            repos:
              - path: /tmp/x
                git_url: "https://a]/b"
        """)  # fmt: skip
    assert found == [f"{tmp_path / 'repos.yaml'}:7: projects[0].repos[0].git_url: not a valid "
                     "URL (unbalanced [ ] around the host?); got 'https://a]/b'"]  # fmt: skip


def alias_bomb(levels: int = 9, fan: int = 9) -> str:
    """A ~1 KB document whose aliases expand to fan**levels repos (387 million here)."""
    lines = ['api_url: "https://x.org"',
             'r0: &r0 {path: "/tmp/a", git_url: "https://example.org/o/r.git"}']  # fmt: skip
    for i in range(1, levels):
        lines.append(f"r{i}: &r{i} [" + ", ".join([f"*r{i - 1}"] * fan) + "]")
    lines.append(f'projects: [{{name: p, project_id: "{PID}", repos: *r{levels - 1}}}]')
    return "\n".join(lines) + "\n"


def test_alias_bombs_are_refused_before_anything_walks_them(tmp_path: Path) -> None:
    started = time.process_time()
    found = _problems(tmp_path, alias_bomb())
    assert len(found) == 1 and "expands to more than 100,000 values" in found[0]
    assert time.process_time() - started < 5  # generous: it takes milliseconds


def test_a_few_aliases_are_still_fine(tmp_path: Path) -> None:
    path = tmp_path / "repos.yaml"
    path.write_text(textwrap.dedent(f"""
        api_url: "https://x.org"
        projects:
          - name: &n "shared"
            project_id: "{PID}"
            repos:
              - {{path: /tmp/a, branch: &b develop}}
              - {{path: /tmp/b, branch: *b}}
        """))  # fmt: skip
    config = load_config(path)
    assert [r.branch for r in config.iter_repos()] == ["develop", "develop"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://x-access-token:ghp_SECRET@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://ghp_SECRET@github.com:8443/o/r", "https://github.com:8443/o/r"),
        ("ssh://git:SECRET@host.org/o/r.git", "ssh://git@host.org/o/r.git"),
        ("ssh://git@host.org/o/r.git", "ssh://git@host.org/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("https://u:SECRET@[::1/o/r", "https://[::1/o/r"),
        ("/srv/git/r.git", "/srv/git/r.git"),
    ],
)
def test_user_info_is_stripped_from_urls(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_token_in_origin_reaches_neither_the_server_nor_the_output(
    tmp_path: Path, protocol: Protocol, scripted_server: Scripted
) -> None:
    secret_url = "https://x-access-token:ghp_PLANTED0123456789@github.com/org/unknown.git"
    cfg = write_config(tmp_path, scripted_server.url,
                       [{"path": str(tmp_path / "c"), "git_url": secret_url}])  # fmt: skip
    for command in (["test"], ["sync"], ["sync", "--json"]):
        result = run(*command, "--config", str(cfg))
        assert result.exit_code != ExitCode.OK
        assert "ghp_PLANTED" not in result.output and "x-access-token" not in result.output
        assert "github.com/org/unknown.git" in result.output
    asked = [s.path for s in scripted_server.seen]
    assert any("git_url=" in p for p in asked)
    assert not [p for p in asked if "PLANTED" in p or "x-access-token" in p]


FRAGMENTS = [  # pieces of repos.yaml, of YAML syntax and of bad values
    "api_url: ", "api_key: ", "projects:", "  - name: ", "    project_id: ", "    repos:",
    "      - path: ", "        git_url: ", "        branch: ", "batch_size: ", "timeout: ",
    "&a ", "*a", "!!binary ", "!!timestamp ", "!!int ", "!!python/tuple ", "? ", "[", "]",
    "{", "}", ",", "\n", "'", '"', "~", "-", ":", "1e999", ".nan", "https://a]/b",
    "ssh://h:99999/x", "git@h:x", PID, "\t", "🙂", "<<: ", "--- ",
]  # fmt: skip


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30))
def test_any_file_is_a_config_or_a_config_error(tmp_path: Path, parts: list[str]) -> None:
    path = tmp_path / "repos.yaml"
    path.write_text("".join(parts), encoding="utf-8")
    try:
        load_config(path)
    except ConfigError:
        pass  # anything else (a traceback) fails the test
