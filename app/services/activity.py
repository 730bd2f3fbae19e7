"""Activity read by the pages: commits per week, recent sync runs.

Weeks start on Monday, in UTC, and a commit counts in the week it was
committed (when it landed; that is also what the ``(repo_id, committed_at)``
index serves). A commit stored in several repos of the selection counts once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ..db import db, utcnow
from ..models import Commit, Repo, SyncRun, User

DEFAULT_WEEKS = 52


def _week_start(column: Any) -> Any:
    """The Monday (UTC) of ``column``'s week, per dialect."""
    if db.engine.dialect.name == "postgresql":
        return sa.func.date_trunc("week", sa.func.timezone("UTC", column))
    # SQLite stores naive UTC text: the next Sunday (or the day itself), minus 6 days.
    return sa.func.date(column, "weekday 0", "-6 days")


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def monday(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def weekly_commits(
    *,
    repo_ids: Sequence[str] | None = None,
    project_id: Any = None,
    author_email: str | None = None,
    weeks: int = DEFAULT_WEEKS,
    now: dt.datetime | None = None,
) -> list[tuple[dt.date, int]]:
    """Commits per week over the last ``weeks`` weeks, oldest first, empty weeks as 0."""
    first = monday((now or utcnow()).date()) - dt.timedelta(weeks=weeks - 1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=dt.timezone.utc)
    week = _week_start(Commit.committed_at)
    one_repo = repo_ids is not None and len(repo_ids) == 1 and project_id is None
    # A sha is unique within one repo: only a selection of several needs DISTINCT.
    count = sa.func.count() if one_repo else sa.func.count(sa.distinct(Commit.sha))
    stmt = sa.select(week.label("week"), count).where(Commit.committed_at >= since)
    if repo_ids is not None:
        stmt = stmt.where(Commit.repo_id.in_(list(repo_ids)))
    if project_id is not None:
        project_repos = sa.select(Repo.id).where(Repo.project_id == project_id)
        stmt = stmt.where(Commit.repo_id.in_(project_repos))
    if author_email is not None:
        stmt = stmt.where(sa.func.lower(Commit.author_email) == author_email.lower())
    counts = {_as_date(w): int(n) for w, n in db.session.execute(stmt.group_by(week))}
    return [
        (first + dt.timedelta(weeks=i), counts.get(first + dt.timedelta(weeks=i), 0))
        for i in range(weeks)
    ]


def chart_series(weekly: list[tuple[dt.date, int]]) -> dict[str, list[int]]:
    """``{"x": unix seconds of each Monday, "y": counts}`` for the chart script."""
    return {
        "x": [
            int(dt.datetime.combine(d, dt.time(), dt.timezone.utc).timestamp()) for d, _ in weekly
        ],
        "y": [n for _, n in weekly],
    }


def recent_runs(repo: Repo, limit: int = 20) -> list[tuple[SyncRun, str | None]]:
    """A repo's latest sync runs with the email of who ran them, newest first (one query)."""
    stmt = (
        sa.select(SyncRun, User.email)
        .outerjoin(User, User.id == SyncRun.user_id)
        .where(SyncRun.repo_id == repo.id)
        .order_by(SyncRun.id.desc())
        .limit(limit)
    )
    return [(run, email) for run, email in db.session.execute(stmt)]
