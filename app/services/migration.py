"""Moving repos between sync methods: plan (dry-run), migrate, rollback.

The one transition service behind ``flask migrate-sync``,
``scripts/migrate_repos_to_push.py`` and the migration API. Each repo moves
in its own transaction with its row locked (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite takes the write lock when the transaction begins), so a
racing pull job sees the old method or the new one, never half. A repo that
fails is reported and the others go on; a run killed half-way leaves every
repo fully old or fully new, and running it again finishes the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from ..db import db, utcnow
from ..errors import GitLeagueError
from ..models import AuditLog, Repo, SyncStatus
from ..queue import get_redis
from ..sync_methods import PlannedChange, SyncMethod, TransitionContext, get_registry
from ..sync_methods.registry import UnknownSyncMethodError
from . import audit
from .auth import Principal
from .migration_report import MigrationReport, Outcome, RepoResult

__all__ = [
    "ACTION",
    "DEFAULT_SOURCE",
    "DEFAULT_TARGET",
    "MigrationReport",
    "Outcome",
    "RepoResult",
    "SyncMethodHookError",
    "migrate",
    "rollback",
    "transition_services",
]

ACTION = "migrate_repo_sync_method"
DEFAULT_SOURCE = "pull_celery"
DEFAULT_TARGET = "push_client"
STATUS_RESET = "sync_status_reset"


class SyncMethodHookError(GitLeagueError):
    """A sync method's transition hook raised; the repo's transition is undone."""

    code = "sync_method_hook_failed"
    status = 500


class _Refused(Exception):
    """This repo cannot take part; carries its outcome and one-line reason."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


def transition_services(app: Any = None) -> dict[str, Any]:
    """Handles the hooks may use: ``redis`` when ``REDIS_URL`` is configured."""
    redis = get_redis(app)
    return {"redis": redis} if redis is not None else {}


def migrate(
    actor: Principal | str,
    *,
    target: str = DEFAULT_TARGET,
    source: str | None = None,
    repo_ids: Sequence[str] = (),
    all_repos: bool = False,
    exclude_active: bool = False,
    active_within: float | None = None,
    dry_run: bool = False,
    services: dict[str, Any] | None = None,
) -> MigrationReport:
    """Move the named repos (or, with ``all_repos``, every repo on ``source``) to ``target``.

    ``source`` defaults to ``pull_celery`` for ``all_repos``; for named repos
    it is only checked when given. ``exclude_active`` skips repos whose
    method reports them active, and with ``active_within`` (hours) also those
    synced within that window. ``dry_run`` writes nothing at all.
    """
    if isinstance(actor, Principal):
        actor.require_scope("migrate:repos")
    if all_repos:
        source = source or DEFAULT_SOURCE
    ids = _select(actor, repo_ids, source if all_repos else None)
    report = MigrationReport("migrate", dry_run=dry_run, source=source, target=target)
    context = TransitionContext(_actor_name(actor), dry_run, services or {})
    for repo_id in ids:
        report.results.append(
            _run_one(
                repo_id,
                actor,
                context,
                target=target,
                source=source,
                exclude_active=exclude_active,
                active_within=active_within,
            )
        )
    return report


def rollback(
    actor: Principal | str,
    *,
    repo_ids: Sequence[str],
    dry_run: bool = False,
    services: dict[str, Any] | None = None,
) -> MigrationReport:
    """Return each repo to the method it had before its last migration (from the audit log)."""
    if isinstance(actor, Principal):
        actor.require_scope("migrate:repos")
    report = MigrationReport("rollback", dry_run=dry_run, source=None, target=None)
    context = TransitionContext(_actor_name(actor), dry_run, services or {})
    for repo_id in _select(actor, repo_ids, None):
        report.results.append(_run_one(repo_id, actor, context, target=None, source=None))
    return report


# -- one repo -------------------------------------------------------------------


