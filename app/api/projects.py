"""Projects and the repos inside them."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ..db import db
from ..schemas.common import PageArgs
from ..schemas.projects import (
    ProjectIn,
    ProjectOut,
    ProjectPage,
    ProjectPatch,
    RepoIn,
    RepoListArgs,
    RepoOut,
    RepoPage,
)
from ..services import projects as svc
from ..services import pull_sync
from ..services import repos as repo_svc
from ..services.pagination import paginate
from .security import BEARER, principal
from .views import page_view, project_view, repo_view

blp = Blueprint("projects", __name__, url_prefix="/api/v1/projects", description="Projects")


@blp.route("")
class Projects(MethodView):
    """The caller's projects."""

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ProjectPage)
    @blp.doc(security=BEARER)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the projects the caller reaches (read:repos)."""
        who = principal()
        who.require_scope("read:repos")
        page = paginate(svc.reachable_projects(who), args["page"], args["per_page"])
        counts = svc.repo_counts([p.id for p in page.items])
        return page_view(page, [project_view(p, counts.get(p.id, 0)) for p in page.items])

    @blp.arguments(ProjectIn)
    @blp.response(201, ProjectOut)
    @blp.doc(security=BEARER)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a project (write:repos); admins may set ``owner_email``."""
        project = svc.create_for_caller(principal(), body["name"], body.get("owner_email"))
        db.session.commit()
        return project_view(project, 0)


@blp.route("/<project_id>")
class ProjectItem(MethodView):
    """One project."""

    @blp.response(200, ProjectOut)
    @blp.doc(security=BEARER)
    def get(self, project_id: str) -> dict[str, Any]:
        """Read a project (read:repos)."""
        who = principal()
        project = svc.get_project(who, project_id)
        who.require_scope("read:repos")
        return project_view(project, svc.repo_counts([project.id]).get(project.id, 0))

    @blp.arguments(ProjectPatch)
    @blp.response(200, ProjectOut)
    @blp.doc(security=BEARER)
    def patch(self, body: dict[str, Any], project_id: str) -> dict[str, Any]:
        """Rename a project (write:repos)."""
        who = principal()
        project = svc.update_project(who, svc.get_project(who, project_id), body)
        db.session.commit()
        return project_view(project, svc.repo_counts([project.id]).get(project.id, 0))

    @blp.response(204)
    @blp.doc(security=BEARER)
    def delete(self, project_id: str) -> None:
        """Delete a project with its repos and commits (write:repos)."""
        who = principal()
        repo_ids = svc.delete_project(who, svc.get_project(who, project_id))
        db.session.commit()
        for repo_id in repo_ids:  # only once the delete has committed, as for one repo
            pull_sync.forget_mirror(current_app.config["GITLEAGUE_MIRROR_DIR"], repo_id)


@blp.route("/<project_id>/repos")
class ProjectRepos(MethodView):
    """Repos of a project."""

    @blp.arguments(RepoListArgs, location="query")
    @blp.response(200, RepoPage)
    @blp.doc(security=BEARER)
    def get(self, args: dict[str, Any], project_id: str) -> dict[str, Any]:
        """List repos; ``?git_url=`` matches any form of the URL (read:repos)."""
        who = principal()
        project = svc.get_project(who, project_id)
        who.require_scope("read:repos")
        stmt = repo_svc.repos_of_project(project, args.get("git_url"))
        page = paginate(stmt, args["page"], args["per_page"])
        counts = repo_svc.commit_counts([r.id for r in page.items])
        return page_view(page, [repo_view(r, counts.get(r.id, 0)) for r in page.items])

    @blp.arguments(RepoIn)
    @blp.response(201, RepoOut)
    @blp.doc(security=BEARER)
    def post(self, body: dict[str, Any], project_id: str) -> dict[str, Any]:
        """Register a repository (write:repos); default sync method push_client."""
        who = principal()
        project = svc.get_project(who, project_id)
        repo = repo_svc.create_repo(
            who,
            project,
            name=body["name"],
            git_url=body["git_url"],
            branch=body["branch"],
            sync_method=body.get("sync_method"),
            repo_id=body.get("id"),
        )
        db.session.commit()
        return repo_view(repo, 0)
