"""``/api/v1/docs``: Swagger UI for the OpenAPI document, served by the app.

The viewer's files come from the ``swagger-ui-bundle`` package (Swagger UI,
Apache-2.0, its licence in the package's metadata), so the page loads
nothing from another origin and runs under a policy that allows scripts from
this server only: the start-up code is a file too, not an inline script.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

from ..errors import NotFoundError
from ..headers import with_policy

bp = Blueprint("api_docs_ui", __name__, url_prefix="/api/v1/docs")

# Swagger UI sets style attributes and draws icons from data: URIs.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GitLeague API</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" href="{icon}">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec}"></div>
<script src="{bundle}"></script>
<script src="{start}"></script>
</body>
</html>
"""

START = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    queryConfigEnabled: false
  });
});
"""


@bp.get("")
def page() -> Response:
    """The viewer's HTML page."""
    html = PAGE.format(
        css=url_for(".asset", name="swagger-ui.css"),
        icon=url_for(".asset", name="favicon-32x32.png"),
        bundle=url_for(".asset", name="swagger-ui-bundle.js"),
        start=url_for(".start"),
        spec=url_for("api-docs.openapi_json"),
    )
    return with_policy(Response(html, mimetype="text/html"), POLICY)


@bp.get("/start.js")
def start() -> Response:
    """The few lines that point Swagger UI at the OpenAPI document."""
    return Response(START, mimetype="text/javascript")


@bp.get("/assets/<name>")
def asset(name: str) -> Any:
    """One of the Swagger UI files the page uses (nothing else is served)."""
    if name not in FILES:
        raise NotFoundError("no such file of the API docs viewer")
    return send_from_directory(str(swagger_ui_path), name, max_age=86400)
