"""Keeping the league rollup (app/models/league.py) equal to the stored commits.

Three ways in, one result:

- **ingest** adds exactly the rows a batch really inserted, in the batch's
  transaction: on PostgreSQL the INSERT's ``RETURNING`` feeds the rollup in
  the same statement (:func:`pg_insert_with_rollup`); on SQLite, which lets
  one writer in at a time, the batch's new shas are known before the insert
  (:func:`sqlite_after_insert`). A sha counts for a project only when its
  ``league_commits`` row is new, so a fork and its upstream count it once,
  even when both are pushed at the same moment (the unique key decides).
- **rebuild** recomputes a project from ``commits`` (:func:`rebuild`): the
  ``flask --app wsgi league rebuild`` command, the migration that created the
  tables, and any future change of counting rules.
- **deleting a repo** recomputes only the authors of that repo
  (:func:`forget_repo`), as shas it shared with another repo still count.

Everything is SQL over a ``Connection``, so a migration can call it too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from ..models.league import KEY_LENGTH

_EMAIL = f"substr(author_email, 1, {KEY_LENGTH})"
_NAME = f"substr(author_name, 1, {KEY_LENGTH})"
_MERGE = "CASE WHEN is_merge THEN 1 ELSE 0 END"
_COUNTERS = "commits, merges, additions, deletions, files_changed, first_at, last_at"


def _sums(merge: str = _MERGE) -> str:
    """The counters of ``_COUNTERS`` over a group of commit rows."""
    return (
        f"count(*) - sum({merge}), sum({merge}), sum(additions), sum(deletions), "
        "sum(files_changed), min(authored_at), max(authored_at)"
    )


def _day(dialect: str, column: str = "authored_at") -> str:
    """The UTC day of a stored time (SQLite stores naive UTC text)."""
    if dialect == "postgresql":
        return f"({column} AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def _add(table: str, dialect: str, extra: str = "") -> str:
    """The upsert's SET clause: counters added, first/last widened."""
    least, greatest = ("least", "greatest") if dialect == "postgresql" else ("min", "max")
    sets = [
        f"{c} = {table}.{c} + excluded.{c}"
        for c in ("commits", "merges", "additions", "deletions", "files_changed", *extra.split())
    ]
    sets.append(f"first_at = {least}({table}.first_at, excluded.first_at)")
    sets.append(f"last_at = {greatest}({table}.last_at, excluded.last_at)")
    return ", ".join(sets)


_DAY_KEY = "(project_id, day, author_email, author_name)"
_TOTAL_KEY = "(project_id, author_email, author_name)"
_REPO_DAY_KEY = "(repo_id, author_email, author_name, day)"
_REPO_TOTAL_KEY = "(repo_id, author_email, author_name)"
_RETURNING = (
    "sha, author_name, author_email, authored_at, is_merge, additions, deletions, files_changed"
)


