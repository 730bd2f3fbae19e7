"""One repository: read, change, delete."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ..db import db
from ..schemas.projects import RepoOut, RepoPatch
from ..services import pull_sync
from ..services import repos as svc
from .security import BEARER, principal
from .views import repo_view

blp = Blueprint("repos", __name__, url_prefix="/api/v1/repos", description="Repositories")


@blp.route("/<repo_id>")
class RepoItem(MethodView):
    """A repository and its sync state."""

    @blp.response(200, RepoOut)
    @blp.doc(security=BEARER)
    def get(self, repo_id: str) -> dict[str, Any]:
        """Read a repo with commit_count and sync state (read:repos)."""
        who = principal()
        repo = svc.get_repo(who, repo_id)
        who.require_scope("read:repos")
        return repo_view(repo, svc.commit_counts([repo.id]).get(repo.id, 0))

    @blp.arguments(RepoPatch)
    @blp.response(200, RepoOut)
    @blp.doc(security=BEARER)
    def patch(self, body: dict[str, Any], repo_id: str) -> dict[str, Any]:
        """Change name, git_url or branch (write:repos)."""
        who = principal()
        repo = svc.update_repo(who, svc.get_repo(who, repo_id), body)
        db.session.commit()
        return repo_view(repo, svc.commit_counts([repo.id]).get(repo.id, 0))

    @blp.response(204)
    @blp.doc(security=BEARER)
    def delete(self, repo_id: str) -> None:
        """Delete a repo and its commits (write:repos)."""
        who = principal()
        svc.delete_repo(who, svc.get_repo(who, repo_id))
        db.session.commit()
        # Only once the delete has committed: a failed commit keeps repo and mirror.
        pull_sync.forget_mirror(current_app.config["GITLEAGUE_MIRROR_DIR"], repo_id)
