"""The web UI: server-rendered pages on the same services as the API.

One blueprint, a module per area (auth, projects, repos, league, settings,
admin, migration). Views parse the request, call the services the API calls
and render a template; templates hold no queries and no rules. Every script,
style sheet and chart library is served from ``static/`` (nothing from a
CDN), forms work without JavaScript, and JavaScript only improves.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, g, render_template, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from ..api.outages import database_error
from ..db import db
from ..errors import GitLeagueError, ServiceUnavailableError
from . import format as fmt
from .session import load_session_user

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)
fmt.register(bp)
log = logging.getLogger(__name__)
csrf = CSRFProtect()
login_manager = LoginManager()

#: Scripts, styles, images and fetches only from this server; no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@bp.before_request
def _protect_forms() -> None:
    # CSRF is checked for this blueprint only: the API authenticates with
    # bearer tokens, which a browser never sends on its own.
    csrf.protect()


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint != "web.static":
        # Pages show per-user data (and once, a new API key): never cache them.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error_page(status: int, title: str, message: str) -> tuple[str, int]:
    db.session.rollback()
    return render_template("web/error.html", title=title, message=message), status


@bp.errorhandler(GitLeagueError)
def _gitleague_error(error: GitLeagueError) -> Any:
    title = error.code.replace("_", " ").capitalize()
    if isinstance(error, ServiceUnavailableError):
        # The page must not ask the database who is logged in again: shown
        # as logged out for this one answer (the session cookie is untouched).
        g._login_user = login_manager.anonymous_user()
        message = f"{error.message[:1].upper()}{error.message[1:]}. Try again in a moment."
        return *_error_page(error.status, title, message), error.headers()
    return _error_page(error.status, title, error.message)


@bp.errorhandler(sa.exc.DBAPIError)
@bp.errorhandler(sa.exc.TimeoutError)
def _database_error(error: sa.exc.SQLAlchemyError) -> Any:
    """An outage is the 503 page (the API's rule, :mod:`app.api.outages`); a bug stays a 500."""
    if isinstance(error, sa.exc.DataError):
        # The last line of defence, as in the API: forms check first.
        log.warning("database refused a value: %s", error.orig)
        return _error_page(422, "Value not stored",
                           "A value is out of range or cannot be stored.")  # fmt: skip
    outage = database_error(error)
    if outage is None:
        raise error
    log.warning("%s: %s", outage.code, error)
    return _gitleague_error(outage)


@bp.errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return _error_page(
        400, "Form expired", "The form was missing its security token or it expired. Go back, "
        "reload the page and send it again."
    )  # fmt: skip


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[str, int, dict[str, str]]:
    page, status = _error_page(error.code or 500, error.name, error.description or error.name)
    # Flask-Limiter's 429 carries Retry-After; keep it on the HTML page.
    retry = error.response.headers.get("Retry-After") if error.response is not None else None
    return page, status, ({"Retry-After": retry} if retry else {})


def init_app(app: Flask) -> None:
    """Register the pages, CSRF protection, the login session and cookie settings."""
    from . import admin, auth, league, migration, projects, repos, settings  # noqa: F401

    production = app.config.get("ENV_NAME") == "production"
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # the blueprint checks its own
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    if production:
        app.config["SESSION_COOKIE_SECURE"] = True
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = "Log in to see this page."
    login_manager.user_loader(load_session_user)
    app.register_blueprint(bp)
    _html_for_browsers(app)


# Paths whose answers are JSON or text for programs, whoever asks.
_MACHINE_PREFIXES = ("/api/", "/metrics", "/readyz", "/healthz", "/livez", "/client/")


def _html_for_browsers(app: Flask) -> None:
    """A URL that matches no route (404, 405) gets the HTML error page when a
    browser asks for a page, and the API's JSON answer otherwise.

    Such errors come before any blueprint is chosen, so only an app-wide
    handler sees them: it wraps the API's.
    """
    json_handler = app.error_handler_spec[None][None].get(HTTPException)

    def handle(error: HTTPException) -> Any:
        if (
            error.code in (404, 405)
            and not request.path.startswith(_MACHINE_PREFIXES)
            and request.accept_mimetypes.best_match(("application/json", "text/html"))
            == "text/html"
        ):
            try:
                return _http_error(error)
            except sa.exc.SQLAlchemyError:  # who is logged in could not be asked
                g._login_user = login_manager.anonymous_user()
                return _http_error(error)
        return json_handler(error) if json_handler else error

    app.register_error_handler(HTTPException, handle)
