"""Storing commits: batches from push clients and from pull jobs alike.

Commits are deduplicated by (repo, sha) in the database itself with
``INSERT ... ON CONFLICT DO NOTHING``, so two writers sending one sha at the
same moment still leave one row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..db import db
from ..errors import ConflictError, PayloadTooLargeError, ValidationFailedError
from ..models import Commit, Repo
from ..schemas.commits import CommitIn
from ..schemas.common import SHA_RE, describe_messages
from ..sync_methods import get_registry
from . import sync_runs
from .auth import Principal

_COMMIT_SCHEMA = CommitIn()


@dataclass
class BatchResult:
    """What happened to each item of a batch."""

    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def validate_items(items: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split items into loadable rows and per-item rejections (index, sha, error)."""
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append({"index": index, "sha": None, "error": "must be an object"})
            continue
        try:
            rows.append(_COMMIT_SCHEMA.load(item))
        except ma.ValidationError as exc:
            sha = item.get("sha") if isinstance(item.get("sha"), str) else None
            rejected.append({"index": index, "sha": sha, "error": describe_messages(exc.messages)})
    return rows, rejected


def _insert_stmt(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(Commit)
        .on_conflict_do_nothing(index_elements=["repo_id", "sha"])
        .returning(Commit.sha)
    )


def store_commits(repo_id: str, rows: list[dict[str, Any]]) -> int:
    """Insert rows not stored yet for ``repo_id``; returns how many were new."""
    unique: dict[str, dict[str, Any]] = {}
    for row in rows:
        unique.setdefault(row["sha"], {**row, "repo_id": repo_id})
    if not unique:
        return 0
    stmt = _insert_stmt(db.engine.dialect.name)
    return len(db.session.execute(stmt, list(unique.values())).all())


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


def ingest_batch(
    principal: Principal, repo: Repo, body: dict[str, Any], *, limit: int
) -> BatchResult:
    """Store one pushed batch; whole-batch problems raise before anything is written."""
    principal.require_scope("sync:commits")
    require_push(repo)
    items = body["commits"]
    if len(items) > limit:
        raise PayloadTooLargeError(f"a batch holds at most {limit} commits", limit=limit)
    run = sync_runs.running_run(repo, body.get("sync_run_id"))
    rows, rejected = validate_items(items)
    resume = body.get("resume_sha")
    batch_shas = {row["sha"] for row in rows}
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
    rows: list[dict[str, Any]],
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
