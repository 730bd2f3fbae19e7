"""repos.yaml validation: every class of error names file, line and field."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from gitleague_client.config import API_KEY_ENV, ConfigError, load_config

PID = "550e8400-e29b-41d4-a716-446655440000"
PID2 = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "repos.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, env_key: str | None = None) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env_api_key=env_key)
    return info.value.problems


GOOD = f"""
api_url: "https://api.thegitleague.com"
api_key: "tgl_test_secret"
batch_size: 50
max_retries: 2
projects:
  - name: "My Project"
    project_id: "{PID}"
    repos:
      - path: "code/my-repo"
        git_url: "git@github.com:org/my-repo.git"
        branch: "develop"
      - path: "~/other"
"""


def test_valid_config_is_loaded_with_defaults_and_resolved_paths(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.api_url == "https://api.thegitleague.com"
    assert cfg.api_key == "tgl_test_secret" and cfg.api_key_source == "api_key"
    assert (cfg.batch_size, cfg.max_retries, cfg.timeout, cfg.connect_timeout) == (50, 2, 60, 10)
    assert cfg.fetch_workers == 8
    assert load_config(write(tmp_path, GOOD + "fetch_workers: 1\n")).fetch_workers == 1
    # Two extraction processes where there are two CPUs to run them, else one.
    assert cfg.extract_workers == min(2, len(os.sched_getaffinity(0)))
    assert load_config(write(tmp_path, GOOD + "extract_workers: 1\n")).extract_workers == 1
    assert load_config(write(tmp_path, GOOD + "extract_workers: 16\n")).extract_workers == 16
    repos = list(cfg.iter_repos())
    assert repos[0].path == tmp_path / "code" / "my-repo"  # relative to the file
    assert repos[0].branch == "develop" and repos[0].line == 9
    assert repos[1].path == Path.home() / "other" and repos[1].git_url is None
    assert repos[1].project_id == PID and repos[1].project_name == "My Project"


def test_environment_key_wins_over_the_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD), env_api_key="tgl_env_secret")
    assert cfg.api_key == "tgl_env_secret" and cfg.api_key_source == API_KEY_ENV


def test_placeholder_key_counts_as_no_key(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD.replace("tgl_test_secret", "tgl_xxx_yyy")))
    assert cfg.api_key is None


def test_api_v1_suffix_is_accepted(tmp_path: Path) -> None:
    text = GOOD.replace("thegitleague.com", "thegitleague.com/api/v1/")
    assert load_config(write(tmp_path, text)).api_url == "https://api.thegitleague.com"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # unknown keys, with a suggestion
        ("batch_size: 50", "batch_sise: 50", ":3: batch_sise: unknown key; did you mean 'batch_size'?"),  # noqa: E501
        ("branch:", "branhc:", ":11: projects[0].repos[0].branhc: unknown key; did you mean 'branch'?"),  # noqa: E501
        ("    project_id:", "    projcet_id:", ":7: projects[0].projcet_id: unknown key; did you mean"),  # noqa: E501
        # wrong types
        ("batch_size: 50", 'batch_size: "50"', ":3: batch_size: must be an integer, got str '50'"),
        ("max_retries: 2", "max_retries: true", ":4: max_retries: must be an integer, got bool"),
        ("batch_size: 50", "batch_size: 5000", ":3: batch_size: must be between 1 and 1000"),
        ("batch_size: 50", "fetch_workers: 0", ":3: fetch_workers: must be between 1 and 32"),
        ("batch_size: 50", "fetch_workers: 2.5", ":3: fetch_workers: must be an integer"),
        ("batch_size: 50", "extract_workers: 0", ":3: extract_workers: must be between 1 and 16, got 0"),  # noqa: E501
        ("batch_size: 50", "extract_workers: 17", ":3: extract_workers: must be between 1 and 16, got 17"),  # noqa: E501
        ("batch_size: 50", 'extract_workers: "2"', ":3: extract_workers: must be an integer, got str '2'"),  # noqa: E501
        ("batch_size: 50", "extract_workers: yes", ":3: extract_workers: must be an integer, got bool"),  # noqa: E501
        ("batch_size: 50", "extract_wrokers: 2", ":3: extract_wrokers: unknown key; did you mean 'extract_workers'?"),  # noqa: E501
        ('"code/my-repo"', "[a, b]", ":9: projects[0].repos[0].path: must be a non-empty string"),
        ('name: "My Project"', "name: 12", ":6: projects[0].name: must be a non-empty string, got int"),  # noqa: E501
        # bad URLs
        ('"https://api.thegitleague.com"', '"api.thegitleague.com"', ":1: api_url: must be an http(s) URL"),  # noqa: E501
        ('"git@github.com:org/my-repo.git"', '"github.com/org/x"', ":10: projects[0].repos[0].git_url: not a git URL"),  # noqa: E501
        ('"git@github.com:org/my-repo.git"', '"htps://github.com/x"', ":10: projects[0].repos[0].git_url: unsupported URL scheme 'htps'"),  # noqa: E501
        ('"git@github.com:org/my-repo.git"', '"ssh://git@github.com:abc/x.git"', ":10: projects[0].repos[0].git_url: URL has an invalid port"),  # noqa: E501
        # other values
        (PID, "not-a-uuid", ":7: projects[0].project_id: must be the project's UUID"),
        ('"develop"', '"bad..branch"', ":11: projects[0].repos[0].branch: not a valid branch name"),
    ],
)  # fmt: skip
def test_each_problem_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    found = problems(tmp_path, GOOD.replace(old, new, 1))
    assert all(p.startswith(str(tmp_path / "repos.yaml") + ":") for p in found)
    assert any(expected in p for p in found), found
    # A misspelt required key also leaves that key missing; nothing else is reported.
    assert len(found) == (2 if "projcet_id" in new else 1), found


def test_missing_fields(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        api_key: "tgl_a_b"
        projects:
          - name: "P"
            repos:
              - git_url: "https://github.com/org/x"
        """,
    )
    joined = "\n".join(found)
    assert ":1: api_url: missing required field" in joined
    assert ":3: projects[0].project_id: missing required field" in joined
    assert ":5: projects[0].repos[0].path: missing required field" in joined