def _run_one(
    repo_id: str,
    actor: Principal | str,
    context: TransitionContext,
    *,
    target: str | None,
    source: str | None,
    exclude_active: bool = False,
    active_within: float | None = None,
) -> RepoResult:
    """Plan, and unless dry-run apply, one repo's transition in its own transaction."""
    result = RepoResult(repo_id)
    try:
        repo = _load(repo_id, actor, lock=not context.dry_run)
        result.name, result.source = repo.name, repo.sync_method
        last = None if target is not None else _last_migration(repo)
        if last is not None:
            target = str(last.data.get("from"))
        result.target = target
        old, new = _methods(repo, target, source)
        result.kept_sha = repo.last_ingested_sha
        if exclude_active:
            _refuse_active(repo, old, context, active_within)
        changes = _plan(repo, old, new, context)
        result.changes = [c.description for c in changes]
        if context.dry_run:
            result.notes = _notes(repo, new)
            result.outcome = Outcome.PLANNED
        else:
            result.audit_id = _apply(repo, old, new, changes, actor, context, rollback_of=last)
            result.notes = _notes(repo, new)
            db.session.commit()
            result.outcome = Outcome.MIGRATED
    except _Refused as refused:
        result.outcome, result.message = refused.outcome, refused.message
    except GitLeagueError as exc:
        result.outcome, result.message = Outcome.FAILED, exc.message
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        result.outcome, result.message = Outcome.FAILED, f"database error: {reason}"
    finally:
        # Dry-run, refusals and failures leave the transaction unused or
        # half-done; either way nothing of it may stay.
        if result.outcome is not Outcome.MIGRATED:
            db.session.rollback()
    return result


