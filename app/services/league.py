"""The league table of a project: its contributors ranked by their commits.

A contributor is an author email, compared without case. A commit counts once
per project even when it is stored for several of its repositories (a fork
and its upstream share history). Merges are counted apart and carry no line
counts, as ``git log --numstat`` shows none. The name shown is the one on the
contributor's latest commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..db import db
from ..models import Commit, Project, Repo


@dataclass
class LeaguePage:
    """One page of the table and the number of contributors in all."""

    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


def league_table(
    project: Project,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    page: int = 1,
    per_page: int = 30,
) -> LeaguePage:
    """Contributors by commits (then lines changed, then email), authored in [since, until)."""
    per_commit = _commits_once(project, since, until).subquery()
    email = per_commit.c.email.label("author_email")
    merges = sa.func.sum(per_commit.c.merge)
    commits = (sa.func.count() - merges).label("commits")
    additions = sa.func.sum(per_commit.c.additions)
    deletions = sa.func.sum(per_commit.c.deletions)
    stmt = (
        sa.select(
            email,
            commits,
            merges.label("merges"),
            additions.label("additions"),
            deletions.label("deletions"),
            sa.func.sum(per_commit.c.files_changed).label("files_changed"),
            sa.func.min(per_commit.c.authored_at).label("first_commit_at"),
            sa.func.max(per_commit.c.authored_at).label("last_commit_at"),
        )
        .group_by(per_commit.c.email)
        .order_by(commits.desc(), (additions + deletions).desc(), per_commit.c.email)
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    offset = (page - 1) * per_page
    rows = db.session.execute(stmt.limit(per_page).offset(offset)).mappings().all()
    emails = [row["author_email"] for row in rows]
    names = _latest_names(project, emails)
    repos = _repo_counts(project, emails, since, until)
    items = [
        {
            **row,
            "rank": offset + i + 1,
            "author_name": names.get(row["author_email"], ""),
            "repos": repos.get(row["author_email"], 0),
        }
        for i, row in enumerate(rows)
    ]
    return LeaguePage(items=items, total=int(total or 0), page=page, per_page=per_page)


def _conditions(
    project: Project, since: dt.datetime | None, until: dt.datetime | None
) -> list[Any]:
    """The project's commits authored in [since, until)."""
    conditions: list[Any] = [Repo.project_id == project.id]
    if since is not None:
        conditions.append(Commit.authored_at >= since)
    if until is not None:
        conditions.append(Commit.authored_at < until)
    return conditions


def _commits_once(
    project: Project, since: dt.datetime | None, until: dt.datetime | None
) -> sa.Select[Any]:
    """One row per commit of the project, however many of its repos hold it."""
    email = sa.func.lower(Commit.author_email)
    return (
        sa.select(
            email.label("email"),
            sa.func.max(Commit.additions).label("additions"),
            sa.func.max(Commit.deletions).label("deletions"),
            sa.func.max(Commit.files_changed).label("files_changed"),
            sa.func.max(sa.case((Commit.is_merge, 1), else_=0)).label("merge"),
            sa.func.min(Commit.authored_at).label("authored_at"),
        )
        .join(Repo, Repo.id == Commit.repo_id)
        .where(*_conditions(project, since, until))
        .group_by(Commit.sha, email)
    )


def _latest_names(project: Project, emails: list[str]) -> dict[str, str]:
    """The author name on each email's latest commit in the project."""
    if not emails:
        return {}
    email = sa.func.lower(Commit.author_email)
    latest = sa.func.row_number().over(partition_by=email, order_by=Commit.authored_at.desc())
    ranked = (
        sa.select(email.label("email"), Commit.author_name, latest.label("n"))
        .join(Repo, Repo.id == Commit.repo_id)
        .where(Repo.project_id == project.id, email.in_(emails))
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ranked.c.email, ranked.c.author_name).where(ranked.c.n == 1)
    )
    return {row.email: row.author_name for row in rows}


def _repo_counts(
    project: Project, emails: list[str], since: dt.datetime | None, until: dt.datetime | None
) -> dict[str, int]:
    """In how many of the project's repos each email has commits (in the period)."""
    if not emails:
        return {}
    email = sa.func.lower(Commit.author_email)
    rows = db.session.execute(
        sa.select(email, sa.func.count(sa.distinct(Commit.repo_id)))
        .join(Repo, Repo.id == Commit.repo_id)
        .where(*_conditions(project, since, until), email.in_(emails))
        .group_by(email)
    )
    return {found: int(n) for found, n in rows}
