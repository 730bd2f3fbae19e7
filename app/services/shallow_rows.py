"""Rows stored from a shallow clone's boundary: spotted, and replaced by the full commit.

An older client synced shallow clones: the boundary commit was stored with
no parents and its whole tree as its diff. Such a row is recognisable (no
parents, yet the same sha arrives with parents), and ingest replaces it
when the full commit arrives, in the batch's transaction, keeping the
league rollup (app/services/rollup.py) exact. A root commit has no parents
either way, so it is never touched.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..db import JSONType
from ..schemas.commit_wire import WireCommit
from .rollup import _EMAIL, _MERGE, _NAME, _day


def replace(conn: Any, repo_id: str, commits: list[WireCommit]) -> int:
    """Replace rows stored without parents by ``commits``, which have some.

    Such a row came from a shallow clone's boundary (an older client sent
    it with the whole tree as its diff). Only the parents and the figures
    change: author, committer, times and message are the sha's own, so the
    rollup keys stay put and :func:`replace_figures` moves the
    figures. A root commit sent again has no parents and never gets here.
    """
    if not commits:
        return 0
    shas = sorted(c.sha for c in commits)
    before = figures(conn, repo_id, shas)
    new = {c.sha: c for c in commits}
    length = "jsonb_array_length" if conn.dialect.name == "postgresql" else "json_array_length"
    update = sa.text(
        "UPDATE commits SET parents = :parents, is_merge = :is_merge, additions = :additions, "
        "deletions = :deletions, files_changed = :files_changed "
        f"WHERE repo_id = :repo_id AND sha = :sha AND {length}(parents) = 0 RETURNING sha"
    ).bindparams(sa.bindparam("parents", type_=JSONType))
    replaced = []
    for sha in shas:  # in sha order, like the inserts; a concurrent fix of one sha waits
        if sha not in before:  # another writer replaced it after the lookup
            continue
        c = new[sha]
        values = {"repo_id": repo_id, "sha": sha, "parents": c.parents, "is_merge": c.is_merge,
                  "additions": c.additions, "deletions": c.deletions,
                  "files_changed": c.files_changed}  # fmt: skip
        if conn.execute(update, values).first() is not None:
            replaced.append(sha)
    if replaced:
        replace_figures(conn, repo_id, before, figures(conn, repo_id, replaced))
    return len(replaced)


def figures(conn: sa.Connection, repo_id: str, shas: list[str]) -> dict[str, tuple[Any, ...]]:
    """Each stored sha of ``repo_id`` with its rollup key and figures.

    ``(email, name, day, commits, merges, additions, deletions, files_changed)``,
    key and day as the rollup tables hold them.
    """
    if not shas:
        return {}
    stmt = sa.text(
        f"SELECT sha, {_EMAIL}, {_NAME}, {_day(conn.dialect.name)}, 1 - {_MERGE}, {_MERGE}, "
        "additions, deletions, files_changed FROM commits WHERE repo_id = :r AND sha IN :shas"
    ).bindparams(sa.bindparam("shas", expanding=True))
    return {row[0]: tuple(row[1:]) for row in conn.execute(stmt, {"r": repo_id, "shas": shas})}


def replace_figures(
    conn: sa.Connection,
    repo_id: str,
    before: dict[str, tuple[Any, ...]],
    after: dict[str, tuple[Any, ...]],
) -> None:
    """Move the rollup from ``before`` to ``after`` (:func:`figures`) for replaced rows.

    The rows of ``after`` were rewritten in place (a shallow clone's boundary
    replaced by the full commit) and kept their key and day, so each rollup
    row gains the difference, added like ingest adds (concurrent batches'
    additions commute with it) and in ingest's table order. A sha that
    another repo of the project also holds may have been counted for the
    project from that copy, so those project rows are counted again
    (:func:`_recount`).
    """
    found = conn.execute(sa.text("SELECT project_id FROM repos WHERE id = :r"), {"r": repo_id})
    pid = found.scalar_one()
    shared = set(
        conn.execute(
            sa.text(
                "SELECT DISTINCT o.sha FROM commits o JOIN repos r ON r.id = o.repo_id "
                "WHERE r.project_id = :p AND o.repo_id <> :r AND o.sha IN :shas"
            ).bindparams(sa.bindparam("shas", expanding=True)),
            {"p": pid, "r": repo_id, "shas": sorted(after)},
        ).scalars()
    )
    repo_days: dict[tuple[Any, ...], list[int]] = {}
    days: dict[tuple[Any, ...], list[int]] = {}
    for sha, new in after.items():
        change = [n - o for n, o in zip(new[3:], before[sha][3:], strict=True)]
        _accumulate(repo_days, new[:3], change)
        if sha not in shared:
            _accumulate(days, new[:3], change)
    totals: tuple[dict[tuple[Any, ...], list[int]], ...] = ({}, {})
    for source, target in zip((repo_days, days), totals, strict=True):
        for key, change in source.items():
            _accumulate(target, key[:2], change)
    recount = sorted({after[sha][:3] for sha in shared})
    _shift(conn, "league_repo_days", repo_id, repo_days)
    _shift(conn, "league_days", pid, days)
    _recount(conn, pid, recount)
    _shift(conn, "league_repo_totals", repo_id, totals[0])
    _shift(conn, "league_totals", pid, totals[1])
    _recount(conn, pid, sorted({key[:2] for key in recount}))


def _recount(conn: sa.Connection, pid: Any, keys: list[tuple[Any, ...]]) -> None:
    """Recompute the project's rollup rows ``keys`` (email, name[, day]) from its commits.

    For shas another repo of the project holds too: which copy the project
    counted is not recorded, so the rows are counted again, each sha once
    (as :func:`rollup.rebuild` does). The rows are locked first: the
    recount then sees every batch that touched them before, and batches
    after it add to it. Only existing rows are updated (a replaced sha was
    counted, so its rows exist), never deleted and inserted, which would
    race with concurrent batches' upserts.
    """
    if not keys:
        return
    dialect = conn.dialect.name
    on_day = len(keys[0]) == 3
    table = "league_days" if on_day else "league_totals"
    where = "project_id = :p AND author_email = :e AND author_name = :n" + (
        " AND day = :d" if on_day else "")  # fmt: skip
    params = [{"p": pid, "e": k[0], "n": k[1], **({"d": k[2]} if on_day else {})} for k in keys]
    if dialect == "postgresql":  # SQLite: the batch holds the database's write lock
        for one in params:
            conn.execute(sa.text(f"SELECT 1 FROM {table} WHERE {where} FOR UPDATE"), one)
    once = (
        "(SELECT max(additions) AS additions, max(deletions) AS deletions, "
        f"max(files_changed) AS files_changed, max({_MERGE}) AS m, min(authored_at) AS at "
        "FROM commits WHERE repo_id IN (SELECT id FROM repos WHERE project_id = :p) "
        f"AND {_EMAIL} = :e AND {_NAME} = :n GROUP BY sha) c"
    )
    day = f" WHERE {_day(dialect, 'c.at')} = :d" if on_day else ""
    conn.execute(
        sa.text(
            f"UPDATE {table} SET (commits, merges, additions, deletions, files_changed) = "
            "(SELECT count(*) - sum(m), sum(m), sum(additions), sum(deletions), "
            f"sum(files_changed) FROM {once}{day}) WHERE {where}"
        ),
        params,
    )


def _accumulate(sums: dict[tuple[Any, ...], list[int]], key: tuple[Any, ...], change: list[int]):
    row = sums.setdefault(key, [0] * len(change))
    row[:] = [s + c for s, c in zip(row, change, strict=True)]


def _shift(conn: sa.Connection, table: str, value: Any, changes: dict[tuple[Any, ...], list[int]]):
    """Add ``changes`` (per key: author email, name[, day]) to the counters of ``table``."""
    if not changes:
        return
    counters = ("commits", "merges", "additions", "deletions", "files_changed")
    scope = "repo_id" if table.startswith("league_repo") else "project_id"
    day = " AND day = :d" if table.endswith("days") else ""
    sets = ", ".join(f"{c} = {c} + :{c}" for c in counters)
    conn.execute(
        sa.text(
            f"UPDATE {table} SET {sets} WHERE {scope} = :v AND author_email = :e "
            f"AND author_name = :n{day}"
        ),
        [
            {
                "v": value,
                "e": key[0],
                "n": key[1],
                **({"d": key[2]} if day else {}),
                **dict(zip(counters, change, strict=True)),
            }
            for key, change in sorted(changes.items())
        ],
    )
