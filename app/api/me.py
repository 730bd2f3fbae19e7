"""``GET /api/v1/me``: who the caller is and what it reaches."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from ..db import db
from ..schemas.auth import MeOut
from ..services.projects import reachable_projects, repo_counts
from .security import BEARER, principal

blp = Blueprint("me", __name__, url_prefix="/api/v1", description="The caller")


@blp.route("/me", methods=["GET"])
@blp.response(200, MeOut)
@blp.doc(security=BEARER)
def me() -> dict[str, Any]:
    """The caller, its masked key and scopes, and its projects with repo counts."""
    who = principal()
    projects = db.session.scalars(reachable_projects(who)).all()
    counts = repo_counts([p.id for p in projects])
    return {
        "email": who.user.email,
        "role": who.user.role,
        "api_key": who.api_key.masked if who.api_key else None,
        "scopes": sorted(who.scopes),
        "projects": [
            {"id": str(p.id), "name": p.name, "repo_count": counts.get(p.id, 0)} for p in projects
        ],
    }
