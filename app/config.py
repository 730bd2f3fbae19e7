"""Configuration: defaults, then the environment, then an explicit mapping.

Only this module reads environment variables; everything else reads
``app.config``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

# Values once written in this repository: public, so refused in production.
PUBLIC_SECRETS = frozenset(
    {"dev-only-secret-change-me", "dev-only-jwt-secret-change-me-0123456789abcdef"}
)
MIN_SECRET_BYTES = 32
SECRET_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY")
SECRETS_FILE = "secrets.json"

_TRUE = {"1", "true", "yes", "on"}


def _bool(value: str) -> bool:
    return value.strip().lower() in _TRUE


def normalize_database_url(url: str) -> str:
    """Point plain ``postgresql://`` URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def defaults(instance_path: str) -> dict[str, Any]:
    """Settings used when neither the environment nor the caller says otherwise."""
    sqlite_path = Path(instance_path) / "gitleague.sqlite3"
    return {
        "ENV_NAME": "development",
        "DEBUG": False,
        # Unset: outside production, random values kept in instance/secrets.json.
        "SECRET_KEY": None,
        "JWT_SECRET_KEY": None,
        "JWT_ISSUER": "gitleague",
        "JWT_AUDIENCE": "gitleague-api",
        "JWT_EXPIRES_SECONDS": 15 * 60,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{sqlite_path}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": None,
        "GITLEAGUE_ENCRYPTION_KEYS": "",
        "GITLEAGUE_STALE_AFTER_SECONDS": 24 * 3600,
        "GITLEAGUE_MAX_BATCH_COMMITS": 1000,
        "GITLEAGUE_MAX_KNOWN_SHAS": 500,
        "GITLEAGUE_LOGIN_RATE_LIMIT": "10 per minute",
        "GITLEAGUE_TRUSTED_PROXIES": 0,
        "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: count in this process's memory rather than refuse logins.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "API_TITLE": "GitLeague API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_SORT_KEYS": False,
        **pull_defaults(instance_path),
    }


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Translate documented environment variables into config keys."""
    out: dict[str, Any] = {}
    if environ.get("DATABASE_URL"):
        out["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(environ["DATABASE_URL"])
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "REDIS_URL", "GITLEAGUE_ENCRYPTION_KEYS"):
        if environ.get(name):
            out[name] = environ[name]
    if environ.get("REDIS_URL"):
        out["RATELIMIT_STORAGE_URI"] = environ["REDIS_URL"]
    if environ.get("GITLEAGUE_ENV"):
        out["ENV_NAME"] = environ["GITLEAGUE_ENV"]
    if environ.get("FLASK_DEBUG"):
        out["DEBUG"] = _bool(environ["FLASK_DEBUG"])
    for name in (
        "GITLEAGUE_STALE_AFTER_SECONDS",
        "GITLEAGUE_MAX_BATCH_COMMITS",
        "GITLEAGUE_TRUSTED_PROXIES",
    ):
        if environ.get(name):
            out[name] = int(environ[name])
    out.update(pull_from_environment(environ))
    return out


def pull_defaults(instance_path: str) -> dict[str, Any]:
    """Settings of pull sync (pull_celery on RQ workers)."""
    return {
        "PULL_SYNC_ENABLED": True,
        "GITLEAGUE_ALLOW_LOCAL_REMOTES": False,
        "GITLEAGUE_MIRROR_DIR": str(Path(instance_path) / "mirrors"),
        # Not a setting: the instance folder, which no pull remote may point into.
        "GITLEAGUE_INSTANCE_DIR": str(instance_path),
        "GITLEAGUE_PULL_INTERVAL_SECONDS": 3600,
        "GITLEAGUE_PULL_JITTER_SECONDS": 300,
        "GITLEAGUE_PULL_BATCH_SIZE": 1000,
        "GITLEAGUE_PULL_JOB_TIMEOUT": 3600,
        "GITLEAGUE_PULL_RETRY_INTERVALS": (60, 300, 900),
        "GITLEAGUE_GIT_TIMEOUT": 60,
        "GITLEAGUE_PULL_BATCH_PAUSE": 0.0,
    }


def pull_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Pull-sync settings from the environment (``CELERY_ENABLED`` is the guide's name)."""
    out: dict[str, Any] = {}
    for name in ("PULL_SYNC_ENABLED", "CELERY_ENABLED"):
        if environ.get(name) and not _bool(environ[name]):
            out["PULL_SYNC_ENABLED"] = False
    if environ.get("GITLEAGUE_ALLOW_LOCAL_REMOTES"):
        out["GITLEAGUE_ALLOW_LOCAL_REMOTES"] = _bool(environ["GITLEAGUE_ALLOW_LOCAL_REMOTES"])
    if environ.get("GITLEAGUE_MIRROR_DIR"):
        out["GITLEAGUE_MIRROR_DIR"] = environ["GITLEAGUE_MIRROR_DIR"]
    for name in (
        "GITLEAGUE_PULL_INTERVAL_SECONDS",
        "GITLEAGUE_PULL_JITTER_SECONDS",
        "GITLEAGUE_PULL_BATCH_SIZE",
        "GITLEAGUE_PULL_JOB_TIMEOUT",
        "GITLEAGUE_GIT_TIMEOUT",
    ):
        if environ.get(name):
            out[name] = int(environ[name])
    if environ.get("GITLEAGUE_PULL_BATCH_PAUSE"):
        out["GITLEAGUE_PULL_BATCH_PAUSE"] = float(environ["GITLEAGUE_PULL_BATCH_PAUSE"])
    if environ.get("GITLEAGUE_PULL_RETRY_INTERVALS"):
        raw = environ["GITLEAGUE_PULL_RETRY_INTERVALS"]
        out["GITLEAGUE_PULL_RETRY_INTERVALS"] = tuple(int(v) for v in raw.split(",") if v.strip())
    return out


