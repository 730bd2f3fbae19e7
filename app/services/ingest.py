"""Storing commits: batches from push clients and from pull jobs alike.

Commits are deduplicated by (repo, sha) in the database itself with
``INSERT ... ON CONFLICT DO NOTHING``, so two writers sending one sha at the
same moment still leave one row; rows are inserted in sha order, so writers
sending the same shas in different orders cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa

from .. import metrics
from ..db import db
from ..errors import ConflictError, PayloadTooLargeError, ValidationFailedError
from ..models import Commit, Repo
from ..schemas.commit_wire import WireCommit, decode_batch, decode_items, offset_minutes
from ..schemas.common import SHA_RE
from ..sync_methods import get_registry
from . import rollup, shallow_rows, sync_runs
from .auth import Principal


@dataclass
class BatchResult:
    """What happened to each item of a batch."""

    received: int
    inserted: int
    corrected: int
    duplicates: int
    rejected: list[dict[str, Any]]


_COLUMNS = (
    "sha", "parents", "author_name", "author_email", "authored_at", "author_tz_offset",
    "committer_name", "committer_email", "committed_at", "committer_tz_offset", "message",
    "additions", "deletions", "files_changed", "is_merge",
)  # fmt: skip


def _pg_offset(text: str) -> str:
    # msgspec writes times as "...[.ffffff]Z" or "...±HH:MM". PostgreSQL's own
    # casts refuse offsets of 16 hours or more, which git records (+1700), so
    # the offset is read from the suffix and applied by hand.
    return (
        f"CASE WHEN right({text}, 1) = 'Z' THEN 0 "
        f"ELSE (CASE WHEN substr({text}, length({text}) - 5, 1) = '-' THEN -1 ELSE 1 END) "
        f"* (substr({text}, length({text}) - 4, 2)::int * 60 + right({text}, 2)::int) END"
    )


def _pg_utc(text: str, offset: str) -> str:
    local = f"left({text}, length({text}) - CASE WHEN right({text}, 1) = 'Z' THEN 1 ELSE 6 END)"
    return f"({local}::timestamp - {offset} * interval '1 minute') AT TIME ZONE 'UTC'"


# PostgreSQL: the whole batch as one JSON parameter, encoded by msgspec in C
# and unpacked by json_to_recordset, so no Python code runs per value. (A
# multi-row VALUES list was 20 times slower; one binary array per column
# still spent a third of a batch dumping arrays in Python.)
_PG_INSERT = (
    f"INSERT INTO commits (repo_id, {', '.join(_COLUMNS)}) "
    "SELECT %s, r.sha, r.parents, r.author_name, r.author_email, "
    f"{_pg_utc('r.authored_at', 'o.author')}, o.author, "
    "r.committer_name, r.committer_email, "
    f"{_pg_utc('r.committed_at', 'o.committer')}, o.committer, "
    "r.message, r.additions, r.deletions, r.files_changed, r.is_merge "
    "FROM json_to_recordset(%s::json) AS r(sha text, parents jsonb, author_name text, "
    "author_email text, authored_at text, committer_name text, committer_email text, "
    "committed_at text, message text, additions integer, deletions integer, "
    "files_changed integer, is_merge boolean) "
    f"CROSS JOIN LATERAL (SELECT ({_pg_offset('r.authored_at')})::smallint AS author, "
    f"({_pg_offset('r.committed_at')})::smallint AS committer) AS o "
    "ON CONFLICT (repo_id, sha) DO NOTHING"
)
_PG_INSERT_WITH_ROLLUP = rollup.pg_insert_with_rollup(_PG_INSERT)
_SQLITE_INSERT = (
    f"INSERT INTO commits (repo_id, {', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))}) "
    "ON CONFLICT (repo_id, sha) DO NOTHING"
)
_ENCODER = msgspec.json.Encoder()


def _sqlite_rows(repo_id: str, commits: list[WireCommit]) -> list[tuple[Any, ...]]:
    """Rows in _COLUMNS order, times in UTC with their offsets beside them."""
    utc = dt.timezone.utc
    return [
        (
            repo_id,
            c.sha,
            json.dumps(c.parents),
            c.author_name,
            c.author_email,
            _sqlite_time(c.authored_at.astimezone(utc)),
            offset_minutes(c.authored_at),
            c.committer_name,
            c.committer_email,
            _sqlite_time(c.committed_at.astimezone(utc)),
            offset_minutes(c.committed_at),
            c.message,
            c.additions,
            c.deletions,
            c.files_changed,
            c.is_merge,
        )  # fmt: skip
        for c in commits
    ]


def store_commits(repo_id: str, commits: list[WireCommit]) -> tuple[int, int]:
    """Insert commits not stored yet for ``repo_id``; returns (inserted, corrected).

    Deduplication happens in the database (ON CONFLICT DO NOTHING), so two
    writers sending one sha at the same moment still leave one row. A stored
    row without parents that arrives again with parents is replaced
    (app/services/shallow_rows.py) and counted as corrected.
    """
    by_sha = {c.sha: c for c in reversed(commits)}
    conn = db.session.connection()
    # Skipping shas already stored is cheaper than letting each of them
    # conflict (resent batches are often all duplicates); ON CONFLICT still
    # covers a writer that stores one of them in between.
    stored = _already_stored(conn, repo_id, list(by_sha))
    shallow = [by_sha[sha] for sha, parentless in stored.items() if parentless]
    corrected = shallow_rows.replace(conn, repo_id, [c for c in shallow if c.parents])
    for sha in stored:
        del by_sha[sha]
    # Rows go in sha order: writers whose batches share shas then take the
    # key's row locks in one order and wait for each other instead of
    # deadlocking (PostgreSQL inserts json_to_recordset's rows in order).
    unique = [by_sha[sha] for sha in sorted(by_sha)]
    if not unique:
        return 0, corrected
    # The league rollup follows in the same transaction (app/services/rollup.py).
    if conn.dialect.name == "postgresql":
        batch = _ENCODER.encode(unique).decode()
        rows = conn.exec_driver_sql(_PG_INSERT_WITH_ROLLUP, (repo_id, batch, repo_id)).all()
        return rollup.pg_add_totals(conn, repo_id, rows), corrected
    inserted = conn.exec_driver_sql(_SQLITE_INSERT, _sqlite_rows(repo_id, unique)).rowcount
    rollup.sqlite_after_insert(conn, repo_id, [c.sha for c in unique])
    return int(inserted), corrected


def _already_stored(conn: Any, repo_id: str, shas: list[str]) -> dict[str, bool]:
    """The stored ones of ``shas``, each with whether its row has no parents."""
    if not shas:
        return {}
    # The flag rides on the lookup the ingest makes anyway, so spotting rows
    # stored from a shallow clone's boundary costs no extra query.
    if conn.dialect.name == "postgresql":
        # Shas are checked hex, so an array literal needs no quoting, and
        # PostgreSQL parses it in C (psycopg dumps list parameters in Python).
        sql = (
            "SELECT sha, jsonb_array_length(parents) = 0 FROM commits "
            "WHERE repo_id = %s AND sha = ANY(%s::text[])"
        )
        literal = "{" + ",".join(shas) + "}"
        return {row[0]: row[1] for row in conn.exec_driver_sql(sql, (repo_id, literal))}
    sql = (
        "SELECT sha, json_array_length(parents) = 0 FROM commits "
        "WHERE repo_id = ? AND sha IN (SELECT value FROM json_each(?))"
    )
    return {row[0]: bool(row[1]) for row in conn.exec_driver_sql(sql, (repo_id, json.dumps(shas)))}


def _sqlite_time(value: dt.datetime) -> str:
    # Raw SQL must write exactly what SQLAlchemy's SQLite DateTime writes
    # (naive UTC, always with microseconds), or string comparisons go wrong.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def stored_shas(repo_id: str, shas: list[str]) -> set[str]:
    """Which of ``shas`` are stored for ``repo_id``."""
    if not shas:
        return set()
    found = db.session.scalars(
        sa.select(Commit.sha).where(Commit.repo_id == repo_id, Commit.sha.in_(shas))
    )
    return set(found)


def require_push(repo: Repo) -> None:
    """409 naming the method when ``repo`` does not take pushed commits."""
    method = get_registry().get(repo.sync_method)
    if not method.accepts_push:
        raise ConflictError(
            f"repository {repo.id} uses sync method '{repo.sync_method}', "
            "which does not accept pushed commits",
            sync_method=repo.sync_method,
        )


def known(principal: Principal, repo: Repo, shas: list[Any], limit: int) -> list[str]:
    """The candidates already stored (negotiation after a force push or migration)."""
    principal.require_scope("sync:commits")
    if len(shas) > limit:
        raise PayloadTooLargeError(f"at most {limit} shas per request", limit=limit)
    bad = [s for s in shas if not isinstance(s, str) or not SHA_RE.match(s)]
    if bad:
        raise ValidationFailedError(f"shas: not a commit id: {str(bad[0])[:80]!r}")
    have = stored_shas(repo.id, shas)
    return [s for s in dict.fromkeys(shas) if s in have]


def ingest_batch(principal: Principal, repo: Repo, body: bytes, *, limit: int) -> BatchResult:
    """Store one pushed batch; whole-batch problems raise before anything is written."""
    principal.require_scope("sync:commits")
    require_push(repo)
    batch = decode_batch(body)
    items = batch.commits
    if len(items) > limit:
        raise PayloadTooLargeError(f"a batch holds at most {limit} commits", limit=limit)
    run = sync_runs.running_run(repo, batch.sync_run_id)
    rows, rejected = decode_items(items, may_have_nul=b"\\u0000" in body)
    resume = batch.resume_sha
    batch_shas = {commit.sha for commit in rows}
    if resume and resume not in batch_shas and not stored_shas(repo.id, [resume]):
        raise ValidationFailedError(
            f"resume_sha {resume[:12]} is neither in this batch nor stored for this repository"
        )
    result = record_batch(repo, rows, rejected, received=len(items), resume_sha=resume)
    if run is not None:
        sync_runs.add_counts(run, result)
    return result


def record_batch(
    repo: Repo,
    rows: list[WireCommit],
    rejected: list[dict[str, Any]],
    *,
    received: int,
    resume_sha: str | None,
) -> BatchResult:
    """Store validated rows and move the resume point when nothing was rejected."""
    inserted, corrected = store_commits(repo.id, rows)
    metrics.count_commits(repo.sync_method, inserted)
    result = BatchResult(
        received=received,
        inserted=inserted,
        corrected=corrected,
        duplicates=len(rows) - inserted - corrected,
        rejected=rejected,
    )
    if resume_sha and not rejected:
        repo.last_ingested_sha = resume_sha
    return result
