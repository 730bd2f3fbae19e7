"""``/api/v1/migration``: the guide's dashboard over HTTP.

Admins see every repo, commissioners their own; ``read:repos`` is needed.
The figures come from ``app.services.dashboard``, the same module behind
``flask migrate-sync status`` and ``migrate_repos_to_push.py --status``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from ..schemas.migration import MigrationStatusOut, StatusArgs
from ..services import dashboard
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
