"""``test``: is the server reachable, the key known, and every configured repo ready?

Prints the guide's lines (✓ Connected, ✓ API Key, ✓ Projects and one line per
project), then one line per configured repository. Nothing is fetched or sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitleague_client.api import ApiClient, ApiError, mask_key
from gitleague_client.config import Config, RepoConfig
from gitleague_client.errors import ClientError, ExitCode
from gitleague_client.fetch import BranchNotFoundError, local_head, open_repo, origin_url
from gitleague_client.text import printable
from gitleague_client.upload import ServerRepos
from gitleague_client.urls import redact_url

#: Sync methods known to accept pushes when the server does not say (``accepts_pushes``).
PUSH_METHODS = frozenset({"push_client"})

Echo = Callable[[str], None]


def run_checks(api: ApiClient, config: Config, echo: Echo, echo_err: Echo) -> ExitCode:
    """Print the checks; return the exit code (OK only when every check passed)."""
    echo("Testing connection to GitLeague API...")
    try:
        me = api.me()
    except ClientError as exc:
        _problem(echo_err, exc.message, exc.hint)
        return exc.exit_code
    echo("✓ Connected to GitLeague API")
    echo(f"✓ API Key: {masked_key(me, config.api_key or '')}")
    ok = _check_projects(me, config, echo, echo_err)
    directory = ServerRepos(api)
    for repo in config.iter_repos():
        ok = _check_repo(directory, repo, echo, echo_err) and ok
    return ExitCode.OK if ok else ExitCode.PARTIAL_FAILURE


def masked_key(me: dict[str, Any], key: str) -> str:
    """The key as the server shows it in ``GET /me``; masked locally if it shows none."""
    candidates = [me.get("api_key"), me.get("key"), me.get("masked_key")]
    for value in candidates:
        if isinstance(value, str) and value.endswith("***"):
            return value
        if isinstance(value, dict):
            for field in ("masked", "key", "masked_key", "prefix"):
                masked = value.get(field)
                if isinstance(masked, str) and masked.endswith("***"):
                    return masked
    return mask_key(key)


def _check_projects(me: dict[str, Any], config: Config, echo: Echo, echo_err: Echo) -> bool:
    reachable = {str(p.get("id") or p.get("project_id")): p for p in me.get("projects", [])}
    missing = [p for p in config.projects if p.project_id not in reachable]
    mark = "✓" if not missing else "✗"
    (echo if not missing else echo_err)(f"{mark} Projects: {len(config.projects)}")
    for project in config.projects:
        server = reachable.get(project.project_id)
        if server is None:
            echo_err(f"  - {project.name}: project {project.project_id} not found on the server")
            echo_err("    Verify project_id in repos.yaml from web UI")
            continue
        count = _repo_count(server)
        noun = "repo" if count == 1 else "repos"
        echo(f"  - {project.name} ({count} {noun})")
    return not missing


def _repo_count(project: dict[str, Any]) -> int:
    for field in ("repo_count", "repos_count", "repo_total"):
        if isinstance(project.get(field), int):
            return int(project[field])
    repos = project.get("repos")
    return len(repos) if isinstance(repos, list) else int(repos or 0)


def _check_repo(directory: ServerRepos, cfg: RepoConfig, echo: Echo, echo_err: Echo) -> bool:
    label = str(cfg.path)
    try:
        facts = _repo_facts(directory, cfg)
    except ClientError as exc:
        _problem(echo_err, f"{label}: {exc.message}", exc.hint)
        return False
    echo(f"✓ {label}: {', '.join(facts)}")
    return True


def _repo_facts(directory: ServerRepos, cfg: RepoConfig) -> list[str]:
    """What is right about the repo; raises at the first thing that is wrong."""
    facts = []
    git_url = cfg.git_url
    head = None
    if cfg.path.exists():
        with open_repo(cfg.path) as repo:
            git_url = git_url or origin_url(repo)
            facts.append("git repository")
            if not git_url:
                raise ClientError(
                    "no git_url in the config and no 'origin' remote",
                    hint="Add git_url to this repo in repos.yaml.",
                )
            server = directory.find(cfg.project_id, git_url)
            branch = cfg.branch or server.get("branch") or "main"
            head = local_head(repo, branch)
            if head is None:
                raise BranchNotFoundError(branch, str(cfg.path))
            facts.append(f"branch {branch} at {head.decode()[:7]}")
    else:
        if not git_url:
            raise ClientError("path does not exist and no git_url is configured to clone it")
        server = directory.find(cfg.project_id, git_url)
        facts.append(f"not cloned yet (sync will clone {redact_url(git_url)})")
    name = printable(server.get("name") or server["id"])
    facts.append(f"registered as {name} ({printable(server['id'])})")
    method = printable(server.get("sync_method") or "")
    accepts = server.get("accepts_pushes")
    if accepts is False or (accepts is None and method not in PUSH_METHODS):
        raise ApiError(
            f"sync method {method or 'unknown'} does not accept pushes",
            status=409,
            hint=f"Migrate the repo: python scripts/migrate_repos_to_push.py {server['id']}",
        )
    facts.append(f"sync method {method}")
    return facts


def _problem(echo_err: Echo, message: str, hint: str | None) -> None:
    echo_err(f"✗ {message}")
    for line in (hint or "").splitlines():
        echo_err(f"    {line}")
