"""Security headers on every response (shared by the API and the web pages).

- ``X-Content-Type-Options: nosniff`` on everything, so a browser never runs
  a JSON or text answer as a script or page;
- ``Cache-Control: no-store`` on JSON, which carries tokens, keys and private
  data (the OpenAPI document alone may be cached);
- HTML gets a Content-Security-Policy with ``frame-ancestors 'none'``: a view
  sets its own policy with :func:`with_policy` (the API docs page, the web UI's
  pages), and any HTML that set none gets :data:`STRICT_HTML_POLICY`.

Headers a view set itself are never overwritten.
"""

from __future__ import annotations

from flask import Flask, Response, request

STRICT_HTML_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
CACHEABLE_JSON = frozenset({"api-docs.openapi_json"})


def with_policy(response: Response, policy: str) -> Response:
    """Give an HTML ``response`` its Content-Security-Policy (and refuse framing)."""
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Frame-Options"] = "DENY"  # for browsers without frame-ancestors
    return response


def secure(response: Response) -> Response:
    """The after-request hook: add the headers a response lacks."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "application/json" and request.endpoint not in CACHEABLE_JSON:
        response.headers.setdefault("Cache-Control", "no-store")
    if response.mimetype == "text/html" and "Content-Security-Policy" not in response.headers:
        with_policy(response, STRICT_HTML_POLICY)
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response of ``app``."""
    app.after_request(secure)
