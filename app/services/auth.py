"""Authentication: user JWTs and API keys, and the principal they yield."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import string
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import jwt
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..db import db, utcnow
from ..errors import (
    ApiKeyNotFoundError,
    AuthenticationError,
    PermissionDeniedError,
    ValidationFailedError,
)
from ..models import ApiKey, User
from ..schemas.common import MAX_INT_ID

SCOPES = ("sync:commits", "read:repos", "write:repos", "read:audit", "migrate:repos")
_B62 = string.digits + string.ascii_letters
_B36 = string.digits + string.ascii_lowercase
_KEY_RE = re.compile(r"^tgl_([a-z0-9]{12})_([A-Za-z0-9]{32})([A-Za-z0-9]{6})$")
LAST_USED_GRANULARITY = dt.timedelta(seconds=60)


@dataclass
class Principal:
    """Who is calling: a user, through a JWT or through one of their API keys."""

    user: User
    api_key: ApiKey | None = None

    @property
    def scopes(self) -> frozenset[str]:
        """A user's own token carries every scope; a key only its own."""
        if self.api_key is None:
            return frozenset(SCOPES)
        return frozenset(self.api_key.scopes)

    @property
    def actor(self) -> str:
        """How audit entries name this caller (never a secret)."""
        if self.api_key is None:
            return self.user.email
        return f"{self.user.email} (key {self.api_key.masked})"

    def require_scope(self, scope: str) -> None:
        """Refuse with 403 unless the caller holds ``scope``."""
        if scope not in self.scopes:
            raise PermissionDeniedError(f"this API key lacks the scope {scope}")

    def require_user_token(self) -> None:
        """Refuse API keys: some actions need the user's own login."""
        if self.api_key is not None:
            raise PermissionDeniedError("API keys cannot manage API keys; log in instead")

    def can_reach(self, owner_id: int) -> bool:
        """Admins reach everything; commissioners only what they own."""
        return self.user.is_admin or owner_id == self.user.id


# -- JWT ----------------------------------------------------------------------


def issue_token(user: User, *, secret: str, issuer: str, audience: str, ttl: int) -> str:
    """A signed HS256 token for ``user``, valid for ``ttl`` seconds."""
    now = utcnow()
    claims = {
        "sub": str(user.id),
        "iat": now,
        "exp": now + dt.timedelta(seconds=ttl),
        "iss": issuer,
        "aud": audience,
        "role": user.role,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(token: str, *, secret: str, issuer: str, audience: str) -> User:
    """The user a valid token names; 401 for anything else."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "aud", "iss", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("token expired; request a new one") from None
    except jwt.PyJWTError:
        raise AuthenticationError("invalid token") from None
    user = _user_of(claims["sub"])
    if user is None:
        raise AuthenticationError("invalid token")
    return user


def _user_of(sub: object) -> User | None:
    # Only a plain decimal id within the column's range names a user; any
    # other ``sub`` ("²", "1e3", 2**64) is an invalid token, not a 500.
    if not (isinstance(sub, str) and sub.isascii() and sub.isdigit() and len(sub) <= 10):
        return None
    user_id = int(sub)
    return db.session.get(User, user_id) if 0 < user_id <= MAX_INT_ID else None


def login(email: str, password: str) -> User | None:
    """The user with these credentials, or None (timing kept similar either way)."""
    user = db.session.scalar(sa.select(User).where(User.email == User.normalize_email(email)))
    if user is None:
        # Hash anyway so a missing account takes as long as a wrong password.
        User(password_hash="").set_password(password)
        return None
    return user if user.check_password(password) else None


# -- API keys -----------------------------------------------------------------


def _checksum(public_id: str, body: str) -> str:
    value = zlib.crc32(f"tgl_{public_id}_{body}".encode())
    out = ""
    for _ in range(6):
        value, rem = divmod(value, 62)
        out += _B62[rem]
    return out


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """Validate requested scopes; unknown ones are named."""
    wanted = list(dict.fromkeys(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise ValidationFailedError(
            f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(SCOPES)}"
        )
    if not wanted:
        raise ValidationFailedError("at least one scope is required")
    return wanted


def create_api_key(user: User, name: str, scopes: Iterable[str]) -> tuple[ApiKey, str]:
    """A new key for ``user``; the full key string is returned once, never stored."""
    public_id = "".join(secrets.choice(_B36) for _ in range(12))
    body = "".join(secrets.choice(_B62) for _ in range(32))
    secret = body + _checksum(public_id, body)
    key = ApiKey(
        public_id=public_id,
        secret_hash=_hash(secret),
        name=name,
        user_id=user.id,
        scopes=check_scopes(scopes),
    )
    key.user = user
    db.session.add(key)
    return key, f"tgl_{public_id}_{secret}"


def parse_api_key(raw: str) -> tuple[str, str]:
    """Split a key into public id and secret; malformed keys fail before any query."""
    match = _KEY_RE.match(raw)
    if not match or not hmac.compare_digest(match[3], _checksum(match[1], match[2])):
        raise ApiKeyNotFoundError()
    return match[1], match[2] + match[3]


def verify_api_key(raw: str) -> ApiKey:
    """The live key ``raw`` names; 401 "API key not found" otherwise."""
    public_id, secret = parse_api_key(raw)
    # The key's user is needed by every request: one query for both.
    key = db.session.scalar(
        sa.select(ApiKey).options(joinedload(ApiKey.user)).where(ApiKey.public_id == public_id)
    )
    if key is None or key.revoked_at is not None:
        raise ApiKeyNotFoundError()
    if not hmac.compare_digest(key.secret_hash, _hash(secret)):
        raise ApiKeyNotFoundError()
    _touch(key)
    return key


def _touch(key: ApiKey) -> None:
    # At most once a minute, and committed at once: authentication is the
    # first thing a request does, so nothing else rides on this commit, and
    # busy keys do not hold a row lock for the rest of their request.
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_GRANULARITY:
        return
    key.last_used_at = now
    db.session.commit()


def authenticate(header: str | None, *, jwt_settings: dict[str, str]) -> Principal:
    """The principal an ``Authorization`` header proves, or a 401."""
    if not header:
        raise AuthenticationError("authentication required: send Authorization: Bearer <token>")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise AuthenticationError("use Authorization: Bearer <API key or token>")
    if credential.startswith("tgl_"):
        key = verify_api_key(credential)
        return Principal(user=key.user, api_key=key)
    return Principal(user=verify_token(credential, **jwt_settings))
