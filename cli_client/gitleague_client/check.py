"""``test``: is the server reachable, the key known, and every configured repo ready?

Prints the guide's lines (✓ Connected, ✓ API Key, ✓ Projects and one line per
project), the key's scopes, then one line per configured repository: a clone or a
folder sync will clone into, registered on the server on a method that takes pushes,
its branch on the remote (``ls-remote``; ``--offline`` looks only at the clone).
Nothing is fetched or sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitleague_client.api import ApiClient, mask_key
from gitleague_client.config import Config, RepoConfig
from gitleague_client.errors import ClientError, ExitCode
from gitleague_client.fetch import (
    BranchNotFoundError,
    NotARepositoryError,
    local_head,
    open_repo,
    origin_url,
    remote_head,
)
from gitleague_client.text import printable
from gitleague_client.upload import ServerRepos
from gitleague_client.urls import redact_url

#: Sync methods known to accept pushes when the server does not say (``accepts_pushes``).
PUSH_METHODS = frozenset({"push_client"})

Echo = Callable[[str], None]

PATH_HINT = (
    "Set path to a clone of this repo, or to a folder that does not exist yet\n"
    "(sync then clones git_url into it)."
)


#: Scopes ``sync`` needs: find the repos, then push commits and runs.
SYNC_SCOPES = ("read:repos", "sync:commits")


@dataclass(frozen=True)
class CheckOptions:
    """``test``'s switches: ``offline`` skips contacting the git remotes."""

    offline: bool = False
    timeouts: tuple[float, float] = (10.0, 60.0)


def run_checks(
    api: ApiClient, config: Config, echo: Echo, echo_err: Echo, options: CheckOptions | None = None
) -> ExitCode:
    """Print the checks; return the exit code (OK only when every check passed)."""
    options = options or CheckOptions()
    echo("Testing connection to GitLeague API...")
    try:
        me = api.me()
    except ClientError as exc:
        _problem(echo_err, exc.message, exc.hint)
        return exc.exit_code
    echo("✓ Connected to GitLeague API")
    echo(f"✓ API Key: {printable(masked_key(me, config.api_key or ''))}")
    ok = _check_projects(me, config, echo, echo_err)  # the guide's lines come first
    ok = _check_scopes(me, echo, echo_err) and ok
    directory = ServerRepos(api)
    for repo in config.iter_repos():
        ok = _check_repo(directory, repo, options, echo, echo_err) and ok
    return ExitCode.OK if ok else ExitCode.PARTIAL_FAILURE


def _check_scopes(me: dict[str, Any], echo: Echo, echo_err: Echo) -> bool:
    scopes = me.get("scopes")
    if not isinstance(scopes, list):
        return True  # a server that does not say: the sync itself will tell
    missing = [s for s in SYNC_SCOPES if s not in scopes]
    if missing:
        _problem(echo_err, f"API key lacks the scope(s) sync needs: {', '.join(missing)}",
                 f"Create a key with the scopes {','.join(SYNC_SCOPES)} in the web UI.")  # fmt: skip
        return False
    echo(f"✓ Scopes: {', '.join(SYNC_SCOPES)}")
    return True


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
        echo(f"  - {printable(project.name)} ({count} {noun})")
    return not missing


def _repo_count(project: dict[str, Any]) -> int:
    for field in ("repo_count", "repos_count", "repo_total"):
        if isinstance(project.get(field), int):
            return int(project[field])
    repos = project.get("repos")
    return len(repos) if isinstance(repos, list) else int(repos or 0)


def _check_repo(
    directory: ServerRepos, cfg: RepoConfig, options: CheckOptions, echo: Echo, echo_err: Echo
) -> bool:
    label = str(cfg.path)
    try:
        facts = _repo_facts(directory, cfg, options)
    except ClientError as exc:
        _problem(echo_err, f"{label}: {exc.message}", exc.hint)
        return False
    echo(f"✓ {label}: {', '.join(facts)}")
    return True


def _repo_facts(directory: ServerRepos, cfg: RepoConfig, options: CheckOptions) -> list[str]:
    """What is right about the repo; raises at the first thing that is wrong."""
    facts = []
    local: bytes | None = None
    if cfg.path.exists():
        try:
            repo = open_repo(cfg.path)
        except NotARepositoryError as exc:
            exc.hint = PATH_HINT
            raise
        with repo:
            git_url = cfg.git_url or origin_url(repo)
            facts.append("git repository" + (", shallow (sync deepens it)" if repo.get_shallow()
                                              else ""))  # fmt: skip
            if not git_url:
                raise ClientError(
                    "no git_url in the config and no 'origin' remote",
                    hint="Add git_url to this repo in repos.yaml.",
                )
            server = directory.find(cfg.project_id, git_url)
            branch = cfg.branch or server.get("branch") or "main"
            local = local_head(repo, branch)
            if local is None and options.offline:
                raise BranchNotFoundError(branch, str(cfg.path))
    else:
        if not cfg.git_url:
            raise ClientError("path does not exist and no git_url is configured to clone it",
                              hint=PATH_HINT)  # fmt: skip
        git_url = cfg.git_url
        server = directory.find(cfg.project_id, git_url)
        branch = cfg.branch or server.get("branch") or "main"
        facts.append(f"not cloned yet: sync will make a new bare clone here from "
                     f"{redact_url(git_url)} (if you have a clone already, set path to it)")  # fmt: skip
    name = printable(server.get("name") or server["id"])
    facts.append(f"registered as {name} ({printable(server['id'])})")
    method = printable(server.get("sync_method") or "")
    accepts = server.get("accepts_pushes")
    if accepts is False or (accepts is None and method not in PUSH_METHODS):
        raise ClientError(
            f"repo {name} is synced by {method or 'another method'}, which takes no pushes",
            hint=f"Ask your GitLeague admin to migrate repo {printable(server['id'])} "
            "to push_client; sync will then upload its commits.",
        )
    facts.append(f"sync method {method}")
    facts.append(_branch_fact(cfg, git_url, branch, local, options))
    return facts


def _branch_fact(
    cfg: RepoConfig, git_url: str, branch: str, local: bytes | None, options: CheckOptions
) -> str:
    """Where the branch is: on the remote (asked, unless offline), else locally."""
    if options.offline:
        if local is None:
            return f"branch {branch} not checked (--offline)"
        return f"branch {branch} at {local.decode()[:7]} locally (remote not checked: --offline)"
    head = remote_head(git_url, branch, cfg.ssh_key, options.timeouts)
    if head is None:
        raise BranchNotFoundError(branch, redact_url(git_url))
    return f"remote answers, branch {branch} at {head.decode()[:7]}"


def _problem(echo_err: Echo, message: str, hint: str | None) -> None:
    echo_err(f"✗ {message}")
    for line in (hint or "").splitlines():
        echo_err(f"    {line}")
