"""REST API v1: flask-smorest blueprints, OpenAPI document, one error shape."""

from __future__ import annotations

import functools
import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from ..errors import GitLeagueError, ValidationFailedError
from ..schemas.common import ErrorSchema, describe_messages
from ..schemas.league import UTCDay
from . import guard, outages
from .security import principal

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


class GitLeagueApi(Api):
    """smorest's Api with GitLeague's error shape ``{"error": {"code", "message"}}``.

    ``ERROR_SCHEMA`` makes the OpenAPI document say so too: it is the schema
    of every operation's ``default`` response and of each status smorest
    documents on its own (422 for a bad body, 304 and 412 aside).
    """

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        """Turn any HTTP error (webargs validation included) into the one shape."""
        code = error.code or 500
        data = getattr(error, "data", None) or {}
        message = error.description or error.name
        if "messages" in data:
            message = _webargs_message(data["messages"])
        body: dict[str, Any] = {"code": _HTTP_CODES.get(code, "error"), "message": message}
        if code == 413 and not data:
            body["message"] = "request body too large"
        if code >= 500:
            body = {"code": "internal_error", "message": "internal server error"}
        headers = data.get("headers", {}) if isinstance(data, dict) else {}
        if error.response is not None:  # e.g. Flask-Limiter's 429 with Retry-After
            headers = {**dict(error.response.headers), **headers}
            headers.pop("Content-Type", None)
            headers.pop("Content-Length", None)
        return jsonify({"error": body}), code, headers


def _webargs_message(messages: Any) -> str:
    # webargs nests errors under the location ("json", "query"); a location
    # alone adds nothing for the reader, so it is dropped.
    if isinstance(messages, dict) and len(messages) == 1:
        ((location, inner),) = messages.items()
        if location in {"json", "query", "querystring", "headers", "view_args"}:
            messages = inner
    if messages == {"_schema": ["Invalid input type."]}:
        return "request body must be a JSON object"
    text = describe_messages(messages)
    return "malformed JSON body" if text == "Invalid JSON body." else text


def _authenticate_first(protected: set[str]) -> None:
    # Authenticate before smorest parses the body, so an anonymous caller
    # learns "401" and not what the body should look like.
    if request.blueprint in protected:
        principal()


def _handle_gitleague_error(error: GitLeagueError) -> Any:
    return jsonify(error.to_dict()), error.status, error.headers()


def _handle_outage(error: sa.exc.SQLAlchemyError) -> Any:
    return _handle_gitleague_error(outages.outage(error))


def _handle_deep_json(error: RecursionError) -> Any:
    return _handle_gitleague_error(guard.deep_json_error(error))


def _handle_unstorable(error: sa.exc.DataError) -> Any:
    # The last line of defence: schemas and the request guard refuse bad
    # values first, so this is logged as the gap it is.
    log.warning("database refused a value: %s", error.orig)
    return _handle_gitleague_error(
        ValidationFailedError("a value is out of range or cannot be stored")
    )


def init_app(app: Flask) -> None:
    """Register the API blueprints, the error handlers and the docs page."""
    from . import (
        api_keys,
        audit_logs,
        auth,
        client_dist,
        credentials,
        docs,
        health,
        league,
        league_rules,
        me,
        migration,
        projects,
        repos,
        sync,
    )

    guard.install_converters(app)
    # One Api per app: smorest keeps the app and its spec on the instance.
    api = GitLeagueApi(spec_kwargs={"info": {"description": "GitLeague REST API v1"}})
    api.init_app(app)
    app.extensions["gitleague.api"] = api
    api.register_field(UTCDay, "string", None)  # a date, or a time at midnight UTC
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "API key or JWT"}
    )
    modules = (
        auth, me, projects, repos, sync, api_keys, audit_logs, migration, credentials, league,
        league_rules,
    )  # fmt: skip
    for module in modules:
        api.register_blueprint(module.blp)
    app.register_blueprint(health.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(client_dist.bp)
    protected = {m.blp.name for m in modules if m is not auth}
    app.before_request(functools.partial(_authenticate_first, protected))
    app.before_request(guard.check_request)
    app.register_error_handler(GitLeagueError, _handle_gitleague_error)
    app.register_error_handler(RecursionError, _handle_deep_json)
    app.register_error_handler(sa.exc.DataError, _handle_unstorable)
    for failure in (sa.exc.DBAPIError, sa.exc.TimeoutError):
        app.register_error_handler(failure, _handle_outage)
