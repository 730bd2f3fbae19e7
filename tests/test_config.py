"""Configuration from the environment, and the production safety checks."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import normalize_database_url
from app.errors import ConfigurationError

STRONG = "x" * 40
STRONG_JWT = "y" * 40


def test_default_is_sqlite_under_instance(monkeypatch, tmp_path):
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/gitleague.sqlite3")


def test_environment_is_read(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/x.db"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_postgres_urls_use_psycopg3():
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"DEBUG": True}, "DEBUG"),
        ({"SECRET_KEY": "dev-only-secret-change-me"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"JWT_SECRET_KEY": "short"}, "JWT_SECRET_KEY"),
        ({"JWT_SECRET_KEY": STRONG}, "must differ"),
    ],
)
def test_production_refuses_unsafe_settings(overrides, fragment, tmp_path):
    config = {
        "ENV_NAME": "production",
        "SECRET_KEY": STRONG,
        "JWT_SECRET_KEY": STRONG_JWT,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
        **overrides,
    }
    with pytest.raises(ConfigurationError, match=fragment):
        create_app(config)


def test_production_starts_with_strong_secrets(tmp_path):
    app = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": STRONG,
            "JWT_SECRET_KEY": STRONG_JWT,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
        }
    )
    assert app.config["ENV_NAME"] == "production"