def pg_insert_with_rollup(insert_sql: str) -> str:
    """``insert_sql`` (an INSERT INTO commits) wrapped so the per-day rollup follows it.

    Its parameters are those of ``insert_sql`` followed by the repo id; its
    rows go to :func:`pg_add_totals`, which finishes the work. Each table's
    rows are locked in key order, and every batch locks the tables in the
    same order (counted shas, days; then totals in a second statement), so
    concurrent batches of one project wait for each other but cannot deadlock.
    """
    day = _day("postgresql")
    sums = (
        "count(*) - sum(" + _MERGE + ") AS c, sum(" + _MERGE + ") AS m, sum(additions) AS ad, "
        "sum(deletions) AS de, sum(files_changed) AS f, min(authored_at) AS fa, "
        "max(authored_at) AS la"
    )
    per_author = (
        "SELECT {scope} AS scope, a.*, coalesce(n.nd, 0), (SELECT project_id FROM target), "
        "(SELECT count(*) FROM ins) "
        f"FROM (SELECT {_EMAIL} AS email, {_NAME} AS name, {sums} FROM {{source}} "
        "GROUP BY 1, 2) a LEFT JOIN (SELECT author_email, author_name, count(*) AS nd "
        "FROM {days} WHERE new_day GROUP BY 1, 2) n "
        "ON n.author_email = a.email AND n.author_name = a.name"
    )
    return f"""
WITH ins AS ({insert_sql} RETURNING {_RETURNING}),
target AS (SELECT id AS repo_id, project_id FROM repos WHERE id = %s),
fresh AS (
  INSERT INTO league_commits (project_id, sha)
  SELECT t.project_id, i.sha FROM ins i CROSS JOIN target t ORDER BY i.sha
  ON CONFLICT DO NOTHING RETURNING sha),
repo_days AS (
  INSERT INTO league_repo_days (repo_id, author_email, author_name, day, {_COUNTERS})
  SELECT t.repo_id, a.* FROM (SELECT {_EMAIL}, {_NAME}, {day}, {_sums()} FROM ins
    GROUP BY 1, 2, 3) a CROSS JOIN target t ORDER BY 2, 3, 4
  ON CONFLICT {_REPO_DAY_KEY} DO UPDATE SET {_add("league_repo_days", "postgresql")}
  RETURNING author_email, author_name, xmax = 0 AS new_day),
counted AS (SELECT i.* FROM ins i JOIN fresh USING (sha)),
days AS (
  INSERT INTO league_days (project_id, day, author_email, author_name, {_COUNTERS})
  SELECT t.project_id, a.* FROM (SELECT {day}, {_EMAIL}, {_NAME}, {_sums()} FROM counted
    GROUP BY 1, 2, 3) a CROSS JOIN target t ORDER BY 2, 3, 4
  ON CONFLICT {_DAY_KEY} DO UPDATE SET {_add("league_days", "postgresql")}
  RETURNING author_email, author_name, xmax = 0 AS new_day)
{per_author.format(scope="'repo'", days="repo_days", source="ins")}
UNION ALL
{per_author.format(scope="'project'", days="days", source="counted")}"""


def pg_add_totals(conn: sa.Connection, repo_id: str, rows: Sequence[Any]) -> int:
    """Add the per-author rows of :func:`pg_insert_with_rollup` to the all-time tables.

    Returns the number of commits the batch inserted.
    """
    if not rows:
        return 0
    project_id = rows[0][-2]
    for scope, table, key, value in (
        ("repo", "league_repo_totals", _REPO_TOTAL_KEY, repo_id),
        ("project", "league_totals", _TOTAL_KEY, project_id),
    ):
        mine = sorted((r[1:11] for r in rows if r[0] == scope), key=lambda r: (r[0], r[1]))
        if mine:
            conn.exec_driver_sql(
                f"INSERT INTO {table} ({scope}_id, author_email, author_name, {_COUNTERS}, "
                "active_days) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                f"ON CONFLICT {key} DO UPDATE SET {_add(table, 'postgresql', 'active_days')}",
                [(value, *r) for r in mine],
            )
    return int(rows[0][-1])


def sqlite_after_insert(conn: sa.Connection, repo_id: str, shas: list[str]) -> None:
    """Add the commits just inserted for ``repo_id`` (exactly ``shas``) to the rollup.

    SQLite holds the database's write lock for the whole ingest transaction
    (``BEGIN IMMEDIATE``), so no other writer can store one of ``shas`` in
    between and the checks below cannot race.
    """
    if not shas:
        return
    project = conn.exec_driver_sql("SELECT project_id FROM repos WHERE id = ?", (repo_id,))
    pid = project.scalar_one()
    batch = json.dumps(shas)
    fresh = [
        row[0]
        for row in conn.exec_driver_sql(
            "SELECT value FROM json_each(?) j WHERE NOT EXISTS (SELECT 1 FROM league_commits "
            "l WHERE l.project_id = ? AND l.sha = j.value)",
            (batch, pid),
        )
    ]
    conn.exec_driver_sql(
        "INSERT INTO league_commits (project_id, sha) SELECT ?, value FROM json_each(?)",
        (pid, json.dumps(fresh)),
    )
    _sqlite_add(conn, repo_id, shas, ("repo", repo_id))
    if fresh:  # else every sha already counts for the project (a fork's copy)
        _sqlite_add(conn, repo_id, fresh, ("project", pid))


