"""``status``: the server's view of the configured repositories.

One line per repository: sync method, status, last sync, commit count, and the last
error when there is one; ``--json`` gives the same as one document. Nothing is
fetched or sent; only the server is asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitleague_client.api import ApiClient
from gitleague_client.config import Config, RepoConfig
from gitleague_client.errors import ClientError, ExitCode
from gitleague_client.fetch import open_repo, origin_url
from gitleague_client.text import printable
from gitleague_client.upload import ServerRepos

#: The server's fields shown for each repository.
FIELDS = ("sync_method", "sync_status", "last_sync_at", "commit_count", "last_error")

Echo = Callable[[str], None]


def repo_states(api: ApiClient, config: Config) -> list[dict[str, Any]]:
    """Each configured repo with the server's fields, or the ``error`` that hid them."""
    directory = ServerRepos(api)
    states = []
    for cfg in config.iter_repos():
        state: dict[str, Any] = {"project": cfg.project_name, "path": str(cfg.path)}
        try:
            server = directory.find(cfg.project_id, _git_url(cfg))
        except ClientError as exc:
            if exc.exit_code != ExitCode.PARTIAL_FAILURE:
                raise  # the server is out, or the key is refused: not this repo's problem
            state["error"] = exc.message
        else:
            state["repo_id"] = str(server["id"])
            state["name"] = str(server.get("name") or server["id"])
            state.update({f: server.get(f) for f in FIELDS})
        states.append(state)
    return states


def _git_url(cfg: RepoConfig) -> str:
    if cfg.git_url:
        return cfg.git_url
    if cfg.path.exists():
        with open_repo(cfg.path) as repo:
            url = origin_url(repo)
        if url:
            return url
    raise ClientError("no git_url in the config and no 'origin' remote to find the repo by")


def exit_code(states: list[dict[str, Any]]) -> ExitCode:
    """0 when the server knows every repo and none is failing, else 1 (for monitoring)."""
    bad = [s for s in states if "error" in s or s.get("sync_status") == "failing"]
    return ExitCode.PARTIAL_FAILURE if bad else ExitCode.OK


def print_states(states: list[dict[str, Any]], echo: Echo, echo_err: Echo) -> None:
    """The human-readable form: a line per repo, and its last error under it."""
    for state in states:
        label = printable(f"{state['project']} / {state.get('name') or state['path']}")
        if "error" in state:
            echo_err(f"✗ {label}: {printable(state['error'])}")
            continue
        status = printable(state.get("sync_status") or "unknown")
        mark = "✗" if status == "failing" else "✓" if status == "healthy" else "-"
        last = printable(state.get("last_sync_at") or "never")
        count = int(state.get("commit_count") or 0)
        noun = "commit" if count == 1 else "commits"
        method = printable(state.get("sync_method") or "?")
        line = f"{mark} {label}: {status}, {method}, last sync {last}, {count} {noun}"
        (echo_err if status == "failing" else echo)(line)
        if state.get("last_error"):
            (echo_err if status == "failing" else echo)(
                f"    last error: {printable(state['last_error'])}"
            )
