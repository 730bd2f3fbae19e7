"""Reading stored commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from ..models import Commit, Repo


def commits_query(
    repo: Repo,
    *,
    author: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> sa.Select[Any]:
    """A repo's commits, newest first; ``author`` matches name or email exactly."""
    stmt = (
        sa.select(Commit)
        .where(Commit.repo_id == repo.id)
        .order_by(Commit.committed_at.desc(), Commit.sha.desc())
    )
    if author:
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Commit.author_email) == author.lower(),
                Commit.author_name == author,
            )
        )
    if since:
        stmt = stmt.where(Commit.committed_at >= since)
    if until:
        stmt = stmt.where(Commit.committed_at < until)
    return stmt
