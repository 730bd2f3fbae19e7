"""A ``repos.yaml`` prefilled with a user's projects and push repos.

The text is rendered by the client's own ``init`` code
(``gitleague_client.scaffold``), so the web page and ``gitleague-client
init`` write the same file.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from gitleague_client.scaffold import ProjectEntry, RepoEntry, render

from ..db import db
from ..models import Repo
from ..sync_methods import get_registry
from .auth import Principal
from .projects import reachable_projects


def push_methods() -> list[str]:
    """Names of the registered methods that take commits from the client."""
    return [m.name for m in get_registry() if m.accepts_push]


def _path_for(repo: Repo) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", repo.name).strip("-") or repo.id
    return f"~/code/{slug}"


def client_projects(principal: Principal) -> list[ProjectEntry]:
    """The caller's projects, each with its push repos (two queries in all)."""
    projects = list(db.session.scalars(reachable_projects(principal)))
    repos: dict[object, list[RepoEntry]] = {p.id: [] for p in projects}
    if projects:
        stmt = (
            sa.select(Repo)
            .where(Repo.project_id.in_(list(repos)), Repo.sync_method.in_(push_methods()))
            .order_by(Repo.name, Repo.id)
        )
        for repo in db.session.scalars(stmt):
            repos[repo.project_id].append(
                RepoEntry(_path_for(repo), repo.git_url, repo.branch, repo.name)
            )
    return [ProjectEntry(p.name, str(p.id), repos[p.id]) for p in projects]


def repos_yaml(projects: list[ProjectEntry], api_url: str) -> str:
    """The commented ``repos.yaml`` of ``projects`` (the key is left as a placeholder)."""
    return render(api_url, None, projects)


def repo_snippet(repo: Repo, api_url: str) -> str:
    """``repos.yaml`` for one repo of its project."""
    entry = RepoEntry(_path_for(repo), repo.git_url, repo.branch, repo.name)
    return render(api_url, None, [ProjectEntry(repo.project.name, str(repo.project_id), [entry])])
