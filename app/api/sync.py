"""The push protocol: negotiation, sync runs, commit batches, commit list."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..db import db
from ..schemas.commits import (
    CommitListArgs,
    CommitPage,
    IngestBatchIn,
    IngestResult,
    KnownIn,
    KnownOut,
)
from ..schemas.sync import SyncRunIn, SyncRunOut, SyncRunPatch
from ..services import ingest, sync_runs
from ..services.commits import commits_query
from ..services.pagination import paginate
from ..services.repos import get_repo
from .security import BEARER, principal
from .views import page_view

blp = Blueprint("sync", __name__, url_prefix="/api/v1/repos", description="Push protocol")


@blp.route("/<repo_id>/commits/known", methods=["POST"])
@blp.arguments(KnownIn)
@blp.response(200, KnownOut)
@blp.doc(security=BEARER)
def known(body: dict[str, Any], repo_id: str) -> dict[str, Any]:
    """Which of up to 500 candidate shas the server has (sync:commits)."""
    who = principal()
    repo = get_repo(who, repo_id)
    limit = current_app.config["GITLEAGUE_MAX_KNOWN_SHAS"]
    return {"known": ingest.known(who, repo, body["shas"], limit)}


@blp.route("/<repo_id>/sync-runs", methods=["POST"])
@blp.arguments(SyncRunIn)
@blp.response(201, SyncRunOut)
@blp.doc(security=BEARER)
def open_run(body: dict[str, Any], repo_id: str) -> Any:
    """Open a sync run that groups the batches of one client sync (sync:commits).

    With ``status`` (and ``head_sha`` or ``error``) the run is recorded finished at
    once: a sync with nothing to upload, or one that failed before uploading.
    """
    who = principal()
    repo = get_repo(who, repo_id, for_update="status" in body)
    who.require_scope("sync:commits")
    ingest.require_push(repo)
    version = sync_runs.client_version_of(request.headers.get("User-Agent"))
    run = sync_runs.open_run(repo, method=repo.sync_method, actor=who, client_version=version)
    if "status" in body:
        sync_runs.finish_run(repo, run, status=body["status"], actor=who,
                             head_sha=body.get("head_sha"), error=body.get("error"))  # fmt: skip
    db.session.commit()
    return run


@blp.route("/<repo_id>/sync-runs/<int:run_id>", methods=["PATCH"])
@blp.arguments(SyncRunPatch)
@blp.response(200, SyncRunOut)
@blp.doc(security=BEARER)
def finish_run(body: dict[str, Any], repo_id: str, run_id: int) -> Any:
    """Finish a run: sets last_sync_at, sync_status and the audit entry (sync:commits)."""
    who = principal()
    repo = get_repo(who, repo_id, for_update=True)
    who.require_scope("sync:commits")
    run = sync_runs.get_run(repo, run_id)
    sync_runs.finish_run(
        repo,
        run,
        status=body["status"],
        actor=who,
        head_sha=body.get("head_sha"),
        error=body.get("error"),
    )
    db.session.commit()
    return run


@blp.route("/<repo_id>/commits")
class Commits(MethodView):
    """A repo's commits."""

    @blp.arguments(CommitListArgs, location="query")
    @blp.response(200, CommitPage)
    @blp.doc(security=BEARER)
    def get(self, args: dict[str, Any], repo_id: str) -> dict[str, Any]:
        """Commits newest first; filter by author, since, until (read:repos)."""
        who = principal()
        repo = get_repo(who, repo_id)
        who.require_scope("read:repos")
        stmt = commits_query(
            repo, author=args.get("author"), since=args.get("since"), until=args.get("until")
        )
        page = paginate(stmt, args["page"], args["per_page"])
        return page_view(page, page.items)

    # The body is decoded by the service with msgspec (the hot path); the
    # marshmallow schema here only documents it.
    @blp.doc(
        security=BEARER,
        requestBody={"required": True, "content": {"application/json": {"schema": IngestBatchIn}}},
    )
    @blp.response(200, IngestResult)
    def post(self, repo_id: str) -> Any:
        """Store a batch of up to 1,000 commits; invalid items are rejected alone."""
        who = principal()
        repo = get_repo(who, repo_id)
        limit = current_app.config["GITLEAGUE_MAX_BATCH_COMMITS"]
        result = ingest.ingest_batch(who, repo, request.get_data(cache=False), limit=limit)
        db.session.commit()
        return result
