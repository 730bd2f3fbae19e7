"""Liveness and readiness probes (outside the versioned API)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify

from ..db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Any:
    """The database answers."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        return jsonify(status="unavailable", error=type(exc).__name__), 503
    return jsonify(status="ok")
