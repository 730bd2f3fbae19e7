"""Users (admins: create, make admin, reset password) and the audit log."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from ..db import db, utcnow
from ..errors import GitLeagueError
from ..services import audit
from ..services import users as svc
from ..services.pagination import paginate
from ..services.projects import reachable_repo_ids
from . import bp
from .forms import PasswordForm, UserForm
from .projects import page_number
from .session import admin_required, principal

PER_PAGE = 50
#: The audit log's period filter: name → how far back.
PERIODS = {
    "day": dt.timedelta(days=1),
    "week": dt.timedelta(weeks=1),
    "month": dt.timedelta(days=30),
    "year": dt.timedelta(days=365),
}


def _users_page(form: UserForm, status: int = 200) -> tuple[str, int]:
    page = paginate(svc.all_users(), page_number(), PER_PAGE)
    return render_template("web/users.html", page=page, form=form), status


@bp.route("/admin/users", methods=["GET", "POST"])
@admin_required
def users() -> Response | tuple[str, int]:
    """Every user; create one."""
    form = UserForm()
    if not form.validate_on_submit():
        return _users_page(form, 400 if form.errors else 200)
    try:
        user = svc.create_user(principal(), form.email.data, form.password.data,
                               admin=form.admin.data)  # fmt: skip
    except GitLeagueError as exc:
        db.session.rollback()
        (form.password if exc.message.startswith("password") else form.email).errors.append(
            exc.message
        )
        return _users_page(form, exc.status)
    db.session.commit()
    flash(f"Created {user.role} {user.email}.", "ok")
    return redirect(url_for("web.users"))


@bp.route("/admin/users/<int:user_id>/role", methods=["POST"])
@admin_required
def set_role(user_id: int) -> Response:
    """Make a user an admin, or a commissioner again."""
    user = svc.get_user(user_id)
    svc.set_admin(principal(), user, request.form.get("admin") == "1")
    db.session.commit()
    flash(f"{user.email} is now {'an' if user.is_admin else 'a'} {user.role}.", "ok")
    return redirect(url_for("web.users"))


@bp.route("/admin/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def reset_password(user_id: int) -> Response | tuple[str, int]:
    """Set a new password; the user's open sessions end."""
    user = svc.get_user(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            svc.reset_password(principal(), user, form.password.data)
        except GitLeagueError as exc:
            db.session.rollback()
            form.password.errors.append(exc.message)
            return render_template("web/password.html", user=user, form=form), exc.status
        db.session.commit()
        flash(f"New password set for {user.email}; their open sessions have ended.", "ok")
        return redirect(url_for("web.users"))
    status = 400 if form.errors else 200
    return render_template("web/password.html", user=user, form=form), status


@bp.route("/audit-log")
@login_required
def audit_log() -> str:
    """Audit entries the user may see, filtered by action, repo, actor and period."""
    who = principal()
    args = {k: request.args.get(k, "").strip() for k in ("action", "repo", "actor", "period")}
    since = utcnow() - PERIODS[args["period"]] if args["period"] in PERIODS else None
    stmt = audit.query(
        visible_repo_ids=reachable_repo_ids(who),
        actor_user_id=who.user.id,
        action=args["action"] or None,
        repo_id=args["repo"] or None,
        actor=args["actor"] or None,
        since=since,
    )
    page = paginate(stmt, page_number(), PER_PAGE)
    return render_template("web/audit.html", page=page, args=args, periods=list(PERIODS))