def _sqlite_add(conn: sa.Connection, repo_id: str, shas: list[str], scope: tuple[str, Any]) -> None:
    """Add commits ``shas`` of ``repo_id`` to the days and totals of a repo or a project."""
    kind, value = scope
    column = f"{kind}_id"
    days, totals = ("league_repo_days", "league_repo_totals") if kind == "repo" else (
        "league_days", "league_totals")  # fmt: skip
    days_key, totals_key = (_REPO_DAY_KEY, _REPO_TOTAL_KEY) if kind == "repo" else (
        _DAY_KEY, _TOTAL_KEY)  # fmt: skip
    mine = "FROM commits WHERE repo_id = ? AND sha IN (SELECT value FROM json_each(?))"
    source = (repo_id, json.dumps(shas))
    day = _day("sqlite")
    # Days new to an author, counted before they are stored: active days.
    new_days = {
        (email, name): n
        for email, name, n in conn.exec_driver_sql(
            f"SELECT k.email, k.name, count(*) FROM (SELECT DISTINCT {_EMAIL} AS email, "
            f"{_NAME} AS name, {day} AS day {mine}) k WHERE NOT EXISTS (SELECT 1 FROM {days} "
            f"d WHERE d.{column} = ? AND d.day = k.day AND d.author_email = k.email AND "
            "d.author_name = k.name) GROUP BY 1, 2",
            (*source, value),
        )
    }
    conn.exec_driver_sql(
        f"INSERT INTO {days} ({column}, day, author_email, author_name, {_COUNTERS}) "
        f"SELECT ?, {day}, {_EMAIL}, {_NAME}, {_sums()} {mine} GROUP BY 2, 3, 4 "
        f"ON CONFLICT {days_key} DO UPDATE SET {_add(days, 'sqlite')}",
        (value, *source),
    )
    sums = conn.exec_driver_sql(
        f"SELECT {_EMAIL}, {_NAME}, {_sums()} {mine} GROUP BY 1, 2", source
    ).all()
    conn.exec_driver_sql(
        f"INSERT INTO {totals} ({column}, author_email, author_name, {_COUNTERS}, "
        f"active_days) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT {totals_key} "
        f"DO UPDATE SET {_add(totals, 'sqlite', 'active_days')}",
        [(value, *row, new_days.get((row[0], row[1]), 0)) for row in sums],
    )


def _project_param(conn: sa.Connection, project_id: uuid.UUID) -> Any:
    # Raw SQL binds what each dialect stores: SQLite keeps UUIDs as 32 hex digits.
    return project_id if conn.dialect.name == "postgresql" else project_id.hex


