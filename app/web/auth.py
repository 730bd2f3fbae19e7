"""Log in and out (rate-limited like the API's token endpoint)."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..db import db
from ..limiter import failed_login, limiter, login_key
from ..services import audit
from ..services.auth import login
from . import bp
from .forms import ConfirmForm, LoginForm
from .session import SessionUser


def _login_limit() -> str:
    return str(current_app.config["GITLEAGUE_LOGIN_RATE_LIMIT"])


def _safe_next(target: str | None) -> str:
    # Only paths on this server: an open redirect would lend our login page
    # to phishing. Browsers drop tabs and newlines inside a URL ("/\t/evil"
    # is "//evil", another host) and read "\\" as "/", so a target holding
    # whitespace, a control character or a backslash is not followed.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not any(c.isspace() or c == "\\" or ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return target
    return url_for("web.projects")


@bp.route("/")
def index() -> Response:
    """Projects for a logged-in user, else the login page."""
    return redirect(url_for("web.projects" if current_user.is_authenticated else "web.login"))


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
@limiter.limit(_login_limit, methods=["POST"], key_func=login_key, deduct_when=failed_login)
def login_page() -> Response | tuple[str, int] | str:
    """The login form; a failed attempt answers 401 and counts against the limit."""
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = login(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # nothing from before the login carries over
            login_user(SessionUser(user))
            return redirect(_safe_next(form.next.data))
        audit.record("login", actor=form.email.data.strip().lower()[:254],
                     data={"ok": False, "via": "web"})  # fmt: skip
        db.session.commit()
        form.password.errors.append("Wrong email or password.")
        return render_template("web/login.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("web/login.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str:
    """End the session: a POST with the CSRF token, so no link can log you out (GET asks)."""
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("web.login"))
        return render_template("web/confirm.html", form=ConfirmForm(), title="Log out",
                               question="Log out of GitLeague on this browser?",
                               action="Log out", back=url_for("web.projects"))  # fmt: skip
    logout_user()
    session.clear()
    return redirect(url_for("web.login"))
