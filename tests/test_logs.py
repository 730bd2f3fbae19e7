"""JSON log lines: the formatter, and the setting."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest

from app import create_app
from app.errors import ConfigurationError
from app.logs import json_handler
from tests.conftest import TEST_CONFIG


def test_a_record_is_one_json_line_with_the_request_id(app):
    stream = io.StringIO()
    # A fresh name: alembic's fileConfig disables the loggers that exist when it runs.
    logger = logging.getLogger(f"gitleague-test-json-{uuid.uuid4().hex}")
    logger.addHandler(json_handler(stream))
    try:
        with app.test_request_context(headers={"X-Request-ID": "req-unit-000001"}):
            app.preprocess_request()
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("two\nlines \u00e9")
    finally:
        logger.handlers.clear()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["message"] == "two\nlines \u00e9" and record["level"] == "ERROR"
    assert record["request_id"] == "req-unit-000001"
    assert "ValueError: boom" in record["exc"]


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ConfigurationError, match="GITLEAGUE_LOG_FORMAT must be one of text, json"):
        create_app({**TEST_CONFIG, "GITLEAGUE_LOG_FORMAT": "xml"})


def test_migrations_applied_in_process_keep_its_logging(tmp_path):
    """``upgrade()`` inside a process that logs (plugin contract checks, test
    suites, a server applying migrations) leaves its handlers and loggers alone:
    Alembic's ini would replace the root's handlers and disable every other logger."""
    from flask_migrate import upgrade

    root = logging.getLogger()
    stream = io.StringIO()
    handler = json_handler(stream)
    root.addHandler(handler)
    mine = logging.getLogger("gitleague.test.before-migrations")
    try:
        app = create_app(
            {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"}
        )
        with app.app_context():
            upgrade()
        assert handler in root.handlers
        assert not mine.disabled
        mine.warning("still heard")
        assert json.loads(stream.getvalue().splitlines()[-1])["message"] == "still heard"
    finally:
        root.removeHandler(handler)
