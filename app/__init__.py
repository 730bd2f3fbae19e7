"""GitLeague server: the application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from . import api, cli, db, headers, limiter, logs, metrics, queue, requestid, web
from .config import build_config, environment
from .sync_methods import registry

__version__ = "0.1.0"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a GitLeague app: defaults, then the environment, then ``config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(build_config(app.instance_path, config, environment()))
    app.config.setdefault("MIGRATIONS_DIR", Path(__file__).parent / "migrations")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    from . import models  # noqa: F401  (registers the tables)

    logs.init_app(app)
    requestid.init_app(app)
    headers.init_app(app)
    metrics.init_app(app)
    db.init_app(app)
    registry.init_app(app)
    limiter.init_app(app)
    queue.init_app(app)
    api.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app
