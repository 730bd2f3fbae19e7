"""Writing and reading the audit log.

Entries are added to the session of the change they record, so they commit
or roll back with it. Callers pass facts, never secrets.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from ..db import db
from ..models import AuditLog, Repo
from ..requestid import current_request_id
from .auth import Principal


def format_details(data: dict[str, Any]) -> str:
    """``key: value, key: value`` for the scalar facts, as the guide's SQL expects."""
    parts = []
    for key, value in data.items():
        if isinstance(value, bool) or value is None:
            value = str(value).lower() if value is not None else "none"
        if isinstance(value, (str, int, float)):
            parts.append(f"{key}: {value}")
    return ", ".join(parts)


def record(
    action: str,
    *,
    actor: Principal | str,
    repo_id: str | None = None,
    target: tuple[str, str] | None = None,
    data: dict[str, Any] | None = None,
    details: str | None = None,
) -> AuditLog:
    """Add one audit entry to the current session (committed with the change).

    ``details`` defaults to the scalar facts of ``data`` as readable text.
    """
    facts = dict(data or {})
    entry = AuditLog(
        repo_uid=_repo_uid(repo_id),
        actor=actor if isinstance(actor, str) else actor.actor,
        actor_user_id=None if isinstance(actor, str) else actor.user.id,
        action=action,
        repo_id=repo_id,
        target_type=target[0] if target else ("repo" if repo_id else None),
        target_id=target[1] if target else repo_id,
        details=format_details(facts) if details is None else details,
        data=facts,
        request_id=_request_id(),
    )
    db.session.add(entry)
    return entry


def _repo_uid(repo_id: str | None) -> uuid.UUID | None:
    """The uid of the repo row ``repo_id`` names now (in the session already, as a rule)."""
    repo = db.session.get(Repo, repo_id) if repo_id is not None else None
    if repo is None:
        return None
    if repo.uid is None:  # a row not flushed yet: its default has not run
        repo.uid = uuid.uuid4()
    return repo.uid


def _request_id() -> str | None:
    try:
        return current_request_id()
    except RuntimeError:  # outside a request (CLI, jobs)
        return None


def query(
    *,
    visible_repo_ids: sa.Select[Any] | None,
    actor_user_id: int | None,
    action: str | None = None,
    repo_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    actor: str | None = None,
) -> sa.Select[Any]:
    """Entries newest first, limited to what a non-admin caller may see.

    A commissioner sees entries of repos in their projects and entries they
    made themselves; ``visible_repo_ids`` None means everything (admins).
    ``actor`` matches the start of the actor (an email also finds its keys).
    Entries are matched to the repo rows those ids name now by uid, so a
    repo that took a deleted repo's id does not show the old repo's entries.
    """
    stmt = sa.select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    if visible_repo_ids is not None:
        uids = sa.select(Repo.uid).where(Repo.id.in_(visible_repo_ids))
        stmt = stmt.where(
            sa.or_(AuditLog.repo_uid.in_(uids), AuditLog.actor_user_id == actor_user_id)
        )
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if repo_id:
        stmt = stmt.where(AuditLog.repo_id == repo_id)
    if actor:
        stmt = stmt.where(AuditLog.actor.startswith(actor.strip().lower(), autoescape=True))
    if since:
        stmt = stmt.where(AuditLog.created_at >= since)
    if until:
        stmt = stmt.where(AuditLog.created_at < until)
    return stmt
