"""repos.yaml: loading and validation, before anything is sent.

The file is composed to YAML nodes rather than loaded to plain values, so that every
problem names the file, the line and the field (``repos.yaml:12: projects[0].repos[1].
path: ...``). All problems are collected and reported together.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import yaml
from dulwich.refs import check_ref_format

from gitleague_client.errors import ClientError, ExitCode
from gitleague_client.urls import normalize_git_url, redact_url, split_url, url_problem
from gitleague_client.yamlnodes import NodeChecker, graph_problems, kind

if TYPE_CHECKING:
    from dulwich.refs import Ref

#: Environment variable that overrides the file's ``api_key``.
API_KEY_ENV = "GITLEAGUE_API_KEY"
#: The key ``init`` writes as a placeholder; it counts as no key at all.
PLACEHOLDER_KEY = "tgl_xxx_yyy"
#: The server refuses batches larger than this (413), so the config may not ask for more.
MAX_BATCH_SIZE = 1000


def default_extract_workers() -> int:
    """Two extraction processes when this process may use two CPUs or more, else one.

    Two extract a long history in 0.55-0.65 of one process's time; each more
    would add an interpreter and a cache (~100 MB) for less and less, as the
    parent's share (walk, JSON, upload) stays (docs/performance.md).
    """
    try:
        cpus = len(os.sched_getaffinity(0))  # the CPUs this process may run on
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(2, cpus))


DEFAULTS: Mapping[str, Any] = {
    "batch_size": 100,
    "max_retries": 3,
    "retry_seconds": 90.0,
    "timeout": 60.0,
    "connect_timeout": 10.0,
    "fetch_workers": 8,
    "extract_workers": default_extract_workers(),
}

_TOP_KEYS = (
    "api_url",
    "api_key",
    "batch_size",
    "max_retries",
    "retry_seconds",
    "timeout",
    "connect_timeout",
    "fetch_workers",
    "extract_workers",
    "projects",
)
_PROJECT_KEYS = ("name", "project_id", "repos")
_REPO_KEYS = ("path", "git_url", "ssh_key", "branch")


class ConfigError(ClientError):
    """repos.yaml cannot be used; ``problems`` holds one ``file:line: field: why`` each."""

    exit_code = ExitCode.CONFIG

    def __init__(self, problems: list[str]) -> None:
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(
            f"Invalid configuration ({len(problems)} {noun}):\n"
            + "\n".join(f"  {p}" for p in problems),
            hint="Fix the file and run the command again; nothing was sent.",
        )
        self.problems = problems


@dataclass(frozen=True)
class RepoConfig:
    """One configured repository; ``line`` is where it starts in the file."""

    path: Path
    project_id: str
    project_name: str
    line: int
    git_url: str | None = None
    ssh_key: Path | None = None
    branch: str | None = None


@dataclass(frozen=True)
class ProjectConfig:
    """One configured project and its repositories."""

    name: str
    project_id: str
    line: int
    repos: tuple[RepoConfig, ...] = ()


@dataclass(frozen=True)
class Config:
    """A validated repos.yaml. ``api_key`` is None when neither file nor environment has one."""

    path: Path
    api_url: str
    api_key: str | None
    api_key_source: str | None
    batch_size: int
    max_retries: int
    timeout: float
    connect_timeout: float
    fetch_workers: int = DEFAULTS["fetch_workers"]
    extract_workers: int = DEFAULTS["extract_workers"]
    #: How long requests retry through a server outage (refused, 502/503/504).
    retry_seconds: float = DEFAULTS["retry_seconds"]
    projects: tuple[ProjectConfig, ...] = field(default=())

    def iter_repos(self) -> Iterator[RepoConfig]:
        """Every configured repository, in file order."""
        for project in self.projects:
            yield from project.repos


def load_config(path: str | os.PathLike[str], env_api_key: str | None = None) -> Config:
    """Read and validate ``path``; raise :class:`ConfigError` listing every problem.

    ``env_api_key`` is the value of ``GITLEAGUE_API_KEY`` (read by the caller, the
    command line, so that this layer never reads the environment); when set and not
    empty it takes precedence over the file's ``api_key``.
    """
    cfg_path = Path(path)
    try:
        text = cfg_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [f"{cfg_path}: file not found (create one with: gitleague-client init)"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{cfg_path}: cannot read: {exc}"]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError([f"{cfg_path}:{line}: invalid YAML: {exc.problem or exc}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{cfg_path}: invalid YAML: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{cfg_path}: invalid YAML: nested too deeply"]) from None
    if root is not None and (unsafe := graph_problems(root, cfg_path)):
        raise ConfigError(unsafe)
    checker = _Checker(cfg_path)
    config = checker.check_root(root, env_api_key)
    if checker.problems or config is None:
        raise ConfigError([text for _, text in sorted(checker.problems, key=lambda p: p[0])])
    return config


class _Checker(NodeChecker):
    """Walks the node tree, building values and collecting problems."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.base = path.resolve().parent
        self._seen_paths: dict[str, int] = {}
        self._seen_urls: dict[tuple[str, str], int] = {}
        self._seen_projects: dict[str, int] = {}

    def setting(
        self, fields: dict[str, yaml.Node], key: str, integer: bool, bounds: tuple[float, float]
    ) -> Any:
        return self.number(fields, key, integer, bounds, DEFAULTS[key])

    # -- the schema -----------------------------------------------------------------------
    def check_root(self, root: yaml.Node | None, env_api_key: str | None) -> Config | None:
        if root is None:
            self.problems.append(
                (1, f"{self.path}:1: the file is empty (run: gitleague-client init)")
            )
            return None
        fields = self.mapping(root, "", _TOP_KEYS)
        if fields is None:
            return None
        api_url = self.check_api_url(fields, root)
        api_key, source = self.check_api_key(fields, env_api_key)
        batch_size = self.setting(fields, "batch_size", True, (1, MAX_BATCH_SIZE))
        max_retries = self.setting(fields, "max_retries", True, (0, 20))
        retry_seconds = float(self.setting(fields, "retry_seconds", False, (0, 3600)))
        timeout = float(self.setting(fields, "timeout", False, (1, 3600)))
        connect_timeout = float(self.setting(fields, "connect_timeout", False, (1, 600)))
        fetch_workers = self.setting(fields, "fetch_workers", True, (1, 32))
        extract_workers = self.setting(fields, "extract_workers", True, (1, 16))
        projects = self.check_projects(fields, root)
        return Config(
            path=self.path,
            api_url=api_url or "",
            api_key=api_key,
            api_key_source=source,
            batch_size=batch_size,
            max_retries=max_retries,
            timeout=timeout,
            connect_timeout=connect_timeout,
            fetch_workers=fetch_workers,
            extract_workers=extract_workers,
            retry_seconds=retry_seconds,
            projects=tuple(projects),
        )

    def check_api_url(self, fields: dict[str, yaml.Node], root: yaml.Node) -> str | None:
        url = self.required_str(fields, "api_url", "", root)
        if url is None:
            return None
        parts = split_url(url.strip())
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            self.problem(
                fields["api_url"],
                "api_url",
                f"must be an http(s) URL such as https://api.thegitleague.com, got {url!r}",
            )
            return None
        # Accept the API root as well as the server root: the client adds /api/v1 itself.
        return re.sub(r"/api/v1/?$", "", url.strip().rstrip("/"))

    def check_api_key(
        self, fields: dict[str, yaml.Node], env_api_key: str | None
    ) -> tuple[str | None, str | None]:
        file_key = self.optional_str(fields, "api_key", "")
        if file_key is not None and (file_key != file_key.strip() or " " in file_key):
            self.problem(fields["api_key"], "api_key", "must not contain spaces")
            file_key = None
        if env_api_key and env_api_key.strip():
            return env_api_key.strip(), API_KEY_ENV
        if file_key and file_key != PLACEHOLDER_KEY:
            return file_key, "api_key"
        return None, None

    def check_projects(self, fields: dict[str, yaml.Node], root: yaml.Node) -> list[ProjectConfig]:
        node = fields.get("projects")
        if node is None or self.scalar(node) is None:
            self.problem(root, "projects", "missing required field")
            return []
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.problem(node, "projects", f"must be a non-empty list, got {kind(node)}")
            return []
        projects = []
        for i, item in enumerate(node.value):
            project = self.check_project(item, f"projects[{i}]")
            if project is not None:
                projects.append(project)
        return projects

    def check_project(self, node: yaml.Node, where: str) -> ProjectConfig | None:
        fields = self.mapping(node, where, _PROJECT_KEYS)
        if fields is None:
            return None
        name = self.required_str(fields, "name", where, node)
        project_id = self.required_str(fields, "project_id", where, node)
        if project_id is not None:
            try:
                project_id = str(uuid.UUID(project_id))
            except ValueError:
                self.problem(
                    fields["project_id"],
                    f"{where}.project_id",
                    f"must be the project's UUID (from the web UI), got {project_id!r}",
                )
                project_id = None
        if project_id is not None:
            first = self._seen_projects.setdefault(project_id, node.start_mark.line + 1)
            if first != node.start_mark.line + 1:
                self.problem(
                    fields["project_id"],
                    f"{where}.project_id",
                    f"duplicate project (first listed on line {first})",
                )
        repos_node = fields.get("repos")
        repos: list[RepoConfig] = []
        if repos_node is None or self.scalar(repos_node) is None:
            self.problem(node, f"{where}.repos", "missing required field")
        elif not isinstance(repos_node, yaml.SequenceNode) or not repos_node.value:
            self.problem(
                repos_node, f"{where}.repos", f"must be a non-empty list, got {kind(repos_node)}"
            )
        else:
            for j, item in enumerate(repos_node.value):
                repo = self.check_repo(item, f"{where}.repos[{j}]", name, project_id)
                if repo is not None:
                    repos.append(repo)
        if name is None or project_id is None:
            return None
        return ProjectConfig(name, project_id, node.start_mark.line + 1, tuple(repos))

    def check_repo(
        self, node: yaml.Node, where: str, project_name: str | None, project_id: str | None
    ) -> RepoConfig | None:
        fields = self.mapping(node, where, _REPO_KEYS)
        if fields is None:
            return None
        line = node.start_mark.line + 1
        raw_path = self.required_str(fields, "path", where, node)
        git_url = self.optional_str(fields, "git_url", where)
        if git_url is not None and (why := url_problem(git_url)):
            self.problem(
                fields["git_url"], f"{where}.git_url", f"{why}; got {redact_url(git_url)!r}"
            )
            git_url = None
        ssh_key = self.check_ssh_key(fields, where)
        branch = self.optional_str(fields, "branch", where)
        if branch is not None and not _valid_branch(branch):
            why = f"not a valid branch name: {branch!r}"
            self.problem(fields["branch"], f"{where}.branch", why)
            branch = None
        path = self.resolve(raw_path) if raw_path is not None else None
        if path is not None:
            first = self._seen_paths.setdefault(os.path.normcase(str(path)), line)
            if first != line:
                why = f"duplicate repo: {path} is already listed on line {first}"
                self.problem(fields["path"], f"{where}.path", why)
        if git_url is not None and project_id is not None:
            url_key = (project_id, normalize_git_url(git_url))
            first = self._seen_urls.setdefault(url_key, line)
            if first != line:
                why = f"duplicate repo: {redact_url(git_url)} is already listed on line {first}"
                self.problem(fields["git_url"], f"{where}.git_url", why)
        if path is None or project_id is None or project_name is None:
            return None
        return RepoConfig(path, project_id, project_name, line, git_url, ssh_key, branch)

    def check_ssh_key(self, fields: dict[str, yaml.Node], where: str) -> Path | None:
        raw = self.optional_str(fields, "ssh_key", where)
        if raw is None:
            return None
        key = self.resolve(raw)
        try:
            # Opening it is the only honest test: os.access says yes to root for any file.
            with open(key, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            self.problem(
                fields["ssh_key"], f"{where}.ssh_key", f"cannot read {raw}: {exc.strerror or exc}"
            )
            return None
        return key

    def resolve(self, raw: str) -> Path:
        """Expand ``~`` and make relative paths relative to the config file's folder."""
        path = Path(os.path.expanduser(raw))
        return path if path.is_absolute() else (self.base / path)


def _valid_branch(branch: str) -> bool:
    return check_ref_format(cast("Ref", b"refs/heads/" + branch.encode("utf-8")))
