"""Project → Repositories, one repository's page, and its pull credentials.

Nothing here knows a sync method by name: labels, choices and whether a
repo takes a token or a push come from the registry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from ..db import db, utcnow
from ..errors import GitLeagueError
from ..models import Repo
from ..services import credentials, pull_sync
from ..services import league as engine
from ..services import projects as project_svc
from ..services import repos as svc
from ..services.client_config import repo_snippet
from ..services.commits import commits_query
from ..services.pagination import paginate
from ..services.sync_runs import recent_runs
from ..sync_methods import get_registry
from . import bp, charts
from .forms import ConfirmForm, CredentialsForm, RepoForm, choice
from .projects import page_number
from .session import principal

PER_PAGE = 50
RECENT_COMMITS = 20


def _methods() -> dict[str, Any]:
    return {m.name: m for m in get_registry()}


def _statuses(repos: list[Repo]) -> dict[str, str]:
    stale = dt.timedelta(seconds=current_app.config["GITLEAGUE_STALE_AFTER_SECONDS"])
    now = utcnow()
    return {r.id: r.effective_status(now, stale) for r in repos}


def _repo_form(**kwargs: Any) -> RepoForm:
    form = RepoForm(**kwargs)
    form.sync_method.choices = [choice(m.name, m.label) for m in get_registry()]
    if not form.sync_method.data:
        form.sync_method.data = svc.DEFAULT_SYNC_METHOD
    return form


def _repos_page(project: Any, form: RepoForm, status: int = 200) -> tuple[str, int]:
    page = paginate(svc.repos_of_project(project), page_number(), PER_PAGE)
    return render_template(
        "web/repos.html",
        project=project,
        page=page,
        counts=svc.commit_counts([r.id for r in page.items]),
        statuses=_statuses(page.items),
        methods=_methods(),
        form=form,
    ), status


def _apply_error(form: RepoForm, exc: GitLeagueError) -> None:
    db.session.rollback()
    name, sep, message = exc.message.partition(": ")
    target = getattr(form, "repo_id" if name == "id" else name, None) if sep else None
    (target.errors if target is not None else form.form_errors).append(
        message if target is not None else exc.message
    )


@bp.route("/projects/<project_id>/repos", methods=["GET", "POST"])
@login_required
def repos(project_id: str) -> Response | tuple[str, int]:
    """The project's repositories with their sync health; add one below."""
    who = principal()
    project = project_svc.get_project(who, project_id)
    form = _repo_form()
    if not form.validate_on_submit():
        return _repos_page(project, form, 400 if form.errors else 200)
    try:
        repo = svc.create_repo(who, project, name=form.name.data.strip(),
                               git_url=form.git_url.data.strip(), branch=form.branch.data.strip(),
                               sync_method=form.sync_method.data,
                               repo_id=form.repo_id.data or None)  # fmt: skip
    except GitLeagueError as exc:
        _apply_error(form, exc)
        return _repos_page(project, form, exc.status)
    db.session.commit()
    flash(f"Added {repo.name} as {repo.id}.", "ok")
    return redirect(url_for("web.repos", project_id=project.id))


def _repo_page(found: Repo, cred_form: CredentialsForm, status: int = 200) -> tuple[str, int]:
    method = _methods().get(found.sync_method)
    today = charts.today()
    # Every commit the repo stores counts here, bots and merges too, as in its commit count.
    weekly = engine.commits_per_week(found.project, charts.recent(today), repo=found)
    return render_template(
        "web/repo.html",
        repo=found,
        method=method,
        status=_statuses([found])[found.id],
        commit_count=svc.commit_counts([found.id]).get(found.id, 0),
        commits=db.session.scalars(commits_query(found).limit(RECENT_COMMITS)).all(),
        runs=recent_runs(found),
        chart=charts.series(weekly, today),
        weekly_total=sum(n for _, n in weekly),
        takes_token=credentials.needs_credentials(found),
        cred_form=cred_form,
        snippet=repo_snippet(found, request.host_url.rstrip("/"))
        if method is not None and method.accepts_push
        else None,
    ), status