def build_config(
    instance_path: str, overrides: Mapping[str, Any] | None, environ: Mapping[str, str]
) -> dict[str, Any]:
    """Merge defaults, environment and overrides, then check the result."""
    config = defaults(instance_path)
    config.update(from_environment(environ))
    config.update(overrides or {})
    config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(config["SQLALCHEMY_DATABASE_URI"])
    check_config(config)
    if not all(config.get(name) for name in SECRET_NAMES):
        kept = instance_secrets(instance_path)
        for name in SECRET_NAMES:
            config[name] = config.get(name) or kept[name]
    return config


def instance_secrets(instance_path: str) -> dict[str, str]:
    """Random secrets for a server with none configured, made once and kept.

    They live in ``instance/secrets.json`` (mode 600), so tokens survive a
    restart; gunicorn workers starting together all end up with the file
    written first (it is linked into place whole, never half-written).
    """
    path = Path(instance_path) / SECRETS_FILE
    try:
        if not path.exists():
            _write_secrets(path)
        kept = json.loads(path.read_text())
        return {name: str(kept[name]) for name in SECRET_NAMES}
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigurationError(
            f"no SECRET_KEY/JWT_SECRET_KEY configured and {path} is unusable ({exc}); "
            "set both in the environment"
        ) from None


def _write_secrets(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = {name: secrets.token_urlsafe(48) for name in SECRET_NAMES}
    tmp = path.with_name(f".{SECRETS_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(fresh, out)
    try:
        os.link(tmp, path)
    except FileExistsError:  # another worker won the race: use its secrets
        pass
    finally:
        tmp.unlink()


def check_config(config: Mapping[str, Any]) -> None:
    """Refuse settings that are unsafe in production or unusable anywhere."""
    if config["ENV_NAME"] != "production":
        return
    if config.get("DEBUG"):
        raise ConfigurationError("refusing to start: DEBUG is on in production")
    for key in SECRET_NAMES:
        value = config.get(key) or ""
        if not value:
            raise ConfigurationError(f"refusing to start: {key} is not set")
        if value in PUBLIC_SECRETS or len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"refusing to start: {key} is a public value or shorter than "
                f"{MIN_SECRET_BYTES} bytes"
            )
    if config["SECRET_KEY"] == config["JWT_SECRET_KEY"]:
        raise ConfigurationError("refusing to start: JWT_SECRET_KEY must differ from SECRET_KEY")


def environment() -> Mapping[str, str]:
    """The process environment (a seam so tests can pass their own)."""
    return os.environ
