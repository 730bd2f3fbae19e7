"""Guards for the authentication checks a mutation run showed untested (issue 14).

Each test here fails when one line of app/services/auth.py stops doing its
job: a forged key with a valid checksum, a token without ``exp``, a key
with trailing junk, a login for an unknown email that skips the hash.
"""

from __future__ import annotations

import datetime as dt
import string
import zlib
from typing import Any

import jwt
import pytest
import sqlalchemy as sa

from app.db import db, utcnow
from app.models import ApiKey
from app.models import user as user_model

_B62 = string.digits + string.ascii_letters
NOT_FOUND = {"error": {"code": "api_key_not_found", "message": "API key not found"}}


def _checksum(public_id: str, body: str) -> str:
    # Written out again on purpose: issued keys carry this checksum, so the
    # format must not drift with the code that checks it.
    value = zlib.crc32(f"tgl_{public_id}_{body}".encode())
    out = ""
    for _ in range(6):
        value, rem = divmod(value, 62)
        out += _B62[rem]
    return out


def _me(client: Any, credential: str, scheme: str = "Bearer") -> Any:
    return client.get("/api/v1/me", headers={"Authorization": f"{scheme} {credential}"})


def _claims(**changes: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.timezone.utc)
    claims: dict[str, Any] = {
        "sub": "1",
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
        "iss": "gitleague",
        "aud": "gitleague-api",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _token(app: Any, **changes: Any) -> str:
    return jwt.encode(_claims(**changes), app.config["JWT_SECRET_KEY"], algorithm="HS256")


def test_the_checksum_is_the_documented_one(seed):
    _, public_id, secret = seed.actor().key.split("_")
    assert secret[32:] == _checksum(public_id, secret[:32])


def test_well_formed_key_with_a_wrong_secret_is_refused(client, seed):
    owner = seed.actor()
    assert _me(client, owner.key).status_code == 200
    _, public_id, secret = owner.key.split("_")
    body = secret[:31] + ("a" if secret[31] != "a" else "b")
    forged = f"tgl_{public_id}_{body}{_checksum(public_id, body)}"
    resp = _me(client, forged)
    assert resp.status_code == 401 and resp.json == NOT_FOUND


def test_trailing_junk_after_a_key_is_refused(client, seed):
    owner = seed.actor()
    for junk in ("x", "0", owner.key[-6:], "_extra"):
        resp = _me(client, owner.key + junk)
        assert resp.status_code == 401 and resp.json == NOT_FOUND, junk


def test_key_under_another_scheme_is_refused(client, seed):
    owner = seed.actor()
    for scheme in ("Basic", "Token", "bearerx"):
        resp = _me(client, owner.key, scheme=scheme)
        assert resp.status_code == 401, scheme
        assert "Bearer" in resp.json["error"]["message"]
    assert _me(client, owner.key, scheme="bearer").status_code == 200
    assert _me(client, f"  {owner.key}  ").status_code == 200


def test_empty_bearer_is_refused(client):
    for header in ("Bearer", "Bearer ", "Bearer    "):
        resp = client.get("/api/v1/me", headers={"Authorization": header})
        assert resp.status_code == 401 and "Bearer" in resp.json["error"]["message"]


@pytest.mark.parametrize("claim", ["exp", "iat", "aud", "iss", "sub"])
def test_token_without_a_required_claim_is_401(client, app, seed, claim):
    seed.actor()
    assert _me(client, _token(app)).status_code == 200
    resp = _me(client, _token(app, **{claim: None}))
    assert resp.status_code == 401 and resp.json["error"]["message"] == "invalid token"


def test_expired_token_says_so(client, app, seed):
    seed.actor()
    resp = _me(client, _token(app, exp=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)))
    assert resp.status_code == 401 and "expired" in resp.json["error"]["message"]


@pytest.mark.parametrize("sub", ["abc", "", "-1", "1.0"])
def test_token_naming_no_user_id_is_401(client, app, seed, sub):
    seed.actor()
    resp = _me(client, _token(app, sub=sub))
    assert resp.status_code == 401 and resp.json["error"]["message"] == "invalid token"


