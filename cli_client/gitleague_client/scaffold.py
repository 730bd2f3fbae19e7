"""``init``: write a commented repos.yaml, optionally filled in from the server.

With an API URL and key the file lists the projects and repos the key reaches; with
``--scan DIR`` the local clones whose remotes match those repos fill in ``path``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from gitleague_client.api import ApiClient
from gitleague_client.config import API_KEY_ENV, PLACEHOLDER_KEY
from gitleague_client.errors import ClientError, ExitCode
from gitleague_client.urls import normalize_git_url

DEFAULT_API_URL = "https://api.thegitleague.com"
#: How deep ``--scan`` looks below each folder for git repositories.
SCAN_DEPTH = 4

HEADER = f"""\
# GitLeague push client configuration (gitleague-client sync --config repos.yaml)
#
# api_key: the {API_KEY_ENV} environment variable, when set, wins over the key
#   written here, so the file can be shared without the secret.
# Optional top-level keys: batch_size (1-1000, default 100), max_retries (default 3),
#   retry_seconds (how long to retry through a server outage, default 90),
#   timeout (read timeout in seconds, default 60), connect_timeout (default 10).
# Each repo: path (local clone; a bare clone is made there when it does not exist),
#   git_url (default: the clone's "origin" remote), ssh_key (for SSH URLs),
#   branch (default: the server's branch for the repo, else "main").
# Relative paths are relative to this file's folder; "~" is your home folder.
"""


class InitError(ClientError):
    """``init`` would overwrite a file, or cannot write it."""

    exit_code = ExitCode.CONFIG


@dataclass
class RepoEntry:
    """One repo line of the generated file."""

    path: str
    git_url: str
    branch: str | None = None
    name: str | None = None


@dataclass
class ProjectEntry:
    """One project of the generated file."""

    name: str
    project_id: str
    repos: list[RepoEntry]


EXAMPLE = [
    ProjectEntry(
        "My Project",
        "550e8400-e29b-41d4-a716-446655440000",
        [RepoEntry("~/code/my-repo", "git@github.com:org/my-repo.git")],
    )
]


def render(api_url: str, api_key: str | None, projects: list[ProjectEntry]) -> str:
    """The commented YAML text; with no projects given, the guide's example."""
    example = not projects
    key_line = (
        f"api_key: {_q(api_key)}"
        if api_key
        else f"api_key: {_q(PLACEHOLDER_KEY)}  # Paste your API key here"
    )
    lines = [
        HEADER,
        f"api_url: {_q(api_url)}",
        key_line,
        "batch_size: 100",
        "max_retries: 3",
        "",
        "projects:",
    ]
    for project in projects or EXAMPLE:
        if not project.repos:
            # An empty repos list is invalid; leave the project out but say why.
            lines.append(
                f"  # {_q(project.name)} ({_q(project.project_id)}): no repos on the server yet"
            )
            continue
        lines.append(f"  - name: {_q(project.name)}")
        lines.append(f"    project_id: {_q(project.project_id)}  # From web UI")
        lines.append("    repos:")
        for repo in project.repos:
            comment = f"  # {_q(repo.name)}" if repo.name and not example else ""
            lines.append(f"      - path: {_q(repo.path)}{comment}")
            lines.append(f"        git_url: {_q(repo.git_url)}")
            if example:
                lines.append(f"        ssh_key: {_q('~/.ssh/id_ed25519')}")
            if repo.branch:
                lines.append(f"        branch: {_q(repo.branch)}")
    return "\n".join(lines) + "\n"


def refuse_overwrite(path: Path, force: bool) -> None:
    """Raise :class:`InitError` when ``path`` exists and ``force`` was not given."""
    if path.exists() and not force:
        raise InitError(
            f"{path} already exists; not overwriting it",
            hint="Use --force to replace it, or --config to write another file.",
        )


def write_config(path: Path, text: str, force: bool, secret: bool) -> None:
    """Write ``text`` to ``path``; refuse to replace a file unless ``force``."""
    refuse_overwrite(path, force)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if secret:
            # The key is in the file: keep other users of the machine out of it.
            os.chmod(path, 0o600)
    except OSError as exc:
        raise InitError(f"cannot write {path}: {exc.strerror or exc}") from None


def projects_from_server(api: ApiClient, scan_dirs: Iterable[Path]) -> list[ProjectEntry]:
    """Projects and repos the key reaches; paths from matching local clones if found."""
    local = dict(scan_for_clones(scan_dirs))
    projects = []
    for item in api.me().get("projects", []):
        project_id = str(item.get("id") or item.get("project_id"))
        repos = []
        for repo in api.project_repos(project_id):
            git_url = str(repo.get("git_url") or "")
            found = local.get(normalize_git_url(git_url)) if git_url else None
            path = str(found) if found else f"~/code/{repo.get('name') or repo['id']}"
            repos.append(RepoEntry(path, git_url, repo.get("branch"), repo.get("name")))
        projects.append(ProjectEntry(str(item.get("name")), project_id, repos))
    return projects


def scan_for_clones(dirs: Iterable[Path]) -> Iterator[tuple[str, Path]]:
    """(normalized origin URL, path) for every git repository found below ``dirs``."""
    from gitleague_client.fetch import open_repo, origin_url

    for top in dirs:
        for path in _candidate_dirs(top.expanduser().resolve(), SCAN_DEPTH):
            try:
                repo = open_repo(path)
            except ClientError:
                continue
            with repo:
                url = origin_url(repo)
            if url:
                yield normalize_git_url(url), path


def _candidate_dirs(top: Path, depth: int) -> Iterator[Path]:
    """Folders that look like clones (``.git`` inside, or bare layout); not below them."""
    if (top / ".git").exists() or ((top / "objects").is_dir() and (top / "HEAD").is_file()):
        yield top
        return
    if depth == 0:
        return
    try:
        children = sorted(p for p in top.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return
    for child in children:
        if not child.name.startswith(".") or child.name.endswith(".git"):
            yield from _candidate_dirs(child, depth - 1)


def _q(value: str) -> str:
    """``value`` as a double-quoted YAML scalar on one line, written by YAML's own emitter.

    Names come from the server: every line break (``\n``, ``\x85``, ``\u2028``), quote,
    control or non-printable character is escaped, so a name can neither start a line
    of its own (and inject a repo) nor make the file unreadable; it reads back as is.
    """
    text = yaml.safe_dump(
        str(value), default_style='"', allow_unicode=True, width=math.inf, explicit_end=False
    )
    return text.rstrip("\n")
