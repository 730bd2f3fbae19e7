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
