"""Who is who in a league: a repo's .mailmap, a project's aliases and bot settings."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from ..db import db
from ..schemas.common import PageArgs
from ..schemas.league import (
    AliasIn,
    AliasOut,
    AliasPage,
    LeagueSettingsIn,
    LeagueSettingsOut,
    MailmapIn,
    MailmapOut,
)
from ..services import league_rules as rules
from ..services import repos as repo_svc
from .league import _project
from .security import BEARER, principal

blp = Blueprint("league_rules", __name__, url_prefix="/api/v1", description="League identities")


@blp.route("/repos/<repo_id>/mailmap", methods=["GET"])
@blp.response(200, MailmapOut)
@blp.doc(security=BEARER)
def get_mailmap(repo_id: str) -> Any:
    """The .mailmap stored for the repo; blob_sha null when none (read:repos)."""
    who = principal()
    repo = repo_svc.get_repo(who, repo_id)
    who.require_scope("read:repos")
    found = rules.get_mailmap(repo)
    return found or {"blob_sha": None, "content": None, "updated_at": None}


@blp.route("/repos/<repo_id>/mailmap", methods=["PUT"])
@blp.arguments(MailmapIn)
@blp.response(200, MailmapOut)
@blp.doc(security=BEARER)
def put_mailmap(body: dict[str, Any], repo_id: str) -> Any:
    """Upload the .mailmap at the synced head (sync:commits)."""
    who = principal()
    stored = rules.put_mailmap(who, repo_svc.get_repo(who, repo_id), body["blob_sha"],
                               body["content"])  # fmt: skip
    db.session.commit()
    return stored


@blp.route("/repos/<repo_id>/mailmap", methods=["DELETE"])
@blp.response(204)
@blp.doc(security=BEARER)
def delete_mailmap(repo_id: str) -> None:
    """The head has no .mailmap any more (sync:commits)."""
    who = principal()
    rules.delete_mailmap(who, repo_svc.get_repo(who, repo_id).id)
    db.session.commit()


@blp.route("/projects/<project_id>/aliases", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, AliasPage)
@blp.doc(security=BEARER)
def list_aliases(args: dict[str, Any], project_id: str) -> Any:
    """The project's alias groups (read:repos)."""
    groups = rules.aliases(_project(project_id))
    start = (args["page"] - 1) * args["per_page"]
    return {"items": groups[start : start + args["per_page"]], "total": len(groups),
            "page": args["page"], "per_page": args["per_page"]}  # fmt: skip


@blp.route("/projects/<project_id>/aliases", methods=["POST"])
@blp.arguments(AliasIn)
@blp.response(201, AliasOut)
@blp.doc(security=BEARER)
def set_alias(body: dict[str, Any], project_id: str) -> Any:
    """Make these emails one person shown as this name (write:repos, owner or admin)."""
    group = rules.set_alias(principal(), _project(project_id), body["emails"], body["name"])
    db.session.commit()
    return group


@blp.route("/projects/<project_id>/aliases/<path:email>", methods=["DELETE"])
@blp.response(204)
@blp.doc(security=BEARER)
def remove_alias(project_id: str, email: str) -> None:
    """Undo the alias group holding this email (write:repos)."""
    rules.remove_alias(principal(), _project(project_id), email)
    db.session.commit()


@blp.route("/projects/<project_id>/league-settings", methods=["GET"])
@blp.response(200, LeagueSettingsOut)
@blp.doc(security=BEARER)
def get_settings(project_id: str) -> Any:
    """Whether bots count, and more bot emails (read:repos)."""
    return rules.settings(_project(project_id).id)


@blp.route("/projects/<project_id>/league-settings", methods=["PATCH"])
@blp.arguments(LeagueSettingsIn)
@blp.response(200, LeagueSettingsOut)
@blp.doc(security=BEARER)
def patch_settings(body: dict[str, Any], project_id: str) -> Any:
    """Change whether bots count and the extra bot emails (write:repos)."""
    found = rules.update_settings(principal(), _project(project_id), body)
    db.session.commit()
    return found
