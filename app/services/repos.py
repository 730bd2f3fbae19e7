"""Repositories: reach rules, lookup by URL, CRUD."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from gitleague_client.urls import normalize_git_url, url_problem
from sqlalchemy.orm import contains_eager

from ..db import db
from ..errors import (
    BadRequestError,
    ConflictError,
    GitLeagueError,
    PermissionDeniedError,
    RepositoryNotFoundError,
    ValidationFailedError,
)
from ..models import Commit, Project, Repo, SyncStatus
from ..models.repo import new_repo_id
from ..sync_methods import get_registry
from . import audit, credentials, remote_url, rollup
from .auth import Principal

ORIGIN_CHANGED = "git_url moved to another scheme, host or port"
ID_CHOSEN_BY_ADMINS = (
    "id: only admins choose repository ids; leave id out and the server assigns one"
)
REPO_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,39}$")
DEFAULT_SYNC_METHOD = "push_client"


def normalized_url(git_url: str, *, error: type[GitLeagueError] = ValidationFailedError) -> str:
    """The comparable form of ``git_url``; ``error`` (422) naming the problem when invalid.

    URLs carrying a token or password are refused without being repeated.
    """
    problem = remote_url.user_info_problem(git_url)
    if problem:
        raise error(f"git_url: {problem}")
    try:
        problem = url_problem(git_url)
        normalized = normalize_git_url(git_url)
    except ValueError:  # urllib's own refusals, such as a malformed IPv6 host
        problem = "not a well-formed URL"
    if problem:
        raise error(f"git_url: {problem}")
    return normalized


def get_repo(principal: Principal, repo_id: str, *, for_update: bool = False) -> Repo:
    """The repo if the caller reaches it; otherwise the guide's 404."""
    if not isinstance(repo_id, str) or len(repo_id) > 40:
        raise RepositoryNotFoundError()
    # The owner check needs the project: load it in the same query, since
    # every repo-scoped request (the ingest path included) comes through here.
    stmt = (
        sa.select(Repo)
        .join(Repo.project)
        .options(contains_eager(Repo.project))
        .where(Repo.id == repo_id)
    )
    if for_update:
        stmt = stmt.with_for_update(of=Repo)
    repo = db.session.scalar(stmt)
    if repo is None or not principal.can_reach(repo.project.owner_id):
        raise RepositoryNotFoundError()
    return repo


def repos_of_project(project: Project, git_url: str | None = None) -> sa.Select[Any]:
    """A project's repos by name, optionally only those matching ``git_url``."""
    stmt = sa.select(Repo).where(Repo.project_id == project.id).order_by(Repo.name, Repo.id)
    if git_url is not None:
        # 400, not 422: this is a filter, and it must not look like a lookup that worked.
        normalized = normalized_url(git_url, error=BadRequestError)
        stmt = stmt.where(Repo.git_url_normalized == normalized)
    return stmt


def commit_counts(repo_ids: list[str]) -> dict[str, int]:
    """Stored commits per repo."""
    if not repo_ids:
        return {}
    rows = db.session.execute(
        sa.select(Commit.repo_id, sa.func.count())
        .where(Commit.repo_id.in_(repo_ids))
        .group_by(Commit.repo_id)
    )
    return {rid: int(n) for rid, n in rows}


def _check_unique(project: Project, normalized: str, exclude_id: str | None = None) -> None:
    stmt = sa.select(Repo.id).where(
        Repo.project_id == project.id, Repo.git_url_normalized == normalized
    )
    if exclude_id:
        stmt = stmt.where(Repo.id != exclude_id)
    other = db.session.scalar(stmt)
    if other:
        raise ConflictError(f"repository {other} of this project already has that git_url")


def _new_id(actor: Principal | str, requested: str | None) -> str:
    """``requested`` (admins and the shell only) or a random free id.

    A commissioner's chosen id is refused before it is looked at, so the
    answer is the same whether another owner's repo holds it or not: no
    existence oracle. Admins reach every repo anyway, so telling them an id
    is taken tells them nothing new.
    """
    if requested is not None and isinstance(actor, Principal) and not actor.user.is_admin:
        raise PermissionDeniedError(ID_CHOSEN_BY_ADMINS)
    if requested is not None:
        if not REPO_ID_RE.match(requested):
            raise ValidationFailedError("id: use 3 to 40 characters of a-z, 0-9 and -")
        if db.session.get(Repo, requested) is not None:
            raise ConflictError(f"repository id {requested} is taken")
        return requested
    for _ in range(20):
        candidate = new_repo_id()
        if db.session.get(Repo, candidate) is None:
            return candidate
    raise ConflictError("could not allocate a repository id; try again")


def create_repo(
    actor: Principal | str,
    project: Project,
    *,
    name: str,
    git_url: str,
    branch: str = "main",
    sync_method: str | None = None,
    repo_id: str | None = None,
) -> Repo:
    """Register a repository in ``project`` under a registered sync method."""
    if isinstance(actor, Principal):
        actor.require_scope("write:repos")
    method = get_registry().get(sync_method or DEFAULT_SYNC_METHOD)
    normalized = normalized_url(git_url)
    _check_unique(project, normalized)
    repo = Repo(
        id=_new_id(actor, repo_id),
        project_id=project.id,
        name=name,
        git_url=git_url,
        git_url_normalized=normalized,
        branch=branch,
        sync_method=method.name,
        sync_status=SyncStatus.NEVER.value,
    )
    try:
        # The checks above cannot see a create committed after they ran (two
        # requests at once): the unique constraints then stop the second, and
        # it gets the same answer as if it had come later.
        with db.session.begin_nested():
            repo.project = project
            repo.sync_status = method.initial_status(repo)
            db.session.add(repo)
            db.session.flush()
    except sa.exc.IntegrityError:
        _check_unique(project, normalized)
        if db.session.get(Repo, repo.id) is not None:
            raise ConflictError(f"repository id {repo.id} is taken") from None
        raise ConflictError("another repository was created at the same time; try again") from None
    audit.record(
        "repo_created",
        actor=actor,
        repo_id=repo.id,
        data={"name": name, "git_url": normalized, "branch": branch, "sync_method": method.name},
    )
    return repo


def update_repo(principal: Principal, repo: Repo, changes: dict[str, Any]) -> Repo:
    """Change name, git_url or branch (the sync method changes only by migration).

    A git_url on another origin (scheme, host or port) deletes the stored
    token: it was given for the old origin, and the next pull would send it
    to the new one. The repo then waits for credentials again.
    """
    principal.require_scope("write:repos")
    moved = False
    if "git_url" in changes:
        normalized = normalized_url(changes["git_url"])
        _check_unique(repo.project, normalized, exclude_id=repo.id)
        moved = not remote_url.token_may_follow(repo, changes["git_url"])
        repo.git_url_normalized = normalized
    for key, value in changes.items():
        setattr(repo, key, value)
    audit.record("repo_updated", actor=principal, repo_id=repo.id, data=dict(changes))
    if moved and repo.has_credentials:
        credentials.clear_credentials(principal, repo, reason=ORIGIN_CHANGED)
    return repo


def delete_repo(principal: Principal, repo: Repo) -> None:
    """Delete a repo and its commits.

    Its pull mirror is not touched here: the caller removes it with
    :func:`app.services.pull_sync.forget_mirror` once the delete has committed.
    """
    principal.require_scope("write:repos")
    audit.record("repo_deleted", actor=principal, repo_id=repo.id, data={"name": repo.name})
    rollup.forget_repo(db.session.connection(), repo.project_id, repo.id)
    db.session.delete(repo)
