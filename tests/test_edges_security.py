"""Issue 9, security items 5 (login behind a proxy) and 6 (no public secrets)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from typing import Any

import pytest

from app import create_app
from app.config import PUBLIC_SECRETS, SECRETS_FILE, build_config, instance_secrets
from app.db import db
from app.errors import ConfigurationError
from tests.conftest import TEST_CONFIG
from tests.helpers import Seed

LOGIN = "/api/v1/auth/token"


def _login(client: Any, email: str, password: str = "wrong", forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        LOGIN, json={"email": email, "password": password}, headers=headers
    ).status_code


@pytest.fixture
def proxied(database_url: str) -> Iterator[Any]:
    """An app behind one trusted proxy, with 3 failed logins a minute."""
    app = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "GITLEAGUE_TRUSTED_PROXIES": 1,
            "GITLEAGUE_LOGIN_RATE_LIMIT": "3 per minute",
        }
    )
    Seed(app).actor("alice@example.org")
    Seed(app).actor("bob@example.org")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_clients_behind_one_proxy_are_limited_apart(proxied):
    client = proxied.test_client()
    attacker, victim = "203.0.113.7", "198.51.100.9"
    assert [_login(client, "alice@example.org", forwarded=attacker) for _ in range(4)] == [
        401,
        401,
        401,
        429,
    ]
    assert _login(client, "alice@example.org", "password123", forwarded=victim) == 200


def test_failures_for_one_email_do_not_lock_another(proxied):
    client = proxied.test_client()
    for _ in range(3):
        _login(client, "alice@example.org", forwarded="203.0.113.7")
    assert _login(client, "ALICE@example.org ", forwarded="203.0.113.7") == 429
    assert _login(client, "bob@example.org", "password123", forwarded="203.0.113.7") == 200


def test_proxy_headers_are_ignored_unless_trusted(app, seed):
    app.config["GITLEAGUE_LOGIN_RATE_LIMIT"] = "2 per minute"
    seed.actor("alice@example.org")
    client = app.test_client()
    # Without GITLEAGUE_TRUSTED_PROXIES a client cannot pick a fresh address per try.
    codes = [_login(client, "alice@example.org", forwarded=f"203.0.113.{n}") for n in range(3)]
    assert codes == [401, 401, 429]


def test_config_reads_trusted_proxies_from_the_environment(tmp_path):
    config = build_config(str(tmp_path), {}, {"GITLEAGUE_TRUSTED_PROXIES": "2"})
    assert config["GITLEAGUE_TRUSTED_PROXIES"] == 2
    assert build_config(str(tmp_path), {}, {})["GITLEAGUE_TRUSTED_PROXIES"] == 0


def test_unconfigured_secrets_are_random_private_and_kept(tmp_path):
    first = build_config(str(tmp_path / "a"), {}, {})
    path = tmp_path / "a" / SECRETS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = build_config(str(tmp_path / "a"), {}, {})  # a restart reads the same file
    other = build_config(str(tmp_path / "b"), {}, {})
    for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
        assert first[name] == again[name]
        assert first[name] != other[name]
        assert first[name] not in PUBLIC_SECRETS and len(first[name]) >= 32
    assert first["SECRET_KEY"] != first["JWT_SECRET_KEY"]
    assert [p.name for p in (tmp_path / "a").iterdir()] == [SECRETS_FILE]


def test_configured_secrets_win_and_write_nothing(tmp_path):
    given = {"SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40}
    config = build_config(str(tmp_path), {}, given)
    assert (config["SECRET_KEY"], config["JWT_SECRET_KEY"]) == ("s" * 40, "j" * 40)
    assert not (tmp_path / SECRETS_FILE).exists()


def test_production_still_refuses_to_start_without_secrets(tmp_path):
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        build_config(str(tmp_path), {"ENV_NAME": "production"}, {})
    assert not (tmp_path / SECRETS_FILE).exists()


def test_an_unusable_secrets_file_is_a_clear_configuration_error(tmp_path):
    (tmp_path / SECRETS_FILE).write_text("{not json")
    with pytest.raises(ConfigurationError, match="set both in the environment"):
        build_config(str(tmp_path), {}, {})


def test_workers_starting_together_share_one_set_of_secrets(tmp_path):
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(4) as pool:
        kept = pool.map(instance_secrets, [str(tmp_path)] * 8)
    assert all(secrets == kept[0] for secrets in kept)
    assert sorted(p.name for p in tmp_path.iterdir()) == [SECRETS_FILE]  # no temporary left
