"""Log lines as JSON objects (``GITLEAGUE_LOG_FORMAT=json``), each with its request id.

Text stays the default. With ``json`` every record of the process (the
app's, Flask's, RQ's, and gunicorn's through gunicorn.conf.py) is written to
stderr as one JSON object per line: ``time``, ``level``, ``logger``,
``message``, ``request_id`` and, for errors, ``exc``. The request id is the
request's (see :mod:`app.requestid`); an RQ job enqueued during a request
carries it in its meta and restores it while it runs (:mod:`app.jobs`), so
a request and the pull it queued share one id.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from typing import Any

from flask import Flask, has_app_context

FORMAT_SETTING = "GITLEAGUE_LOG_FORMAT"
FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object."""
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id(record),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def _request_id(record: logging.LogRecord) -> str | None:
    if record.name == "gunicorn.access" and isinstance(record.args, dict):
        # gunicorn logs a request after Flask is done with it: the id is
        # read back from the response header (an atom of its access log).
        given = record.args.get("{x-request-id}o")
        return given if given and given != "-" else None
    if not has_app_context():
        return None
    from .requestid import current_request_id

    return current_request_id()


def json_handler(stream: Any = None) -> logging.Handler:
    """A stream handler (stderr by default) writing :class:`JsonFormatter` lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.set_name("gitleague-json")
    return handler


def init_app(app: Flask) -> None:
    """Switch the process's logging to JSON lines when the setting asks for it.

    Idempotent: a process that builds several apps gets one handler.
    """
    fmt = app.config.setdefault(FORMAT_SETTING, os.environ.get(FORMAT_SETTING) or "text")
    if fmt not in FORMATS:
        from .errors import ConfigurationError

        raise ConfigurationError(f"{FORMAT_SETTING} must be one of {', '.join(FORMATS)}: {fmt!r}")
    if fmt != "json":
        return
    root = logging.getLogger()
    if not any(h.get_name() == "gitleague-json" for h in root.handlers):
        root.addHandler(json_handler())
    # GitLeague's own INFO lines (RQ sets its loggers' levels itself); other
    # libraries keep the root's level, WARNING unless configured otherwise.
    logging.getLogger(app.import_name.partition(".")[0]).setLevel(logging.INFO)
