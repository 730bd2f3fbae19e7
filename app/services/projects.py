"""Projects: reach rules and CRUD."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..db import db
from ..errors import NotFoundError, PermissionDeniedError
from ..models import Project, Repo, User
from . import audit
from .auth import Principal


def reachable_projects(principal: Principal) -> sa.Select[Any]:
    """Projects the caller reaches, by name (with their owners, loaded in the same query)."""
    stmt = sa.select(Project).options(joinedload(Project.owner)).order_by(Project.name, Project.id)
    if not principal.user.is_admin:
        stmt = stmt.where(Project.owner_id == principal.user.id)
    return stmt


def reachable_repo_ids(principal: Principal) -> sa.Select[Any] | None:
    """Ids of repos the caller reaches (None: all, for admins)."""
    if principal.user.is_admin:
        return None
    return (
        sa.select(Repo.id)
        .join(Project, Repo.project_id == Project.id)
        .where(Project.owner_id == principal.user.id)
    )


def find_project(project_id: str | uuid.UUID) -> Project:
    """The project with this id, whoever owns it; 404 when there is none."""
    try:
        pid = project_id if isinstance(project_id, uuid.UUID) else uuid.UUID(str(project_id))
    except ValueError:
        raise NotFoundError("Project not found") from None
    project = db.session.get(Project, pid)
    if project is None:
        raise NotFoundError("Project not found")
    return project


def get_project(principal: Principal, project_id: str | uuid.UUID) -> Project:
    """The project if the caller reaches it; otherwise 404 as if it did not exist."""
    project = find_project(project_id)
    if not principal.can_reach(project.owner_id):
        raise NotFoundError("Project not found")
    return project


def repo_counts(project_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Number of repos per project."""
    if not project_ids:
        return {}
    rows = db.session.execute(
        sa.select(Repo.project_id, sa.func.count())
        .where(Repo.project_id.in_(project_ids))
        .group_by(Repo.project_id)
    )
    return {pid: int(n) for pid, n in rows}


def _owner_for(principal: Principal, owner_email: str | None) -> User:
    if owner_email is None:
        return principal.user
    if not principal.user.is_admin:
        raise PermissionDeniedError("only admins create projects for other users")
    owner = db.session.scalar(
        sa.select(User).where(User.email == User.normalize_email(owner_email))
    )
    if owner is None:
        raise NotFoundError(f"no user with email {owner_email}")
    return owner


def create_project(principal: Principal | str, name: str, owner: User) -> Project:
    """Create a project owned by ``owner`` and audit it."""
    project = Project(name=name, owner_id=owner.id)
    db.session.add(project)
    db.session.flush()
    audit.record(
        "project_created",
        actor=principal,
        target=("project", str(project.id)),
        data={"name": name, "owner": owner.email},
    )
    return project


def create_for_caller(principal: Principal, name: str, owner_email: str | None) -> Project:
    """API entry: create a project for the caller or, for admins, another user."""
    principal.require_scope("write:repos")
    return create_project(principal, name, _owner_for(principal, owner_email))


def update_project(principal: Principal, project: Project, changes: dict[str, Any]) -> Project:
    """Rename a project."""
    principal.require_scope("write:repos")
    for key, value in changes.items():
        setattr(project, key, value)
    audit.record(
        "project_updated", actor=principal, target=("project", str(project.id)), data=changes
    )
    return project


def delete_project(principal: Principal, project: Project) -> list[str]:
    """Delete a project with its repos and their commits; returns the repos' ids.

    The caller removes their mirrors once the delete has committed.
    """
    principal.require_scope("write:repos")
    audit.record(
        "project_deleted",
        actor=principal,
        target=("project", str(project.id)),
        data={"name": project.name},
    )
    repos = list(db.session.scalars(sa.select(Repo).where(Repo.project_id == project.id)))
    for repo in repos:
        db.session.delete(repo)
    db.session.delete(project)
    return [repo.id for repo in repos]
