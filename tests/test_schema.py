"""Migrations build the same schema as the models, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.db import db


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == [], diff


def test_guide_table_and_column_names(app):
    tables = db.metadata.tables
    assert {"name", "sync_method", "last_sync_at"} <= set(tables["repos"].c.keys())
    assert {"repo_id", "action", "details"} <= set(tables["audit_logs"].c.keys())