def _load(repo_id: str, actor: Principal | str, *, lock: bool) -> Repo:
    stmt = sa.select(Repo).where(Repo.id == repo_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update(of=Repo)
    repo = db.session.scalar(stmt) if isinstance(repo_id, str) and len(repo_id) <= 40 else None
    if repo is None or (
        isinstance(actor, Principal) and not actor.can_reach(repo.project.owner_id)
    ):
        raise _Refused(Outcome.NOT_FOUND, "Repository not found")
    return repo


def _last_migration(repo: Repo) -> AuditLog:
    entry = db.session.scalar(
        sa.select(AuditLog)
        # By uid: a deleted repo's history is not this row's, even under its id.
        .where(AuditLog.action == ACTION, AuditLog.repo_uid == repo.uid)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(1)
    )
    if entry is None or not entry.data.get("from"):
        raise _Refused(Outcome.NOTHING_TO_ROLL_BACK, "No migration to roll back")
    return entry


def _methods(repo: Repo, target: str | None, source: str | None) -> tuple[SyncMethod, SyncMethod]:
    registry = get_registry()
    if target is None:
        raise _Refused(Outcome.UNKNOWN_METHOD, "No target sync method given")
    try:
        new = registry.get(target)
        old = registry.get(repo.sync_method)
    except UnknownSyncMethodError as exc:
        raise _Refused(Outcome.UNKNOWN_METHOD, exc.message) from None
    if repo.sync_method == target:
        raise _Refused(Outcome.ALREADY_ON_TARGET, f"Already on {target}")
    if source is not None and repo.sync_method != source:
        raise _Refused(Outcome.WRONG_SOURCE, f"On {repo.sync_method}, not {source}")
    return old, new


def _refuse_active(
    repo: Repo, method: SyncMethod, context: TransitionContext, within: float | None
) -> None:
    reason = _hook(method, "active_reason", repo, context=context)
    if reason is None and within is not None and repo.last_sync_at is not None:
        age = utcnow() - repo.last_sync_at
        if age < dt.timedelta(hours=within):
            hours = age.total_seconds() / 3600
            reason = f"synced {hours:.1f} h ago (within --active-within {within:g} h)"
    if reason:
        raise _Refused(Outcome.SKIPPED, str(reason))


def _plan(
    repo: Repo, old: SyncMethod, new: SyncMethod, context: TransitionContext
) -> list[PlannedChange]:
    """Every change the transition makes, in the order dry-run prints them.

    Leave-hook changes carry the field they clear; the service's own lines
    (``sync_method``, a status reset, the kept sha) come first and last.
    """
    leaving = _hook(old, "plan_leave", repo, target=new.name, context=context)
    entering = _hook(new, "plan_enter", repo, source=old.name, context=context)
    changes = [PlannedChange("sync_method", f"Set sync_method to: {new.name}")]
    changes += [PlannedChange(c.field, c.description, cleared=True) for c in leaving]
    changes += entering
    reset = _status_reset(repo, new, changes)
    if reset:
        changes.append(PlannedChange(STATUS_RESET, f"Set sync_status to: {reset}"))
    sha = repo.last_ingested_sha[:12] if repo.last_ingested_sha else "none"
    changes.append(PlannedChange("last_ingested_sha", f"Preserve last_ingested_sha: {sha}"))
    if db.session.is_modified(repo) or db.session.new or db.session.deleted:
        raise SyncMethodHookError(
            f"sync method '{old.name}' or '{new.name}' changed data while planning"
        )
    return changes


def _status_reset(repo: Repo, new: SyncMethod, planned: Iterable[PlannedChange]) -> str | None:
    # A repo waiting for credentials under its old method is not waiting
    # under a method that needs none; hooks that set a status win.
    if any(c.field == "sync_status" for c in planned):
        return None
    if repo.sync_status == SyncStatus.NEEDS_CREDENTIALS.value:
        if "credentials" not in new.missing_requirements(repo):
            return SyncStatus.NEVER.value
    return None


def _apply(
    repo: Repo,
    old: SyncMethod,
    new: SyncMethod,
    changes: list[PlannedChange],
    actor: Principal | str,
    context: TransitionContext,
    *,
    rollback_of: AuditLog | None,
) -> int:
    kept = repo.last_ingested_sha
    _hook(old, "leave", repo, target=new.name, context=context)
    repo.sync_method = new.name
    _hook(new, "enter", repo, source=old.name, context=context)
    if any(c.field == STATUS_RESET for c in changes):
        repo.sync_status = SyncStatus.NEVER.value
    if repo.last_ingested_sha != kept:
        raise SyncMethodHookError("a sync method hook changed last_ingested_sha; undone")
    cleared = [c.field for c in changes if c.cleared]
    entry = audit.record(
        ACTION,
        actor=actor,
        repo_id=repo.id,
        data={
            "from": old.name,
            "to": new.name,
            "cleared": cleared,
            "changes": [c.description for c in changes],
            "last_ingested_sha": kept,
            "rollback": rollback_of is not None,
            "rollback_of": rollback_of.id if rollback_of is not None else None,
        },
        details=(
            f"from: {old.name}, to: {new.name}, cleared: {' '.join(cleared) or 'nothing'}, "
            f"last_ingested_sha: {kept or 'none'}, rollback: {str(rollback_of is not None).lower()}"
        ),
    )
    db.session.flush()
    return int(entry.id)


def _notes(repo: Repo, new: SyncMethod) -> list[str]:
    missing = new.missing_requirements(repo)
    if not missing:
        return []
    what = " and ".join(m.capitalize() if i == 0 else m for i, m in enumerate(missing))
    verb = "must" if repo.sync_method == new.name else "will need to"
    return [f"{what} {verb} be set again before {new.name} can sync"]


def _hook(method: SyncMethod, hook: str, *args: Any, **kwargs: Any) -> Any:
    """Call a plugin hook; anything it raises becomes a :class:`SyncMethodHookError`."""
    try:
        return getattr(method, hook)(*args, **kwargs)
    except GitLeagueError:
        raise
    except Exception as exc:  # third-party code: report it, undo this repo only
        raise SyncMethodHookError(
            f"sync method '{method.name}' failed in {hook}: {type(exc).__name__}: {exc}"
        ) from exc


# -- selection ------------------------------------------------------------------


def _select(actor: Principal | str, repo_ids: Sequence[str], source: str | None) -> list[str]:
    """Named ids (deduplicated, in order), or every reachable repo on ``source``."""
    if source is None:
        return list(dict.fromkeys(repo_ids))
    stmt = sa.select(Repo.id).where(Repo.sync_method == source).order_by(Repo.id)
    if isinstance(actor, Principal) and not actor.user.is_admin:
        from ..models import Project

        stmt = stmt.join(Project, Repo.project_id == Project.id).where(
            Project.owner_id == actor.user.id
        )
    ids = list(db.session.scalars(stmt))
    db.session.rollback()  # end the read; each repo gets its own transaction
    return list(dict.fromkeys([*repo_ids, *ids]))


def _actor_name(actor: Principal | str) -> str:
    return actor if isinstance(actor, str) else actor.actor
