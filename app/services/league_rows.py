"""Reading the league rollup: figures per raw author, their days, repos and weeks.

Every reader takes a :class:`~.league_periods.Window` and touches only the
rollup rows of that window (or the all-time rows), never ``commits``. Raw
authors are (email, name) pairs as stored in the rollup; merging them into
people is the caller's business (app/services/identities.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..db import db
from ..models import LeagueDay, LeagueRepoDay, LeagueRepoTotal, LeagueTotal, Repo
from .league_periods import Window

Key = tuple[str, str]
"""A raw author: (email, name) as the rollup stores them."""


@dataclass(slots=True)
class Figures:
    """Sums over some commits; ``add`` merges two disjoint sets of days."""

    commits: int = 0
    merges: int = 0
    additions: int = 0
    deletions: int = 0
    files_changed: int = 0
    active_days: int = 0
    first_at: Any = None
    """When read from the rollup: the database's own value (see :func:`utc`)."""
    last_at: Any = None

    def add(self, other: Figures) -> None:
        """Add ``other`` in place (active days too: the caller corrects overlaps)."""
        self.commits += other.commits
        self.merges += other.merges
        self.additions += other.additions
        self.deletions += other.deletions
        self.files_changed += other.files_changed
        self.active_days += other.active_days
        if other.first_at is not None:
            self.first_at = min(self.first_at or other.first_at, other.first_at)
        if other.last_at is not None:
            self.last_at = max(self.last_at or other.last_at, other.last_at)

    @property
    def lines_changed(self) -> int:
        """Additions plus deletions."""
        return self.additions + self.deletions


def utc(value: Any) -> dt.datetime | None:
    """An aware UTC time from a raw value of a time column (SQLite gives naive text)."""
    if value is None or isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.timezone.utc)


def _raw(column: Any) -> Any:
    # Times are compared and mostly dropped: converting every row's value
    # costs more than the query, so only shown ones are converted (utc()).
    return sa.type_coerce(column, sa.types.NullType())


def _sums(table: Any) -> list[Any]:
    def total(column: Any) -> Any:  # PostgreSQL sums bigints as numeric
        return sa.cast(sa.func.sum(column), sa.BigInteger)

    return [
        total(table.commits),
        total(table.merges),
        total(table.additions),
        total(table.deletions),
        total(table.files_changed),
        sa.func.count(),
        _raw(sa.func.min(table.first_at)),
        _raw(sa.func.max(table.last_at)),
    ]


def _in_window(table: Any, window: Window) -> list[Any]:
    conditions = []
    if window.start is not None:
        conditions.append(table.day >= window.start)
    if window.end is not None:
        conditions.append(table.day < window.end)
    return conditions


def _figures(row: Any) -> Figures:
    return Figures(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])


def _totals_select(t: Any) -> Any:
    return sa.select(
        t.author_email, t.author_name, t.commits, t.merges, t.additions, t.deletions,
        t.files_changed, t.active_days, _raw(t.first_at), _raw(t.last_at),
    )  # fmt: skip


def _rows(stmt: Any) -> Any:
    # Core rows straight from the connection: the ORM's per-row work is the
    # largest cost of a table with thousands of authors.
    return db.session.connection().execute(stmt)


def author_figures(
    project_id: uuid.UUID, window: Window, repo_id: str | None = None
) -> dict[Key, Figures]:
    """Each raw author's figures in the window (active days per raw author)."""
    if window.is_all:  # one row per author, kept by ingest
        if repo_id is not None:
            stmt = _totals_select(LeagueRepoTotal).where(LeagueRepoTotal.repo_id == repo_id)
        else:
            stmt = _totals_select(LeagueTotal).where(LeagueTotal.project_id == project_id)
        return {(r[0], r[1]): _figures(r[2:]) for r in _rows(stmt)}
    t: Any = LeagueRepoDay if repo_id is not None else LeagueDay
    scope = t.repo_id == repo_id if repo_id is not None else t.project_id == project_id
    stmt = (
        sa.select(t.author_email, t.author_name, *_sums(t))
        .where(scope, *_in_window(t, window))
        .group_by(t.author_email, t.author_name)
    )
    return {(r[0], r[1]): _figures(r[2:]) for r in _rows(stmt)}


def _key_filter(table: Any, keys: Iterable[Key]) -> tuple[list[Any], set[Key]]:
    wanted = set(keys)
    return [table.author_email.in_(sorted({email for email, _ in wanted}))], wanted


def author_days(
    project_id: uuid.UUID, window: Window, keys: Iterable[Key], repo_id: str | None = None
) -> dict[Key, set[dt.date]]:
    """The days on which each of ``keys`` committed in the window."""
    t: Any = LeagueRepoDay if repo_id is not None else LeagueDay
    scope = t.repo_id == repo_id if repo_id is not None else t.project_id == project_id
    where, wanted = _key_filter(t, keys)
    out: dict[Key, set[dt.date]] = defaultdict(set)
    if not wanted:
        return out
    stmt = sa.select(t.author_email, t.author_name, t.day).where(
        scope, *where, *_in_window(t, window)
    )
    for email, name, day in db.session.execute(stmt):
        if (email, name) in wanted:
            out[(email, name)].add(day)
    return out


