"""Migrations build the same schema as the models, on both databases."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.db import db
from tests.conftest import PG_ADMIN_URL, TEST_CONFIG
from tests.helpers import Seed, fake_sha


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == [], diff


def test_guide_table_and_column_names(app):
    tables = db.metadata.tables
    assert {"name", "sync_method", "last_sync_at"} <= set(tables["repos"].c.keys())
    assert {"repo_id", "action", "details"} <= set(tables["audit_logs"].c.keys())


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own, since these tests move it between revisions."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/scratch.sqlite3"
        return
    name = f"gitleague_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_commits_key_migration_keeps_rows_both_ways(scratch_url):
    """0003 (natural primary key) upgrades and downgrades with stored commits intact."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade()  # seeded through today's models, then taken back to 0002
    seed = Seed(app)
    repo_id = seed.repo(seed.project(seed.actor()))
    with app.app_context():
        downgrade(revision="0002")
        for i, sha in enumerate(fake_sha(f"m{n}") for n in range(5)):
            db.session.execute(
                sa.text(
                    "INSERT INTO commits (repo_id, sha, parents, author_name, author_email, "
                    "authored_at, author_tz_offset, committer_name, committer_email, "
                    "committed_at, committer_tz_offset, message, additions, deletions, "
                    "files_changed, is_merge) VALUES (:r, :s, '[]', 'A', 'a@x', :t, 60, 'A', "
                    "'a@x', :t, 60, 'm', :i, 0, 1, false)"
                ),
                {"r": repo_id, "s": sha, "t": dt.datetime(2024, 1, 1 + i), "i": i},
            )
        db.session.commit()
        db.session.remove()
        before = _commit_rows(repo_id)

        upgrade(revision="0003")
        assert _commit_rows(repo_id) == before
        pk = sa.inspect(db.engine).get_pk_constraint("commits")["constrained_columns"]
        assert pk == ["repo_id", "sha"]

        downgrade(revision="0002")
        assert _commit_rows(repo_id) == before
        with db.engine.connect() as conn:
            ids = conn.execute(sa.text("SELECT id FROM commits")).scalars().all()
        assert len(set(ids)) == 5 and None not in ids

        upgrade()
        assert _commit_rows(repo_id) == before
        db.engine.dispose()


def _commit_rows(repo_id: str) -> list[tuple]:
    # Read on a connection of its own and let it go: a migration step
    # cannot take SQLite's write lock while a read transaction is open.
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT sha, additions FROM commits WHERE repo_id = :r ORDER BY sha"),
            {"r": repo_id},
        )
        return [tuple(r) for r in rows]