def rebuild(
    conn: sa.Connection,
    project_id: uuid.UUID,
    *,
    emails: Iterable[str] | None = None,
    exclude_repo: str | None = None,
) -> None:
    """Recompute a project's rollup from its commits.

    ``emails`` (rollup keys, already cut to ``KEY_LENGTH``) limits the work
    to those authors' rows; ``exclude_repo`` leaves a repo's commits out (it
    is being deleted). The per-repo rows and the counted shas are rebuilt
    only for a whole project.
    """
    dialect = conn.dialect.name
    params: dict[str, Any] = {"p": _project_param(conn, project_id), "x": exclude_repo or ""}
    repos = "SELECT id FROM repos WHERE project_id = :p AND id <> :x"
    only = ""
    if emails is not None:
        params["emails"] = sorted(set(emails))
        if not params["emails"]:
            return
        only = " AND author_email IN :emails"
    run = _runner(conn, params)
    run(f"DELETE FROM league_totals WHERE project_id = :p{only}")
    run(f"DELETE FROM league_days WHERE project_id = :p{only}")
    day = _day(dialect)
    if emails is None:
        run("DELETE FROM league_commits WHERE project_id = :p")
        run(f"DELETE FROM league_repo_days WHERE repo_id IN ({repos})")
        run(
            "INSERT INTO league_commits (project_id, sha) "
            f"SELECT DISTINCT :p, sha FROM commits WHERE repo_id IN ({repos})"
        )
        run(
            f"INSERT INTO league_repo_days (repo_id, author_email, author_name, day, {_COUNTERS}) "
            f"SELECT repo_id, {_EMAIL}, {_NAME}, {day}, {_sums()} FROM commits "
            f"WHERE repo_id IN ({repos}) GROUP BY repo_id, 2, 3, 4"
        )
        run(f"DELETE FROM league_repo_totals WHERE repo_id IN ({repos})")
        run(
            "INSERT INTO league_repo_totals (repo_id, author_email, author_name, "
            f"{_COUNTERS}, active_days) SELECT repo_id, {_EMAIL}, {_NAME}, {_sums()}, "
            f"count(DISTINCT {day}) FROM commits WHERE repo_id IN ({repos}) "
            "GROUP BY repo_id, 2, 3"
        )
    # One row per sha however many repos hold it (their copies are the same commit).
    once = (
        f"(SELECT sha, min({_EMAIL}) AS author_email, min({_NAME}) AS author_name, "
        "min(authored_at) AS authored_at, max(additions) AS additions, "
        "max(deletions) AS deletions, max(files_changed) AS files_changed, "
        f"max({_MERGE}) AS m FROM commits WHERE repo_id IN ({repos})"
        f"{only.replace('author_email', _EMAIL)} GROUP BY sha) c"
    )
    run(
        f"INSERT INTO league_days (project_id, day, author_email, author_name, {_COUNTERS}) "
        f"SELECT :p, {day}, author_email, author_name, {_sums('m')} FROM {once} "
        "GROUP BY 2, 3, 4"
    )
    run(
        f"INSERT INTO league_totals (project_id, author_email, author_name, {_COUNTERS}, "
        f"active_days) SELECT :p, author_email, author_name, {_sums('m')}, "
        f"count(DISTINCT {day}) FROM {once} GROUP BY 2, 3"
    )


def _runner(conn: sa.Connection, params: dict[str, Any]) -> Any:
    def run(sql: str) -> None:
        stmt = sa.text(sql)
        if "emails" in params:
            stmt = stmt.bindparams(sa.bindparam("emails", expanding=True))
        conn.execute(stmt, {k: v for k, v in params.items() if f":{k}" in sql})

    return run


def rebuild_all(conn: sa.Connection) -> int:
    """Rebuild every project's rollup; returns the number of projects."""
    ids = list(conn.execute(sa.text("SELECT id FROM projects")).scalars())
    for project_id in ids:
        rebuild(conn, project_id if isinstance(project_id, uuid.UUID) else uuid.UUID(project_id))
    return len(ids)


def forget_repo(conn: sa.Connection, project_id: uuid.UUID, repo_id: str) -> None:
    """Take a repo that is about to be deleted out of its project's rollup.

    Its shas stop counting unless another repo of the project holds them;
    then the rows of its authors are recomputed without it. Its own
    per-repo rows go with the repo (foreign key cascade).
    """
    params = {"p": _project_param(conn, project_id), "r": repo_id}
    emails = (
        conn.execute(
            sa.text("SELECT DISTINCT author_email FROM league_repo_days WHERE repo_id = :r"),
            {"r": repo_id},
        )
        .scalars()
        .all()
    )
    conn.execute(
        sa.text(
            "DELETE FROM league_commits WHERE project_id = :p AND sha IN (SELECT c.sha FROM "
            "commits c WHERE c.repo_id = :r AND NOT EXISTS (SELECT 1 FROM commits o JOIN "
            "repos ro ON ro.id = o.repo_id WHERE ro.project_id = :p AND o.repo_id <> :r "
            "AND o.sha = c.sha))"
        ),
        params,
    )
    rebuild(conn, project_id, emails=emails, exclude_repo=repo_id)