def author_repos(
    repo_ids: list[str], window: Window, keys: Iterable[Key]
) -> dict[Key, dict[str, Figures]]:
    """Per raw author in ``keys``, their figures in each of ``repo_ids``."""
    t: Any = LeagueRepoTotal if window.is_all else LeagueRepoDay
    where, wanted = _key_filter(t, keys)
    out: dict[Key, dict[str, Figures]] = defaultdict(dict)
    if not wanted or not repo_ids:
        return out
    if window.is_all:
        stmt = _totals_select(t).add_columns(t.repo_id)
        stmt = stmt.where(t.repo_id.in_(repo_ids), *where)
    else:
        stmt = (
            sa.select(t.author_email, t.author_name, *_sums(t), t.repo_id)
            .where(t.repo_id.in_(repo_ids), *where, *_in_window(t, window))
            .group_by(t.author_email, t.author_name, t.repo_id)
        )
    for row in _rows(stmt):
        if (row[0], row[1]) in wanted:
            out[(row[0], row[1])][row[10]] = _figures(row[2:10])
    return out


def author_repo_ids(
    project_id: uuid.UUID, window: Window, keys: Iterable[Key]
) -> dict[Key, set[str]]:
    """Per raw author in ``keys``, the project's repos they committed to in the window.

    One probe of the per-repo primary key for each (repo, author), so all
    time costs no more than a week: summing the authors' rows (as
    :func:`author_repos` does) would read their whole history.
    """
    where, wanted = _key_filter(LeagueTotal, keys)
    out: dict[Key, set[str]] = defaultdict(set)
    if not wanted:
        return out
    t = LeagueRepoDay
    committed = sa.exists().where(
        t.repo_id == Repo.id,
        t.author_email == LeagueTotal.author_email,
        t.author_name == LeagueTotal.author_name,
        *_in_window(t, window),
    )
    stmt = (
        sa.select(LeagueTotal.author_email, LeagueTotal.author_name, Repo.id)
        .join(Repo, Repo.project_id == LeagueTotal.project_id)
        .where(LeagueTotal.project_id == project_id, *where, committed)
    )
    for email, name, repo_id in db.session.execute(stmt):
        if (email, name) in wanted:
            out[(email, name)].add(repo_id)
    return out


def _week_of(column: Any) -> Any:
    if db.engine.dialect.name == "postgresql":
        return sa.cast(sa.func.date_trunc("week", column), sa.Date)
    # SQLite: back to Monday (strftime %w: 0 is Sunday).
    back = (sa.cast(sa.func.strftime("%w", column), sa.Integer) + 6) % 7
    return sa.func.date(column, sa.literal("-") + sa.cast(back, sa.String) + " days")


def _days_of(project_id: uuid.UUID, repo_id: str | None) -> tuple[Any, list[Any]]:
    """The day table of a project (each sha once) or of one repo, and its scope."""
    t: Any = LeagueRepoDay if repo_id is not None else LeagueDay
    return t, [t.repo_id == repo_id if repo_id is not None else t.project_id == project_id]


def _monday(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def weekly_totals(
    project_id: uuid.UUID, window: Window, repo_id: str | None = None
) -> list[tuple[dt.date, int, int]]:
    """(week's Monday, commits, merges) of everyone in the window, oldest first (one row a week)."""
    t, where = _days_of(project_id, repo_id)
    week = _week_of(t.day).label("week")
    stmt = (
        sa.select(week, sa.func.sum(t.commits), sa.func.sum(t.merges))
        .where(*where, *_in_window(t, window))
        .group_by(week)
        .order_by(week)
    )
    return [(_monday(m), int(c), int(n)) for m, c, n in db.session.execute(stmt)]


def weekly(
    project_id: uuid.UUID,
    window: Window,
    keys: Iterable[Key] | None = None,
    repo_id: str | None = None,
) -> list[tuple[dt.date, Key, int, int]]:
    """(week's Monday, raw author, commits, merges) in the window, optionally for ``keys``."""
    t, where = _days_of(project_id, repo_id)
    wanted: set[Key] | None = None
    if keys is not None:
        more, wanted = _key_filter(t, keys)
        where += more
    week = _week_of(t.day).label("week")
    stmt = (
        sa.select(week, t.author_email, t.author_name, sa.func.sum(t.commits),
                  sa.func.sum(t.merges))
        .where(*where, *_in_window(t, window))
        .group_by(week, t.author_email, t.author_name)
    )  # fmt: skip
    out = []
    for monday, email, name, commits, merges in db.session.execute(stmt):
        if wanted is None or (email, name) in wanted:
            out.append((_monday(monday), (email, name), int(commits), int(merges)))
    return out
