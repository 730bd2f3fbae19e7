"""The client this server ships (``/client/``), and the published client's endpoints gone.

No authentication: installing the client comes before having a key configured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, request, send_file

from ..errors import NotFoundError
from ..services import client_wheel

bp = Blueprint("client_dist", __name__)

#: Why the client published on the public index (gitleague-client 0.1.0) is refused.
OLD_CLIENT_WHY = (
    "gitleague-client 0.1.0 from the public package index is another program: it sends "
    "only the newest commits of a first sync, no parents and naive local times, so this "
    "server does not accept its protocol."
)


def _install_command(dist: client_wheel.ClientDist) -> str:
    return f"pipx install {request.host_url}client/{dist.filename}"


@bp.get("/client/")
def client_info() -> Any:
    """The shipped client's version, wheel URL and one-line install command.

    ``sdist`` is the same client as source, for machines with a C compiler
    (pip compiles its line diff there: see docs/performance.md for what it gains).
    """
    dist = client_wheel.client_dist()
    sdist_url = f"{request.host_url}client/{dist.sdist}"
    return jsonify(
        name="gitleague-client",
        version=dist.version,
        wheel=dist.filename,
        url=f"{request.host_url}client/{dist.filename}",
        install=_install_command(dist),
        pip_install=f"pip install {request.host_url}client/{dist.filename}",
        sdist=dist.sdist,
        sdist_url=sdist_url,
        sdist_install=f"pipx install {sdist_url}",
    )


@bp.get("/client/<filename>")
def client_wheel_file(filename: str) -> Any:
    """The wheel (built on the first request) or the source archive."""
    dist = client_wheel.client_dist()
    cache = Path(
        current_app.config.get("GITLEAGUE_CLIENT_WHEEL_DIR")
        or Path(current_app.instance_path) / "client-wheel"
    )
    if filename == dist.filename:
        path, mimetype = client_wheel.wheel_path(cache), "application/zip"
    elif filename == dist.sdist:
        path, mimetype = client_wheel.sdist_path(cache), "application/gzip"
    else:
        raise NotFoundError(f"no such file; this server ships {dist.filename} and {dist.sdist}")
    return send_file(path, mimetype=mimetype, as_attachment=True,
                     download_name=filename, max_age=3600)  # fmt: skip


@bp.route(
    "/api/v1/sync/projects/<project_id>/repos/<repo_id>/<any(status, commits):what>",
    methods=["GET", "POST"],
)
def published_client_gone(project_id: str, repo_id: str, what: str) -> Any:
    """410: the published 0.1.0 client's endpoints; the answer says what to install."""
    try:
        install = _install_command(client_wheel.client_dist())
    except NotFoundError:
        install = "pip install ./cli_client (from the GitLeague server's repository)"
    message = f"{OLD_CLIENT_WHY} Install this server's client: {install}"
    return jsonify(error={"code": "client_not_supported", "message": message,
                          "install": install}), 410  # fmt: skip
