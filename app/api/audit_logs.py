"""``GET /api/v1/audit-logs``: newest first, filtered."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from ..schemas.audit import AuditLogArgs, AuditLogPage
from ..services import audit
from ..services.pagination import paginate
from ..services.projects import reachable_repo_ids
from .security import BEARER, principal
from .views import page_view

blp = Blueprint("audit_logs", __name__, url_prefix="/api/v1", description="Audit log")


@blp.route("/audit-logs", methods=["GET"])
@blp.arguments(AuditLogArgs, location="query")
@blp.response(200, AuditLogPage)
@blp.doc(security=BEARER)
def audit_logs(args: dict[str, Any]) -> dict[str, Any]:
    """Entries the caller may see (read:audit), filtered by action, repo_id, since, until."""
    who = principal()
    who.require_scope("read:audit")
    stmt = audit.query(
        visible_repo_ids=reachable_repo_ids(who),
        actor_user_id=who.user.id,
        action=args.get("action"),
        repo_id=args.get("repo_id"),
        since=args.get("since"),
        until=args.get("until"),
    )
    page = paginate(stmt, args["page"], args["per_page"])
    return page_view(page, page.items)
