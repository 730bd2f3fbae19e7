"""A repo's pull credentials: write-only (``PUT``), and ``DELETE``."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ..db import db
from ..models import Repo
from ..schemas.credentials import CredentialsIn, CredentialsState
from ..services import credentials as svc
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
