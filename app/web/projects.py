"""Projects: the list with copyable ids, and creating one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from ..db import db
from ..errors import BadRequestError, GitLeagueError
from ..services import projects as svc
from ..services.pagination import MAX_PAGE, paginate
from . import bp
from .forms import ProjectForm
from .session import principal

PER_PAGE = 50


def page_number() -> int:
    """``?page=`` as a number from 1 to :data:`MAX_PAGE` (1 when missing).

    Anything else is a 400 naming the parameter: a page past the offsets the
    database can count would otherwise reach it as an overflow.
    """
    value = request.args.get("page", "1")
    if not (
        value.isascii() and value.isdigit() and len(value) <= 7 and 1 <= int(value) <= MAX_PAGE
    ):
        raise BadRequestError(f"page: must be a whole number from 1 to {MAX_PAGE}")
    return int(value)


def _projects_page(form: ProjectForm, status: int = 200) -> tuple[str, int]:
    who = principal()
    page = paginate(svc.reachable_projects(who), page_number(), PER_PAGE)
    counts = svc.repo_counts([p.id for p in page.items])
    return render_template("web/projects.html", page=page, counts=counts, form=form), status


@bp.route("/projects", methods=["GET", "POST"])
@login_required
def projects() -> Response | tuple[str, int]:
    """The projects the user reaches; owners and admins create new ones here."""
    form = ProjectForm()
    if not form.validate_on_submit():
        return _projects_page(form, 400 if form.errors else 200)
    try:
        project = svc.create_for_caller(principal(), form.name.data.strip(), None)
    except GitLeagueError as exc:
        db.session.rollback()
        form.name.errors.append(exc.message)
        return _projects_page(form, exc.status)
    db.session.commit()
    flash(f"Created project {project.name}. Add its repositories next.", "ok")
    return redirect(url_for("web.repos", project_id=project.id))
