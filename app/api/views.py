"""Shaping models for responses (shared by the API blueprints)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app

from ..db import utcnow
from ..models import Project, Repo
from ..services.pagination import Page
from ..sync_methods import get_registry


def repo_view(repo: Repo, commit_count: int) -> dict[str, Any]:
    """A repo as the API shows it, with the derived sync status."""
    stale_after = dt.timedelta(seconds=current_app.config["GITLEAGUE_STALE_AFTER_SECONDS"])
    return {
        "id": repo.id,
        "project_id": str(repo.project_id),
        "name": repo.name,
        "git_url": repo.git_url,
        "branch": repo.branch,
        "sync_method": repo.sync_method,
        "accepts_pushes": _accepts_pushes(repo.sync_method),
        "sync_status": repo.effective_status(utcnow(), stale_after),
        "last_ingested_sha": repo.last_ingested_sha,
        "last_sync_at": repo.last_sync_at,
        "last_error": repo.last_error,
        "has_credentials": repo.has_credentials,
        "pull_interval_seconds": repo.pull_interval_seconds,
        "commit_count": commit_count,
        "created_at": repo.created_at,
    }


def _accepts_pushes(name: str) -> bool:
    registry = get_registry()
    return name in registry and registry.get(name).accepts_push


def project_view(project: Project, repo_count: int) -> dict[str, Any]:
    """A project as the API shows it."""
    return {
        "id": str(project.id),
        "name": project.name,
        "owner": project.owner,
        "repo_count": repo_count,
        "created_at": project.created_at,
    }


def page_view(page: Page, items: list[Any]) -> dict[str, Any]:
    """The list envelope around already-shaped ``items``."""
    return {"items": items, "total": page.total, "page": page.page, "per_page": page.per_page}