def test_missing_projects_and_empty_repos(tmp_path: Path) -> None:
    assert "projects: missing required field" in problems(tmp_path, 'api_url: "http://x"\n')[0]
    found = problems(
        tmp_path,
        f"""
        api_url: "http://x"
        projects:
          - name: "P"
            project_id: "{PID}"
            repos: []
        """,
    )
    assert ":5: projects[0].repos: must be a non-empty list" in found[0]


def test_duplicate_repos_by_path_and_by_url_and_duplicate_keys(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        f"""
        api_url: "http://x"
        projects:
          - name: "P"
            project_id: "{PID}"
            repos:
              - path: "a"
                git_url: "git@github.com:org/x.git"
              - path: "./a"
              - path: "b"
                git_url: "https://github.com/org/x"
                path: "c"
        """,
    )
    joined = "\n".join(found)
    assert ":8: projects[0].repos[1].path: duplicate repo" in joined
    assert "already listed on line 6" in joined
    assert ":10: projects[0].repos[2].git_url: duplicate repo" in joined
    assert ":11: projects[0].repos[2].path: duplicate key (first set on line 9)" in joined


def test_same_url_in_two_projects_is_allowed(tmp_path: Path) -> None:
    text = f"""
    api_url: "http://x"
    projects:
      - name: "P"
        project_id: "{PID}"
        repos: [{{path: "a", git_url: "https://github.com/org/x"}}]
      - name: "Q"
        project_id: "{PID2}"
        repos: [{{path: "b", git_url: "https://github.com/org/x"}}]
    """
    assert len(list(load_config(write(tmp_path, text)).iter_repos())) == 2


def test_unreadable_ssh_key(tmp_path: Path) -> None:
    text = GOOD.replace('branch: "develop"', 'ssh_key: "keys/missing"')
    found = problems(tmp_path, text)
    assert ":11: projects[0].repos[0].ssh_key: cannot read keys/missing: No such file" in found[0]
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "missing").write_text("key")
    cfg = load_config(tmp_path / "repos.yaml")
    assert next(cfg.iter_repos()).ssh_key == tmp_path / "keys" / "missing"


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    text = GOOD.replace("batch_size: 50", "batch_size: 0").replace("max_retries: 2", "retries: 2")
    found = problems(tmp_path, text)
    assert [p.split(": ")[1] for p in found] == ["batch_size", "retries"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ":1: the file is empty"),
        ("- a\n- b\n", ":1: (top level): must be a mapping"),
        ("api_url: [\n", ":2: invalid YAML"),
        ("a: 1\n  b: 2\n", ":2: invalid YAML"),
    ],
)
def test_unusable_files(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in problems(tmp_path, text)[0]


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "file not found (create one with: gitleague-client init)" in info.value.message
