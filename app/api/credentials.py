"""A repo's pull credentials: write-only (``PUT``), and ``DELETE``; queueing a pull now."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ..db import db
from ..models import Repo
from ..requestid import current_request_id
from ..schemas.credentials import CredentialsIn, CredentialsState, PullJobOut
from ..services import credentials as svc
from ..services import pull_schedule
from ..services.repos import get_repo
from .security import BEARER, principal

blp = Blueprint("credentials", __name__, url_prefix="/api/v1/repos", description="Pull credentials")


@blp.route("/<repo_id>/credentials")
class Credentials(MethodView):
    """The encrypted token a pull_celery repo is fetched with."""

    @blp.arguments(CredentialsIn)
    @blp.response(200, CredentialsState)
    @blp.doc(security=BEARER)
    def put(self, body: dict[str, Any], repo_id: str) -> Repo:
        """Store a token, encrypted; the answer never contains it (write:repos)."""
        who = principal()
        repo = get_repo(who, repo_id, for_update=True)
        svc.set_credentials(
            who,
            repo,
            token=body["token"],
            username=body.get("username"),
            keys=current_app.config["GITLEAGUE_ENCRYPTION_KEYS"],
        )
        db.session.commit()
        return repo

    @blp.response(204)
    @blp.doc(security=BEARER)
    def delete(self, repo_id: str) -> None:
        """Delete the stored token (write:repos)."""
        who = principal()
        svc.clear_credentials(who, get_repo(who, repo_id, for_update=True))
        db.session.commit()


@blp.route("/<repo_id>/pull-jobs", methods=["POST"])
@blp.response(202, PullJobOut)
@blp.doc(security=BEARER)
def queue_pull(repo_id: str) -> dict[str, Any]:
    """Queue a pull sync of a pull_celery repo now; one pending job per repo (write:repos)."""
    who = principal()
    result = pull_schedule.queue_pull(who, get_repo(who, repo_id), current_app.config)
    current_app.logger.info("pull job %s of %s: %s", result.job.id, repo_id,
                            "queued" if result.created else "already pending")  # fmt: skip
    return {"job_id": result.job.id, "queued": result.created, "request_id": current_request_id()}
