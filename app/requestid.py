"""A request id per request, taken from ``X-Request-ID`` when it is sane."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

_SANE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    return g.get("request_id")


def _assign() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _SANE.match(given) else uuid.uuid4().hex


def _echo(response: Response) -> Response:
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response


def init_app(app: Flask) -> None:
    """Assign ids before each request and echo them in responses."""
    app.before_request(_assign)
    app.after_request(_echo)
