"""Fixtures of the end-to-end tests: a headless Chromium for the web UI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser import launch


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (fails under CI when missing)."""
    yield from launch()
