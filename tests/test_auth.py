"""Logins, JWTs and API keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
import sqlalchemy as sa

from app.db import db
from app.models import ApiKey, AuditLog


def test_login_returns_a_short_lived_hs256_jwt(client, app, seed):
    owner = seed.actor("Mixed.Case@Example.org")
    resp = client.post(
        "/api/v1/auth/token", json={"email": "mixed.case@EXAMPLE.org", "password": "password123"}
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["expires_in"] == 900
    token = resp.json["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    claims = jwt.decode(
        token, app.config["JWT_SECRET_KEY"], algorithms=["HS256"], audience="gitleague-api"
    )
    assert {"exp", "iat", "aud", "iss", "sub"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 900
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["email"] == owner.email.lower()
    assert me.json["api_key"] is None


def test_wrong_password_is_401_and_audited(client, app, seed):
    seed.actor("a@example.org")
    resp = client.post("/api/v1/auth/token", json={"email": "a@example.org", "password": "nope"})
    assert resp.status_code == 401
    assert resp.json["error"]["message"] == "invalid email or password"
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "login")).one()
        assert entry.data == {"ok": False} and "nope" not in entry.details


def test_failed_logins_are_rate_limited(client, app, seed):
    app.config["GITLEAGUE_LOGIN_RATE_LIMIT"] = "3 per minute"
    seed.actor("a@example.org")
    codes = [
        client.post(
            "/api/v1/auth/token", json={"email": "a@example.org", "password": "x"}
        ).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    limited = client.post("/api/v1/auth/token", json={"email": "a@example.org", "password": "x"})
    assert limited.json["error"]["code"] == "rate_limited"
    assert "Retry-After" in limited.headers


def _forge(app: Any, **claims: Any) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    base = {
        "sub": "1",
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
        "iss": "gitleague",
        "aud": "gitleague-api",
    }
    base.update(claims)
    base = {k: v for k, v in base.items() if v is not None}
    return jwt.encode(base, app.config["JWT_SECRET_KEY"], algorithm="HS256")


def test_bad_tokens_are_refused(client, app, seed):
    seed.actor()
    now = dt.datetime.now(dt.timezone.utc)
    bad = [
        _forge(app, exp=now - dt.timedelta(seconds=1)),
        _forge(app, aud="someone-else"),
        _forge(app, iss="evil"),
        _forge(app, iat=None),
        _forge(app, sub="999"),
        jwt.encode({"sub": "1"}, "wrong-secret-0123456789abcdef0123456789", algorithm="HS256"),
        jwt.encode(
            {"sub": "1", "iss": "gitleague", "aud": "gitleague-api"}, None, algorithm="none"
        ),
    ]
    for token in bad:
        resp = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, token
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {_forge(app)}"}).status_code
        == 200
    )


def test_key_format_masking_and_hash_only_storage(client, app, seed):
    owner = seed.actor()
    assert owner.key.startswith("tgl_")
    _, public_id, secret = owner.key.split("_")
    me = client.get("/api/v1/me", headers=owner.headers()).json
    assert me["api_key"] == f"tgl_{public_id}_***"
    with app.app_context():
        stored = db.session.scalars(sa.select(ApiKey)).one()
        row = {c.name: getattr(stored, c.name) for c in ApiKey.__table__.columns}
        assert secret not in repr(row) and stored.last_used_at is not None


def test_malformed_and_unknown_keys_say_api_key_not_found(client, seed):
    owner = seed.actor()
    flipped = owner.key[:-1] + ("A" if owner.key[-1] != "A" else "B")  # checksum breaks
    unknown_secret = owner.key[:20] + ("x" if owner.key[20] != "x" else "y") + owner.key[21:]
    for key in ("tgl_short", "tgl_abc_def", flipped, unknown_secret, "tgl_" + "a" * 60):
        resp = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
        assert resp.status_code == 401
        assert resp.json == {"error": {"code": "api_key_not_found", "message": "API key not found"}}


def test_revocation_takes_effect_on_the_next_request(client, seed):
    owner = seed.actor()
    created = client.post(
        "/api/v1/api-keys",
        json={"name": "Python CLI Client", "scopes": ["sync:commits", "read:repos"]},
        headers=owner.headers(use_jwt=True),
    )
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    key, key_id = created.json["key"], created.json["id"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    listed = client.get("/api/v1/api-keys", headers=owner.headers(use_jwt=True)).json
    assert all(item["key"].endswith("_***") for item in listed["items"])
    assert key not in str(listed)
    revoked = client.delete(f"/api/v1/api-keys/{key_id}", headers=owner.headers(use_jwt=True))
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    after = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert after.status_code == 401 and after.json["error"]["message"] == "API key not found"


def test_keys_cannot_manage_keys_and_scopes_are_checked(client, seed):
    owner = seed.actor()
    resp = client.post(
        "/api/v1/api-keys", json={"name": "x", "scopes": ["read:repos"]}, headers=owner.headers()
    )
    assert resp.status_code == 403
    bad_scope = client.post(
        "/api/v1/api-keys",
        json={"name": "x", "scopes": ["root"]},
        headers=owner.headers(use_jwt=True),
    )
    assert bad_scope.status_code == 422 and "root" in bad_scope.json["error"]["message"]


def test_missing_or_odd_authorization_header(client):
    assert client.get("/api/v1/me").json["error"]["code"] == "unauthorized"
    resp = client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert resp.status_code == 401
