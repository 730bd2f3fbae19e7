"""Settings → API keys (shown once, then masked; revoke), and Get the client."""

from __future__ import annotations

from flask import Response as FlaskResponse
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from gitleague_client import __version__ as client_version
from werkzeug.wrappers import Response

from ..db import db
from ..errors import GitLeagueError
from ..services import api_keys as svc
from ..services.client_config import client_projects, repos_yaml
from ..services.client_wheel import ClientDist
from ..services.pagination import paginate
from . import bp
from .forms import ApiKeyForm, ConfirmForm
from .projects import page_number
from .session import principal

PER_PAGE = 50


def _keys_page(form: ApiKeyForm, status: int = 200, new_key: str | None = None) -> tuple[str, int]:
    page = paginate(svc.keys_of(principal().user), page_number(), PER_PAGE)
    return render_template("web/api_keys.html", page=page, form=form, new_key=new_key), status


@bp.route("/settings/api-keys", methods=["GET", "POST"])
@login_required
def api_keys() -> tuple[str, int]:
    """The user's keys, masked; a new key is shown in full in this one response."""
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _keys_page(form, 400 if form.errors else 200)
    who = principal()
    try:
        _key, raw = svc.create(who, who.user, form.name.data.strip(), form.scopes.data)
    except GitLeagueError as exc:
        db.session.rollback()
        form.scopes.errors.append(exc.message)
        return _keys_page(form, exc.status)
    db.session.commit()
    # Rendered, not redirected: the full key must exist in no later response.
    return _keys_page(ApiKeyForm(formdata=None), 201, new_key=raw)


@bp.route("/settings/api-keys/<int:key_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_api_key(key_id: int) -> Response | str:
    """Ask, then revoke: the key fails on its very next request."""
    who = principal()
    key = svc.get_key(who, key_id)
    form = ConfirmForm()
    if request.method == "POST":
        svc.revoke(who, key)
        db.session.commit()
        flash(f"Revoked {key.name} ({key.masked}).", "ok")
        return redirect(url_for("web.api_keys"))
    return render_template("web/confirm.html", form=form, title="Revoke API key",
                           question=f"Revoke the key “{key.name}” ({key.masked})? Clients "
                           "using it are refused from their next request on.",
                           action="Revoke key", back=url_for("web.api_keys"))  # fmt: skip


#: The client this server ships (its file names).
_CLIENT = ClientDist.of(client_version)


def _install_command() -> str:
    configured = current_app.config.get("GITLEAGUE_CLIENT_INSTALL_COMMAND")
    if configured:
        return str(configured)
    return f"pipx install {request.host_url}client/{_CLIENT.filename}"


@bp.route("/get-client")
@login_required
def get_client() -> str:
    """The install command and a repos.yaml prefilled with the user's push repos."""
    projects = client_projects(principal())
    text = repos_yaml(projects, request.host_url.rstrip("/"))
    return render_template("web/client.html", install=_install_command(), yaml_text=text,
                           projects=projects, version=client_version,
                           sdist=_CLIENT.sdist)  # fmt: skip


@bp.route("/get-client/repos.yaml")
@login_required
def download_repos_yaml() -> FlaskResponse:
    """The same repos.yaml as a download."""
    text = repos_yaml(client_projects(principal()), request.host_url.rstrip("/"))
    return FlaskResponse(text, mimetype="text/yaml", headers={
        "Content-Disposition": 'attachment; filename="repos.yaml"'})  # fmt: skip