def test_token_of_another_issuer_or_audience_is_401(client, app, seed):
    seed.actor()
    for claims in ({"iss": "gitleague2"}, {"aud": "other"}, {"aud": ["other", "x"]}):
        assert _me(client, _token(app, **claims)).status_code == 401, claims


def test_key_without_scopes_cannot_be_created(client, seed):
    owner = seed.actor()
    resp = client.post(
        "/api/v1/api-keys", json={"name": "none", "scopes": []}, headers=owner.headers(use_jwt=True)
    )
    assert resp.status_code == 422 and "at least one scope" in resp.json["error"]["message"]


def test_each_scope_alone_can_be_granted(client, seed):
    owner = seed.actor()
    from app.services.auth import SCOPES

    for scope in SCOPES:
        resp = client.post(
            "/api/v1/api-keys",
            json={"name": scope, "scopes": [scope, scope]},
            headers=owner.headers(use_jwt=True),
        )
        assert resp.status_code == 201, (scope, resp.json)
        assert resp.json["scopes"] == [scope]


def test_unknown_email_is_hashed_like_a_wrong_password(client, seed, monkeypatch):
    seed.actor("a@example.org")
    calls: list[str] = []
    real = user_model.generate_password_hash

    def counting(password: str, *args: Any, **kwargs: Any) -> str:
        calls.append(password)
        return real(password, *args, **kwargs)

    monkeypatch.setattr(user_model, "generate_password_hash", counting)
    resp = client.post("/api/v1/auth/token", json={"email": "nobody@example.org", "password": "pw"})
    assert resp.status_code == 401
    assert calls == ["pw"]


def _last_used(app: Any) -> dt.datetime | None:
    with app.app_context():
        return db.session.scalars(sa.select(ApiKey.last_used_at)).one()


def _set_last_used(app: Any, value: dt.datetime) -> None:
    with app.app_context():
        db.session.execute(sa.update(ApiKey).values(last_used_at=value))
        db.session.commit()


def test_last_used_is_written_at_most_once_a_minute(client, app, seed):
    owner = seed.actor()
    assert _last_used(app) is None
    assert _me(client, owner.key).status_code == 200
    first = _last_used(app)
    assert first is not None
    assert _me(client, owner.key).status_code == 200
    assert _last_used(app) == first
    recent = utcnow() - dt.timedelta(seconds=30)
    _set_last_used(app, recent)
    assert _me(client, owner.key).status_code == 200
    assert _last_used(app) == recent
    a_minute_ago = utcnow() - dt.timedelta(seconds=60)
    _set_last_used(app, a_minute_ago)
    assert _me(client, owner.key).status_code == 200
    assert _last_used(app) > a_minute_ago


def test_jwt_callers_hold_every_scope_and_keys_only_theirs(client, seed):
    owner = seed.actor()
    narrow = seed.key(owner, ("read:repos",))
    assert _me(client, owner.jwt).status_code == 200
    project = client.post(
        "/api/v1/projects", json={"name": "P"}, headers=owner.headers(use_jwt=True)
    )
    assert project.status_code == 201, project.json
    denied = client.post(
        "/api/v1/projects", json={"name": "Q"}, headers={"Authorization": f"Bearer {narrow}"}
    )
    assert denied.status_code == 403 and "write:repos" in denied.json["error"]["message"]


def test_audit_names_the_key_a_caller_used_never_its_secret(client, app, seed):
    from app.models import AuditLog

    owner = seed.actor("keyed@example.org")
    public_id = owner.key.split("_")[1]
    by_key = client.post("/api/v1/projects", json={"name": "K"}, headers=owner.headers())
    by_jwt = client.post(
        "/api/v1/projects", json={"name": "J"}, headers=owner.headers(use_jwt=True)
    )
    assert by_key.status_code == by_jwt.status_code == 201
    with app.app_context():
        actors = db.session.scalars(
            sa.select(AuditLog.actor)
            .where(AuditLog.action == "project_created")
            .order_by(AuditLog.id)
        ).all()
    assert actors == [f"keyed@example.org (key tgl_{public_id}_***)", "keyed@example.org"]
