"""Storing commits: batches from push clients and from pull jobs alike.

Commits are deduplicated by (repo, sha) in the database itself with
``INSERT ... ON CONFLICT DO NOTHING``, so two writers sending one sha at the
same moment still leave one row.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import Jsonb

from ..db import db
from ..errors import ConflictError, PayloadTooLargeError, ValidationFailedError
from ..models import Commit, Repo
from ..schemas.commit_wire import WireCommit, decode_batch, decode_items, offset_minutes
from ..schemas.common import SHA_RE
from ..sync_methods import get_registry
from . import sync_runs
from .auth import Principal


@dataclass
class BatchResult:
    """What happened to each item of a batch."""

    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


_COLUMNS = (
    "sha", "parents", "author_name", "author_email", "authored_at", "author_tz_offset",
    "committer_name", "committer_email", "committed_at", "committer_tz_offset", "message",
    "additions", "deletions", "files_changed", "is_merge",
)  # fmt: skip
_PG_TYPES = (
    "text", "jsonb", "text", "text", "timestamptz", "smallint", "text", "text", "timestamptz",
    "smallint", "text", "integer", "integer", "integer", "boolean",
)  # fmt: skip

# PostgreSQL: one statement with one array per column, sent in binary (%b).
# A multi-row VALUES list carries 15,000 parameters per batch, which psycopg
# parses and escapes in Python: that made ingest 20 times slower.
_PG_INSERT = (
    f"INSERT INTO commits (repo_id, {', '.join(_COLUMNS)}) "
    f"SELECT %b, * FROM unnest({', '.join(f'%b::{t}[]' for t in _PG_TYPES)}) "
    "ON CONFLICT (repo_id, sha) DO NOTHING"
)
_SQLITE_INSERT = (
    f"INSERT INTO commits (repo_id, {', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))}) "
    "ON CONFLICT (repo_id, sha) DO NOTHING"
)


def _columns(commits: list[WireCommit]) -> list[list[Any]]:
    """Column-wise values in _COLUMNS order, times in UTC with their offsets."""
    utc = dt.timezone.utc
    return [
        [c.sha for c in commits],
        [Jsonb(c.parents) for c in commits],
        [c.author_name for c in commits],
        [c.author_email for c in commits],
        [c.authored_at.astimezone(utc) for c in commits],
        [offset_minutes(c.authored_at) for c in commits],
        [c.committer_name for c in commits],
        [c.committer_email for c in commits],
        [c.committed_at.astimezone(utc) for c in commits],
        [offset_minutes(c.committed_at) for c in commits],
        [c.message for c in commits],
        [c.additions for c in commits],
        [c.deletions for c in commits],
        [c.files_changed for c in commits],
        [c.is_merge for c in commits],
    ]


def store_commits(repo_id: str, commits: list[WireCommit]) -> int:
    """Insert commits not stored yet for ``repo_id``; returns how many were new.

    Deduplication happens in the database (ON CONFLICT DO NOTHING), so two
    writers sending one sha at the same moment still leave one row.
    """
    by_sha = {c.sha: c for c in reversed(commits)}
    conn = db.session.connection()
    # Skipping shas already stored is cheaper than letting each of them
    # conflict (resent batches are often all duplicates); ON CONFLICT still
    # covers a writer that stores one of them in between.
    for sha in _already_stored(conn, repo_id, list(by_sha)):
        del by_sha[sha]
    unique = list(by_sha.values())
    if not unique:
        return 0
    columns = _columns(unique)
    if conn.dialect.name == "postgresql":
        return int(conn.exec_driver_sql(_PG_INSERT, (repo_id, *columns)).rowcount)
    columns[1] = [json.dumps(c.parents) for c in unique]
    columns[4] = [_sqlite_time(v) for v in columns[4]]
    columns[8] = [_sqlite_time(v) for v in columns[8]]
    rows = [(repo_id, *row) for row in zip(*columns, strict=True)]
    return int(conn.exec_driver_sql(_SQLITE_INSERT, rows).rowcount)


def _already_stored(conn: Any, repo_id: str, shas: list[str]) -> list[str]:
    if not shas:
        return []
    if conn.dialect.name == "postgresql":
        sql = "SELECT sha FROM commits WHERE repo_id = %b AND sha = ANY(%b::text[])"
        return [row[0] for row in conn.exec_driver_sql(sql, (repo_id, shas))]
    return list(stored_shas(repo_id, shas))


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
    inserted = store_commits(repo.id, rows)
    result = BatchResult(
        received=received,
        inserted=inserted,
        duplicates=len(rows) - inserted,
        rejected=rejected,
    )
    if resume_sha and not rejected:
        repo.last_ingested_sha = resume_sha
    return result