@bp.route("/repos/<repo_id>")
@login_required
def repo(repo_id: str) -> tuple[str, int]:
    """Recent commits, sync history, commits per week, credentials, repos.yaml snippet."""
    return _repo_page(svc.get_repo(principal(), repo_id), CredentialsForm())


@bp.route("/repos/<repo_id>/edit", methods=["GET", "POST"])
@login_required
def edit_repo(repo_id: str) -> Response | tuple[str, int]:
    """Change name, git URL or branch (the sync method changes by migration)."""
    who = principal()
    found = svc.get_repo(who, repo_id)
    form = _repo_form(obj=found)
    del form.sync_method, form.repo_id
    if form.validate_on_submit():
        changes = {f: getattr(form, f).data.strip() for f in ("name", "git_url", "branch")}
        changes = {k: v for k, v in changes.items() if v != getattr(found, k)}
        try:
            svc.update_repo(who, found, changes)
            db.session.commit()
            flash(f"Saved {found.name}.", "ok")
            return redirect(url_for("web.repos", project_id=found.project_id))
        except GitLeagueError as exc:
            _apply_error(form, exc)
            return render_template("web/repo_edit.html", repo=found, form=form), exc.status
    return render_template("web/repo_edit.html", repo=found, form=form), 400 if form.errors else 200


@bp.route("/repos/<repo_id>/delete", methods=["GET", "POST"])
@login_required
def delete_repo(repo_id: str) -> Response | str:
    """Ask, then delete the repository and its stored commits."""
    who = principal()
    found = svc.get_repo(who, repo_id)
    project_id = found.project_id
    if request.method == "POST":
        svc.delete_repo(who, found)
        db.session.commit()
        # Only once the delete has committed: a failed commit keeps repo and mirror.
        pull_sync.forget_mirror(current_app.config["GITLEAGUE_MIRROR_DIR"], repo_id)
        flash(f"Deleted {found.name} ({found.id}) and its commits.", "ok")
        return redirect(url_for("web.repos", project_id=project_id))
    return render_template("web/confirm.html", form=ConfirmForm(), title="Delete repository",
                           question=f"Delete {found.name} ({found.id}) and all its stored "
                           "commits? This cannot be undone.", action="Delete repository",
                           back=url_for("web.repos", project_id=project_id))  # fmt: skip


@bp.route("/repos/<repo_id>/credentials", methods=["POST"])
@login_required
def set_credentials(repo_id: str) -> Response | tuple[str, int]:
    """Store a token for a pull repo; it is never shown back."""
    who = principal()
    found = svc.get_repo(who, repo_id, for_update=True)
    form = CredentialsForm()
    if not form.validate_on_submit():
        # The page again with the form's own words (too long, missing), as a 400.
        return _repo_page(found, form, 400)
    credentials.set_credentials(who, found, token=form.token.data,
                                username=form.username.data or None,
                                keys=current_app.config["GITLEAGUE_ENCRYPTION_KEYS"])  # fmt: skip
    db.session.commit()
    flash("Token stored (encrypted). It will not be shown again.", "ok")
    return redirect(url_for("web.repo", repo_id=found.id))


@bp.route("/repos/<repo_id>/credentials/delete", methods=["GET", "POST"])
@login_required
def clear_credentials(repo_id: str) -> Response | str:
    """Ask, then delete the stored token."""
    who = principal()
    found = svc.get_repo(who, repo_id, for_update=request.method == "POST")
    if request.method == "POST":
        credentials.clear_credentials(who, found)
        db.session.commit()
        flash("Stored token deleted.", "ok")
        return redirect(url_for("web.repo", repo_id=found.id))
    return render_template("web/confirm.html", form=ConfirmForm(), title="Delete stored token",
                           question=f"Delete the stored token of {found.name}? Pulls fail "
                           "until a new one is set.", action="Delete token",
                           back=url_for("web.repo", repo_id=found.id))  # fmt: skip
