"""Fixtures: an app per test on SQLite and on PostgreSQL, clients, seed data.

Each backend's schema is built once per session by running the real
migrations; every test then gets a fresh copy (SQLite: a copied file;
PostgreSQL: the tables truncated).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app import create_app
from app.db import db

PG_ADMIN_URL = os.environ.get(
    "GITLEAGUE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = [
    b for b in os.environ.get("GITLEAGUE_TEST_DATABASES", "sqlite,postgresql").split(",") if b
]
TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
    "JWT_SECRET_KEY": "test-jwt-secret-0123456789abcdef0123456789",
    "GITLEAGUE_LOGIN_RATE_LIMIT": "1000 per minute",
    # A fixed test-only Fernet key, so credentials can be stored in any test.
    "GITLEAGUE_ENCRYPTION_KEYS": "kJ2pZ0cL4Xo0m5i8yq1h2W3e4r5t6y7u8i9o0p1a2s0=",
}


@pytest.fixture(autouse=True)
def _hermetic_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No GIT_* or GitLeague settings leak in from the developer's shell."""
    for name in list(os.environ):
        if name.startswith(("GIT_", "GITLEAGUE_")) and name not in (
            "GITLEAGUE_TEST_PG_URL",
            "GITLEAGUE_TEST_DATABASES",
        ):
            monkeypatch.delenv(name)
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "JWT_SECRET_KEY", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database migrated to head, dropped at the end."""
    name = f"gitleague_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:  # CI treats a missing PostgreSQL as a failure
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    _migrate(url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = (
            conn.execute(
                sa.text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "gitleague.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return url


@pytest.fixture
def app(database_url: str) -> Iterator[Any]:
    """The app on a fresh database."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    """Flask's test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    """Flask's CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def seed(app: Any) -> Any:
    """Factories for users, projects, repos and keys (see tests/helpers.py)."""
    from tests.helpers import Seed

    return Seed(app)


@pytest.fixture
def live_server(app: Any, database_url: str, tmp_path: Path) -> Iterator[Any]:
    """gunicorn with 2 workers on 127.0.0.1, on the same database as ``app``."""
    from tests.server import LiveServer

    server = LiveServer(database_url).start(tmp_path)
    yield server
    server.stop()
