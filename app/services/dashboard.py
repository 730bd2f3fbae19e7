"""The migration guide's three dashboard figures, on SQLite and PostgreSQL alike.

1. Progress: repos per sync method with their share (the guide's
   "Migration Progress" query), and the share already on the target method.
2. Last sync times: each repo Stale or Recent by ``last_sync_at`` (the
   guide's "Last Sync Times"; a repo never synced is reported as ``Never``,
   where the guide's SQL, comparing with NULL, says ``Recent``).
3. Success rate per repo, from finished sync runs. A run is successful when
   its ``errors`` is zero, the same number its ``sync_commits`` audit entry
   prints as ``errors: N``, so the guide's "Sync Success Rate" query over
   ``audit_logs`` gives the same counts.

Every function takes ``repo_ids``: a subquery of the repos the caller may
see, or None for all of them (admins, the CLI).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from ..db import db, utcnow
from ..models import Repo, SyncRun, SyncRunStatus
from ..sync_methods import get_registry


@dataclass
class MethodCount:
    """Repos on one sync method."""

    sync_method: str
    label: str
    count: int
    percentage: float


@dataclass
class Progress:
    """Figure 1: how far the move from ``source`` to ``target`` has come."""

    source: str
    target: str
    methods: list[MethodCount]
    total: int
    migrated_percentage: float


@dataclass
class SyncAge:
    """Figure 2: one repo's last sync, Stale / Recent / Never."""

    repo_id: str
    name: str
    sync_method: str
    last_sync_at: dt.datetime | None
    status: str


@dataclass
class SuccessRate:
    """Figure 3: finished syncs of one repo and how many succeeded."""

    repo_id: str
    total_syncs: int
    successful: int

    @property
    def rate(self) -> float:
        """Successful share in percent, one decimal."""
        return percentage(self.successful, self.total_syncs)


def percentage(part: int, whole: int) -> float:
    """``ROUND(part * 100.0 / whole, 1)`` as PostgreSQL rounds it (half away from zero)."""
    if not whole:
        return 0.0
    value = Decimal(part * 100) / Decimal(whole)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _scoped(stmt: Any, column: Any, repo_ids: sa.Select[Any] | None) -> Any:
    return stmt if repo_ids is None else stmt.where(column.in_(repo_ids))


def progress(*, source: str, target: str, repo_ids: sa.Select[Any] | None = None) -> Progress:
    """Figure 1. ``source`` and ``target`` are always listed, other methods when used."""
    stmt = _scoped(
        sa.select(Repo.sync_method, sa.func.count()).group_by(Repo.sync_method), Repo.id, repo_ids
    )
    counts = {name: int(n) for name, n in db.session.execute(stmt)}
    total = sum(counts.values())
    names = [source, target] + sorted(n for n in counts if n not in (source, target))
    registry = get_registry()
    methods = [
        MethodCount(
            name,
            registry.get(name).label if name in registry else name.upper(),
            counts.get(name, 0),
            percentage(counts.get(name, 0), total),
        )
        for name in dict.fromkeys(names)
    ]
    return Progress(source, target, methods, total, percentage(counts.get(target, 0), total))


def last_sync_times(
    *,
    stale_after: dt.timedelta = dt.timedelta(days=1),
    now: dt.datetime | None = None,
    repo_ids: sa.Select[Any] | None = None,
) -> list[SyncAge]:
    """Figure 2, newest sync first, never-synced repos last."""
    cutoff = (now or utcnow()) - stale_after
    status = sa.case(
        (Repo.last_sync_at.is_(None), "Never"),
        (Repo.last_sync_at < cutoff, "Stale"),
        else_="Recent",
    )
    stmt = _scoped(
        sa.select(Repo.id, Repo.name, Repo.sync_method, Repo.last_sync_at, status).order_by(
            Repo.last_sync_at.is_(None), Repo.last_sync_at.desc(), Repo.id
        ),
        Repo.id,
        repo_ids,
    )
    return [SyncAge(*row) for row in db.session.execute(stmt)]


def success_rates(*, repo_ids: sa.Select[Any] | None = None) -> list[SuccessRate]:
    """Figure 3 for repos with at least one finished sync run, by repo id."""
    ok = sa.and_(SyncRun.status == SyncRunStatus.SUCCEEDED.value, SyncRun.rejected == 0)
    stmt = _scoped(
        sa.select(
            SyncRun.repo_id,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((ok, 1), else_=0)), 0),
        )
        .where(SyncRun.status != SyncRunStatus.RUNNING.value)
        .group_by(SyncRun.repo_id)
        .order_by(SyncRun.repo_id),
        SyncRun.repo_id,
        repo_ids,
    )
    return [
        SuccessRate(rid, int(total), int(good)) for rid, total, good in db.session.execute(stmt)
    ]


def summary(
    *,
    source: str,
    target: str,
    stale_after: dt.timedelta,
    repo_ids: sa.Select[Any] | None = None,
) -> dict[str, Any]:
    """All three figures as one JSON-ready document (API and ``--json``)."""
    prog = progress(source=source, target=target, repo_ids=repo_ids)
    ages = last_sync_times(stale_after=stale_after, repo_ids=repo_ids)
    rates = success_rates(repo_ids=repo_ids)
    return {
        "progress": asdict(prog),
        "last_sync": {
            "stale_after_seconds": int(stale_after.total_seconds()),
            "counts": {
                s: sum(1 for a in ages if a.status == s) for s in ("Recent", "Stale", "Never")
            },
            "repos": [
                {
                    **asdict(a),
                    "last_sync_at": a.last_sync_at.isoformat() if a.last_sync_at else None,
                }
                for a in ages
            ],
        },
        "success_rates": [{**asdict(r), "rate": r.rate} for r in rates],
    }
