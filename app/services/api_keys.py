"""Managing API keys (a user's own login only; a key cannot manage keys)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..db import db, utcnow
from ..errors import NotFoundError
from ..models import ApiKey, User
from . import audit
from .auth import Principal, create_api_key


def keys_of(user: User) -> sa.Select[Any]:
    """A user's keys, newest first."""
    return sa.select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.id.desc())


def create(actor: Principal | str, user: User, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new key for ``user``; the full key is returned once and never stored."""
    key, raw = create_api_key(user, name, scopes)
    db.session.flush()
    audit.record(
        "api_key_created",
        actor=actor,
        target=("api_key", str(key.id)),
        data={"key": key.masked, "name": name, "scopes": ",".join(key.scopes)},
    )
    return key, raw


def get_key(principal: Principal, key_id: int) -> ApiKey:
    """One of the caller's keys (admins reach all); 404 otherwise."""
    key = db.session.get(ApiKey, key_id)
    if key is None or not principal.can_reach(key.user_id):
        raise NotFoundError("API key not found")
    return key


def revoke(actor: Principal | str, key: ApiKey) -> ApiKey:
    """Revoke ``key``; it fails on the very next request."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            "api_key_revoked",
            actor=actor,
            target=("api_key", str(key.id)),
            data={"key": key.masked},
        )
    return key
