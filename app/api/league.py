"""The league: contributor tables of a project or repo, a contributor's page, activity."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask_smorest import Blueprint

from ..models import Project, Repo
from ..schemas.league import (
    ActivityArgs,
    ActivityPage,
    ContributorPageOut,
    LeagueArgs,
    LeaguePage,
    WindowArgs,
)
from ..services import league
from ..services import projects as project_svc
from ..services import repos as repo_svc
from ..services.league_periods import Window, window
from ..services.league_rows import utc
from .security import BEARER, principal

blp = Blueprint("league", __name__, url_prefix="/api/v1", description="League tables")


def _project(project_id: str) -> Project:
    who = principal()
    project = project_svc.get_project(who, project_id)
    who.require_scope("read:repos")
    return project


def _repo(repo_id: str) -> Repo:
    who = principal()
    repo = repo_svc.get_repo(who, repo_id)
    who.require_scope("read:repos")
    return repo


def _window(args: dict[str, Any]) -> Window:
    return window(args.get("period"), since=args.get("since"), until=args.get("until"),
                  on=args.get("on"))  # fmt: skip


def _table(project: Project, args: dict[str, Any], repo: Repo | None = None) -> dict[str, Any]:
    page = league.league_table(
        project, _window(args), sort=args["sort"], include_bots=args.get("include_bots"),
        repo=repo, page=args["page"], per_page=args["per_page"],
    )  # fmt: skip
    items = [item.as_row() for item in page.items]
    return {"items": items, "total": page.total, "page": page.page, "per_page": page.per_page}


def _weeks(project: Project, args: dict[str, Any], repo: Repo | None = None) -> dict[str, Any]:
    weeks = league.activity(project, _window(args), repo=repo,
                            include_bots=args.get("include_bots"))  # fmt: skip
    start = (args["page"] - 1) * args["per_page"]
    items = [vars(w) for w in weeks[start : start + args["per_page"]]]
    return {"items": items, "total": len(weeks), "page": args["page"], "per_page": args["per_page"]}


@blp.route("/projects/<project_id>/contributors")
@blp.arguments(LeagueArgs, location="query")
@blp.response(200, LeaguePage)
@blp.doc(security=BEARER)
def contributors(args: dict[str, Any], project_id: str) -> Any:
    """The league table of a project: people ranked over a period (read:repos)."""
    return _table(_project(project_id), args)


@blp.route("/projects/<project_id>/contributors/<path:email>")
@blp.arguments(WindowArgs, location="query")
@blp.response(200, ContributorPageOut)
@blp.doc(security=BEARER)
def contributor(args: dict[str, Any], project_id: str, email: str) -> Any:
    """One contributor (by any of their emails): totals, commits per week, per repo (read:repos)."""
    found = league.contributor_page(_project(project_id), email, _window(args))
    person = found.contributor
    return {
        "contributor": person.as_row(),
        "weeks": [{"week": w, "commits": c, "merges": m} for w, c, m in found.weeks],
        "repos": [
            {"repo_id": s.repo_id, "repo_name": s.repo_name, **_figures(s.figures)}
            for s in found.repos
        ],
    }


def _figures(figures: league.Figures) -> dict[str, Any]:
    return {**asdict(figures), "lines_changed": figures.lines_changed,
            "first_commit_at": utc(figures.first_at), "last_commit_at": utc(figures.last_at)}  # fmt: skip


@blp.route("/projects/<project_id>/activity")
@blp.arguments(ActivityArgs, location="query")
@blp.response(200, ActivityPage)
@blp.doc(security=BEARER)
def project_activity(args: dict[str, Any], project_id: str) -> Any:
    """Commits and active contributors per week, oldest first (read:repos)."""
    return _weeks(_project(project_id), args)


@blp.route("/repos/<repo_id>/contributors")
@blp.arguments(LeagueArgs, location="query")
@blp.response(200, LeaguePage)
@blp.doc(security=BEARER)
def repo_contributors(args: dict[str, Any], repo_id: str) -> Any:
    """The league table of one repository (its .mailmap only) (read:repos)."""
    repo = _repo(repo_id)
    return _table(repo.project, args, repo)
