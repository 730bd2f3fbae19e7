"""``/api/v1/migration``: the guide's dashboard and transitions over HTTP.

Admins reach every repo, commissioners their own. Status needs
``read:repos``; migrate and rollback need ``migrate:repos`` and run the
same transition service as ``flask migrate-sync`` and
``migrate_repos_to_push.py``: each repo in its own transaction, a repo
outside the caller's reach reported as "Repository not found" like an
unknown id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from ..schemas.migration import (
    MigrateIn,
    MigrationReportOut,
    MigrationStatusOut,
    RollbackIn,
    StatusArgs,
)
from ..services import dashboard, migration
from ..services.projects import reachable_repo_ids
from .security import BEARER, principal

blp = Blueprint(
    "migration", __name__, url_prefix="/api/v1/migration", description="Sync-method migration"
)


@blp.route("/status", methods=["GET"])
@blp.arguments(StatusArgs, location="query")
@blp.response(200, MigrationStatusOut)
@blp.doc(security=BEARER)
def status(args: dict[str, Any]) -> dict[str, Any]:
    """Progress by method, stale vs recent repos, success rate per repo (read:repos)."""
    who = principal()
    who.require_scope("read:repos")
    stale = dt.timedelta(seconds=current_app.config["GITLEAGUE_STALE_AFTER_SECONDS"])
    return dashboard.summary(
        source=args["source"],
        target=args["target"],
        stale_after=stale,
        repo_ids=reachable_repo_ids(who),
    )


@blp.route("/migrate", methods=["POST"])
@blp.arguments(MigrateIn)
@blp.response(200, MigrationReportOut)
@blp.doc(security=BEARER)
def migrate(body: dict[str, Any]) -> dict[str, Any]:
    """Move repos to another sync method; ``dry_run`` writes nothing (migrate:repos)."""
    report = migration.migrate(
        principal(),
        target=body["target"],
        source=body.get("source"),
        repo_ids=body["repo_ids"],
        all_repos=body["all"],
        exclude_active=body["exclude_active"],
        active_within=body.get("active_within_hours"),
        dry_run=body["dry_run"],
        services=migration.transition_services(),
    )
    return report.to_dict()


@blp.route("/rollback", methods=["POST"])
@blp.arguments(RollbackIn)
@blp.response(200, MigrationReportOut)
@blp.doc(security=BEARER)
def rollback(body: dict[str, Any]) -> dict[str, Any]:
    """Return repos to the method they had before their last migration (migrate:repos)."""
    report = migration.rollback(
        principal(),
        repo_ids=body["repo_ids"],
        dry_run=body["dry_run"],
        services=migration.transition_services(),
    )
    return report.to_dict()
